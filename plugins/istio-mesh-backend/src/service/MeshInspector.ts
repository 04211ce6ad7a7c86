import { BackstageCredentials, LoggerService } from '@backstage/backend-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import type {
  V1DaemonSet,
  V1Deployment,
  V1MutatingWebhookConfiguration,
  V1Namespace,
  V1Pod,
  V1StatefulSet,
} from '@kubernetes/client-node';
import {
  ClusterEntityMeshStatus,
  ClusterError,
  EntityMeshStatus,
  ISTIO_LABELS,
  NamespaceEntityMeshStatus,
  PodMeshStatus,
  WorkloadMeshStatus,
  injectedRevision,
  namespaceInjection,
} from '@mesh-portal/plugin-istio-mesh-common';
import { ClusterGateway } from './ClusterGateway';
import { mapWithConcurrency } from './concurrency';
import { EntityWorkloadSelector, entityWorkloadSelector } from './entitySelector';
import { Workload, controlPlaneStatus, podStatus, providerOf, workloadStatus } from './derive';

/** Reads what a mesh looks like from the clusters and derives the entity's mesh status. */
export interface MeshInspector {
  getEntityMeshStatus(
    entity: Entity,
    credentials: BackstageCredentials,
  ): Promise<EntityMeshStatus>;
}

const CLUSTER_CONCURRENCY = 8;

export class DefaultMeshInspector implements MeshInspector {
  static create(options: { gateway: ClusterGateway; logger: LoggerService }) {
    return new DefaultMeshInspector(options.gateway, options.logger);
  }

  private constructor(
    private readonly gateway: ClusterGateway,
    private readonly logger: LoggerService,
  ) {}

  async getEntityMeshStatus(
    entity: Entity,
    credentials: BackstageCredentials,
  ): Promise<EntityMeshStatus> {
    const entityRef = stringifyEntityRef(entity);
    const selector = entityWorkloadSelector(entity);
    if (!selector) {
      return { entityRef, clusters: [], errors: [] };
    }
    const allClusters = await this.gateway.listClusters(credentials);
    const clusters = selector.cluster
      ? allClusters.filter(c => c === selector.cluster)
      : allClusters;

    const results = await mapWithConcurrency(clusters, CLUSTER_CONCURRENCY, async cluster => {
      try {
        return { status: await this.inspectCluster(cluster, selector, credentials) };
      } catch (error) {
        // One unreachable cluster must not hide the others.
        this.logger.warn(`Failed to read mesh status of ${entityRef} in cluster ${cluster}: ${error}`);
        const e = error as Error;
        return { error: { cluster, error: { name: e.name ?? 'Error', message: e.message } } };
      }
    });

    return {
      entityRef,
      clusters: results
        .map(r => r.status)
        .filter((s): s is ClusterEntityMeshStatus => !!s),
      errors: results.map(r => r.error).filter((e): e is ClusterError => !!e),
    };
  }

  private async inspectCluster(
    cluster: string,
    selector: EntityWorkloadSelector,
    credentials: BackstageCredentials,
  ): Promise<ClusterEntityMeshStatus | undefined> {
    const scoped = (group: string, plural: string) =>
      `${group}${selector.namespace ? `/namespaces/${encodeURIComponent(selector.namespace)}` : ''}/${plural}`;
    const byEntity = { labelSelector: selector.labelSelector };
    const list = <T>(path: string, options?: { labelSelector?: string }) =>
      this.gateway.list<T>(cluster, path, credentials, options);

    // One LIST per resource kind; never one call per namespace or pod.
    const [pods, deployments, statefulSets, daemonSets, namespaces, istiods, tagWebhooks] =
      await Promise.all([
        list<V1Pod>(scoped('/api/v1', 'pods'), byEntity),
        list<V1Deployment>(scoped('/apis/apps/v1', 'deployments'), byEntity),
        list<V1StatefulSet>(scoped('/apis/apps/v1', 'statefulsets'), byEntity),
        list<V1DaemonSet>(scoped('/apis/apps/v1', 'daemonsets'), byEntity),
        list<V1Namespace>('/api/v1/namespaces'),
        list<V1Deployment>('/apis/apps/v1/deployments', { labelSelector: 'app=istiod' }),
        list<V1MutatingWebhookConfiguration>(
          '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
          { labelSelector: ISTIO_LABELS.tag },
        ),
      ]);

    const workloads: Array<{ kind: WorkloadMeshStatus['kind']; obj: Workload }> = [
      ...deployments.map(obj => ({ kind: 'Deployment' as const, obj })),
      ...statefulSets.map(obj => ({ kind: 'StatefulSet' as const, obj })),
      ...daemonSets.map(obj => ({ kind: 'DaemonSet' as const, obj })),
    ];
    if (pods.length === 0 && workloads.length === 0) {
      return undefined; // the entity does not run in this cluster
    }

    const provider = providerOf(namespaces);
    const controlPlane = controlPlaneStatus(provider, istiods, tagWebhooks);
    const revisions = controlPlane.revisions.map(r => r.revision);
    const namespaceLabels = new Map(
      namespaces.map(n => [n.metadata?.name ?? '', n.metadata?.labels ?? {}]),
    );

    const namespaceNames = [
      ...new Set([
        ...pods.map(p => p.metadata?.namespace ?? ''),
        ...workloads.map(w => w.obj.metadata?.namespace ?? ''),
      ]),
    ].sort();

    const namespaceStatuses = namespaceNames.map(ns => {
      const labels = namespaceLabels.get(ns);
      const injection = namespaceInjection(labels, {
        provider,
        revisions,
        tags: controlPlane.tags,
      });
      const targetRevision = injectedRevision(injection);
      const podStatuses: PodMeshStatus[] = pods
        .filter(p => p.metadata?.namespace === ns)
        .map(p => podStatus(p, targetRevision))
        .sort((a, b) => a.name.localeCompare(b.name));
      const workloadStatuses: WorkloadMeshStatus[] = workloads
        .filter(w => w.obj.metadata?.namespace === ns)
        .map(w => workloadStatus(w.kind, w.obj, podStatuses));
      const status: NamespaceEntityMeshStatus = {
        name: ns,
        revisionLabel: labels?.[ISTIO_LABELS.revision],
        injection,
        targetRevision,
        workloads: workloadStatuses,
        pods: podStatuses,
        driftedPods: podStatuses.filter(p => p.state === 'drifted').length,
      };
      return status;
    });

    return {
      cluster,
      provider,
      controlPlane,
      namespaces: namespaceStatuses,
      meshed: namespaceStatuses.some(
        n => !!n.targetRevision || n.pods.some(p => p.sidecar.injected),
      ),
      driftedPods: namespaceStatuses.reduce((sum, n) => sum + n.driftedPods, 0),
    };
  }
}
