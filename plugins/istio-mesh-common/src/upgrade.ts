import { compareRevisions, isValidRevisionName, minorDistance } from './revision';

/**
 * The canary upgrade of a cluster's control plane, as a pure state machine. Every phase is
 * derived from what the cluster shows (installed revisions, namespace labels, pods'
 * sidecar revisions) plus the run's `from`/`to`, so a restarted backend re-derives where
 * an upgrade stands instead of trusting a stored phase.
 *
 *   Stable → CanaryDeployed → Migrating (n of m) → ReadyToComplete → Completed
 *   any phase → RolledBack
 */
export type UpgradePhase =
  | 'Stable'
  | 'CanaryDeployed'
  | 'Migrating'
  | 'ReadyToComplete'
  | 'Completed'
  | 'RolledBack';

/** A namespace as the upgrade sees it. */
export interface UpgradeNamespace {
  name: string;
  /** The revision the namespace's label injects (after tags), if meshed. */
  revision?: string;
  /** Running pods per sidecar revision. */
  podsByRevision: Record<string, number>;
}

/** What the cluster shows now. */
export interface UpgradeObservation {
  installedRevisions: string[];
  /** Upgrades the platform offers (ARM `meshUpgradeProfiles`), meaningful when Stable. */
  offeredUpgrades: string[];
  namespaces: UpgradeNamespace[];
}

/** A started upgrade: which revision it moves from and to. */
export interface UpgradeRunRef {
  from: string;
  to: string;
}

export interface UpgradeState {
  phase: UpgradePhase;
  /** Meshed namespaces that still need to move to `to` (label or pods). */
  pendingNamespaces: string[];
  /** Meshed namespaces fully on `to`. */
  migratedNamespaces: string[];
}

export type Verdict =
  | { allowed: true }
  | {
      allowed: false;
      /** `invalid`: bad input (400); `conflict`: the cluster's state forbids it now (409). */
      kind: 'invalid' | 'conflict';
      reason: string;
      /** What stands in the way, e.g. namespaces still on the old revision. */
      blockers?: string[];
    };

const allow: Verdict = { allowed: true };
const conflict = (reason: string, blockers?: string[]): Verdict => ({
  allowed: false,
  kind: 'conflict',
  reason,
  ...(blockers ? { blockers } : {}),
});
const invalid = (reason: string): Verdict => ({ allowed: false, kind: 'invalid', reason });

/** AKS allows at most two control-plane revisions at once. */
export const MAX_REVISIONS = 2;

function meshed(ns: UpgradeNamespace, run: UpgradeRunRef): boolean {
  return (
    ns.revision === run.from ||
    ns.revision === run.to ||
    (ns.podsByRevision[run.from] ?? 0) > 0 ||
    (ns.podsByRevision[run.to] ?? 0) > 0
  );
}

/** A namespace is on `revision` when its label injects it and no pod runs anything else of the run. */
function onRevision(ns: UpgradeNamespace, revision: string, other: string): boolean {
  return ns.revision === revision && (ns.podsByRevision[other] ?? 0) === 0;
}

/** Where an upgrade stands, from the cluster alone and the run's from/to. */
export function deriveUpgradeState(obs: UpgradeObservation, run?: UpgradeRunRef): UpgradeState {
  if (!run) {
    return { phase: 'Stable', pendingNamespaces: [], migratedNamespaces: [] };
  }
  const relevant = obs.namespaces.filter(ns => meshed(ns, run));
  const migrated = relevant.filter(ns => onRevision(ns, run.to, run.from)).map(ns => ns.name);
  const pending = relevant.filter(ns => !migrated.includes(ns.name)).map(ns => ns.name);
  const installed = new Set(obs.installedRevisions);
  let phase: UpgradePhase;
  if (installed.has(run.from) && installed.has(run.to)) {
    if (migrated.length === 0 && !relevant.some(ns => ns.revision === run.to || (ns.podsByRevision[run.to] ?? 0) > 0)) {
      phase = 'CanaryDeployed';
    } else if (pending.length === 0) {
      phase = 'ReadyToComplete';
    } else {
      phase = 'Migrating';
    }
  } else if (installed.has(run.to)) {
    phase = 'Completed';
  } else if (installed.has(run.from)) {
    phase = 'RolledBack';
  } else {
    // Neither revision is installed: someone changed the cluster outside the portal.
    phase = 'RolledBack';
  }
  return { phase, pendingNamespaces: pending.sort(), migratedNamespaces: migrated.sort() };
}

/**
 * May a canary upgrade to `target` start? Only from one stable revision, to a revision the
 * platform offers (n+1, or n+2 when offered), never a downgrade.
 */
export function canStartUpgrade(obs: UpgradeObservation, target: string): Verdict {
  if (!isValidRevisionName(target)) {
    return invalid(`"${target}" is not a valid revision name`);
  }
  if (obs.installedRevisions.length === 0) {
    return conflict('No control plane is installed, so there is nothing to upgrade.');
  }
  if (obs.installedRevisions.length >= MAX_REVISIONS) {
    return conflict(
      `An upgrade is already in progress (revisions ${[...obs.installedRevisions].sort(compareRevisions).join(', ')}): complete or roll it back first.`,
    );
  }
  const [current] = obs.installedRevisions;
  if (target === current) {
    return conflict(`The cluster already runs ${target}.`);
  }
  const distance = minorDistance(current, target);
  if (distance !== undefined && distance < 0) {
    return invalid(`${target} is older than ${current}: downgrades are not supported (only rollback during a canary).`);
  }
  if (!obs.offeredUpgrades.includes(target)) {
    const offered = obs.offeredUpgrades.length ? obs.offeredUpgrades.join(', ') : 'none';
    return invalid(`${target} is not offered for this cluster (offered: ${offered}).`);
  }
  return allow;
}

/** May a namespace move to `target` (relabel + restart)? Only to an installed revision of the run. */
export function canMigrateNamespace(
  obs: UpgradeObservation,
  run: UpgradeRunRef,
  namespace: string,
  target: string,
): Verdict {
  if (target !== run.to && target !== run.from) {
    return invalid(`${target} is not part of the running upgrade (${run.from} → ${run.to}).`);
  }
  if (!obs.installedRevisions.includes(target)) {
    return conflict(`${target} is not installed, so its injector cannot give pods a sidecar.`);
  }
  if (!obs.namespaces.some(ns => ns.name === namespace)) {
    return invalid(`Namespace ${namespace} does not exist in this cluster.`);
  }
  return allow;
}

/** Namespaces whose label or running sidecars still use `revision`, in plain words. */
function namespacesUsing(obs: UpgradeObservation, revision: string): string[] {
  return obs.namespaces
    .filter(ns => ns.revision === revision || (ns.podsByRevision[revision] ?? 0) > 0)
    .map(ns => {
      const pods = ns.podsByRevision[revision] ?? 0;
      return ns.revision === revision
        ? `${ns.name} is labelled for ${revision}`
        : `${ns.name} has ${pods} pod${pods === 1 ? '' : 's'} still on ${revision}`;
    })
    .sort();
}

/**
 * May the old control plane be removed? Not while any namespace label or running sidecar
 * still uses it: those workloads would silently drop out of the mesh.
 */
export function canComplete(obs: UpgradeObservation, run: UpgradeRunRef): Verdict {
  const state = deriveUpgradeState(obs, run);
  if (state.phase === 'Completed') return conflict('The upgrade is already complete.');
  if (state.phase === 'RolledBack') return conflict('The upgrade was rolled back.');
  const blockers = namespacesUsing(obs, run.from);
  if (blockers.length > 0) {
    return conflict(
      `Completing would remove ${run.from} while workloads still use it; migrate these namespaces first.`,
      blockers,
    );
  }
  return allow;
}

/** May the canary be removed? Only once every namespace and pod is back on the old revision. */
export function canRollback(obs: UpgradeObservation, run: UpgradeRunRef): Verdict {
  const state = deriveUpgradeState(obs, run);
  if (state.phase === 'Completed') return conflict(`The upgrade is complete; ${run.from} is gone, so there is nothing to roll back to.`);
  if (state.phase === 'RolledBack') return conflict('The upgrade is already rolled back.');
  const blockers = namespacesUsing(obs, run.to);
  if (blockers.length > 0) {
    return conflict(
      `Rolling back would remove ${run.to} while workloads still use it; move these namespaces back to ${run.from} first.`,
      blockers,
    );
  }
  return allow;
}
