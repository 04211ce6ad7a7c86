import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  ClusterDetail,
  ClusterSummary,
  ClusterUpgradeInfo,
  ClustersResponse,
  ISTIO_LABELS,
  LabelRequirement,
  NamespaceMeshSummary,
  OverviewResponse,
  OverviewRow,
  clusterHealth,
  injectedRevision,
  injectionProblem,
  matchesLabelSelector,
  namespaceInjection,
  parseLabelSelector,
  podMeshState,
  sortRevisions,
  summarizeTrust,
  condenseTrustWarnings,
} from '@mesh-portal/plugin-istio-mesh-common';
import type { GatewayService } from '../gateways/GatewayService';
import type { TrustService } from '../trust/TrustService';
import { ControlPlaneProvider } from '@mesh-portal/plugin-istio-mesh-node';
import { ClusterSnapshot, ClusterSnapshots, PodSummary } from './ClusterSnapshots';
import { KUBERNETES_ANNOTATIONS, entityWorkloadSelector } from './entitySelector';

/** Fleet-wide reads: cluster summaries, cluster details and the catalog-wide overview. */
export class MeshReadModel {
  constructor(
    private readonly snapshots: ClusterSnapshots,
    private readonly catalog: CatalogService,
    /** Asked in order; the first that handles a cluster answers for it. */
    private readonly providers: ControlPlaneProvider[] = [],
    /** Answers for upstream-Istio clusters no other provider handles. */
    private readonly upstreamProvider?: ControlPlaneProvider,
    /** Certificates and gateways: their warnings join the cluster's health. */
    private readonly extras: MeshReadModelExtras = {},
  ) {}

  async listClusters(credentials: BackstageCredentials): Promise<ClustersResponse> {
    const results = await this.snapshots.getAll(credentials);
    return {
      clusters: results.flatMap(r => ('snapshot' in r ? [analyze(r.snapshot, this.extras).summary] : [])),
      errors: results.flatMap(r => ('error' in r ? [{ cluster: r.cluster, error: r.error }] : [])),
    };
  }

  async getCluster(cluster: string, credentials: BackstageCredentials): Promise<ClusterDetail> {
    const clusters = await this.snapshots.listClusters(credentials);
    if (!clusters.includes(cluster)) {
      throw new NotFoundError(`No cluster named '${cluster}' is configured`);
    }
    const snapshot = await this.snapshots.get(cluster, credentials);
    const { summary, namespaces } = analyze(snapshot, this.extras);
    return {
      ...summary,
      namespaces,
      gateways: this.extras.gateways?.gatewaysOf(snapshot) ?? [],
      upgrades: await this.upgradeInfo(snapshot),
    };
  }

  private async upgradeInfo(snapshot: ClusterSnapshot): Promise<ClusterUpgradeInfo> {
    const provider =
      this.providers.find(p => p.handles(snapshot.cluster)) ??
      (snapshot.provider === 'istio' ? this.upstreamProvider : undefined);
    if (!provider) {
      return {
        provider: 'none',
        availableUpgrades: [],
        upgradeInProgress: false,
        message: `Add ${snapshot.cluster} under istioMesh.aks.clusters in app-config to see the upgrades Azure offers it.`,
      };
    }
    try {
      const info = await provider.getUpgradeInfo(snapshot.cluster, {
        installedRevisions: snapshot.controlPlane.revisions.map(r => r.revision),
      });
      return { provider: provider.id, ...info };
    } catch (error) {
      const e = error as Error;
      return {
        provider: provider.id,
        availableUpgrades: [],
        upgradeInProgress: false,
        error: { name: e.name ?? 'Error', message: e.message },
      };
    }
  }

  async getOverview(credentials: BackstageCredentials): Promise<OverviewResponse> {
    const [results, entities] = await Promise.all([
      this.snapshots.getAll(credentials),
      this.kubernetesEntities(credentials),
    ]);
    const rows: OverviewRow[] = [];
    const analyzed = results.flatMap(r => {
      if (!('snapshot' in r)) return [];
      const analysis = analyze(r.snapshot, this.extras);
      return [{ snapshot: r.snapshot, ...analysis, namespaceByName: new Map(analysis.namespaces.map(n => [n.name, n])) }];
    });
    for (const entity of entities) {
      const selector = entityWorkloadSelector(entity);
      if (!selector) continue;
      let requirements;
      try {
        requirements = parseLabelSelector(selector.labelSelector);
      } catch {
        continue; // an entity with a malformed selector shows on its own page, with the error
      }
      for (const { snapshot, summary, namespaceByName } of analyzed) {
        if (selector.cluster && selector.cluster !== snapshot.cluster) continue;
        const byNamespace = new Map<string, PodSummary[]>();
        for (const pod of candidatePods(snapshot, requirements)) {
          if (selector.namespace && pod.namespace !== selector.namespace) continue;
          if (!matchesLabelSelector(requirements, pod.labels)) continue;
          const list = byNamespace.get(pod.namespace);
          if (list) list.push(pod);
          else byNamespace.set(pod.namespace, [pod]);
        }
        for (const [kubernetesNamespace, pods] of byNamespace) {
          const ns = namespaceByName.get(kubernetesNamespace);
          const meshed = !!ns?.targetRevision || pods.some(p => p.sidecar.injected);
          if (!meshed) continue;
          rows.push({
            entityRef: stringifyEntityRef(entity),
            kind: entity.kind,
            namespace: entity.metadata.namespace ?? 'default',
            name: entity.metadata.name,
            title: entity.metadata.title,
            owner: typeof entity.spec?.owner === 'string' ? entity.spec.owner : undefined,
            cluster: snapshot.cluster,
            provider: snapshot.provider,
            kubernetesNamespace,
            revision: ns?.targetRevision,
            sidecarRevisions: sortRevisions(pods.flatMap(p => (p.sidecar.revision ? [p.sidecar.revision] : []))),
            workloads: [...new Set(pods.flatMap(p => (p.workload ? [p.workload.slice(p.workload.indexOf('/') + 1)] : [])))].sort(),
            pods: pods.length,
            driftedPods: pods.filter(p => podMeshState(ns?.targetRevision, { ...p.sidecar, optedOut: p.optedOut }) === 'drifted').length,
            phase: summary.controlPlane.phase,
          });
        }
      }
    }
    rows.sort((a, b) => a.name.localeCompare(b.name) || a.cluster.localeCompare(b.cluster));
    return {
      rows,
      clusters: analyzed.map(a => a.summary),
      errors: results.flatMap(r => ('error' in r ? [{ cluster: r.cluster, error: r.error }] : [])),
    };
  }

  private async kubernetesEntities(credentials: BackstageCredentials): Promise<Entity[]> {
    const { items } = await this.catalog.getEntities(
      {
        filter: [
          { [`metadata.annotations.${KUBERNETES_ANNOTATIONS.id}`]: CATALOG_FILTER_EXISTS },
          { [`metadata.annotations.${KUBERNETES_ANNOTATIONS.labelSelector}`]: CATALOG_FILTER_EXISTS },
        ],
        fields: ['kind', 'metadata.name', 'metadata.namespace', 'metadata.title', 'metadata.annotations', 'spec.owner'],
      },
      { credentials },
    );
    return items;
  }
}

export interface MeshReadModelExtras {
  trust?: TrustService;
  gateways?: GatewayService;
}

interface Analysis {
  summary: ClusterSummary;
  namespaces: NamespaceMeshSummary[];
}

// Snapshots are immutable and replaced on refresh, so what is derived from one is
// computed once and dropped with it.
const analyses = new WeakMap<ClusterSnapshot, Analysis>();
const podIndexes = new WeakMap<ClusterSnapshot, Map<string, Map<string, PodSummary[]>>>();

/** Namespace and cluster verdicts from one snapshot. */
function analyze(snapshot: ClusterSnapshot, extras: MeshReadModelExtras): Analysis {
  let analysis = analyses.get(snapshot);
  if (!analysis) {
    analysis = computeAnalysis(snapshot, extras);
    analyses.set(snapshot, analysis);
  }
  return analysis;
}

/**
 * The pods a selector can match: with an equality requirement (the usual
 * `backstage.io/kubernetes-id=<id>`), only the pods carrying that label value, from an
 * index built once per snapshot and label key; otherwise every pod.
 */
function candidatePods(snapshot: ClusterSnapshot, requirements: LabelRequirement[]): PodSummary[] {
  const eq = requirements.find(
    (r): r is { op: 'eq'; key: string; value: string } => r.op === 'eq',
  );
  if (!eq) return snapshot.pods;
  let byKey = podIndexes.get(snapshot);
  if (!byKey) {
    byKey = new Map();
    podIndexes.set(snapshot, byKey);
  }
  let byValue = byKey.get(eq.key);
  if (!byValue) {
    byValue = new Map();
    for (const pod of snapshot.pods) {
      const value = pod.labels[eq.key];
      if (value === undefined) continue;
      const list = byValue.get(value);
      if (list) list.push(pod);
      else byValue.set(value, [pod]);
    }
    byKey.set(eq.key, byValue);
  }
  return byValue.get(eq.value) ?? [];
}

function computeAnalysis(snapshot: ClusterSnapshot, extras: MeshReadModelExtras): Analysis {
  const revisions = snapshot.controlPlane.revisions.map(r => r.revision);
  const podsByNamespace = new Map<string, PodSummary[]>();
  for (const pod of snapshot.pods) {
    const list = podsByNamespace.get(pod.namespace);
    if (list) list.push(pod);
    else podsByNamespace.set(pod.namespace, [pod]);
  }
  const workloadsByNamespace = new Map<string, number>();
  for (const w of snapshot.workloads) {
    workloadsByNamespace.set(w.namespace, (workloadsByNamespace.get(w.namespace) ?? 0) + 1);
  }
  const namespaces: NamespaceMeshSummary[] = snapshot.namespaces.map(n => {
    const injection = namespaceInjection(n.labels, {
      provider: snapshot.provider,
      revisions,
      tags: snapshot.controlPlane.tags,
    });
    const targetRevision = injectedRevision(injection);
    const pods = podsByNamespace.get(n.name) ?? [];
    const podsByRevision: Record<string, number> = {};
    let driftedPods = 0;
    for (const p of pods) {
      const key = p.sidecar.injected ? p.sidecar.revision ?? 'unknown' : 'none';
      podsByRevision[key] = (podsByRevision[key] ?? 0) + 1;
      if (podMeshState(targetRevision, { ...p.sidecar, optedOut: p.optedOut }) === 'drifted') driftedPods++;
    }
    return {
      name: n.name,
      revisionLabel: n.labels[ISTIO_LABELS.revision],
      injection,
      targetRevision,
      workloads: workloadsByNamespace.get(n.name) ?? 0,
      pods: pods.length,
      podsByRevision,
      driftedPods,
      problem: injectionProblem(n.name, injection),
    };
  });
  const driftedPods = namespaces.reduce((sum, n) => sum + n.driftedPods, 0);
  const problems = namespaces.flatMap(n => (n.problem ? [n.problem] : []));
  const trust = extras.trust?.analyze(snapshot);
  const gatewayProblems = (extras.gateways?.gatewaysOf(snapshot) ?? []).flatMap(g => g.lag.messages);
  const { health, reasons } = clusterHealth({
    phase: snapshot.controlPlane.phase,
    revisions: snapshot.controlPlane.revisions,
    driftedPods,
    problems,
    gatewayProblems,
    trustWarnings: condenseTrustWarnings(trust?.warnings ?? []),
  });
  return {
    namespaces,
    summary: {
      cluster: snapshot.cluster,
      provider: snapshot.provider,
      fetchedAt: snapshot.fetchedAt,
      controlPlane: snapshot.controlPlane,
      meshedNamespaces: namespaces.filter(n => n.targetRevision).length,
      workloads: snapshot.workloads.length,
      pods: snapshot.pods.length,
      podsWithSidecar: snapshot.pods.filter(p => p.sidecar.injected).length,
      driftedPods,
      health,
      healthReasons: reasons,
      snapshotApiRequests: snapshot.apiRequests,
      ...(trust
        ? { trust: { ...summarizeTrust(trust), ...(snapshot.trust.error ? { error: snapshot.trust.error.message } : {}) } }
        : {}),
    },
  };
}
