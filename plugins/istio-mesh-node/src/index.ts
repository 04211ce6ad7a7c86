/**
 * Node-side building blocks for modules of the Istio mesh backend plugin.
 *
 * @packageDocumentation
 */
export type {
  MeshProvider,
  EntityMeshStatus,
} from '@mesh-portal/plugin-istio-mesh-common';
