import { ISTIO_LABELS, SidecarInfo } from './sidecar';

export type MeshProvider = 'aks' | 'istio';

/** How a namespace asks for sidecar injection. */
export type NamespaceInjection =
  | { mode: 'revision'; label: string; revision: string; viaTag?: string }
  | { mode: 'injection-label'; revision: string }
  | { mode: 'ignored-injection-label'; reason: string }
  | { mode: 'conflict'; label: string; reason: string }
  | { mode: 'unknown-revision'; label: string; reason: string }
  | { mode: 'none' };

export interface InjectionContext {
  provider: MeshProvider;
  /** Installed control-plane revisions. */
  revisions: string[];
  /** Revision tags (`prod-stable` → `1-26-3`); upstream only. */
  tags?: Record<string, string>;
}

/**
 * Decides which revision injects a namespace's new pods, by the rules of the provider:
 * the AKS add-on injects only on `istio.io/rev` and ignores `istio-injection`; upstream
 * Istio gives `istio-injection` precedence, serves it from the `default` tag, and
 * resolves `istio.io/rev` through revision tags.
 */
export function namespaceInjection(
  labels: Record<string, string> | undefined,
  ctx: InjectionContext,
): NamespaceInjection {
  const rev = labels?.[ISTIO_LABELS.revision];
  const injection = labels?.[ISTIO_LABELS.injection];
  if (ctx.provider === 'aks') {
    if (rev) return resolveRevisionLabel(rev, ctx);
    if (injection === 'enabled') {
      return {
        mode: 'ignored-injection-label',
        reason:
          'uses istio-injection=enabled, which the AKS add-on ignores: its pods get no sidecar. Label it istio.io/rev=<revision> instead.',
      };
    }
    return { mode: 'none' };
  }
  if (injection === 'enabled' && rev) {
    return {
      mode: 'conflict',
      label: rev,
      reason:
        'has both istio-injection=enabled and istio.io/rev; istio-injection takes precedence, so the revision label has no effect.',
    };
  }
  if (injection === 'enabled') {
    const target = ctx.tags?.default ?? (ctx.revisions.includes('default') ? 'default' : undefined);
    return target
      ? { mode: 'injection-label', revision: target }
      : {
          mode: 'unknown-revision',
          label: 'default',
          reason: 'uses istio-injection=enabled but no default revision or tag exists.',
        };
  }
  if (injection === 'disabled') return { mode: 'none' };
  if (rev) return resolveRevisionLabel(rev, ctx);
  return { mode: 'none' };
}

function resolveRevisionLabel(label: string, ctx: InjectionContext): NamespaceInjection {
  const viaTag = ctx.tags?.[label];
  if (viaTag) return { mode: 'revision', label, revision: viaTag, viaTag: label };
  if (ctx.revisions.includes(label)) return { mode: 'revision', label, revision: label };
  return {
    mode: 'unknown-revision',
    label,
    reason: `is labelled istio.io/rev=${label}, but no control plane or tag with that revision is installed: new pods get no sidecar.`,
  };
}

/** The revision a namespace's new pods would get, if any. */
export function injectedRevision(ns: NamespaceInjection): string | undefined {
  return ns.mode === 'revision' || ns.mode === 'injection-label' ? ns.revision : undefined;
}

/**
 * A pod's standing against its namespace:
 * - `in-sync`: its sidecar runs the namespace's revision;
 * - `drifted`: it runs another revision (it was not restarted after a relabel);
 * - `not-injected`: the namespace asks for a sidecar but the pod has none (restart it);
 * - `opted-out`: the pod declined injection;
 * - `unknown`: it has a sidecar whose revision cannot be read;
 * - `unmeshed`: neither the namespace nor the pod is in the mesh, or a sidecar sits in a
 *   namespace that no longer asks for one (also drift: `drifted`).
 */
export type PodMeshState =
  | 'in-sync'
  | 'drifted'
  | 'not-injected'
  | 'opted-out'
  | 'unknown'
  | 'unmeshed';

export function podMeshState(
  namespaceRevision: string | undefined,
  sidecar: SidecarInfo,
): PodMeshState {
  if (!sidecar.injected) {
    if (sidecar.optedOut) return 'opted-out';
    return namespaceRevision ? 'not-injected' : 'unmeshed';
  }
  if (!namespaceRevision) return 'drifted';
  if (!sidecar.revision) return 'unknown';
  return sidecar.revision === namespaceRevision ? 'in-sync' : 'drifted';
}

/** States that need a rollout restart to fix. */
export function needsRestart(state: PodMeshState): boolean {
  return state === 'drifted' || state === 'not-injected';
}
