/**
 * The embedded demo mesh: a simulation of AKS clusters running the Istio add-on,
 * served over the Kubernetes REST API.
 *
 * @packageDocumentation
 */
export { startSandboxServer } from './server';
export type { SandboxServer, SandboxCluster } from './server';
export { ClusterStore } from './store';
export { createDemoFleet, demoToken, DEMO_CLUSTER_NAMES, REVISION_VERSIONS } from './fleet';
export { RESOURCE_TYPES, findResourceType } from './resources';
