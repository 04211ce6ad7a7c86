import {
  AuthService,
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import {
  UpgradeActionResponse,
  UpgradeGuard,
  UpgradeNamespaceStatus,
  UpgradeRun,
  UpgradeRunStatus,
  UpgradeStep,
  Verdict,
  canComplete,
  canMigrateNamespace,
  canRollback,
  canStartUpgrade,
  canaryPair,
  deriveUpgradeState,
} from '@mesh-portal/plugin-istio-mesh-common';
import { ControlPlaneProvider } from '@mesh-portal/plugin-istio-mesh-node';
import { randomUUID } from 'node:crypto';
import { ClusterSnapshot, ClusterSnapshots } from '../service/ClusterSnapshots';
import { ClusterGateway } from '../service/ClusterGateway';
import { observationOf } from './observe';
import { DEFAULT_RETRY_POLICY, RetryPolicy, RetryTally, StepRetrier, describeRetries } from './retry';
import { StepWorker, TickResult, withBlockers } from './steps';
import { HealthGate, endPendingGate, gateMeasuring, namespaceGate, unacknowledgedGates } from './healthGate';
import type { SharedMeshConfigCopier } from '../meshconfig/MeshConfigService';
import { RunRecord, StepDetails, StepRecord, UpgradeStore } from './UpgradeStore';
import { requireNonNegative, requirePositive } from '../configChecks';

/** Timings of upgrade steps (config `istioMesh.upgrades`). */
export interface UpgradeSettings {
  /** Pause between two passes of a running step. */
  pollIntervalMs: number;
  /** How long a replica's claim on a running step lasts without renewal. */
  leaseMs: number;
  /** How long a request waits for another action on the same cluster before answering 409. */
  lockWaitMs: number;
  /** How long a cluster lock lasts if its holder dies before releasing it. */
  lockLeaseMs: number;
  /** A migrate step fails when its rollouts take longer. */
  rolloutTimeoutMs: number;
  /** A start, complete or rollback step fails when the control plane takes longer. */
  controlPlaneTimeoutMs: number;
  /** Retries of the steps' cluster calls. */
  retry: RetryPolicy;
}

export const DEFAULT_UPGRADE_SETTINGS: UpgradeSettings = {
  pollIntervalMs: 2_000,
  leaseMs: 30_000,
  lockWaitMs: 5_000,
  lockLeaseMs: 120_000,
  rolloutTimeoutMs: 15 * 60_000,
  controlPlaneTimeoutMs: 45 * 60_000,
  retry: DEFAULT_RETRY_POLICY,
};

export function readUpgradeSettings(config: Config): UpgradeSettings {
  const c = config.getOptionalConfig('istioMesh.upgrades');
  const seconds = (key: string, fallback: number) => {
    const value = c?.getOptionalNumber(key);
    return value === undefined ? fallback : value * 1000;
  };
  const settings: UpgradeSettings = {
    pollIntervalMs: c?.getOptionalNumber('pollIntervalMs') ?? DEFAULT_UPGRADE_SETTINGS.pollIntervalMs,
    leaseMs: seconds('leaseSeconds', DEFAULT_UPGRADE_SETTINGS.leaseMs),
    lockWaitMs: c?.getOptionalNumber('lockWaitMs') ?? DEFAULT_UPGRADE_SETTINGS.lockWaitMs,
    lockLeaseMs: seconds('lockLeaseSeconds', DEFAULT_UPGRADE_SETTINGS.lockLeaseMs),
    rolloutTimeoutMs: seconds('rolloutTimeoutSeconds', DEFAULT_UPGRADE_SETTINGS.rolloutTimeoutMs),
    controlPlaneTimeoutMs: seconds('controlPlaneTimeoutSeconds', DEFAULT_UPGRADE_SETTINGS.controlPlaneTimeoutMs),
    retry: readRetryPolicy(c?.getOptionalConfig('retries')),
  };
  const key = (name: string) => `istioMesh.upgrades.${name}`;
  requirePositive(key('pollIntervalMs'), settings.pollIntervalMs);
  requirePositive(key('leaseSeconds'), settings.leaseMs);
  requireNonNegative(key('lockWaitMs'), settings.lockWaitMs);
  requirePositive(key('lockLeaseSeconds'), settings.lockLeaseMs);
  requirePositive(key('rolloutTimeoutSeconds'), settings.rolloutTimeoutMs);
  requirePositive(key('controlPlaneTimeoutSeconds'), settings.controlPlaneTimeoutMs);
  requireNonNegative(key('retries.baseDelayMs'), settings.retry.baseDelayMs);
  requireNonNegative(key('retries.maxDelayMs'), settings.retry.maxDelayMs);
  requireNonNegative(key('retries.maxRetryAfterSeconds'), settings.retry.maxRetryAfterMs);
  requirePositive(key('retries.attemptTimeoutSeconds'), settings.retry.attemptTimeoutMs);
  return settings;
}

/** A pass that waits on retries must not outlive its lease, or another replica would take the step over meanwhile. */
function retryWithinLease(settings: UpgradeSettings): RetryPolicy {
  return { ...settings.retry, maxTotalWaitMs: Math.min(settings.retry.maxTotalWaitMs, settings.leaseMs / 2) };
}

function readRetryPolicy(c?: Config): RetryPolicy {
  const d = DEFAULT_RETRY_POLICY;
  const seconds = (key: string, fallback: number) => {
    const value = c?.getOptionalNumber(key);
    return value === undefined ? fallback : value * 1000;
  };
  return {
    attempts: Math.max(1, c?.getOptionalNumber('attempts') ?? d.attempts),
    baseDelayMs: c?.getOptionalNumber('baseDelayMs') ?? d.baseDelayMs,
    maxDelayMs: c?.getOptionalNumber('maxDelayMs') ?? d.maxDelayMs,
    maxRetryAfterMs: seconds('maxRetryAfterSeconds', d.maxRetryAfterMs),
    attemptTimeoutMs: seconds('attemptTimeoutSeconds', d.attemptTimeoutMs),
    maxTotalWaitMs: d.maxTotalWaitMs,
  };
}

export interface UpgradeServiceOptions {
  store: UpgradeStore;
  gateway: ClusterGateway;
  snapshots: ClusterSnapshots;
  /** Asked in order; the first that handles a cluster manages it. */
  providers: ControlPlaneProvider[];
  /** For upstream-Istio clusters no other provider handles. */
  upstreamProvider: ControlPlaneProvider;
  auth: AuthService;
  logger: LoggerService;
  settings?: Partial<UpgradeSettings>;
  /** Compares golden signals before and after each migration when metrics are configured. */
  healthGate?: HealthGate;
  /** Checks and copies the shared MeshConfig to the new revision (domain rule: before the start). */
  sharedConfig?: SharedMeshConfigCopier;
}

/**
 * How old a snapshot the upgrade view may show. Writes of this replica invalidate the
 * cluster's snapshot, so the view never predates them; pollers share one read.
 */
const VIEW_MAX_AGE_MS = 2_000;

/** Who asked: the user entity ref, or the service's subject. */
export function actorOf(credentials: BackstageCredentials): string {
  const principal = credentials.principal as { type: string; userEntityRef?: string; subject?: string };
  if (principal.type === 'user' && principal.userEntityRef) return principal.userEntityRef;
  if (principal.type === 'service' && principal.subject) return principal.subject;
  return principal.type;
}

/** Upstream failures worth another pass (cluster or ARM unreachable, 5xx); anything else ends the step. */
function isTransient(error: unknown): boolean {
  return (error as Error)?.name === 'ServiceUnavailableError';
}

function throwUnless(verdict: Verdict): void {
  if (verdict.allowed) return;
  const message = withBlockers(verdict.reason, verdict.blockers);
  throw verdict.kind === 'invalid' ? new InputError(message) : new ConflictError(message);
}

function guard(verdict: Verdict): UpgradeGuard {
  return verdict.allowed ? { allowed: true } : { allowed: false, reason: verdict.reason, ...(verdict.blockers ? { blockers: verdict.blockers } : {}) };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>(resolve => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });

/**
 * Canary upgrades of control planes, persisted and resumable.
 *
 * - Every action takes the cluster's lock (a database row with an expiry, shared by all
 *   replicas), reads the cluster afresh, asks the pure state machine in -common whether
 *   it may go on, records a step and runs its first pass with the caller's credentials.
 * - What is left (waiting for ARM and rollouts, verifying sidecars) runs in passes in
 *   the background with the plugin's own credentials, under a lease on the step. A pass
 *   re-derives everything from the cluster and repeats only idempotent writes, so a
 *   step can be resumed by any replica: the scheduled task picks up steps whose lease ran
 *   out (their replica stopped).
 * - The phase is never stored: it is derived from the cluster and the run's from/to.
 */
export class UpgradeService {
  private readonly replicaId = `replica-${randomUUID()}`;
  private readonly drivers = new Map<number, { abort: AbortController; done: Promise<void> }>();
  private readonly worker: StepWorker;
  private readonly settings: UpgradeSettings;
  private stopping = false;

  constructor(private readonly options: UpgradeServiceOptions) {
    this.settings = { ...DEFAULT_UPGRADE_SETTINGS, ...options.settings };
    this.worker = new StepWorker(options.gateway, options.snapshots, options.logger, options.sharedConfig);
    this.worker.healthGate = options.healthGate;
  }

  private get store() {
    return this.options.store;
  }

  // --- reads ---

  /** The current or last upgrade of a cluster, its phase derived from a fresh read. */
  async getUpgrade(cluster: string, credentials: BackstageCredentials): Promise<UpgradeRun> {
    await this.requireCluster(cluster, credentials);
    const run = await this.store.getCurrentOrLastRun(cluster);
    if (!run) throw new NotFoundError(`No upgrade has been started for cluster '${cluster}'.`);
    return this.view(run, credentials);
  }

  // --- actions ---

  /** Starts a canary upgrade to `target` (or retries a start that failed, or adopts a canary already running). */
  async start(cluster: string, target: string, credentials: BackstageCredentials): Promise<UpgradeActionResponse> {
    await this.requireCluster(cluster, credentials);
    const actor = actorOf(credentials);
    return this.withClusterLock(cluster, `start of an upgrade to ${target} by ${actor}`, async () => {
      const snapshot = await this.options.snapshots.get(cluster, credentials, { maxAgeMs: 0 });
      const provider = this.providerFor(cluster, snapshot);
      const installed = snapshot.controlPlane.revisions.map(r => r.revision);
      const active = await this.store.getActiveRun(cluster);
      if (active) {
        const steps = await this.store.listSteps(active.id);
        this.refuseWhileRunning(active, steps, ['start', 'adopt', 'complete', 'rollback']);
        const started = steps.some(s => (s.action === 'start' || s.action === 'adopt') && s.outcome === 'succeeded');
        if (active.to === target && !started) {
          // The start failed (ARM refused or its operation failed): try it again.
          await this.options.sharedConfig?.checkCopy(cluster, active.from, target, credentials);
          return this.record(active, { action: 'start', actor, targetRevision: target }, credentials, this.settings.controlPlaneTimeoutMs);
        }
        throw new ConflictError(
          `An upgrade of ${cluster} from ${active.from} to ${active.to} is in progress (started by ${active.startedBy}): complete or roll it back first.`,
        );
      }
      const pair = canaryPair(installed);
      if (pair && pair.canary === target) {
        // A canary started outside the portal (az aks mesh upgrade start, helm/istioctl): take it over.
        const run = await this.newRun(cluster, provider, pair.stable, pair.canary, actor);
        return this.record(run, { action: 'adopt', actor, targetRevision: target }, credentials, 0);
      }
      if (!provider.setRevisions) {
        throw new ConflictError(
          `${cluster} runs upstream Istio, where the portal cannot install control planes: install ${target} with helm or istioctl next to ${installed.join(', ') || 'the current revision'}, then start again to adopt it.`,
        );
      }
      const info = await provider.getUpgradeInfo(cluster, { installedRevisions: installed });
      throwUnless(canStartUpgrade(observationOf(snapshot, info.availableUpgrades), target));
      // A shared MeshConfig the new revision's policy blocks would fail the start after ARM was asked: refuse now.
      await this.options.sharedConfig?.checkCopy(cluster, installed[0], target, credentials);
      const run = await this.newRun(cluster, provider, installed[0], target, actor);
      return this.record(run, { action: 'start', actor, targetRevision: target }, credentials, this.settings.controlPlaneTimeoutMs);
    });
  }

  /** Moves one namespace to `target` (relabel, restart, verify). */
  async migrate(
    cluster: string,
    namespace: string,
    target: string,
    credentials: BackstageCredentials,
  ): Promise<UpgradeActionResponse> {
    await this.requireCluster(cluster, credentials);
    const actor = actorOf(credentials);
    return this.withClusterLock(cluster, `migration of ${namespace} to ${target} by ${actor}`, async () => {
      const run = await this.requireActiveRun(cluster);
      const steps = await this.store.listSteps(run.id);
      this.refuseWhileRunning(run, steps, ['start', 'complete', 'rollback']);
      const same = steps.find(s => s.outcome === 'running' && s.action === 'migrate' && s.namespace === namespace);
      if (same) {
        throw new ConflictError(
          `Namespace ${namespace} is already being migrated to ${same.targetRevision} (step ${same.id}, by ${same.actor}).`,
        );
      }
      const snapshot = await this.options.snapshots.get(cluster, credentials, { maxAgeMs: 0 });
      throwUnless(canMigrateNamespace(observationOf(snapshot), run, namespace, target));
      const timeoutMs = this.settings.rolloutTimeoutMs + (this.options.healthGate?.extraTimeMs(cluster) ?? 0);
      return this.record(run, { action: 'migrate', actor, namespace, targetRevision: target }, credentials, timeoutMs);
    });
  }

  /**
   * Removes the old revision, once nothing uses it. While a migrated namespace's health
   * gate regressed it needs `acknowledgeRegressions`, which is then recorded on those
   * migrate steps.
   */
  async complete(
    cluster: string,
    credentials: BackstageCredentials,
    options: { acknowledgeRegressions?: boolean } = {},
  ): Promise<UpgradeActionResponse> {
    await this.requireCluster(cluster, credentials);
    const actor = actorOf(credentials);
    return this.withClusterLock(cluster, `completion by ${actor}`, async () => {
      const run = await this.requireActiveRun(cluster);
      const steps = await this.store.listSteps(run.id);
      this.refuseWhileRunning(run, steps, ['start', 'complete', 'rollback']);
      const snapshot = await this.options.snapshots.get(cluster, credentials, { maxAgeMs: 0 });
      const obs = observationOf(snapshot);
      throwUnless(canComplete(obs, run));
      const gates = unacknowledgedGates(steps, deriveUpgradeState(obs, run).migratedNamespaces);
      if (gates.length > 0 && !options.acknowledgeRegressions) {
        throw new ConflictError(
          `The health gate of ${gates.map(g => `${g.namespace} (${g.verdict})`).join(', ')} did not pass: complete with { "acknowledgeRegressions": true } to remove ${run.from} anyway.`,
        );
      }
      const at = new Date().toISOString();
      for (const g of gates) {
        const migrateStep = steps.find(s => s.id === g.stepId)!;
        const details: StepDetails = { ...migrateStep.details, healthGate: { ...migrateStep.details.healthGate!, acknowledged: { by: actor, at } } };
        await this.store.amendStepDetails(g.stepId, details);
      }
      const response = await this.record(run, { action: 'complete', actor, targetRevision: run.to }, credentials, this.settings.controlPlaneTimeoutMs);
      return gates.length ? { ...response, acknowledgedRegressions: gates.map(g => g.namespace) } : response;
    });
  }

  /**
   * Moves every namespace back to the old revision (relabel, restart), then removes the
   * canary. Supersedes running migrations; retrying after a failure resumes it.
   */
  async rollback(cluster: string, credentials: BackstageCredentials): Promise<UpgradeActionResponse> {
    await this.requireCluster(cluster, credentials);
    const actor = actorOf(credentials);
    return this.withClusterLock(cluster, `rollback by ${actor}`, async () => {
      const run = await this.requireActiveRun(cluster);
      const steps = await this.store.listSteps(run.id);
      this.refuseWhileRunning(run, steps, ['start', 'complete', 'rollback']);
      const snapshot = await this.options.snapshots.get(cluster, credentials, { maxAgeMs: 0 });
      const obs = observationOf(snapshot);
      const verdict = canRollback(obs, run);
      // Blockers (namespaces on the canary) are what a rollback moves; only the end states refuse it.
      if (!verdict.allowed && deriveUpgradeState(obs, run).phase === 'Completed') throwUnless(verdict);
      const running = steps.filter(s => s.outcome === 'running' && s.action === 'migrate');
      const now = new Date();
      for (const s of running) {
        const details = endPendingGate({ ...s.details }, `The rollback requested by ${actor} cancelled the migration before its health gate's window ended.`, now);
        await this.store.finishStep(s.id, 'cancelled', `Superseded by the rollback requested by ${actor}.`, now, details);
        this.drivers.get(s.id)?.abort.abort();
      }
      return this.record(run, { action: 'rollback', actor, targetRevision: run.from }, credentials, this.settings.controlPlaneTimeoutMs + this.settings.rolloutTimeoutMs);
    });
  }

  // --- background ---

  /**
   * Resumes running steps that no replica drives (their lease ran out: the replica that
   * started them stopped). Run by the scheduler on one replica at a time.
   */
  async resumeUnfinished(): Promise<number> {
    if (this.stopping) return 0;
    const orphans = await this.store.listOrphanedSteps(new Date());
    let resumed = 0;
    for (const step of orphans) {
      const now = new Date();
      if (await this.store.claimStep(step.id, this.replicaId, now, new Date(now.getTime() + this.settings.leaseMs))) {
        this.options.logger.info(`Resuming upgrade step ${step.id} (${step.action}${step.namespace ? ` of ${step.namespace}` : ''}) of run ${step.runId}`);
        this.launch(step.id, true);
        resumed++;
      }
    }
    return resumed;
  }

  /** Stops the background passes and hands their steps back, so that another replica resumes them at once. */
  async stop(): Promise<void> {
    this.stopping = true;
    const running = [...this.drivers.values()];
    for (const d of running) d.abort.abort();
    await Promise.all(running.map(d => d.done));
  }

  // --- internals ---

  private async requireCluster(cluster: string, credentials: BackstageCredentials): Promise<void> {
    const clusters = await this.options.snapshots.listClusters(credentials);
    if (!clusters.includes(cluster)) throw new NotFoundError(`No cluster named '${cluster}' is configured`);
  }

  private async requireActiveRun(cluster: string): Promise<RunRecord> {
    const run = await this.store.getActiveRun(cluster);
    if (run) return run;
    const last = await this.store.getCurrentOrLastRun(cluster);
    throw new ConflictError(
      last
        ? `No upgrade is in progress on ${cluster}: the last one (${last.from} → ${last.to}) is ${last.status}.`
        : `No upgrade is in progress on ${cluster}: start one first.`,
    );
  }

  private refuseWhileRunning(run: RunRecord, steps: StepRecord[], actions: StepRecord['action'][]): void {
    const busy = steps.find(s => s.outcome === 'running' && actions.includes(s.action));
    if (busy) {
      throw new ConflictError(
        `The ${busy.action} step ${busy.id} of the upgrade ${run.from} → ${run.to} is still running (by ${busy.actor}, since ${busy.startedAt.toISOString()}): wait for it to finish.`,
      );
    }
  }

  private providerFor(cluster: string, snapshot: ClusterSnapshot): ControlPlaneProvider {
    const provider =
      this.options.providers.find(p => p.handles(cluster)) ??
      (snapshot.provider === 'istio' ? this.options.upstreamProvider : undefined);
    if (!provider) {
      throw new ConflictError(
        `No control-plane provider manages ${cluster}: add it under istioMesh.aks.clusters in app-config to upgrade it through Azure.`,
      );
    }
    return provider;
  }

  /** The provider a run was recorded with (or, if it is gone from config, the one handling the cluster now). */
  private providerOfRun(run: RunRecord): ControlPlaneProvider | undefined {
    const all = [...this.options.providers, this.options.upstreamProvider];
    return all.find(p => p.id === run.provider && p.handles(run.cluster)) ?? all.find(p => p.handles(run.cluster));
  }

  private async newRun(cluster: string, provider: ControlPlaneProvider, from: string, to: string, actor: string): Promise<RunRecord> {
    const run: RunRecord = {
      id: randomUUID(),
      cluster,
      provider: provider.id,
      from,
      to,
      status: 'active',
      startedBy: actor,
      startedAt: new Date(),
    };
    await this.store.insertRun(run);
    return run;
  }

  /** Records a step, runs its first pass now (with the caller's credentials) and the rest in the background. */
  private async record(
    run: RunRecord,
    init: Pick<StepRecord, 'action' | 'actor' | 'namespace' | 'targetRevision'>,
    credentials: BackstageCredentials,
    timeoutMs: number,
  ): Promise<UpgradeActionResponse> {
    const now = new Date();
    let step = await this.store.insertStep({
      runId: run.id,
      ...init,
      outcome: 'running',
      details: { restartStamp: now.toISOString() },
      startedAt: now,
      deadlineAt: new Date(now.getTime() + timeoutMs),
      leaseHolder: this.replicaId,
      leaseExpiresAt: new Date(now.getTime() + this.settings.leaseMs),
    });
    const ended = await this.pass(run, step, credentials, true);
    if (!ended) this.launch(step.id);
    step = (await this.store.getStep(step.id)) ?? step;
    return { run: await this.view(run, credentials), step: toApiStep(step) };
  }

  /**
   * One pass over a step. Returns whether the step ended. In a request an error ends the
   * step as failed and is thrown on (the caller sees it); in the background a transient
   * error (cluster or ARM unreachable) is noted and the next pass tries again.
   */
  private async pass(run: RunRecord, step: StepRecord, credentials: BackstageCredentials, inRequest: boolean): Promise<boolean> {
    // A pass can outlast the lease (slow ARM calls, a cluster call's attempts of up to
    // attemptTimeoutSeconds each): keep renewing it, or another replica's resume task
    // would drive the same step at the same time.
    const renew = setInterval(() => {
      const now = new Date();
      this.store
        .claimStep(step.id, this.replicaId, now, new Date(now.getTime() + this.settings.leaseMs))
        .catch(error => this.options.logger.warn(`Could not renew the lease on upgrade step ${step.id}: ${(error as Error).message}`));
    }, this.settings.leaseMs / 3);
    try {
      return await this.passUnderLease(run, step, credentials, inRequest);
    } finally {
      clearInterval(renew);
    }
  }

  private async passUnderLease(run: RunRecord, step: StepRecord, credentials: BackstageCredentials, inRequest: boolean): Promise<boolean> {
    const details: StepDetails = { ...step.details };
    const provider = this.providerOfRun(run);
    const tally: RetryTally = { total: details.retries?.total ?? 0, causes: { ...details.retries?.causes } };
    const retrier = new StepRetrier(retryWithinLease(this.settings), tally, this.options.logger.child({ upgradeStep: String(step.id) }));
    // Retries are kept with the step, so that its record (and message) says what it met.
    const keepRetries = () => {
      if (tally.total > 0) details.retries = tally;
    };
    let result: TickResult;
    try {
      if (run.status !== 'active' && step.action !== 'adopt') {
        endPendingGate(details, `The upgrade was ${run.status} before the health gate's window after the restart ended.`);
        result = { done: true, outcome: 'succeeded', message: `The upgrade ended (${run.status}) meanwhile.` };
      } else if (step.action === 'adopt') {
        result = { done: true, outcome: 'succeeded', message: `Adopted the canary ${run.from} → ${run.to} that is already running.` };
      } else if (!provider) {
        throw new ConflictError(`No control-plane provider '${run.provider}' manages ${run.cluster} any more.`);
      } else {
        result = await this.worker.tick({
          run,
          step,
          details,
          credentials,
          provider,
          retrier,
          save: async () => {
            keepRetries();
            await this.store.saveStepDetails(step.id, details);
          },
        });
      }
    } catch (error) {
      keepRetries();
      const message = (error as Error).message ?? String(error);
      if (!inRequest && isTransient(error)) {
        details.lastError = message;
        await this.store.saveStepDetails(step.id, details, `Retrying after an error: ${message}`);
        return false;
      }
      await this.end(run, step, details, { done: true, outcome: 'failed', message });
      if (inRequest) throw error;
      return true;
    }
    keepRetries();
    if (result.done) {
      await this.end(run, step, details, result);
      return true;
    }
    delete details.lastError;
    await this.store.saveStepDetails(step.id, details, result.message);
    return false;
  }

  private async end(run: RunRecord, step: StepRecord, details: StepDetails, result: Extract<TickResult, { done: true }>) {
    const now = new Date();
    const retries = describeRetries(details.retries);
    const message = retries ? `${result.message} (${retries}.)` : result.message;
    const recorded = await this.store.finishStep(
      step.id,
      result.outcome,
      message,
      now,
      details,
      result.runStatus ? { id: run.id, status: result.runStatus } : undefined,
    );
    this.options.snapshots.invalidate(run.cluster);
    if (recorded) {
      const log = result.outcome === 'failed' ? this.options.logger.warn : this.options.logger.info;
      log.call(this.options.logger, `Upgrade step ${step.id} (${step.action}) on ${run.cluster} ${result.outcome}: ${message}`);
    }
  }

  /** Drives a running step in the background until it ends, the lease is lost, or the service stops. */
  private launch(stepId: number, claimed = false): void {
    if (this.stopping || this.drivers.has(stepId)) return;
    const abort = new AbortController();
    const done = this.drive(stepId, abort.signal, claimed)
      .catch(error => this.options.logger.error(`Upgrade step ${stepId} stopped with an error`, error as Error))
      .finally(() => this.drivers.delete(stepId));
    this.drivers.set(stepId, { abort, done });
  }

  private async drive(stepId: number, signal: AbortSignal, resumeNow: boolean): Promise<void> {
    const credentials = await this.options.auth.getOwnServiceCredentials();
    let first = true;
    try {
      while (!signal.aborted) {
        if (!(first && resumeNow)) await sleep(this.settings.pollIntervalMs, signal);
        first = false;
        if (signal.aborted) return;
        const now = new Date();
        if (!(await this.store.claimStep(stepId, this.replicaId, now, new Date(now.getTime() + this.settings.leaseMs)))) {
          return; // it ended, or another replica took it over
        }
        const step = await this.store.getStep(stepId);
        const run = step && (await this.store.getRun(step.runId));
        if (!step || !run || step.outcome !== 'running') return;
        if (now > step.deadlineAt) {
          const last = step.message ? ` Last seen: ${step.message}` : '';
          await this.end(run, step, step.details, {
            done: true,
            outcome: 'failed',
            message: `Timed out after ${Math.round((step.deadlineAt.getTime() - step.startedAt.getTime()) / 1000)} s.${last}`,
          });
          return;
        }
        if (await this.pass(run, step, credentials, false)) return;
      }
    } finally {
      if (signal.aborted) await this.store.releaseStep(stepId, this.replicaId).catch(() => undefined);
    }
  }

  private async withClusterLock<T>(cluster: string, purpose: string, fn: () => Promise<T>): Promise<T> {
    const key = `cluster:${cluster}`;
    const holder = randomUUID();
    const giveUpAt = Date.now() + this.settings.lockWaitMs;
    for (;;) {
      const now = new Date();
      const lock = await this.store.tryLock(key, holder, purpose, now, new Date(now.getTime() + this.settings.lockLeaseMs));
      if (lock.holder === holder) break;
      if (Date.now() >= giveUpAt) {
        throw new ConflictError(
          `Another upgrade action on ${cluster} is in progress (${lock.purpose}, since ${lock.acquiredAt.toISOString()}): try again when it has finished.`,
        );
      }
      await new Promise(resolve => setTimeout(resolve, 50 + Math.random() * 100));
    }
    try {
      return await fn();
    } finally {
      await this.store.unlock(key, holder).catch(error =>
        this.options.logger.warn(`Could not release the upgrade lock of ${cluster}: ${(error as Error).message}`),
      );
    }
  }

  /** The API view of a run: recorded steps plus what the cluster shows now. */
  private async view(loaded: RunRecord, credentials: BackstageCredentials): Promise<UpgradeRun> {
    // Steps, then the run, then the cluster. A step that ends its run ends it in the same
    // transaction, so a run seen ended with a step seen running means the steps were read
    // just before that commit: read them again. A step's end invalidates the snapshot, so
    // the cluster read last is never older than the steps show.
    let steps = await this.store.listSteps(loaded.id);
    const run = (await this.store.getRun(loaded.id)) ?? loaded;
    if (run.status !== 'active' && steps.some(s => s.outcome === 'running')) steps = await this.store.listSteps(run.id);
    const snapshot = await this.options.snapshots.get(run.cluster, credentials, { maxAgeMs: VIEW_MAX_AGE_MS });
    const provider = this.providerOfRun(run);
    const obs = observationOf(snapshot);
    const state = deriveUpgradeState(obs, run);
    const started = steps.some(s => (s.action === 'start' || s.action === 'adopt') && s.outcome === 'succeeded');
    let phase = state.phase;
    if (run.status === 'active' && !started && !obs.installedRevisions.includes(run.to)) phase = 'Stable';
    if (run.status !== 'active' && !provider?.setRevisions) phase = run.status === 'completed' ? 'Completed' : 'RolledBack';

    const runningRollback = steps.some(s => s.outcome === 'running' && s.action === 'rollback');
    const relevant = new Set([...state.pendingNamespaces, ...state.migratedNamespaces, ...steps.flatMap(s => (s.namespace ? [s.namespace] : []))]);
    const namespaces: UpgradeNamespaceStatus[] = obs.namespaces
      .filter(ns => relevant.has(ns.name))
      .map(ns => {
        const own = steps.filter(s => s.namespace === ns.name);
        const last = own[own.length - 1];
        const onCanary = ns.revision === run.to || (ns.podsByRevision[run.to] ?? 0) > 0;
        let nsState: UpgradeNamespaceStatus['state'];
        // A migrate step whose gate is measuring has moved its namespace already.
        if ((last?.outcome === 'running' && !gateMeasuring(last)) || (runningRollback && onCanary)) nsState = 'migrating';
        else if (state.migratedNamespaces.includes(ns.name)) nsState = 'migrated';
        else if (last?.outcome === 'failed') nsState = 'failed';
        else nsState = 'pending';
        return {
          name: ns.name,
          ...(ns.revision ? { revision: ns.revision } : {}),
          podsByRevision: ns.podsByRevision,
          state: nsState,
          ...(last ? { lastStepId: last.id } : {}),
          ...(namespaceGate(own, ns.name) ? { healthGate: namespaceGate(own, ns.name) } : {}),
        };
      });

    let status: UpgradeRunStatus;
    if (run.status !== 'active') status = run.status;
    else if (steps.some(s => s.outcome === 'running' && !gateMeasuring(s))) status = 'in-progress';
    else if (steps[steps.length - 1]?.outcome === 'failed') status = 'failed';
    else status = 'waiting';

    let platform: UpgradeRun['platform'];
    const lastChange = [...steps].reverse().find(s => s.details.change)?.details.change;
    if (lastChange && provider?.getRevisionChangeStatus) {
      try {
        platform = await provider.getRevisionChangeStatus(run.cluster, lastChange);
      } catch (error) {
        const e = error as Error;
        platform = { revisions: lastChange.revisions, state: 'running', error: { name: e.name ?? 'Error', message: e.message } };
      }
    }

    return {
      id: run.id,
      cluster: run.cluster,
      provider: run.provider,
      from: run.from,
      to: run.to,
      phase,
      status,
      installedRevisions: obs.installedRevisions,
      ...(platform ? { platform } : {}),
      pendingNamespaces: state.pendingNamespaces,
      migratedNamespaces: state.migratedNamespaces,
      namespaces,
      guards: {
        complete: run.status === 'active' ? completeGuard(guard(canComplete(obs, run)), unacknowledgedGates(steps, state.migratedNamespaces), !!this.options.healthGate?.applies(run.cluster)) : { allowed: false, reason: `The upgrade is ${run.status}.` },
        rollback: run.status === 'active' ? guard(rollbackGuard(obs, run)) : { allowed: false, reason: `The upgrade is ${run.status}.` },
      },
      steps: steps.map(toApiStep),
      startedBy: run.startedBy,
      startedAt: run.startedAt.toISOString(),
      ...(run.finishedAt ? { finishedAt: run.finishedAt.toISOString() } : {}),
    };
  }
}

/** Complete is allowed with an acknowledgement while health gates regressed; gated clusters always say which (maybe none). */
function completeGuard(g: UpgradeGuard, gates: Array<{ namespace: string }>, gated: boolean): UpgradeGuard {
  return gates.length || gated ? { ...g, requiresAcknowledgement: gates.map(x => x.namespace) } : g;
}

/** A rollback moves namespaces back itself, so only a completed upgrade refuses it. */
function rollbackGuard(obs: ReturnType<typeof observationOf>, run: RunRecord): Verdict {
  const verdict = canRollback(obs, run);
  if (verdict.allowed || deriveUpgradeState(obs, run).phase !== 'Completed') return { allowed: true };
  return verdict;
}

export function toApiStep(step: StepRecord): UpgradeStep {
  return {
    id: step.id,
    action: step.action,
    ...(step.namespace ? { namespace: step.namespace } : {}),
    ...(step.targetRevision ? { targetRevision: step.targetRevision } : {}),
    actor: step.actor,
    outcome: step.outcome,
    ...(step.message ? { message: step.message } : {}),
    ...(step.details.restarted?.length ? { restartedWorkloads: step.details.restarted } : {}),
    ...(step.details.healthGate ? { healthGate: step.details.healthGate } : {}),
    ...(step.details.retries?.total ? { retries: step.details.retries.total } : {}),
    startedAt: step.startedAt.toISOString(),
    ...(step.finishedAt ? { finishedAt: step.finishedAt.toISOString() } : {}),
  };
}
