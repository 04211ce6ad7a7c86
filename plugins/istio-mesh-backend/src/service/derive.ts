import type {
  V1DaemonSet,
  V1Deployment,
  V1MutatingWebhookConfiguration,
  V1Namespace,
  V1Pod,
  V1StatefulSet,
} from '@kubernetes/client-node';
import {
  CONTROL_PLANE_NAMESPACE,
  ClusterControlPlaneStatus,
  ISTIO_LABELS,
  MeshProvider,
  PodMeshStatus,
  WorkloadMeshStatus,
  compareRevisions,
  istiodReady,
  observedUpgradePhase,
  podMeshState,
  proxyVersionFromImage,
  revisionFromIstiodName,
  sidecarOf,
} from '@mesh-portal/plugin-istio-mesh-common';

/** Derivations from raw Kubernetes objects, shared by the entity and cluster read paths. */

export type Workload = V1Deployment | V1StatefulSet | V1DaemonSet;

/** AKS clusters have the add-on's control-plane namespace; anything else is upstream Istio. */
export function providerOf(namespaces: V1Namespace[]): MeshProvider {
  return namespaces.some(n => n.metadata?.name === CONTROL_PLANE_NAMESPACE.aks)
    ? 'aks'
    : 'istio';
}

export function controlPlaneStatus(
  provider: MeshProvider,
  istiods: V1Deployment[],
  tagWebhooks: V1MutatingWebhookConfiguration[],
): ClusterControlPlaneStatus {
  const namespace = CONTROL_PLANE_NAMESPACE[provider];
  const revisions = istiods
    .filter(d => d.metadata?.namespace === namespace)
    .map(d => {
      const revision =
        d.metadata?.labels?.[ISTIO_LABELS.revision] ??
        revisionFromIstiodName(d.metadata?.name ?? '');
      const replicas = d.spec?.replicas ?? 0;
      const readyReplicas = d.status?.readyReplicas ?? 0;
      const discovery = d.spec?.template?.spec?.containers?.find(
        c => c.name === 'discovery',
      ) ?? d.spec?.template?.spec?.containers?.[0];
      return {
        revision: revision ?? d.metadata?.name ?? 'unknown',
        version: proxyVersionFromImage(discovery?.image),
        replicas,
        readyReplicas,
        ready: istiodReady(replicas, readyReplicas),
      };
    })
    .sort((a, b) => compareRevisions(a.revision, b.revision));
  const tags: Record<string, string> = {};
  for (const webhook of tagWebhooks) {
    const tag = webhook.metadata?.labels?.[ISTIO_LABELS.tag];
    const revision = webhook.metadata?.labels?.[ISTIO_LABELS.revision];
    if (tag && revision) tags[tag] = revision;
  }
  return {
    namespace,
    revisions,
    tags,
    phase: observedUpgradePhase(revisions.map(r => r.revision)),
  };
}

export function podStatus(pod: V1Pod, namespaceRevision: string | undefined): PodMeshStatus {
  const sidecar = sidecarOf(pod);
  const ready =
    pod.status?.conditions?.some(c => c.type === 'Ready' && c.status === 'True') ?? false;
  return {
    name: pod.metadata?.name ?? '',
    workload: owningWorkload(pod),
    phase: pod.status?.phase ?? 'Unknown',
    ready,
    sidecar: {
      injected: sidecar.injected,
      revision: sidecar.revision,
      proxyVersion: sidecar.proxyVersion,
      native: sidecar.native,
    },
    state: podMeshState(namespaceRevision, sidecar),
  };
}

/**
 * The workload that owns a pod. Deployments own pods through a ReplicaSet named
 * `<deployment>-<pod-template-hash>`, so the Deployment's name follows without a
 * ReplicaSet lookup.
 */
export function owningWorkload(pod: V1Pod): string | undefined {
  const owner = pod.metadata?.ownerReferences?.find(o => o.controller);
  if (!owner) return undefined;
  if (owner.kind === 'ReplicaSet') {
    const hash = pod.metadata?.labels?.['pod-template-hash'];
    if (hash && owner.name.endsWith(`-${hash}`)) {
      return `Deployment/${owner.name.slice(0, -hash.length - 1)}`;
    }
    return `ReplicaSet/${owner.name}`;
  }
  return `${owner.kind}/${owner.name}`;
}

export function workloadStatus(
  kind: WorkloadMeshStatus['kind'],
  obj: Workload,
  pods: PodMeshStatus[],
): WorkloadMeshStatus {
  const name = obj.metadata?.name ?? '';
  const podsByRevision: Record<string, number> = {};
  for (const pod of pods.filter(p => p.workload === `${kind}/${name}`)) {
    const key = pod.sidecar.injected ? pod.sidecar.revision ?? 'unknown' : 'none';
    podsByRevision[key] = (podsByRevision[key] ?? 0) + 1;
  }
  const status = obj.status as { replicas?: number; readyReplicas?: number; desiredNumberScheduled?: number; numberReady?: number } | undefined;
  return {
    kind,
    name,
    replicas: status?.replicas ?? status?.desiredNumberScheduled ?? 0,
    readyReplicas: status?.readyReplicas ?? status?.numberReady ?? 0,
    podsByRevision,
  };
}
