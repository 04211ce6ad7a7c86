import { createApiRef } from '@backstage/core-plugin-api';
import { CompoundEntityRef } from '@backstage/catalog-model';
import {
  ClusterDetail,
  ClustersResponse,
  EntityMeshStatus,
  OverviewResponse,
} from '@mesh-portal/plugin-istio-mesh-common';

/** Client for the Istio mesh backend (`/api/istio-mesh`). */
export interface IstioMeshApi {
  getEntityMeshStatus(entity: CompoundEntityRef): Promise<EntityMeshStatus>;
  listClusters(): Promise<ClustersResponse>;
  getCluster(cluster: string): Promise<ClusterDetail>;
  getOverview(): Promise<OverviewResponse>;
}

export const istioMeshApiRef = createApiRef<IstioMeshApi>({
  id: 'plugin.istio-mesh.service',
});
