import type { V1DaemonSet, V1Deployment, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import {
  UpgradeNamespace,
  UpgradeObservation,
  injectedRevision,
  namespaceInjection,
  sidecarOf,
} from '@mesh-portal/plugin-istio-mesh-common';
import { ClusterSnapshot } from '../service/ClusterSnapshots';
import { owningWorkload } from '../service/derive';

/** What the upgrade state machine needs from a cluster snapshot. */
export function observationOf(snapshot: ClusterSnapshot, offeredUpgrades: string[] = []): UpgradeObservation {
  const installedRevisions = snapshot.controlPlane.revisions.map(r => r.revision);
  const podsByNamespace = new Map<string, Record<string, number>>();
  for (const pod of snapshot.pods) {
    if (!isRunning(pod.phase) || !pod.sidecar.injected || !pod.sidecar.revision) continue;
    const counts = podsByNamespace.get(pod.namespace) ?? {};
    counts[pod.sidecar.revision] = (counts[pod.sidecar.revision] ?? 0) + 1;
    podsByNamespace.set(pod.namespace, counts);
  }
  const namespaces: UpgradeNamespace[] = snapshot.namespaces.map(ns => ({
    name: ns.name,
    revision: labelledRevision(ns.labels, snapshot, installedRevisions),
    podsByRevision: podsByNamespace.get(ns.name) ?? {},
  }));
  return { installedRevisions, offeredUpgrades, namespaces };
}

/**
 * The revision a namespace's label asks for: what it injects after tags, or, when that
 * revision is not installed (any more), the label itself, which still blocks removing it.
 */
function labelledRevision(
  labels: Record<string, string>,
  snapshot: ClusterSnapshot,
  installedRevisions: string[],
): string | undefined {
  const injection = namespaceInjection(labels, {
    provider: snapshot.provider,
    revisions: installedRevisions,
    tags: snapshot.controlPlane.tags,
  });
  if (injection.mode === 'unknown-revision') return injection.label;
  return injectedRevision(injection);
}

function isRunning(phase: string): boolean {
  return phase !== 'Succeeded' && phase !== 'Failed';
}

// --- workloads and pods of one namespace, as migrate and rollback steps see them ---

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

export const WORKLOAD_COLLECTIONS: Record<WorkloadKind, string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
};

export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

export interface NamespaceWorkload {
  kind: WorkloadKind;
  name: string;
  /** `Kind/name`, as pods name their owner. */
  ref: string;
  restartedAt?: string;
  /** The rollout is complete: every replica runs the current template and is available. */
  rolledOut: boolean;
}

export function describeWorkload(kind: WorkloadKind, obj: V1Deployment | V1StatefulSet | V1DaemonSet): NamespaceWorkload {
  const name = obj.metadata?.name ?? '';
  return {
    kind,
    name,
    ref: `${kind}/${name}`,
    restartedAt: obj.spec?.template?.metadata?.annotations?.[RESTARTED_AT],
    rolledOut: rolloutComplete(kind, obj),
  };
}

/** `kubectl rollout status`'s test, per kind. */
export function rolloutComplete(kind: WorkloadKind, obj: V1Deployment | V1StatefulSet | V1DaemonSet): boolean {
  const generation = obj.metadata?.generation ?? 0;
  const observed = obj.status?.observedGeneration ?? 0;
  if (observed < generation) return false;
  if (kind === 'Deployment') {
    const d = obj as V1Deployment;
    const want = d.spec?.replicas ?? 1;
    const s = d.status ?? {};
    return (s.updatedReplicas ?? 0) >= want && (s.replicas ?? 0) <= (s.updatedReplicas ?? 0) && (s.availableReplicas ?? 0) >= (s.updatedReplicas ?? 0);
  }
  if (kind === 'StatefulSet') {
    const st = obj as V1StatefulSet;
    const want = st.spec?.replicas ?? 1;
    const s = st.status;
    return !!s && (s.updatedReplicas ?? 0) >= want && (s.readyReplicas ?? 0) >= want && s.currentRevision === s.updateRevision;
  }
  const ds = obj as V1DaemonSet;
  const s = ds.status;
  return !!s && (s.updatedNumberScheduled ?? 0) >= s.desiredNumberScheduled && (s.numberAvailable ?? 0) >= s.desiredNumberScheduled;
}

export interface PodRevision {
  name: string;
  workload?: string;
  /** The sidecar's revision; undefined without a sidecar. */
  revision?: string;
  /** The pod declined injection (`sidecar.istio.io/inject=false`). */
  optedOut: boolean;
  ready: boolean;
}

export function describePod(pod: V1Pod): PodRevision | undefined {
  if (!isRunning(pod.status?.phase ?? 'Unknown') || pod.metadata?.deletionTimestamp) return undefined;
  const sidecar = sidecarOf(pod);
  return {
    name: pod.metadata?.name ?? '',
    workload: owningWorkload(pod),
    revision: sidecar.injected ? sidecar.revision ?? 'unknown' : undefined,
    optedOut: sidecar.optedOut,
    ready: pod.status?.conditions?.some(c => c.type === 'Ready' && c.status === 'True') ?? false,
  };
}
