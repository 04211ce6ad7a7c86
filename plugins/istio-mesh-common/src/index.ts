/**
 * Isomorphic types, permissions and pure domain logic of the Istio mesh plugins.
 *
 * @packageDocumentation
 */
export * from './revision';
export * from './names';
export * from './sidecar';
export * from './injection';
export * from './controlPlane';
export * from './permissions';
export * from './labelSelector';
export * from './health';
export * from './upgrade';
export * from './api';
export * from './metrics';
export * from './promql';
export * from './meshConfig';
export * from './trust';
export * from './gateways';
