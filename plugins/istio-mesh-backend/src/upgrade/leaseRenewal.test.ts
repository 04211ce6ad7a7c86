import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import type { ClusterGateway } from '../service/ClusterGateway';
import type { ClusterSnapshots } from '../service/ClusterSnapshots';
import type { SharedMeshConfigCopier } from '../meshconfig/MeshConfigService';
import { UpgradeService } from './UpgradeService';
import { UpgradeStore } from './UpgradeStore';
import { neverFinishingAksProvider, runRecord } from '../__testUtils__/upgradeFixtures';

jest.setTimeout(30_000);

/**
 * A pass may take longer than the step's lease: one cluster call may wait up to
 * `attemptTimeoutSeconds` (30 s by default, the default lease) per attempt, and ARM calls
 * are slow. While the pass runs its replica must keep the lease, or another replica's
 * resume task takes the step over and drives it at the same time.
 */
const databases = TestDatabases.create({ ids: ['SQLITE_3'], disableDocker: true });

const LEASE_MS = 600;

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>(r => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('step lease during a long pass', () => {
  it('stays with the replica whose pass is still running', async () => {
    const knex = await databases.init('SQLITE_3');
    await UpgradeStore.migrate(knex);
    const store = new UpgradeStore(knex);

    const copying = deferred();
    const release = deferred();
    let copies = 0;
    const copier: SharedMeshConfigCopier = {
      checkCopy: async () => undefined,
      copy: async () => {
        copies++;
        copying.resolve();
        await release.promise;
        return 'none (istio-shared-configmap-asm-1-29 does not exist)';
      },
    };
    const provider = neverFinishingAksProvider();
    const replica = () =>
      new UpgradeService({
        store,
        gateway: {} as ClusterGateway,
        snapshots: { invalidate: () => undefined } as unknown as ClusterSnapshots,
        providers: [provider],
        upstreamProvider: provider,
        auth: mockServices.auth(),
        logger: mockServices.logger.mock(),
        settings: { leaseMs: LEASE_MS, pollIntervalMs: 50 },
        sharedConfig: copier,
      });
    const a = replica();
    const b = replica();

    await store.insertRun(runRecord({ id: 'run-1', startedAt: new Date() }));
    const now = new Date();
    const step = await store.insertStep({
      runId: 'run-1',
      action: 'start',
      actor: 'user:default/alice',
      targetRevision: 'asm-1-30',
      outcome: 'running',
      details: { restartStamp: now.toISOString() },
      startedAt: now,
      deadlineAt: new Date(now.getTime() + 60_000),
    });

    try {
      expect(await a.resumeUnfinished()).toBe(1);
      await copying.promise;
      // Replica A's pass is inside the slow call for several leases.
      await new Promise(r => setTimeout(r, LEASE_MS * 3));
      expect((await store.listOrphanedSteps(new Date())).map(s => s.id)).toEqual([]);
      expect(await b.resumeUnfinished()).toBe(0);
      expect(copies).toBe(1);
    } finally {
      release.resolve();
      await Promise.all([a.stop(), b.stop()]);
    }
    const after = await store.getStep(step.id);
    expect(after?.details.sharedConfig).toBe('none (istio-shared-configmap-asm-1-29 does not exist)');
  });
});
