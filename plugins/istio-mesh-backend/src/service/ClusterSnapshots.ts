import { BackstageCredentials, LoggerService } from '@backstage/backend-plugin-api';
import type {
  V1ConfigMap,
  V1DaemonSet,
  V1Deployment,
  V1MutatingWebhookConfiguration,
  V1Namespace,
  V1Pod,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import {
  AutoscalerInput,
  ClusterControlPlaneStatus,
  ClusterError,
  ISTIO_LABELS,
  IstiodCaSource,
  istiodCaSource,
  MeshProvider,
  PodMeshStatus,
  sidecarOf,
} from '@mesh-portal/plugin-istio-mesh-common';
import { ClusterGateway } from './ClusterGateway';
import { mapWithConcurrency } from './concurrency';
import { Workload, controlPlaneStatus, owningWorkload, providerOf } from './derive';

/** A pod reduced to what the read model needs; full pod objects are dropped page by page. */
export interface PodSummary {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  workload?: string;
  phase: string;
  ready: boolean;
  sidecar: PodMeshStatus['sidecar'];
  optedOut: boolean;
}

export interface WorkloadSummary {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  name: string;
  namespace: string;
  labels: Record<string, string>;
  replicas: number;
  readyReplicas: number;
}

export interface GatewayService {
  name: string;
  namespace: string;
  type: string;
  clusterIP?: string;
  addresses: string[];
  ports: number[];
  portDetails: Array<{ name?: string; port: number; protocol?: string }>;
}

/** What the trust view needs, raw: bundles are parsed by the TrustService. */
export interface TrustSnapshot {
  /** Each namespace's `istio-ca-root-cert` `root-cert.pem` (undefined when the key is absent). */
  bundles: Array<{ namespace: string; pem?: string }>;
  /** Where each installed revision's istiod gets its CA. */
  istiod: IstiodCaSource[];
  /** SecretProviderClasses in the control-plane namespace; undefined when the kind is not served or not readable. */
  secretProviderClasses?: string[];
  /** Set when the ConfigMaps could not be listed (the rest of the snapshot is fine). */
  error?: { name: string; message: string };
}

/** One cluster's mesh-relevant state at one moment. */
export interface ClusterSnapshot {
  cluster: string;
  fetchedAt: string;
  provider: MeshProvider;
  controlPlane: ClusterControlPlaneStatus;
  namespaces: Array<{ name: string; labels: Record<string, string> }>;
  pods: PodSummary[];
  workloads: WorkloadSummary[];
  gatewayServices: GatewayService[];
  /** Gateway Deployments (they carry `istio.io/rev`), by name. */
  gatewayDeployments: WorkloadSummary[];
  /** HPAs of gateway Deployments. */
  gatewayAutoscalers: AutoscalerInput[];
  trust: TrustSnapshot;
  /** Kubernetes API requests this snapshot cost. */
  apiRequests: number;
}

export type SnapshotResult =
  | { cluster: string; snapshot: ClusterSnapshot }
  | { cluster: string; error: ClusterError['error'] };

export interface ClusterSnapshotsOptions {
  gateway: ClusterGateway;
  logger: LoggerService;
  /** How long a snapshot is served before the next read refreshes it. */
  ttlMs?: number;
  /** Clusters read at once. */
  concurrency?: number;
  now?: () => number;
}

const GATEWAY_NAMESPACES = new Set(['aks-istio-ingress', 'aks-istio-egress', 'istio-system', 'istio-ingress']);

/**
 * Per-cluster snapshots behind a short TTL with single-flight: concurrent readers of a
 * stale cluster share one refresh. A refresh is one paginated LIST per resource kind,
 * never one call per namespace or pod. The cache is per backend replica and only ever a
 * copy of the clusters' state, so replicas need not share it.
 */
export class ClusterSnapshots {
  private readonly cache = new Map<string, { at: number; snapshot: ClusterSnapshot }>();
  private readonly inFlight = new Map<string, { generation: number; refresh: Promise<ClusterSnapshot> }>();
  /** Bumped by invalidate(): a refresh that started before a write never serves after it. */
  private readonly generations = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly concurrency: number;
  private readonly now: () => number;

  constructor(private readonly options: ClusterSnapshotsOptions) {
    this.ttlMs = options.ttlMs ?? 15_000;
    this.concurrency = options.concurrency ?? 8;
    this.now = options.now ?? Date.now;
  }

  async listClusters(credentials: BackstageCredentials): Promise<string[]> {
    return this.options.gateway.listClusters(credentials);
  }

  /**
   * The cluster's snapshot, from the cache when it is younger than `maxAgeMs` (default:
   * the TTL). `maxAgeMs: 0` reads the cluster anew, as the guards of writes do; other
   * readers share a refresh in flight unless a write invalidated the cluster since.
   */
  async get(
    cluster: string,
    credentials: BackstageCredentials,
    options: { maxAgeMs?: number } = {},
  ): Promise<ClusterSnapshot> {
    const maxAgeMs = options.maxAgeMs ?? this.ttlMs;
    const cached = this.cache.get(cluster);
    if (cached && this.now() - cached.at < Math.min(maxAgeMs, this.ttlMs)) return cached.snapshot;
    const generation = this.generations.get(cluster) ?? 0;
    const running = this.inFlight.get(cluster);
    if (running && running.generation === generation && maxAgeMs > 0) return running.refresh;
    const refresh = this.fetch(cluster, credentials)
      .then(snapshot => {
        if ((this.generations.get(cluster) ?? 0) === generation) {
          this.cache.set(cluster, { at: this.now(), snapshot });
        }
        return snapshot;
      })
      .finally(() => {
        if (this.inFlight.get(cluster)?.refresh === refresh) this.inFlight.delete(cluster);
      });
    this.inFlight.set(cluster, { generation, refresh });
    return refresh;
  }

  /**
   * Forgets a cluster's snapshot after this replica changed the cluster (an upgrade
   * step), so the next read shows the change instead of a copy up to a TTL old.
   */
  invalidate(cluster: string): void {
    this.generations.set(cluster, (this.generations.get(cluster) ?? 0) + 1);
    this.cache.delete(cluster);
    this.inFlight.delete(cluster);
  }

  /** Every configured cluster; a failing cluster is reported, never fatal. */
  async getAll(credentials: BackstageCredentials): Promise<SnapshotResult[]> {
    const clusters = await this.listClusters(credentials);
    return mapWithConcurrency(clusters, this.concurrency, async cluster => {
      try {
        return { cluster, snapshot: await this.get(cluster, credentials) };
      } catch (error) {
        const e = error as Error;
        this.options.logger.warn(`Failed to read cluster ${cluster}: ${e.message}`);
        return { cluster, error: { name: e.name ?? 'Error', message: e.message } };
      }
    });
  }

  private async fetch(cluster: string, credentials: BackstageCredentials): Promise<ClusterSnapshot> {
    let apiRequests = 0;
    const list = async <T>(path: string, labelSelector?: string) => {
      const items = await this.options.gateway.list<T>(cluster, path, credentials, {
        labelSelector,
        onPage: () => {
          apiRequests++;
        },
      });
      return items;
    };
    // Reads the snapshot can do without: a cluster without the Secrets Store CSI driver
    // answers 404 for SecretProviderClasses, an account without ConfigMap access 403.
    const optional = <T>(path: string, options: { labelSelector?: string; fieldSelector?: string } = {}) =>
      this.options.gateway
        .list<T>(cluster, path, credentials, { ...options, onPage: () => { apiRequests++; } })
        .then(items => ({ items }), (error: Error) => ({ error: { name: error.name ?? 'Error', message: error.message } }));
    const pods: PodSummary[] = [];
    const [namespaces, deployments, statefulSets, daemonSets, tagWebhooks, services, , caBundles, autoscalers, providerClasses] =
      await Promise.all([
        list<V1Namespace>('/api/v1/namespaces'),
        list<V1Deployment>('/apis/apps/v1/deployments'),
        list<V1StatefulSet>('/apis/apps/v1/statefulsets'),
        list<V1DaemonSet>('/apis/apps/v1/daemonsets'),
        list<V1MutatingWebhookConfiguration>(
          '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
          ISTIO_LABELS.tag,
        ),
        list<V1Service>('/api/v1/services'),
        this.options.gateway
          .list<V1Pod>(cluster, '/api/v1/pods', credentials, {
            onPage: page => {
              apiRequests++;
              for (const pod of page) pods.push(summarizePod(pod));
            },
            discardItems: true,
          }),
        // One ConfigMap per namespace, not every ConfigMap of the cluster.
        optional<V1ConfigMap>('/api/v1/configmaps', { fieldSelector: 'metadata.name=istio-ca-root-cert' }),
        // The mesh's HPAs (istiod's and the gateways') carry istio.io/rev.
        optional<any>('/apis/autoscaling/v2/horizontalpodautoscalers', { labelSelector: ISTIO_LABELS.revision }),
        optional<any>('/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasses'),
      ]);
    const provider = providerOf(namespaces);
    const controlPlane = controlPlaneStatus(
      provider,
      deployments.filter(d => d.metadata?.labels?.app === 'istiod'),
      tagWebhooks,
    );
    const workloads: WorkloadSummary[] = [
      ...deployments.map(d => summarizeWorkload('Deployment', d)),
      ...statefulSets.map(s => summarizeWorkload('StatefulSet', s)),
      ...daemonSets.map(d => summarizeWorkload('DaemonSet', d)),
    ];
    return {
      cluster,
      fetchedAt: new Date(this.now()).toISOString(),
      provider,
      controlPlane,
      namespaces: namespaces.map(n => ({ name: n.metadata?.name ?? '', labels: n.metadata?.labels ?? {} })),
      pods,
      workloads,
      gatewayServices: services
        .filter(s => GATEWAY_NAMESPACES.has(s.metadata?.namespace ?? '') && isGatewayName(s.metadata?.namespace ?? '', s.metadata?.name ?? ''))
        .map(s => ({
          name: s.metadata?.name ?? '',
          namespace: s.metadata?.namespace ?? '',
          type: s.spec?.type ?? 'ClusterIP',
          ...(s.spec?.clusterIP && s.spec.clusterIP !== 'None' ? { clusterIP: s.spec.clusterIP } : {}),
          addresses: (s.status?.loadBalancer?.ingress ?? []).map(i => i.ip ?? i.hostname ?? '').filter(Boolean),
          ports: (s.spec?.ports ?? []).map(p => p.port),
          portDetails: (s.spec?.ports ?? []).map(p => ({ ...(p.name ? { name: p.name } : {}), port: p.port, ...(p.protocol ? { protocol: p.protocol } : {}) })),
        })),
      gatewayDeployments: workloads.filter(
        w => GATEWAY_NAMESPACES.has(w.namespace) && isGatewayName(w.namespace, w.name),
      ),
      gatewayAutoscalers: 'items' in autoscalers
        ? autoscalers.items
            .filter(h => GATEWAY_NAMESPACES.has(h.metadata?.namespace ?? '') && h.spec?.scaleTargetRef?.kind === 'Deployment')
            .map(h => ({
              name: h.metadata?.name ?? '',
              namespace: h.metadata?.namespace ?? '',
              targetName: h.spec.scaleTargetRef.name,
              ...(h.spec.minReplicas !== undefined ? { minReplicas: h.spec.minReplicas } : {}),
              maxReplicas: h.spec.maxReplicas,
              ...(h.status?.currentReplicas !== undefined ? { currentReplicas: h.status.currentReplicas } : {}),
            }))
        : [],
      trust: {
        bundles: 'items' in caBundles
          ? caBundles.items.map(cm => ({ namespace: cm.metadata?.namespace ?? '', pem: cm.data?.['root-cert.pem'] }))
          : [],
        istiod: controlPlane.revisions.flatMap(r => {
          const d = deployments.find(x => x.metadata?.name === `istiod-${r.revision}` && x.metadata?.namespace === controlPlane.namespace);
          return d ? [istiodCaSource(r.revision, d as any)] : [];
        }),
        ...('items' in providerClasses
          ? { secretProviderClasses: providerClasses.items.filter(p => p.metadata?.namespace === controlPlane.namespace).map(p => p.metadata?.name ?? '') }
          : {}),
        ...('error' in caBundles ? { error: caBundles.error } : {}),
      },
      apiRequests,
    };
  }
}

/** Gateway Services and Deployments: the add-on's egress gateways have names of the user's choosing. */
function isGatewayName(namespace: string, name: string): boolean {
  return /gateway/.test(name) || namespace === 'aks-istio-egress';
}

function summarizePod(pod: V1Pod): PodSummary {
  const sidecar = sidecarOf(pod);
  return {
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? '',
    labels: pod.metadata?.labels ?? {},
    workload: owningWorkload(pod),
    phase: pod.status?.phase ?? 'Unknown',
    ready: pod.status?.conditions?.some(c => c.type === 'Ready' && c.status === 'True') ?? false,
    sidecar: {
      injected: sidecar.injected,
      revision: sidecar.revision,
      proxyVersion: sidecar.proxyVersion,
      native: sidecar.native,
    },
    optedOut: sidecar.optedOut,
  };
}

function summarizeWorkload(kind: WorkloadSummary['kind'], obj: Workload): WorkloadSummary {
  const status = obj.status as
    | { replicas?: number; readyReplicas?: number; desiredNumberScheduled?: number; numberReady?: number }
    | undefined;
  return {
    kind,
    name: obj.metadata?.name ?? '',
    namespace: obj.metadata?.namespace ?? '',
    labels: obj.metadata?.labels ?? {},
    replicas: status?.replicas ?? status?.desiredNumberScheduled ?? 0,
    readyReplicas: status?.readyReplicas ?? status?.numberReady ?? 0,
  };
}
