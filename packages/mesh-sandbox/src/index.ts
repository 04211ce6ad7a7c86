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
export type { DemoFleetOptions } from './fleet';
export { applyMeshRevisions, DEFAULT_CONTROL_PLANE_DELAY_MS } from './controllers/controlPlane';
export type { ApplyMeshRevisionsOptions } from './controllers/controlPlane';
export { ManualClock, RealClock } from './clock';
export type { SandboxClock, ClockTimer } from './clock';
export type { RuntimeOptions } from './runtime';
export { RESOURCE_TYPES, findResourceType } from './resources';
export { createScaleFleet } from './scaleFleet';
export { addDeployment, addNamespace } from './seed'; // builders for benches that grow the demo fleet
export type { WorkloadSpec } from './seed';
export type { ScaleFleet, ScaleFleetOptions, ScaleFleetSummary, ScaleClusterSummary } from './scaleFleet';
export { FaultInjector, FAULT_KINDS } from './faults';
export type { FaultKind, FaultRule, FaultRuleInput } from './faults';
export { ArmSimulator, DEMO_SUBSCRIPTION_ID, DEMO_RESOURCE_GROUP, DEMO_LOCATION } from './arm/managedClusters';
export type { ArmOptions, ManagedClusterSeed, ServiceMeshProfile, ArmOperation } from './arm/managedClusters';
export { MESH_REVISIONS } from './arm/meshRevisions';
export type { MeshRevisionData } from './arm/meshRevisions';
export type { SandboxExtensions, SandboxExtensionsOptions } from './extensions';
export * from './admission';
export { injectedPod, injectionSkipReason, sidecarProfile } from './istio/injection';
export type { SidecarProfile } from './istio/injection';
export { TrafficSimulator, DEMO_TRAFFIC_GRAPH, parseExposition, proxyMetricsPath } from './telemetry';
export type { TelemetryOptions, TrafficEdge, TrafficFlow, TrafficSpike, TrafficSpikeInput, TargetGroup } from './telemetry';
export { issueCertificate, caKeyPair } from './tls/x509';
export type { CaKeyPair, DistinguishedName, IssueOptions, KeyAlgorithm } from './tls/x509';
