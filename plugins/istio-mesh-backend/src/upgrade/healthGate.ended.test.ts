import { mockCredentials, mockServices, TestDatabases } from '@backstage/backend-test-utils';
import type { ClusterGateway } from '../service/ClusterGateway';
import type { ClusterSnapshots } from '../service/ClusterSnapshots';
import { UpgradeService } from './UpgradeService';
import { StepDetails, StepRecord, UpgradeStore } from './UpgradeStore';
import { neverFinishingAksProvider, runRecord } from '../__testUtils__/upgradeFixtures';

jest.setTimeout(30_000);

/**
 * A migrate step whose health gate is still measuring can end without the gate: the
 * upgrade was completed meanwhile (a measuring gate does not hold complete up), or a
 * rollback cancelled the step. Its record must not say `pending` for ever (the cluster
 * page would show the namespace "Measuring" on a finished upgrade).
 */
const databases = TestDatabases.create({ ids: ['SQLITE_3'], disableDocker: true });

const measuring = (): StepDetails => ({
  restartStamp: '2026-12-01T10:00:00.000Z',
  healthGate: {
    verdict: 'pending',
    before: { start: '2026-12-01T09:55:00.000Z', end: '2026-12-01T10:00:00.000Z' },
    after: { start: '2026-12-01T10:01:00.000Z', end: '2099-01-01T00:00:00.000Z' },
    workloads: [],
    reasons: ['Comparing golden signals 300 s before the restart with 300 s after the rollout.'],
  },
});

const provider = neverFinishingAksProvider();

async function setup(runStatus: 'active' | 'completed') {
  const knex = await databases.init('SQLITE_3');
  await UpgradeStore.migrate(knex);
  const store = new UpgradeStore(knex);
  const snapshot = {
    cluster: 'aks-dev',
    provider: 'aks',
    controlPlane: {
      namespace: 'aks-istio-system',
      revisions: [
        { revision: 'asm-1-29', ready: true },
        { revision: 'asm-1-30', ready: true },
      ],
      tags: {},
    },
    namespaces: [{ name: 'payments', labels: { 'istio.io/rev': 'asm-1-30' } }],
    pods: [],
    workloads: [],
  };
  const gateway = {
    get: async () => ({ metadata: { name: 'payments', labels: { 'istio.io/rev': 'asm-1-29' } } }),
    patch: async () => ({}),
    list: async () => [],
  } as unknown as ClusterGateway;
  const service = new UpgradeService({
    store,
    gateway,
    snapshots: {
      listClusters: async () => ['aks-dev'],
      get: async () => snapshot,
      invalidate: () => undefined,
    } as unknown as ClusterSnapshots,
    providers: [provider],
    upstreamProvider: provider,
    auth: mockServices.auth(),
    logger: mockServices.logger.mock(),
    settings: { leaseMs: 1_000, pollIntervalMs: 20, lockWaitMs: 500 },
  });
  await store.insertRun(runRecord({ id: 'run-1', status: runStatus, startedAt: new Date('2026-12-01T09:00:00.000Z') }));
  const step = await store.insertStep({
    runId: 'run-1',
    action: 'migrate',
    namespace: 'payments',
    targetRevision: 'asm-1-30',
    actor: 'user:default/alice',
    outcome: 'running',
    details: measuring(),
    startedAt: new Date('2026-12-01T10:00:00.000Z'),
    deadlineAt: new Date('2099-01-01T00:00:00.000Z'),
  });
  return { store, service, step };
}

async function ended(store: UpgradeStore, id: number): Promise<StepRecord> {
  for (let i = 0; i < 500; i++) {
    const step = await store.getStep(id);
    if (step && step.outcome !== 'running') return step;
    await new Promise(r => setTimeout(r, 10));
  }
  throw new Error(`step ${id} did not end`);
}

describe('a measuring health gate whose step ends without it', () => {
  it('records no-data with the reason when the upgrade was completed meanwhile', async () => {
    const { store, service, step } = await setup('completed');
    try {
      expect(await service.resumeUnfinished()).toBe(1);
      const after = await ended(store, step.id);
      expect(after.outcome).toBe('succeeded');
      expect(after.details.healthGate).toMatchObject({ verdict: 'no-data', reasons: [expect.stringContaining('completed')] });
      expect(after.details.healthGate?.evaluatedAt).toEqual(expect.any(String));
    } finally {
      await service.stop();
    }
  });

  it('records no-data with the reason when a rollback cancels the step', async () => {
    const { store, service, step } = await setup('active');
    try {
      // The rollback's own pass may not get far against these stubs; the cancellation is recorded first.
      await service.rollback('aks-dev', mockCredentials.user('user:default/bob')).catch(() => undefined);
      const after = await store.getStep(step.id);
      expect(after?.outcome).toBe('cancelled');
      expect(after?.details.healthGate).toMatchObject({ verdict: 'no-data', reasons: [expect.stringContaining('rollback')] });
      expect(after?.details.restartStamp).toBe('2026-12-01T10:00:00.000Z');
    } finally {
      await service.stop();
    }
  });
});
