import { BackstageCredentials, LoggerService } from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import type {
  V1ConfigMap,
  V1DaemonSet,
  V1Deployment,
  V1Namespace,
  V1Pod,
  V1StatefulSet,
} from '@kubernetes/client-node';
import {
  ISTIO_LABELS,
  canComplete,
  canRollback,
  deriveUpgradeState,
} from '@mesh-portal/plugin-istio-mesh-common';
import { ControlPlaneProvider } from '@mesh-portal/plugin-istio-mesh-node';
import { ClusterGateway } from '../service/ClusterGateway';
import { ClusterSnapshot, ClusterSnapshots } from '../service/ClusterSnapshots';
import {
  NamespaceWorkload,
  PodRevision,
  RESTARTED_AT,
  WORKLOAD_COLLECTIONS,
  WorkloadKind,
  describePod,
  describeWorkload,
  observationOf,
} from './observe';
import { StepRetrier } from './retry';
import type { HealthGate } from './healthGate';
import type { SharedMeshConfigCopier } from '../meshconfig/MeshConfigService';
import { RunRecord, StepDetails, StepRecord } from './UpgradeStore';

/** What one pass over a step found: finished (with the outcome), or still waiting. */
export type TickResult =
  | {
      done: true;
      outcome: 'succeeded' | 'failed';
      message: string;
      /** Set when the step ends the run. */
      runStatus?: 'completed' | 'rolled-back';
    }
  | { done: false; message?: string };

export interface TickContext {
  run: RunRecord;
  step: StepRecord;
  /** Mutable: saved after every pass, so a resuming replica knows what was done. */
  details: StepDetails;
  credentials: BackstageCredentials;
  provider: ControlPlaneProvider;
  /** Persists `details` now (before a write whose repetition would cost something). */
  save(): Promise<void>;
  /** Retries this step's cluster calls on 409/429/5xx/timeouts, tallying them into `details.retries`. */
  retrier: StepRetrier;
}

/** The shared MeshConfig ConfigMap of a revision (users' part; the add-on's wins on conflict). */
export const sharedConfigMapName = (revision: string) => `istio-shared-configmap-${revision}`;
const COPIED_FROM = 'istio-mesh.backstage.io/copied-from';

/** Where a namespace stands while a step moves it to `target`. */
interface NamespaceProgress {
  done: boolean;
  /** Definitively stuck: the step fails with this. */
  stuck?: string;
  /** Waiting for, in plain words. */
  waiting?: string;
  restarted: string[];
}

/**
 * One pass of each upgrade action: it re-reads the cluster, does what is still missing
 * (idempotent writes: the same label, the same restart stamp) and says whether the step
 * is done. The first pass runs in the request, with the caller's credentials; later
 * passes run in the background (see UpgradeService), also after a restart on another
 * replica.
 */
export class StepWorker {
  /** Set by UpgradeService when metrics are configured: migrations then wait for their health verdict (healthGate.ts). */
  healthGate?: HealthGate;

  constructor(
    private readonly gateway: ClusterGateway,
    private readonly snapshots: ClusterSnapshots,
    private readonly logger: LoggerService,
    /** Validates the shared MeshConfig under the new revision's policy while copying it (meshconfig/). */
    private readonly sharedConfig?: SharedMeshConfigCopier,
  ) {}

  async tick(ctx: TickContext): Promise<TickResult> {
    switch (ctx.step.action) {
      case 'start':
        return this.tickStart(ctx);
      case 'migrate':
        return this.tickMigrate(ctx);
      case 'complete':
        return this.tickComplete(ctx);
      case 'rollback':
        return this.tickRollback(ctx);
      default:
        return { done: true, outcome: 'succeeded', message: 'Nothing to do.' };
    }
  }

  /** A fresh snapshot (after this replica's writes the cached one would be stale). */
  async snapshot(ctx: TickContext): Promise<ClusterSnapshot> {
    return ctx.retrier.run({ what: 'read of the cluster', cluster: ctx.run.cluster }, () =>
      this.snapshots.get(ctx.run.cluster, ctx.credentials, { maxAgeMs: 0 }),
    );
  }

  // --- start: shared MeshConfig first, then the platform runs [from, to] ---

  private async tickStart(ctx: TickContext): Promise<TickResult> {
    const { run, details, provider } = ctx;
    if (!provider.setRevisions || !provider.getRevisionChangeStatus) {
      return { done: true, outcome: 'succeeded', message: `${provider.id} cannot install control planes; nothing to start.` };
    }
    if (details.sharedConfig === undefined) {
      details.sharedConfig = await this.copySharedConfig(ctx);
      await ctx.save();
    }
    if (!details.change) {
      details.change = await provider.setRevisions(run.cluster, [run.from, run.to]);
      this.snapshots.invalidate(run.cluster);
      await ctx.save();
    }
    const status = await provider.getRevisionChangeStatus(run.cluster, details.change);
    if (status.state === 'failed') {
      return { done: true, outcome: 'failed', message: `Installing ${run.to} failed: ${status.message ?? 'the platform reports a failure'}` };
    }
    if (status.state === 'running') return { done: false, message: `Waiting for the platform to install ${run.to}.` };
    const snapshot = await this.snapshot(ctx);
    const canary = snapshot.controlPlane.revisions.find(r => r.revision === run.to);
    if (!canary?.ready) return { done: false, message: `Waiting for istiod-${run.to} to be ready.` };
    return {
      done: true,
      outcome: 'succeeded',
      message: `${run.to} runs next to ${run.from} (shared MeshConfig: ${details.sharedConfig}).`,
    };
  }

  /** Domain rule: `istio-shared-configmap-<new>` must exist before the canary starts, if the old one does. */
  private async copySharedConfig(ctx: TickContext): Promise<string> {
    const { run, credentials } = ctx;
    if (this.sharedConfig) {
      const copier = this.sharedConfig;
      return ctx.retrier.run({ what: `copy of ${sharedConfigMapName(run.from)}`, cluster: run.cluster }, () =>
        copier.copy(run.cluster, run.from, run.to, credentials),
      );
    }
    const snapshot = await this.snapshot(ctx);
    const ns = snapshot.controlPlane.namespace;
    let source: V1ConfigMap;
    try {
      source = await ctx.retrier.run({ what: `read of ${sharedConfigMapName(run.from)}`, cluster: run.cluster }, () =>
        this.gateway.get<V1ConfigMap>(
          run.cluster,
          `/api/v1/namespaces/${ns}/configmaps/${sharedConfigMapName(run.from)}`,
          credentials,
        ),
      );
    } catch (error) {
      if (error instanceof NotFoundError) return `none (${sharedConfigMapName(run.from)} does not exist)`;
      throw error;
    }
    const labels = { ...source.metadata?.labels };
    if (labels[ISTIO_LABELS.revision] === run.from) labels[ISTIO_LABELS.revision] = run.to;
    const annotations = { ...source.metadata?.annotations };
    delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
    annotations[COPIED_FROM] = sharedConfigMapName(run.from);
    try {
      // No retry of a 409 here: for a create it means the copy exists, which is kept.
      await ctx.retrier.run({ what: `creation of ${sharedConfigMapName(run.to)}`, cluster: run.cluster }, () =>
        this.gateway.create(
          run.cluster,
          `/api/v1/namespaces/${ns}/configmaps`,
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: sharedConfigMapName(run.to), namespace: ns, labels, annotations },
            ...(source.data ? { data: source.data } : {}),
            ...(source.binaryData ? { binaryData: source.binaryData } : {}),
          },
          credentials,
        ),
      );
      return `copied ${sharedConfigMapName(run.from)} to ${sharedConfigMapName(run.to)}`;
    } catch (error) {
      if ((error as Error).name === 'ConflictError') return `${sharedConfigMapName(run.to)} exists already and was kept`;
      throw error;
    }
  }

  /** After a revision is removed, its shared ConfigMap goes too (best effort; reported, never fatal). */
  private async deleteSharedConfig(ctx: TickContext, revision: string): Promise<string> {
    const { run, credentials } = ctx;
    const snapshot = await this.snapshot(ctx);
    try {
      await ctx.retrier.run({ what: `deletion of ${sharedConfigMapName(revision)}`, cluster: run.cluster }, () =>
        this.gateway.delete(
          run.cluster,
          `/api/v1/namespaces/${snapshot.controlPlane.namespace}/configmaps/${sharedConfigMapName(revision)}`,
          credentials,
        ),
      );
      return ` Deleted ${sharedConfigMapName(revision)}.`;
    } catch (error) {
      if (error instanceof NotFoundError) return '';
      this.logger.warn(`Could not delete ${sharedConfigMapName(revision)} in ${run.cluster}: ${(error as Error).message}`);
      return ` Could not delete ${sharedConfigMapName(revision)}: ${(error as Error).message}`;
    }
  }

  // --- migrate: relabel, restart, wait for the rollouts, verify the new pods' sidecars ---

  private async tickMigrate(ctx: TickContext): Promise<TickResult> {
    const { run, step, details, credentials } = ctx;
    const namespace = step.namespace!;
    const target = step.targetRevision!;
    // Once the gate measures, the namespace was on `target`: only the gate's passes remain.
    const progress = details.healthGate ? { done: true, restarted: [] } : await this.moveNamespace(run.cluster, namespace, target, details, credentials, ctx);
    if (progress.stuck) return { done: true, outcome: 'failed', message: progress.stuck };
    if (!progress.done) return { done: false, message: progress.waiting };
    const restarted = details.restarted?.length ? details.restarted.join(', ') : 'none needed';
    const moved = `Namespace ${namespace} runs ${target}: every sidecar is on ${target} (restarted: ${restarted}).`;
    if (this.healthGate?.applies(run.cluster)) {
      // The step runs on while the gate measures, yet the view shows the namespace moved from
      // here on: a snapshot from mid-rollout must not say otherwise (a step's end does the same).
      if (!details.healthGate) this.snapshots.invalidate(run.cluster);
      const gate = await this.healthGate.tick({ cluster: run.cluster, namespace, details, save: ctx.save });
      if (!gate.done) return { done: false, message: gate.message };
      return { done: true, outcome: 'succeeded', message: `${moved} ${gate.summary}` };
    }
    return {
      done: true,
      outcome: 'succeeded',
      message: moved,
    };
  }

  /**
   * Moves one namespace to `target`, idempotently: the label (merge patch: `istio.io/rev`
   * set, `istio-injection` dropped), then a rollout restart of each Deployment,
   * StatefulSet and DaemonSet that still runs pods of another revision. A workload is
   * restarted at most once per step (its template then carries the step's stamp) and
   * never while a rollout is under way.
   */
  private async moveNamespace(
    cluster: string,
    namespace: string,
    target: string,
    details: StepDetails,
    credentials: BackstageCredentials,
    ctx: TickContext,
    refPrefix = '',
  ): Promise<NamespaceProgress> {
    const stamp = details.restartStamp!;
    const { retrier } = ctx;
    // Read, then write only what differs; after a 409 the retry reads again (an idempotent write).
    await retrier.run({ what: `relabel of namespace ${namespace}`, cluster, retryConflicts: true }, async () => {
      const ns = await this.gateway.get<V1Namespace>(cluster, `/api/v1/namespaces/${namespace}`, credentials);
      const labels = ns.metadata?.labels ?? {};
      if (labels[ISTIO_LABELS.revision] !== target || labels[ISTIO_LABELS.injection] !== undefined) {
        await this.gateway.patch(
          cluster,
          `/api/v1/namespaces/${namespace}`,
          { metadata: { labels: { [ISTIO_LABELS.revision]: target, [ISTIO_LABELS.injection]: null } } },
          'merge',
          credentials,
        );
        this.snapshots.invalidate(cluster);
      }
    });
    const { workloads, pods } = await retrier.run({ what: `read of namespace ${namespace}`, cluster }, () =>
      this.namespaceState(cluster, namespace, credentials),
    );
    const stale = (p: PodRevision) => p.revision !== undefined && p.revision !== target;
    const restarted: string[] = [];
    for (const w of workloads) {
      const hasStale = pods.some(p => p.workload === w.ref && stale(p));
      if (!hasStale || !w.rolledOut || w.restartedAt === stamp) continue;
      const path = `/apis/apps/v1/namespaces/${namespace}/${WORKLOAD_COLLECTIONS[w.kind]}/${w.name}`;
      await retrier.run({ what: `restart of ${w.ref} in ${namespace}`, cluster, retryConflicts: true }, async attempt => {
        if (attempt.after) {
          // The last attempt may have landed before its answer was lost: the stamp says so.
          const current = await this.gateway.get<V1Deployment | V1StatefulSet | V1DaemonSet>(cluster, path, credentials);
          if (describeWorkload(w.kind, current).restartedAt === stamp) return;
        }
        await this.gateway.patch(
          cluster,
          path,
          { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: stamp } } } } },
          'strategic',
          credentials,
        );
      });
      restarted.push(w.ref);
      details.restarted = [...new Set([...(details.restarted ?? []), `${refPrefix}${w.ref}`])];
      await ctx.save();
    }
    if (restarted.length > 0) {
      this.snapshots.invalidate(cluster);
      return { done: false, waiting: `Restarted ${restarted.join(', ')} in ${namespace}.`, restarted };
    }
    const rolling = workloads.filter(w => !w.rolledOut);
    if (rolling.length > 0) {
      return { done: false, waiting: `Waiting for the rollout of ${rolling.map(w => w.ref).join(', ')} in ${namespace}.`, restarted };
    }
    const managed = new Set(workloads.map(w => w.ref));
    const stalePods = pods.filter(stale);
    const unmanaged = stalePods.filter(p => !p.workload || !managed.has(p.workload));
    const afterRestart = stalePods.filter(p => p.workload && managed.has(p.workload));
    const noSidecar = pods.filter(
      p => p.revision === undefined && !p.optedOut && p.workload && workloads.some(w => w.ref === p.workload && w.restartedAt === stamp),
    );
    if (afterRestart.length > 0) {
      // Rolled out, restarted by this step, and still on another revision: the injector did not act.
      return {
        done: false,
        stuck: `After the restart, ${describePods(afterRestart)} in ${namespace} still run${afterRestart.length === 1 ? 's' : ''} ${revisionsOf(afterRestart)}, not ${target}: check the injector of ${target} (webhook istio-sidecar-injector-${target}).`,
        restarted,
      };
    }
    if (noSidecar.length > 0) {
      return {
        done: false,
        stuck: `After the restart, ${describePods(noSidecar)} in ${namespace} came up without a sidecar: check that ${target} is installed and its injector works.`,
        restarted,
      };
    }
    if (unmanaged.length > 0) {
      return {
        done: false,
        stuck: `${describePods(unmanaged)} in ${namespace} still run${unmanaged.length === 1 ? 's' : ''} ${revisionsOf(unmanaged)} and belong to no Deployment, StatefulSet or DaemonSet: delete or recreate them to move them to ${target}.`,
        restarted,
      };
    }
    return { done: true, restarted };
  }

  private async namespaceState(
    cluster: string,
    namespace: string,
    credentials: BackstageCredentials,
  ): Promise<{ workloads: NamespaceWorkload[]; pods: PodRevision[] }> {
    const kinds = Object.keys(WORKLOAD_COLLECTIONS) as WorkloadKind[];
    const [lists, pods] = await Promise.all([
      Promise.all(
        kinds.map(kind =>
          this.gateway.list<V1Deployment | V1StatefulSet | V1DaemonSet>(
            cluster,
            `/apis/apps/v1/namespaces/${namespace}/${WORKLOAD_COLLECTIONS[kind]}`,
            credentials,
          ),
        ),
      ),
      this.gateway.list<V1Pod>(cluster, `/api/v1/namespaces/${namespace}/pods`, credentials),
    ]);
    return {
      workloads: kinds.flatMap((kind, i) => lists[i].map(obj => describeWorkload(kind, obj))),
      pods: pods.flatMap(p => {
        const d = describePod(p);
        return d ? [d] : [];
      }),
    };
  }

  // --- complete: the platform drops `from` once nothing uses it ---

  private async tickComplete(ctx: TickContext): Promise<TickResult> {
    const { run, details, provider } = ctx;
    const snapshot = await this.snapshot(ctx);
    const obs = observationOf(snapshot);
    if (!details.change) {
      const verdict = canComplete(obs, run);
      if (!verdict.allowed) {
        return { done: true, outcome: 'failed', message: withBlockers(verdict.reason, verdict.blockers) };
      }
      if (!provider.setRevisions) {
        return {
          done: true,
          outcome: 'succeeded',
          runStatus: 'completed',
          message: `Nothing runs ${run.from} any more. ${run.cluster} runs upstream Istio: remove ${run.from} with helm or istioctl when you are ready; the portal does not uninstall control planes.`,
        };
      }
      details.change = await provider.setRevisions(run.cluster, [run.to]);
      this.snapshots.invalidate(run.cluster);
      await ctx.save();
    }
    const status = await provider.getRevisionChangeStatus!(run.cluster, details.change);
    if (status.state === 'failed') {
      return { done: true, outcome: 'failed', message: `Removing ${run.from} failed: ${status.message ?? 'the platform reports a failure'}` };
    }
    if (status.state === 'running') return { done: false, message: `Waiting for the platform to remove ${run.from}.` };
    if (deriveUpgradeState(obs, run).phase !== 'Completed') {
      return { done: false, message: `Waiting for istiod-${run.from} to go.` };
    }
    const deleted = await this.deleteSharedConfig(ctx, run.from);
    return { done: true, outcome: 'succeeded', runStatus: 'completed', message: `${run.from} is removed; ${run.cluster} runs ${run.to}.${deleted}` };
  }

  // --- rollback: every namespace back to `from`, then the platform drops `to` ---

  private async tickRollback(ctx: TickContext): Promise<TickResult> {
    const { run, details, credentials, provider } = ctx;
    if (!details.change) {
      const snapshot = await this.snapshot(ctx);
      const obs = observationOf(snapshot);
      const toMove = obs.namespaces
        .filter(ns => ns.revision === run.to || (ns.podsByRevision[run.to] ?? 0) > 0)
        .map(ns => ns.name)
        .sort();
      const waiting: string[] = [];
      for (const namespace of toMove) {
        const progress = await this.moveNamespace(run.cluster, namespace, run.from, details, credentials, ctx, `${namespace}/`);
        if (progress.stuck) return { done: true, outcome: 'failed', message: progress.stuck };
        if (!progress.done && progress.waiting) waiting.push(progress.waiting);
      }
      if (waiting.length > 0) return { done: false, message: waiting.join(' ') };
      const after = observationOf(await this.snapshot(ctx));
      const verdict = canRollback(after, run);
      const phase = deriveUpgradeState(after, run).phase;
      if (!verdict.allowed && phase !== 'RolledBack') {
        return { done: false, message: withBlockers(verdict.reason, verdict.blockers) };
      }
      if (!provider.setRevisions) {
        return {
          done: true,
          outcome: 'succeeded',
          runStatus: 'rolled-back',
          message: `Every namespace is back on ${run.from}. ${run.cluster} runs upstream Istio: remove ${run.to} with helm or istioctl if you no longer want it; the portal does not uninstall control planes.`,
        };
      }
      details.change = await provider.setRevisions(run.cluster, [run.from]);
      this.snapshots.invalidate(run.cluster);
      await ctx.save();
    }
    const status = await provider.getRevisionChangeStatus!(run.cluster, details.change);
    if (status.state === 'failed') {
      return { done: true, outcome: 'failed', message: `Removing ${run.to} failed: ${status.message ?? 'the platform reports a failure'}` };
    }
    if (status.state === 'running') return { done: false, message: `Waiting for the platform to remove ${run.to}.` };
    const snapshot = await this.snapshot(ctx);
    if (snapshot.controlPlane.revisions.some(r => r.revision === run.to)) {
      return { done: false, message: `Waiting for istiod-${run.to} to go.` };
    }
    const deleted = await this.deleteSharedConfig(ctx, run.to);
    return {
      done: true,
      outcome: 'succeeded',
      runStatus: 'rolled-back',
      message: `Every namespace is back on ${run.from} and ${run.to} is removed.${deleted}`,
    };
  }
}

export function withBlockers(reason: string, blockers?: string[]): string {
  return blockers?.length ? `${reason} Blockers: ${blockers.join('; ')}.` : reason;
}

function describePods(pods: PodRevision[]): string {
  const names = pods.slice(0, 5).map(p => p.name);
  const more = pods.length > 5 ? ` and ${pods.length - 5} more` : '';
  return `${pods.length === 1 ? 'pod' : 'pods'} ${names.join(', ')}${more}`;
}

function revisionsOf(pods: PodRevision[]): string {
  return [...new Set(pods.map(p => p.revision))].join(', ');
}
