import {
  ClusterControlPlaneStatus,
  NamespaceEntityMeshStatus,
  PodMeshState,
  canaryPair,
} from '@mesh-portal/plugin-istio-mesh-common';

/** Plain-words explanations of mesh states, kept out of the components so they are testable. */
export function describePhase(cp: ClusterControlPlaneStatus): string {
  switch (cp.phase) {
    case 'Stable':
      return `Stable on ${cp.revisions[0].revision}`;
    case 'Canary': {
      const pair = canaryPair(cp.revisions.map(r => r.revision))!;
      return `Canary upgrade in progress: ${pair.stable} → ${pair.canary}`;
    }
    case 'Unsupported':
      return `${cp.revisions.length} control planes installed (at most two are supported)`;
    default:
      return 'No Istio control plane found';
  }
}

export function describeDrift(ns: NamespaceEntityMeshStatus): string | undefined {
  const drifted = ns.pods.filter(p => p.state === 'drifted');
  if (drifted.length === 0) return undefined;
  const revisions = [...new Set(drifted.map(p => p.sidecar.revision ?? 'unknown'))].join(', ');
  const workloads = [...new Set(drifted.map(p => p.workload).filter(Boolean))].join(', ');
  const target = ns.targetRevision
    ? `namespace ${ns.name} is on ${ns.targetRevision}`
    : `namespace ${ns.name} is no longer in the mesh`;
  return `${drifted.length} pod${drifted.length === 1 ? '' : 's'} still run ${revisions} while ${target}. Restart ${workloads || 'their workloads'} (rollout restart) so new pods get the namespace's revision.`;
}

export function describeInjection(ns: NamespaceEntityMeshStatus): string | undefined {
  const inj = ns.injection;
  switch (inj.mode) {
    case 'ignored-injection-label':
    case 'conflict':
    case 'unknown-revision':
      return `Namespace ${ns.name} ${inj.reason}`;
    default:
      return undefined;
  }
}

export const POD_STATE_LABEL: Record<PodMeshState, string> = {
  'in-sync': 'In sync',
  drifted: 'Drifted',
  'not-injected': 'No sidecar (restart needed)',
  'opted-out': 'Opted out',
  unknown: 'Revision unknown',
  unmeshed: 'Not in mesh',
};
