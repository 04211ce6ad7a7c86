/**
 * The Istio mesh backend plugin.
 *
 * @packageDocumentation
 */
export { istioMeshPlugin as default } from './plugin';
export type { ClusterGateway } from './service/ClusterGateway';
export type { MeshInspector } from './service/MeshInspector';
