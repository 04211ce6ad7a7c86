import { ControlPlaneRevisionStatus, ObservedUpgradePhase } from './controlPlane';
import { NamespaceInjection } from './injection';

export type MeshHealth = 'healthy' | 'warning' | 'critical';

/** The plain-words problem with a namespace's injection setup, if any. */
export function injectionProblem(namespace: string, injection: NamespaceInjection): string | undefined {
  switch (injection.mode) {
    case 'ignored-injection-label':
    case 'conflict':
    case 'unknown-revision':
      return `Namespace ${namespace} ${injection.reason}`;
    default:
      return undefined;
  }
}

export interface ClusterHealthInput {
  phase: ObservedUpgradePhase;
  revisions: ControlPlaneRevisionStatus[];
  driftedPods: number;
  /** Plain-words misconfigurations (namespaces, injection). */
  problems: string[];
  /** Certificate warnings (expiry, stale bundles); a critical one makes the cluster critical. */
  trustWarnings?: Array<{ severity: 'warning' | 'critical'; message: string }>;
  /** Gateways that lag the control plane, in plain words. */
  gatewayProblems?: string[];
}

/**
 * A cluster's mesh health:
 * - critical: no control plane, or no istiod replica ready (injection and config push stop);
 * - critical too: a CA certificate expired or about to (below the critical threshold), or
 *   an istiod whose plug-in CA source is missing;
 * - warning: an istiod revision not fully ready, more revisions than AKS allows, pods
 *   drifted from their namespace's revision, misconfigured namespaces, a gateway lagging
 *   the control plane, certificate warnings (expiry ahead, stale bundles);
 * - healthy otherwise.
 * Returns the verdict with the reasons, so the UI can say why.
 */
export function clusterHealth(input: ClusterHealthInput): { health: MeshHealth; reasons: string[] } {
  if (input.phase === 'NoControlPlane') {
    return { health: 'critical', reasons: ['No Istio control plane is installed.'] };
  }
  if (!input.revisions.some(r => r.readyReplicas > 0)) {
    return { health: 'critical', reasons: ['No istiod replica is ready.'] };
  }
  const reasons: string[] = [];
  for (const r of input.revisions.filter(rev => !rev.ready)) {
    reasons.push(`istiod ${r.revision} has ${r.readyReplicas}/${r.replicas} replicas ready.`);
  }
  if (input.phase === 'Unsupported') {
    reasons.push(`${input.revisions.length} control-plane revisions are installed; at most two are supported.`);
  }
  if (input.driftedPods > 0) {
    reasons.push(
      `${input.driftedPods} pod${input.driftedPods === 1 ? '' : 's'} drifted from their namespace's revision and need a restart.`,
    );
  }
  reasons.push(...input.problems);
  reasons.push(...(input.gatewayProblems ?? []));
  const trust = input.trustWarnings ?? [];
  reasons.push(...trust.map(w => w.message));
  if (trust.some(w => w.severity === 'critical')) return { health: 'critical', reasons };
  return { health: reasons.length > 0 ? 'warning' : 'healthy', reasons };
}
