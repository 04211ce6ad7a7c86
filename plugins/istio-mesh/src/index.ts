/**
 * The Istio mesh frontend plugin: a Service Mesh tab on catalog entities.
 *
 * New frontend system: `import istioMeshPlugin from '@mesh-portal/plugin-istio-mesh/alpha'`.
 *
 * @packageDocumentation
 */
export {
  istioMeshPlugin,
  EntityServiceMeshContent,
  ServiceMeshPage,
  EntityMeshCard,
} from './plugin';
export { isServiceMeshAvailable } from './filters';
export { istioMeshApiRef } from './api/IstioMeshApi';
export type { IstioMeshApi } from './api/IstioMeshApi';
export { IstioMeshClient } from './api/IstioMeshClient';
