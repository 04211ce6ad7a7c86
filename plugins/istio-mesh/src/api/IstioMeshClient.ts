import { CompoundEntityRef } from '@backstage/catalog-model';
import { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
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
import { IstioMeshApi } from './IstioMeshApi';

function entityPath(entity: CompoundEntityRef): string {
  return [entity.kind, entity.namespace, entity.name].map(encodeURIComponent).join('/');
}

export class IstioMeshClient implements IstioMeshApi {
  constructor(
    private readonly deps: { discoveryApi: DiscoveryApi; fetchApi: FetchApi },
  ) {}

  async getEntityMeshStatus(entity: CompoundEntityRef): Promise<EntityMeshStatus> {
    return this.get<EntityMeshStatus>(`/v1/entities/${entityPath(entity)}`);
  }

  getEntityMetrics(entity: CompoundEntityRef, window: MetricsWindow): Promise<EntityMetrics> {
    return this.get<EntityMetrics>(`/v1/entities/${entityPath(entity)}/metrics?window=${encodeURIComponent(window)}`);
  }

  getEntityTopology(entity: CompoundEntityRef, window: MetricsWindow): Promise<EntityTopology> {
    return this.get<EntityTopology>(`/v1/entities/${entityPath(entity)}/topology?window=${encodeURIComponent(window)}`);
  }

  listClusters(): Promise<ClustersResponse> {
    return this.get<ClustersResponse>('/v1/clusters');
  }

  getCluster(cluster: string): Promise<ClusterDetail> {
    return this.get<ClusterDetail>(`/v1/clusters/${encodeURIComponent(cluster)}`);
  }

  getClusterTrust(cluster: string): Promise<ClusterTrustResponse> {
    return this.get<ClusterTrustResponse>(`/v1/clusters/${encodeURIComponent(cluster)}/trust`);
  }

  getOverview(): Promise<OverviewResponse> {
    return this.get<OverviewResponse>('/v1/overview');
  }

  async getUpgrade(cluster: string): Promise<UpgradeRun | undefined> {
    const response = await this.request(`/v1/clusters/${encodeURIComponent(cluster)}/upgrade`);
    if (response.status === 404) return undefined;
    if (!response.ok) throw await ResponseError.fromResponse(response);
    return (await response.json()) as UpgradeRun;
  }

  startUpgrade(cluster: string, targetRevision: string): Promise<UpgradeActionResponse> {
    return this.post(`/v1/clusters/${encodeURIComponent(cluster)}/upgrade`, { targetRevision });
  }

  migrateNamespace(cluster: string, namespace: string, targetRevision: string): Promise<UpgradeActionResponse> {
    return this.post(
      `/v1/clusters/${encodeURIComponent(cluster)}/namespaces/${encodeURIComponent(namespace)}/migrate`,
      { targetRevision },
    );
  }

  completeUpgrade(cluster: string, options?: { acknowledgeRegressions?: boolean }): Promise<UpgradeActionResponse> {
    // The body is strict: send the flag only when it is set.
    const body = options?.acknowledgeRegressions ? { acknowledgeRegressions: true } : {};
    return this.post(`/v1/clusters/${encodeURIComponent(cluster)}/upgrade/complete`, body);
  }

  rollbackUpgrade(cluster: string): Promise<UpgradeActionResponse> {
    return this.post(`/v1/clusters/${encodeURIComponent(cluster)}/upgrade/rollback`, {});
  }

  getMeshConfig(cluster: string, revision: string): Promise<MeshConfigView> {
    return this.get(`/v1/clusters/${encodeURIComponent(cluster)}/meshconfig?revision=${encodeURIComponent(revision)}`);
  }

  validateMeshConfig(cluster: string, revision: string, yaml: string): Promise<MeshConfigValidation> {
    return this.post(`/v1/clusters/${encodeURIComponent(cluster)}/meshconfig/validate`, { revision, yaml });
  }

  updateMeshConfig(cluster: string, request: MeshConfigUpdateRequest): Promise<MeshConfigUpdateResponse> {
    return this.post(`/v1/clusters/${encodeURIComponent(cluster)}/meshconfig`, request, 'PUT');
  }

  private async request(path: string, init?: RequestInit): Promise<Response> {
    const baseUrl = await this.deps.discoveryApi.getBaseUrl('istio-mesh');
    return this.deps.fetchApi.fetch(`${baseUrl}${path}`, init);
  }

  private async get<T>(path: string): Promise<T> {
    const response = await this.request(path);
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return (await response.json()) as T;
  }

  private async post<T>(path: string, body: unknown, method: 'POST' | 'PUT' = 'POST'): Promise<T> {
    const response = await this.request(path, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return (await response.json()) as T;
  }
}
