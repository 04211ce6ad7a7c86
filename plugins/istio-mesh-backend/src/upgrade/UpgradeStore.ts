import {
  DatabaseService,
  resolvePackagePath,
} from '@backstage/backend-plugin-api';
import { ConflictError } from '@backstage/errors';
import { HealthGateResult, UpgradeAction, UpgradeStepOutcome } from '@mesh-portal/plugin-istio-mesh-common';
import type { RetryTally } from './retry';

/** The knex client the database service hands out (no direct dependency on knex needed). */
type Knex = Awaited<ReturnType<DatabaseService['getClient']>>;

const MIGRATIONS_DIR = resolvePackagePath('@mesh-portal/plugin-istio-mesh-backend', 'migrations');
/** Our own migrations table: other plugins' migrations may share the database in tests. */
const MIGRATIONS_TABLE = 'istio_mesh__knex_migrations';

const RUNS = 'istio_mesh_upgrade_runs';
const STEPS = 'istio_mesh_upgrade_steps';
const LOCKS = 'istio_mesh_locks';

export type RunStatus = 'active' | 'completed' | 'rolled-back';

export interface RunRecord {
  id: string;
  cluster: string;
  provider: string;
  from: string;
  to: string;
  status: RunStatus;
  startedBy: string;
  startedAt: Date;
  finishedAt?: Date;
}

/** What a step keeps between ticks, so that a replica resuming it knows what was done. */
export interface StepDetails {
  /** The `kubectl.kubernetes.io/restartedAt` value this step writes: a workload carrying it was restarted by this step. */
  restartStamp?: string;
  /** Workloads this step restarted (`Kind/name` or `namespace/Kind/name` for rollback). */
  restarted?: string[];
  /** The platform's change (AKS: ARM poller state), once asked for. */
  change?: { revisions: string[]; token?: string };
  /** The shared MeshConfig ConfigMap was handled (copied, absent or already there). */
  sharedConfig?: string;
  /** The last transient error met while waiting, for the log. */
  lastError?: string;
  /** Migrate steps with metrics: the health gate's windows and verdict (healthGate.ts). */
  healthGate?: HealthGateResult;
  /** Cluster calls retried by this step (StepRetrier), by cause. */
  retries?: RetryTally;
}

export interface StepRecord {
  id: number;
  runId: string;
  action: UpgradeAction;
  namespace?: string;
  targetRevision?: string;
  actor: string;
  outcome: UpgradeStepOutcome;
  message?: string;
  details: StepDetails;
  startedAt: Date;
  finishedAt?: Date;
  deadlineAt: Date;
  leaseHolder?: string;
  leaseExpiresAt?: Date;
}

export interface LockRecord {
  key: string;
  holder: string;
  purpose: string;
  acquiredAt: Date;
  expiresAt: Date;
}

/** SQLite returns the epoch milliseconds knex bound; PostgreSQL returns Dates. */
function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'number') return new Date(value);
  const n = Number(value);
  return Number.isFinite(n) ? new Date(n) : new Date(String(value));
}

const optionalDate = (value: unknown) => (value === null || value === undefined ? undefined : toDate(value));
const optional = <T>(value: T | null | undefined) => (value === null || value === undefined ? undefined : value);

function toRun(row: any): RunRecord {
  return {
    id: row.id,
    cluster: row.cluster,
    provider: row.provider,
    from: row.from_revision,
    to: row.to_revision,
    status: row.status,
    startedBy: row.started_by,
    startedAt: toDate(row.started_at),
    finishedAt: optionalDate(row.finished_at),
  };
}

function toStep(row: any): StepRecord {
  return {
    id: Number(row.id),
    runId: row.run_id,
    action: row.action,
    namespace: optional(row.namespace),
    targetRevision: optional(row.target_revision),
    actor: row.actor,
    outcome: row.outcome,
    message: optional(row.message),
    details: row.details ? JSON.parse(row.details) : {},
    startedAt: toDate(row.started_at),
    finishedAt: optionalDate(row.finished_at),
    deadlineAt: toDate(row.deadline_at),
    leaseHolder: optional(row.lease_holder),
    leaseExpiresAt: optionalDate(row.lease_expires_at),
  };
}

/** A unique or primary-key violation, in SQLite's or PostgreSQL's words. */
function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return (
    e?.code === '23505' ||
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    /UNIQUE constraint failed|duplicate key value/i.test(e?.message ?? '')
  );
}

/**
 * The persisted side of upgrades (knex; SQLite and PostgreSQL): runs, their step log,
 * leases on running steps and per-cluster locks. Exclusivity lives here, in the shared
 * database, never in a replica's memory: a unique index allows one active run per
 * cluster, and a lock row with an expiry serializes conflicting actions.
 */
export class UpgradeStore {
  static async create(options: { database: DatabaseService }): Promise<UpgradeStore> {
    const knex = await options.database.getClient();
    if (!options.database.migrations?.skip) {
      await UpgradeStore.migrate(knex);
    }
    return new UpgradeStore(knex);
  }

  static async migrate(knex: Knex): Promise<void> {
    await knex.migrate.latest({ directory: MIGRATIONS_DIR, tableName: MIGRATIONS_TABLE });
  }

  constructor(private readonly knex: Knex) {}

  // --- runs ---

  /** Records a new active run; a ConflictError when the cluster already has one. */
  async insertRun(run: RunRecord): Promise<void> {
    try {
      await this.knex(RUNS).insert({
        id: run.id,
        cluster: run.cluster,
        provider: run.provider,
        from_revision: run.from,
        to_revision: run.to,
        status: run.status,
        active_cluster: run.status === 'active' ? run.cluster : null,
        started_by: run.startedBy,
        started_at: run.startedAt,
        finished_at: run.finishedAt ?? null,
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictError(`Cluster '${run.cluster}' already has an upgrade in progress.`);
      }
      throw error;
    }
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = await this.knex(RUNS).where({ id }).first();
    return row ? toRun(row) : undefined;
  }

  async getActiveRun(cluster: string): Promise<RunRecord | undefined> {
    const row = await this.knex(RUNS).where({ active_cluster: cluster }).first();
    return row ? toRun(row) : undefined;
  }

  /** The active run, or else the one started last. */
  async getCurrentOrLastRun(cluster: string): Promise<RunRecord | undefined> {
    const active = await this.getActiveRun(cluster);
    if (active) return active;
    const row = await this.knex(RUNS)
      .where({ cluster })
      .orderBy([{ column: 'started_at', order: 'desc' }, { column: 'id', order: 'desc' }])
      .first();
    return row ? toRun(row) : undefined;
  }

  /** Ends an active run; false when it was not active any more (someone else ended it). */
  async finishRun(id: string, status: Exclude<RunStatus, 'active'>, at: Date): Promise<boolean> {
    const count = await this.knex(RUNS)
      .where({ id, status: 'active' })
      .update({ status, finished_at: at, active_cluster: null });
    return count > 0;
  }

  // --- steps ---

  async insertStep(step: Omit<StepRecord, 'id'>): Promise<StepRecord> {
    const [inserted] = await this.knex(STEPS)
      .insert({
        run_id: step.runId,
        action: step.action,
        namespace: step.namespace ?? null,
        target_revision: step.targetRevision ?? null,
        actor: step.actor,
        outcome: step.outcome,
        message: step.message ?? null,
        details: JSON.stringify(step.details ?? {}),
        started_at: step.startedAt,
        finished_at: step.finishedAt ?? null,
        deadline_at: step.deadlineAt,
        lease_holder: step.leaseHolder ?? null,
        lease_expires_at: step.leaseExpiresAt ?? null,
      })
      .returning('id');
    const id = typeof inserted === 'object' ? Number(inserted.id) : Number(inserted);
    return { ...step, id };
  }

  async getStep(id: number): Promise<StepRecord | undefined> {
    const row = await this.knex(STEPS).where({ id }).first();
    return row ? toStep(row) : undefined;
  }

  async listSteps(runId: string): Promise<StepRecord[]> {
    const rows = await this.knex(STEPS).where({ run_id: runId }).orderBy('id', 'asc');
    return rows.map(toStep);
  }

  /** Saves what a running step did so far; false when it is not running any more. */
  async saveStepDetails(id: number, details: StepDetails, message?: string): Promise<boolean> {
    const count = await this.knex(STEPS)
      .where({ id, outcome: 'running' })
      .update({ details: JSON.stringify(details), ...(message !== undefined ? { message } : {}) });
    return count > 0;
  }

  /** Rewrites a step's details whatever its outcome: a health-gate acknowledgement recorded by a later complete. */
  async amendStepDetails(id: number, details: StepDetails): Promise<boolean> {
    const count = await this.knex(STEPS).where({ id }).update({ details: JSON.stringify(details) });
    return count > 0;
  }

  /**
   * Ends a running step; false when it had ended already (a rollback cancelled it, or
   * another replica finished it), so that only one outcome is ever recorded.
   */
  async finishStep(
    id: number,
    outcome: Exclude<UpgradeStepOutcome, 'running'>,
    message: string,
    at: Date,
    details?: StepDetails,
    /** Also ends the step's run (in one transaction): complete and rollback steps do. */
    run?: { id: string; status: Exclude<RunStatus, 'active'> },
  ): Promise<boolean> {
    return this.knex.transaction(async tx => {
      const count = await tx(STEPS)
        .where({ id, outcome: 'running' })
        .update({
          outcome,
          message,
          finished_at: at,
          lease_holder: null,
          lease_expires_at: null,
          ...(details ? { details: JSON.stringify(details) } : {}),
        });
      if (count > 0 && run) {
        await tx(RUNS)
          .where({ id: run.id, status: 'active' })
          .update({ status: run.status, finished_at: at, active_cluster: null });
      }
      return count > 0;
    });
  }

  /**
   * Takes (or renews) the lease on a running step for `holder` until `until`: only when
   * nobody holds it, the lease ran out, or `holder` has it already.
   */
  async claimStep(id: number, holder: string, now: Date, until: Date): Promise<boolean> {
    const count = await this.knex(STEPS)
      .where({ id, outcome: 'running' })
      .andWhere(q =>
        q
          .whereNull('lease_holder')
          .orWhere('lease_holder', holder)
          .orWhere('lease_expires_at', '<', now),
      )
      .update({ lease_holder: holder, lease_expires_at: until });
    return count > 0;
  }

  /** Gives a lease back (on shutdown), so that another replica resumes the step at once. */
  async releaseStep(id: number, holder: string): Promise<void> {
    await this.knex(STEPS)
      .where({ id, lease_holder: holder })
      .update({ lease_holder: null, lease_expires_at: null });
  }

  /** Running steps nobody drives: no lease, or one that ran out (its replica stopped). */
  async listOrphanedSteps(now: Date): Promise<StepRecord[]> {
    const rows = await this.knex(STEPS)
      .where({ outcome: 'running' })
      .andWhere(q => q.whereNull('lease_holder').orWhere('lease_expires_at', '<', now))
      .orderBy('id', 'asc');
    return rows.map(toStep);
  }

  // --- locks ---

  /**
   * Takes the lock `key` for `holder` until `until`, unless someone else holds it and it
   * has not expired. Returns the lock as it stands: ours when `holder` matches.
   */
  async tryLock(key: string, holder: string, purpose: string, now: Date, until: Date): Promise<LockRecord> {
    try {
      await this.knex(LOCKS).insert({ lock_key: key, holder, purpose, acquired_at: now, expires_at: until });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // Held: take it over only if its holder let it expire (a replica that died).
      await this.knex(LOCKS)
        .where({ lock_key: key })
        .andWhere('expires_at', '<', now)
        .update({ holder, purpose, acquired_at: now, expires_at: until });
    }
    const row = await this.knex(LOCKS).where({ lock_key: key }).first();
    if (!row) {
      // Released between our insert attempt and the read: try once more.
      return this.tryLock(key, holder, purpose, now, until);
    }
    return {
      key: row.lock_key,
      holder: row.holder,
      purpose: row.purpose,
      acquiredAt: toDate(row.acquired_at),
      expiresAt: toDate(row.expires_at),
    };
  }

  async unlock(key: string, holder: string): Promise<void> {
    await this.knex(LOCKS).where({ lock_key: key, holder }).delete();
  }
}
