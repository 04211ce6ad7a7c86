import { createPermission } from '@backstage/plugin-permission-common';

/** See mesh status, metrics and configuration. */
export const istioMeshReadPermission = createPermission({
  name: 'istio-mesh.read',
  attributes: { action: 'read' },
});

/** Start a canary control-plane upgrade. */
export const istioMeshUpgradeStartPermission = createPermission({
  name: 'istio-mesh.upgrade.start',
  attributes: { action: 'create' },
});

/** Complete an upgrade (removes the old control plane). */
export const istioMeshUpgradeCompletePermission = createPermission({
  name: 'istio-mesh.upgrade.complete',
  attributes: { action: 'update' },
});

/** Roll an upgrade back (removes the canary control plane). */
export const istioMeshUpgradeRollbackPermission = createPermission({
  name: 'istio-mesh.upgrade.rollback',
  attributes: { action: 'update' },
});

/**
 * Relabel a namespace and restart its workloads. A resource permission on the catalog
 * entity, so a policy can let owners migrate the namespaces of their own services.
 */
export const istioMeshNamespaceMigratePermission = createPermission({
  name: 'istio-mesh.namespace.migrate',
  attributes: { action: 'update' },
  resourceType: 'catalog-entity',
});

/** Change the shared MeshConfig. */
export const istioMeshMeshConfigUpdatePermission = createPermission({
  name: 'istio-mesh.meshconfig.update',
  attributes: { action: 'update' },
});

export const istioMeshPermissions = [
  istioMeshReadPermission,
  istioMeshUpgradeStartPermission,
  istioMeshUpgradeCompletePermission,
  istioMeshUpgradeRollbackPermission,
  istioMeshNamespaceMigratePermission,
  istioMeshMeshConfigUpdatePermission,
];
