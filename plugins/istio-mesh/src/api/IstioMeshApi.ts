import { createApiRef } from '@backstage/core-plugin-api';
import { CompoundEntityRef } from '@backstage/catalog-model';
import {
  ClusterDetail,
  ClustersResponse,
  EntityMeshStatus,
  OverviewResponse,
  UpgradeActionResponse,
  UpgradeRun,
} from '@mesh-portal/plugin-istio-mesh-common';

/** Client for the Istio mesh backend (`/api/istio-mesh`). */
export interface IstioMeshApi {
  getEntityMeshStatus(entity: CompoundEntityRef): Promise<EntityMeshStatus>;
  listClusters(): Promise<ClustersResponse>;
  getCluster(cluster: string): Promise<ClusterDetail>;
  getOverview(): Promise<OverviewResponse>;
  /** The current or last upgrade; undefined when the cluster never had one. */
  getUpgrade(cluster: string): Promise<UpgradeRun | undefined>;
  startUpgrade(cluster: string, targetRevision: string): Promise<UpgradeActionResponse>;
  migrateNamespace(cluster: string, namespace: string, targetRevision: string): Promise<UpgradeActionResponse>;
  completeUpgrade(cluster: string): Promise<UpgradeActionResponse>;
  rollbackUpgrade(cluster: string): Promise<UpgradeActionResponse>;
}

export const istioMeshApiRef = createApiRef<IstioMeshApi>({
  id: 'plugin.istio-mesh.service',
});
