import { CompoundEntityRef } from '@backstage/catalog-model';
import { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import {
  ClusterDetail,
  ClustersResponse,
  EntityMeshStatus,
  OverviewResponse,
} from '@mesh-portal/plugin-istio-mesh-common';
import { IstioMeshApi } from './IstioMeshApi';

export class IstioMeshClient implements IstioMeshApi {
  constructor(
    private readonly deps: { discoveryApi: DiscoveryApi; fetchApi: FetchApi },
  ) {}

  async getEntityMeshStatus(entity: CompoundEntityRef): Promise<EntityMeshStatus> {
    const path = [entity.kind, entity.namespace, entity.name]
      .map(encodeURIComponent)
      .join('/');
    return this.get<EntityMeshStatus>(`/v1/entities/${path}`);
  }

  listClusters(): Promise<ClustersResponse> {
    return this.get<ClustersResponse>('/v1/clusters');
  }

  getCluster(cluster: string): Promise<ClusterDetail> {
    return this.get<ClusterDetail>(`/v1/clusters/${encodeURIComponent(cluster)}`);
  }

  getOverview(): Promise<OverviewResponse> {
    return this.get<OverviewResponse>('/v1/overview');
  }

  private async get<T>(path: string): Promise<T> {
    const baseUrl = await this.deps.discoveryApi.getBaseUrl('istio-mesh');
    const response = await this.deps.fetchApi.fetch(`${baseUrl}${path}`);
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return (await response.json()) as T;
  }
}
