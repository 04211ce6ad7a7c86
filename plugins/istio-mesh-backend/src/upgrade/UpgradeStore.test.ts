import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import { runRecord } from '../__testUtils__/upgradeFixtures';
import { UpgradeStore } from './UpgradeStore';

jest.setTimeout(60_000);

/**
 * SQLite always; PostgreSQL 15 (Debian's) when BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING
 * points at a server (no Docker here: TestDatabases skips what it cannot reach).
 */
const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'], disableDocker: true });

async function storeFor(id: TestDatabaseId) {
  const knex = await databases.init(id);
  await UpgradeStore.migrate(knex);
  return { knex, store: new UpgradeStore(knex) };
}

const run = runRecord;

const at = (iso: string) => new Date(iso);

describe.each(databases.eachSupportedId())('UpgradeStore on %s', databaseId => {
  it('migrates idempotently and round-trips runs and steps, dates included', async () => {
    const { knex, store } = await storeFor(databaseId);
    await UpgradeStore.migrate(knex); // a second replica starting: nothing to do
    const r = run();
    await store.insertRun(r);
    expect(await store.getRun(r.id)).toEqual(r);
    expect(await store.getActiveRun('aks-dev')).toEqual(r);

    const step = await store.insertStep({
      runId: r.id,
      action: 'migrate',
      namespace: 'payments',
      targetRevision: 'asm-1-30',
      actor: 'user:default/alice',
      outcome: 'running',
      details: { restartStamp: '2026-12-01T10:01:00.000Z' },
      startedAt: at('2026-12-01T10:01:00.000Z'),
      deadlineAt: at('2026-12-01T10:16:00.000Z'),
      leaseHolder: 'replica-a',
      leaseExpiresAt: at('2026-12-01T10:01:30.000Z'),
    });
    expect(step.id).toEqual(expect.any(Number));
    expect(await store.saveStepDetails(step.id, { restartStamp: 'x', restarted: ['Deployment/payments-api'] }, 'restarted')).toBe(true);
    expect(await store.getStep(step.id)).toMatchObject({
      action: 'migrate',
      namespace: 'payments',
      outcome: 'running',
      message: 'restarted',
      details: { restartStamp: 'x', restarted: ['Deployment/payments-api'] },
      deadlineAt: at('2026-12-01T10:16:00.000Z'),
      leaseExpiresAt: at('2026-12-01T10:01:30.000Z'),
    });

    // Only one outcome is ever recorded.
    expect(await store.finishStep(step.id, 'succeeded', 'done', at('2026-12-01T10:02:00.000Z'))).toBe(true);
    expect(await store.finishStep(step.id, 'failed', 'late', at('2026-12-01T10:03:00.000Z'))).toBe(false);
    expect(await store.saveStepDetails(step.id, {})).toBe(false);
    expect(await store.listSteps(r.id)).toEqual([
      expect.objectContaining({ outcome: 'succeeded', message: 'done', finishedAt: at('2026-12-01T10:02:00.000Z'), leaseHolder: undefined }),
    ]);

    expect(await store.finishRun(r.id, 'completed', at('2026-12-01T11:00:00.000Z'))).toBe(true);
    expect(await store.finishRun(r.id, 'rolled-back', at('2026-12-01T11:00:00.000Z'))).toBe(false);
    expect(await store.getActiveRun('aks-dev')).toBeUndefined();
    expect(await store.getCurrentOrLastRun('aks-dev')).toMatchObject({ id: r.id, status: 'completed', finishedAt: at('2026-12-01T11:00:00.000Z') });
  });

  it('allows one active run per cluster, even when two replicas insert at once', async () => {
    const { store } = await storeFor(databaseId);
    const results = await Promise.allSettled([store.insertRun(run()), store.insertRun(run()), store.insertRun(run({ cluster: 'aks-prod' }))]);
    expect(results.map(r => r.status).sort()).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    const rejected = results.find(r => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ name: 'ConflictError', message: "Cluster 'aks-dev' already has an upgrade in progress." });

    // Finished runs do not count: the next run of the cluster may start. A step that ends
    // its run ends it in the same transaction.
    const active = (await store.getActiveRun('aks-dev'))!;
    const now = new Date();
    const rollback = await store.insertStep({
      runId: active.id,
      action: 'rollback',
      actor: 'user:default/alice',
      outcome: 'running',
      details: {},
      startedAt: now,
      deadlineAt: now,
    });
    expect(await store.finishStep(rollback.id, 'succeeded', 'back on asm-1-29', now, undefined, { id: active.id, status: 'rolled-back' })).toBe(true);
    expect(await store.getRun(active.id)).toMatchObject({ status: 'rolled-back', finishedAt: now });
    await expect(store.insertRun(run())).resolves.toBeUndefined();
  });

  it('gives a lock to exactly one of many concurrent holders, and takes over an expired one', async () => {
    const { store } = await storeFor(databaseId);
    const now = at('2026-12-01T10:00:00.000Z');
    const until = at('2026-12-01T10:02:00.000Z');
    const holders = Array.from({ length: 8 }, (_, i) => `holder-${i}`);
    const locks = await Promise.all(holders.map(h => store.tryLock('cluster:aks-dev', h, `purpose of ${h}`, now, until)));
    const winners = new Set(locks.map(l => l.holder));
    expect(winners.size).toBe(1);
    const [winner] = winners;
    expect(locks.every(l => l.purpose === `purpose of ${winner}` && l.expiresAt.getTime() === until.getTime())).toBe(true);

    // Still valid: nobody else gets it; another key is independent.
    expect((await store.tryLock('cluster:aks-dev', 'late', 'late', at('2026-12-01T10:01:00.000Z'), until)).holder).toBe(winner);
    expect((await store.tryLock('cluster:aks-prod', 'other', 'other', now, until)).holder).toBe('other');
    // Its holder died: once expired, the next caller takes it over.
    expect((await store.tryLock('cluster:aks-dev', 'next', 'next', at('2026-12-01T10:03:00.000Z'), at('2026-12-01T10:05:00.000Z'))).holder).toBe('next');
    // Only the holder releases it.
    await store.unlock('cluster:aks-dev', winner);
    expect((await store.tryLock('cluster:aks-dev', 'third', 'third', at('2026-12-01T10:03:30.000Z'), at('2026-12-01T10:05:00.000Z'))).holder).toBe('next');
    await store.unlock('cluster:aks-dev', 'next');
    expect((await store.tryLock('cluster:aks-dev', 'third', 'third', at('2026-12-01T10:03:30.000Z'), at('2026-12-01T10:05:00.000Z'))).holder).toBe('third');
  });

  it('leases running steps to one replica and hands out those whose lease ran out', async () => {
    const { store } = await storeFor(databaseId);
    const r = run();
    await store.insertRun(r);
    const base = {
      runId: r.id,
      action: 'migrate' as const,
      actor: 'user:default/alice',
      outcome: 'running' as const,
      details: {},
      startedAt: at('2026-12-01T10:00:00.000Z'),
      deadlineAt: at('2026-12-01T11:00:00.000Z'),
    };
    const leased = await store.insertStep({ ...base, namespace: 'payments', leaseHolder: 'a', leaseExpiresAt: at('2026-12-01T10:00:30.000Z') });
    const free = await store.insertStep({ ...base, namespace: 'storefront' });
    const t0 = at('2026-12-01T10:00:10.000Z');
    expect((await store.listOrphanedSteps(t0)).map(s => s.id)).toEqual([free.id]);
    expect(await store.claimStep(leased.id, 'b', t0, at('2026-12-01T10:00:40.000Z'))).toBe(false);
    expect(await store.claimStep(leased.id, 'a', t0, at('2026-12-01T10:00:40.000Z'))).toBe(true); // renewal
    const [b, c] = await Promise.all([
      store.claimStep(free.id, 'b', t0, at('2026-12-01T10:00:40.000Z')),
      store.claimStep(free.id, 'c', t0, at('2026-12-01T10:00:40.000Z')),
    ]);
    expect([b, c].filter(Boolean)).toHaveLength(1);
    // Replica a stops without releasing: after its lease, b resumes the step.
    const later = at('2026-12-01T10:01:00.000Z');
    expect((await store.listOrphanedSteps(later)).map(s => s.id)).toEqual([leased.id, free.id]);
    expect(await store.claimStep(leased.id, 'b', later, at('2026-12-01T10:01:30.000Z'))).toBe(true);
    // A released step is free at once.
    await store.releaseStep(leased.id, 'b');
    expect((await store.listOrphanedSteps(later)).map(s => s.id)).toContain(leased.id);
  });
});
