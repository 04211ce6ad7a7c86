import { createApiRef } from '@backstage/core-plugin-api';
import { CompoundEntityRef } from '@backstage/catalog-model';
import {
  ClusterDetail,
  ClustersResponse,
  ClusterTrustResponse,
  EntityMeshStatus,
  EntityMetrics,
  EntityTopology,
  MeshConfigUpdateRequest,
  MeshConfigUpdateResponse,
  MeshConfigValidation,
  MeshConfigView,
  MetricsWindow,
  OverviewResponse,
  UpgradeActionResponse,
  UpgradeRun,
} from '@mesh-portal/plugin-istio-mesh-common';

/** Client for the Istio mesh backend (`/api/istio-mesh`). */
export interface IstioMeshApi {
  getEntityMeshStatus(entity: CompoundEntityRef): Promise<EntityMeshStatus>;
  listClusters(): Promise<ClustersResponse>;
  getCluster(cluster: string): Promise<ClusterDetail>;
  /** The mesh's certificates: CA mode, roots and intermediates, rotation, stale bundles, expiry warnings. */
  getClusterTrust(cluster: string): Promise<ClusterTrustResponse>;
  getOverview(): Promise<OverviewResponse>;
  /** Golden-signal series of the entity's workloads; rejects with a 503 ResponseError when no Prometheus answers. */
  getEntityMetrics(entity: CompoundEntityRef, window: MetricsWindow): Promise<EntityMetrics>;
  /** Who calls the entity's workloads and whom they call, over the window. */
  getEntityTopology(entity: CompoundEntityRef, window: MetricsWindow): Promise<EntityTopology>;
  /** The current or last upgrade; undefined when the cluster never had one. */
  getUpgrade(cluster: string): Promise<UpgradeRun | undefined>;
  startUpgrade(cluster: string, targetRevision: string): Promise<UpgradeActionResponse>;
  migrateNamespace(cluster: string, namespace: string, targetRevision: string): Promise<UpgradeActionResponse>;
  /**
   * `acknowledgeRegressions`: complete although migrated namespaces' health gates regressed
   * (the backend refuses with 409 otherwise, and records who acknowledged).
   */
  completeUpgrade(cluster: string, options?: { acknowledgeRegressions?: boolean }): Promise<UpgradeActionResponse>;
  rollbackUpgrade(cluster: string): Promise<UpgradeActionResponse>;
  /** The shared MeshConfig of an installed revision, the add-on's default and the effective merge. */
  getMeshConfig(cluster: string, revision: string): Promise<MeshConfigView>;
  /** Findings for a document (a bad document is a result, not an error). */
  validateMeshConfig(cluster: string, revision: string, yaml: string): Promise<MeshConfigValidation>;
  /** Saves; a ResponseError with status 409 when the ConfigMap changed since `resourceVersion`. */
  updateMeshConfig(cluster: string, request: MeshConfigUpdateRequest): Promise<MeshConfigUpdateResponse>;
}

export const istioMeshApiRef = createApiRef<IstioMeshApi>({
  id: 'plugin.istio-mesh.service',
});
