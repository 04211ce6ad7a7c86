import { compareRevisions } from './revision';

/** The namespace that holds the control plane, by provider. */
export const CONTROL_PLANE_NAMESPACE = {
  aks: 'aks-istio-system',
  istio: 'istio-system',
} as const;

export interface ControlPlaneRevisionStatus {
  revision: string;
  /** Istio version the revision's istiod runs (from its image). */
  version?: string;
  replicas: number;
  readyReplicas: number;
  ready: boolean;
}

/**
 * The upgrade phase as far as the cluster alone shows it. The full state machine (with
 * per-namespace migration progress) builds on this: one installed revision is `Stable`,
 * two are a canary in progress, more is a state AKS never allows.
 */
export type ObservedUpgradePhase = 'Stable' | 'Canary' | 'Unsupported' | 'NoControlPlane';

export function observedUpgradePhase(revisions: string[]): ObservedUpgradePhase {
  if (revisions.length === 0) return 'NoControlPlane';
  if (revisions.length === 1) return 'Stable';
  if (revisions.length === 2) return 'Canary';
  return 'Unsupported';
}

/** During a canary, the lower revision is the stable one and the higher the canary. */
export function canaryPair(
  revisions: string[],
): { stable: string; canary: string } | undefined {
  if (revisions.length !== 2) return undefined;
  const [stable, canary] = [...revisions].sort(compareRevisions);
  return { stable, canary };
}

/** istiod is ready when at least one replica is ready and all desired replicas are. */
export function istiodReady(replicas: number, readyReplicas: number): boolean {
  return readyReplicas > 0 && readyReplicas >= replicas;
}
