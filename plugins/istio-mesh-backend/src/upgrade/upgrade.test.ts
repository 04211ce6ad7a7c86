import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  TestDatabases,
} from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  ManualClock,
  RESOURCE_TYPES,
  SandboxServer,
} from '@mesh-portal/mesh-sandbox';
import { UpgradeActionResponse, UpgradeRun } from '@mesh-portal/plugin-istio-mesh-common';
import request from 'supertest';
import {
  aksConfigFor,
  AuditRecord,
  component,
  kubernetesConfigFor,
  permissionResult,
  recordingAuditor,
  startMeshBackend,
  startSandboxWithArm,
} from '../__testUtils__/sandboxBackend';
import { openApiAjv } from '../__testUtils__/openapi';

jest.setTimeout(60_000);

/** SQLite always; PostgreSQL 15 (Debian's) when BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING is set. */
const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'], disableDocker: true });

const entities = [
  component('payments-api', { 'backstage.io/kubernetes-id': 'payments-api' }, 'team-payments'),
  component('payments-worker', { 'backstage.io/kubernetes-id': 'payments-worker' }, 'team-payments'),
  component('checkout', { 'backstage.io/kubernetes-id': 'checkout' }, 'team-storefront'),
  component('cart', { 'backstage.io/kubernetes-id': 'cart' }, 'team-storefront'),
];

const ALICE = 'user:default/alice';
const alice = mockCredentials.user.header(ALICE);

/** The sandbox with ARM; a manual clock makes every controller step one second of it. */
const startSandbox = (options: { clock?: ManualClock } = {}) =>
  startSandboxWithArm({
    fleet: options.clock ? { clock: options.clock, stepMs: 1000 } : { stepMs: 10 },
    arm: { operationDelayMs: 60 },
  });

function config(sandbox: SandboxServer, caFile: string) {
  return {
    istioMesh: {
      upgrades: {
        pollIntervalMs: 25,
        leaseSeconds: 5,
        lockWaitMs: 2000,
        rolloutTimeoutSeconds: 30,
        controlPlaneTimeoutSeconds: 30,
        retries: { attempts: 5, baseDelayMs: 5, maxDelayMs: 40 },
      },
      aks: aksConfigFor(sandbox, caFile),
    },
    kubernetes: kubernetesConfigFor(sandbox),
  };
}

const UPGRADE_EVENTS = ['upgrade-start', 'upgrade-complete', 'upgrade-rollback', 'namespace-migrate'];

/** A permission policy: allow all but the named permissions, and the migrate permission only on the given entities. */
function permissionsFactory(options: { deny: string[]; migrateOn?: string[] }) {
  return createServiceFactory({
    service: coreServices.permissions,
    deps: {},
    factory: () => ({
      authorize: async (requests: any[]) =>
        requests.map(r => {
          const name = r.permission.name as string;
          if (name === 'istio-mesh.namespace.migrate') {
            return { result: options.migrateOn?.includes(r.resourceRef) ? AuthorizeResult.ALLOW : AuthorizeResult.DENY };
          }
          return { result: options.deny.includes(name) ? AuthorizeResult.DENY : AuthorizeResult.ALLOW };
        }),
      authorizeConditional: async (queries: any[]) => queries.map(() => ({ result: AuthorizeResult.DENY })),
    }) as any,
  });
}

function permissionFeatures(permissions?: ReturnType<typeof permissionsFactory> | AuthorizeResult.DENY) {
  if (permissions === AuthorizeResult.DENY) return permissionResult(AuthorizeResult.DENY);
  return permissions ? [permissions] : [];
}

async function startBackend(options: {
  sandbox: SandboxServer;
  caFile: string;
  knex: Awaited<ReturnType<typeof databases.init>>;
  permissions?: ReturnType<typeof permissionsFactory> | AuthorizeResult.DENY;
  audit?: AuditRecord[];
}) {
  const { audit, factory: auditor } = recordingAuditor(eventId => UPGRADE_EVENTS.includes(eventId), options.audit);
  const backend = await startMeshBackend({
    entities,
    config: config(options.sandbox, options.caFile),
    features: [mockServices.database.factory({ knex: options.knex }), auditor, ...permissionFeatures(options.permissions)],
  });
  const server = backend.server;
  const api = {
    backend,
    audit,
    knex: options.knex,
    get: (path: string) => request(server).get(`/api/istio-mesh/v1${path}`).set('Authorization', alice),
    post: (path: string, body?: object) => {
      const req = request(server).post(`/api/istio-mesh/v1${path}`).set('Authorization', alice);
      return body === undefined ? req : req.send(body);
    },
    upgrade: async (cluster: string) => (await api.get(`/clusters/${cluster}/upgrade`)).body as UpgradeRun,
  };
  return api;
}

type Api = Awaited<ReturnType<typeof startBackend>>;

/** Polls until `check` holds (calling `tick` between polls, e.g. to move a manual clock). */
async function waitFor<T>(what: string, probe: () => Promise<T>, check: (value: T) => boolean, tick?: () => void, timeoutMs = 20_000): Promise<T> {
  const giveUp = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!check(last)) {
    if (Date.now() > giveUp) throw new Error(`Timed out waiting for ${what}; last seen: ${JSON.stringify(last, null, 2).slice(0, 3000)}`);
    tick?.();
    await new Promise(r => setTimeout(r, 25));
    last = await probe();
  }
  return last;
}

const lastStep = (run: UpgradeRun) => run.steps[run.steps.length - 1];
const stepEnded = (run: UpgradeRun) => lastStep(run)?.outcome !== 'running';

function store(sandbox: SandboxServer, cluster: string) {
  return sandbox.clusters.get(cluster)!.store;
}
const type = (kind: string) => RESOURCE_TYPES.find(t => t.kind === kind)!;

function istiodRevisions(sandbox: SandboxServer, cluster: string, ns = 'aks-istio-system'): string[] {
  return [...store(sandbox, cluster).scan(type('Deployment'), ns)]
    .filter(d => d.metadata.labels?.app === 'istiod')
    .map(d => d.metadata.labels['istio.io/rev'])
    .sort();
}

function sidecarRevisions(sandbox: SandboxServer, cluster: string, ns: string): string[] {
  return [...store(sandbox, cluster).scan(type('Pod'), ns)]
    .map(p => JSON.parse(p.metadata.annotations?.['sidecar.istio.io/status'] ?? '{}').revision ?? p.metadata.labels?.['istio.io/rev'] ?? 'none')
    .sort();
}

function configMapNames(sandbox: SandboxServer, cluster: string): string[] {
  return [...store(sandbox, cluster).scan(type('ConfigMap'), 'aks-istio-system')].map(c => c.metadata.name).filter(n => n.startsWith('istio-shared')).sort();
}

async function migrateAndWait(api: Api, cluster: string, namespace: string, target: string, tick?: () => void) {
  const res = await api.post(`/clusters/${cluster}/namespaces/${namespace}/migrate`, { targetRevision: target });
  expect({ status: res.status, body: res.body.error }).toEqual({ status: 202, body: undefined });
  const { step } = res.body as UpgradeActionResponse;
  expect(step).toMatchObject({ action: 'migrate', namespace, targetRevision: target, actor: ALICE });
  const run = await waitFor(`the migration of ${namespace}`, () => api.upgrade(cluster), r => r.steps.find(s => s.id === step.id)?.outcome !== 'running', tick);
  return { run, step: run.steps.find(s => s.id === step.id)! };
}

describe.each(databases.eachSupportedId())('canary upgrades through the API, on %s', databaseId => {
  it('runs a full canary upgrade of aks-dev: start, migrate, complete (refused while a namespace is left), audited', async () => {
    const { sandbox, caFile } = await startSandbox();
    try {
      const knex = await databases.init(databaseId);
      const api = await startBackend({ sandbox, caFile, knex });

      expect((await api.get('/clusters/aks-dev/upgrade')).status).toBe(404);
      const started = await api.post('/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-30' });
      expect(started.status).toBe(202);
      const body = started.body as UpgradeActionResponse;
      expect(body.step).toMatchObject({ action: 'start', actor: ALICE, targetRevision: 'asm-1-30' });
      // ARM's operation takes 60 ms here: the first pass may already see it through.
      expect([['running', 'in-progress'], ['succeeded', 'waiting']]).toContainEqual([body.step.outcome, body.run.status]);
      expect(body.run).toMatchObject({ cluster: 'aks-dev', provider: 'aks', from: 'asm-1-29', to: 'asm-1-30', startedBy: ALICE });
      // Domain rule: the shared MeshConfig is copied before ARM is asked for the canary.
      expect(configMapNames(sandbox, 'aks-dev')).toEqual(['istio-shared-configmap-asm-1-29', 'istio-shared-configmap-asm-1-30']);

      let run = await waitFor('the canary', () => api.upgrade('aks-dev'), stepEnded);
      expect(lastStep(run)).toMatchObject({ action: 'start', outcome: 'succeeded' });
      expect(run).toMatchObject({ phase: 'CanaryDeployed', status: 'waiting', installedRevisions: ['asm-1-29', 'asm-1-30'], pendingNamespaces: ['payments', 'storefront'] });
      expect(run.platform).toMatchObject({ state: 'succeeded', revisions: ['asm-1-29', 'asm-1-30'] });
      expect(istiodRevisions(sandbox, 'aks-dev')).toEqual(['asm-1-29', 'asm-1-30']);
      expect(run.guards.complete).toMatchObject({ allowed: false, blockers: ['payments is labelled for asm-1-29', 'storefront is labelled for asm-1-29'] });

      // Starting again is refused: the canary runs.
      const again = await api.post('/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-30' });
      expect(again.status).toBe(409);

      const payments = await migrateAndWait(api, 'aks-dev', 'payments', 'asm-1-30');
      expect(payments.step).toMatchObject({ outcome: 'succeeded', restartedWorkloads: ['Deployment/payments-api', 'Deployment/payments-worker'] });
      expect(payments.run).toMatchObject({ phase: 'Migrating', migratedNamespaces: ['payments'], pendingNamespaces: ['storefront'] });
      expect(payments.run.namespaces.find(n => n.name === 'payments')).toMatchObject({ state: 'migrated', revision: 'asm-1-30', podsByRevision: { 'asm-1-30': 3 } });
      expect(sidecarRevisions(sandbox, 'aks-dev', 'payments')).toEqual(['asm-1-30', 'asm-1-30', 'asm-1-30']);
      const labels = [...store(sandbox, 'aks-dev').scan(type('Namespace'))].find(n => n.metadata.name === 'payments')!.metadata.labels;
      expect(labels['istio.io/rev']).toBe('asm-1-30');

      // Complete is refused while storefront still uses asm-1-29, with the blockers.
      const refused = await api.post('/clusters/aks-dev/upgrade/complete');
      expect(refused.status).toBe(409);
      expect(refused.body.error.name).toBe('ConflictError');
      expect(refused.body.error.message).toContain('storefront is labelled for asm-1-29');
      expect(istiodRevisions(sandbox, 'aks-dev')).toEqual(['asm-1-29', 'asm-1-30']);

      await migrateAndWait(api, 'aks-dev', 'storefront', 'asm-1-30');
      run = await api.upgrade('aks-dev');
      expect(run).toMatchObject({ phase: 'ReadyToComplete', pendingNamespaces: [], migratedNamespaces: ['payments', 'storefront'] });
      expect(run.guards.complete).toEqual({ allowed: true });
      expect(sidecarRevisions(sandbox, 'aks-dev', 'storefront')).toEqual(['asm-1-30', 'asm-1-30', 'asm-1-30', 'asm-1-30']);

      const completed = await api.post('/clusters/aks-dev/upgrade/complete', {});
      expect(completed.status).toBe(202);
      run = await waitFor('the completion', () => api.upgrade('aks-dev'), r => r.status === 'completed');
      expect(run).toMatchObject({ phase: 'Completed', installedRevisions: ['asm-1-30'] });
      expect(lastStep(run)).toMatchObject({ action: 'complete', outcome: 'succeeded', message: expect.stringContaining('Deleted istio-shared-configmap-asm-1-29') });
      expect(istiodRevisions(sandbox, 'aks-dev')).toEqual(['asm-1-30']);
      expect(configMapNames(sandbox, 'aks-dev')).toEqual(['istio-shared-configmap-asm-1-30']);
      expect(run.steps.map(s => [s.action, s.namespace ?? '', s.outcome])).toEqual([
        ['start', '', 'succeeded'],
        ['migrate', 'payments', 'succeeded'],
        ['migrate', 'storefront', 'succeeded'],
        ['complete', '', 'succeeded'],
      ]);
      // Clicking complete again is safe: nothing is in progress any more.
      expect((await api.post('/clusters/aks-dev/upgrade/complete')).status).toBe(409);

      // One audit event per action, with its outcome.
      expect(api.audit.map(e => [e.eventId, e.severityLevel, e.outcome])).toEqual([
        ['upgrade-start', 'high', 'success'],
        ['upgrade-start', 'high', 'fail'],
        ['namespace-migrate', 'medium', 'success'],
        ['upgrade-complete', 'high', 'fail'],
        ['namespace-migrate', 'medium', 'success'],
        ['upgrade-complete', 'high', 'success'],
        ['upgrade-complete', 'high', 'fail'],
      ]);
      expect(api.audit[0].successMeta).toMatchObject({ cluster: 'aks-dev', from: 'asm-1-29', to: 'asm-1-30', runId: run.id, action: 'start' });
      expect(api.audit[2].meta).toEqual({ cluster: 'aks-dev', namespace: 'payments', to: 'asm-1-30' });
      expect(api.audit[2].successMeta).toMatchObject({ namespace: 'payments', targetRevision: 'asm-1-30', from: 'asm-1-29', to: 'asm-1-30' });
      expect(api.audit[3].error).toContain('storefront is labelled for asm-1-29');

      // The answers match the OpenAPI spec.
      const ajv = openApiAjv();
      const validateRun = ajv.getSchema('openapi#/components/schemas/UpgradeRun')!;
      expect({ valid: validateRun(run), errors: validateRun.errors ?? null }).toEqual({ valid: true, errors: null });
      const validateAction = ajv.getSchema('openapi#/components/schemas/UpgradeActionResponse')!;
      expect({ valid: validateAction(completed.body), errors: validateAction.errors ?? null }).toEqual({ valid: true, errors: null });
      await api.backend.stop();
    } finally {
      await sandbox.close();
    }
  });
});

describe.each(databases.eachSupportedId())('concurrent completes on two replicas, on %s', databaseId => {
  it('lets exactly one of 20 concurrent complete requests win (202); the other 19 get 409', async () => {
    const { sandbox, caFile } = await startSandbox();
    const apis: Api[] = [];
    try {
      const knex = await databases.init(databaseId);
      apis.push(await startBackend({ sandbox, caFile, knex }), await startBackend({ sandbox, caFile, knex }));
      const [api, replica] = apis;
      expect((await api.post('/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-30' })).status).toBe(202);
      await waitFor('the canary', () => api.upgrade('aks-dev'), stepEnded);
      await migrateAndWait(api, 'aks-dev', 'payments', 'asm-1-30');
      await migrateAndWait(replica, 'aks-dev', 'storefront', 'asm-1-30');
      expect((await replica.upgrade('aks-dev')).guards.complete).toEqual({ allowed: true });

      // 20 requests at once, alternating between the replicas.
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? replica : api).post('/clusters/aks-dev/upgrade/complete')),
      );
      const statuses = results.map(r => r.status);
      expect(statuses.filter(s => s === 202)).toHaveLength(1);
      expect(statuses.filter(s => s === 409)).toHaveLength(19);
      // The losers are told why: the winner's step runs, or it holds the cluster's lock, or it
      // already finished (the run still current and Completed, or no longer current).
      for (const loser of results.filter(r => r.status === 409)) {
        expect(loser.body.error.name).toBe('ConflictError');
        expect(loser.body.error.message).toMatch(
          /complete step \d+ .* is still running|Another upgrade action on aks-dev is in progress|The upgrade is already complete\.|No upgrade is in progress on aks-dev/,
        );
      }
      const run = await waitFor('the completion', () => replica.upgrade('aks-dev'), r => r.status === 'completed');
      // One complete step, one ARM change: the old revision was removed once.
      expect(run.steps.map(s => [s.action, s.outcome])).toEqual([
        ['start', 'succeeded'],
        ['migrate', 'succeeded'],
        ['migrate', 'succeeded'],
        ['complete', 'succeeded'],
      ]);
      expect(istiodRevisions(sandbox, 'aks-dev')).toEqual(['asm-1-30']);
      const audit = [...api.audit, ...replica.audit].filter(e => e.eventId === 'upgrade-complete');
      expect(audit.map(e => e.outcome).sort()).toEqual(['success', ...Array(19).fill('fail')].sort());
    } finally {
      await Promise.all(apis.map(a => a.backend.stop()));
      await sandbox.close();
    }
  });
});

describe('canary upgrades through the API (SQLite)', () => {
  let sandbox: SandboxServer;
  let caFile: string;

  const started: Api[] = [];

  beforeEach(async () => {
    ({ sandbox, caFile } = await startSandbox());
  });
  afterEach(async () => {
    // Backends first, so that no background pass outlives its sandbox.
    await Promise.all(started.splice(0).map(api => api.backend.stop()));
    await sandbox.close();
  });

  const backend = async (options: Partial<Parameters<typeof startBackend>[0]> = {}) => {
    const api = await startBackend({ sandbox, caFile, knex: await databases.init('SQLITE_3'), ...options });
    started.push(api);
    return api;
  };

  it('rolls back: moves migrated namespaces back to the old revision, then removes the canary', async () => {
    const api = await backend();
    expect((await api.post('/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-30' })).status).toBe(202);
    await waitFor('the canary', () => api.upgrade('aks-dev'), stepEnded);
    await migrateAndWait(api, 'aks-dev', 'payments', 'asm-1-30');
    expect(sidecarRevisions(sandbox, 'aks-dev', 'payments')).toEqual(['asm-1-30', 'asm-1-30', 'asm-1-30']);

    const res = await api.post('/clusters/aks-dev/upgrade/rollback');
    expect(res.status).toBe(202);
    expect((res.body as UpgradeActionResponse).step).toMatchObject({ action: 'rollback', targetRevision: 'asm-1-29' });
    const run = await waitFor('the rollback', () => api.upgrade('aks-dev'), r => r.status !== 'in-progress');
    expect(run).toMatchObject({ status: 'rolled-back', phase: 'RolledBack', installedRevisions: ['asm-1-29'] });
    expect(lastStep(run)).toMatchObject({ action: 'rollback', outcome: 'succeeded', restartedWorkloads: ['payments/Deployment/payments-api', 'payments/Deployment/payments-worker'] });
    expect(sidecarRevisions(sandbox, 'aks-dev', 'payments')).toEqual(['asm-1-29', 'asm-1-29', 'asm-1-29']);
    expect(sidecarRevisions(sandbox, 'aks-dev', 'storefront')).toEqual(['asm-1-29', 'asm-1-29', 'asm-1-29', 'asm-1-29']);
    expect(istiodRevisions(sandbox, 'aks-dev')).toEqual(['asm-1-29']);
    expect(configMapNames(sandbox, 'aks-dev')).toEqual(['istio-shared-configmap-asm-1-29']);
    expect(api.audit.map(e => [e.eventId, e.outcome])).toContainEqual(['upgrade-rollback', 'success']);

    // The cluster is free again: a new upgrade may start.
    expect((await api.post('/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-30' })).status).toBe(202);
  });

  it('records a failed ARM operation as a failed run, and a retry starts it', async () => {
    const api = await backend();
    sandbox.faults.add({ kind: 'failOperation', cluster: 'aks-dev', count: 1, errorCode: 'ReconcileIstioFailed', message: 'istiod-asm-1-30 did not become ready' });
    expect((await api.post('/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-30' })).status).toBe(202);
    let run = await waitFor('the failed start', () => api.upgrade('aks-dev'), stepEnded);
    expect(run).toMatchObject({ status: 'failed', phase: 'Stable', installedRevisions: ['asm-1-29'] });
    expect(lastStep(run)).toMatchObject({ action: 'start', outcome: 'failed', message: expect.stringContaining('ReconcileIstioFailed. istiod-asm-1-30 did not become ready') });
    expect(run.platform).toMatchObject({ state: 'failed' });

    // A different target is refused while this run stands; the same one retries it.
    expect((await api.post('/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-31' })).status).toBe(409);
    const retry = await api.post('/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-30' });
    expect(retry.status).toBe(202);
    expect(retry.body.run.id).toBe(run.id);
    run = await waitFor('the retried start', () => api.upgrade('aks-dev'), stepEnded);
    expect(run).toMatchObject({ status: 'waiting', phase: 'CanaryDeployed', installedRevisions: ['asm-1-29', 'asm-1-30'] });
    expect(run.steps.map(s => [s.action, s.outcome])).toEqual([
      ['start', 'failed'],
      ['start', 'succeeded'],
    ]);
  });

  it('lets exactly one of two concurrent starts win, across two replicas sharing the database', async () => {
    const knex = await databases.init('SQLITE_3');
    const api = await backend({ knex });
    const replica = await backend({ knex });
    const results = await Promise.all([
      api.post('/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-30' }),
      replica.post('/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-30' }),
    ]);
    expect(results.map(r => r.status).sort()).toEqual([202, 409]);
    const loser = results.find(r => r.status === 409)!;
    expect(loser.body.error.name).toBe('ConflictError');
    const run = await waitFor('the canary', () => api.upgrade('aks-dev'), stepEnded);
    expect(run.steps.map(s => [s.action, s.outcome])).toEqual([['start', 'succeeded']]);

    // Migrations of different namespaces both go (the lock serializes only their first pass).
    // Twice the same namespace is safe: the second is refused while the first runs, or
    // finds nothing left to restart once it has finished.
    const [a, b, c] = await Promise.all([
      api.post('/clusters/aks-dev/namespaces/payments/migrate', { targetRevision: 'asm-1-30' }),
      api.post('/clusters/aks-dev/namespaces/payments/migrate', { targetRevision: 'asm-1-30' }),
      api.post('/clusters/aks-dev/namespaces/storefront/migrate', { targetRevision: 'asm-1-30' }),
    ]);
    expect(c.status).toBe(202);
    expect([a.status, b.status]).toContain(202);
    expect([a.status, b.status].every(s => s === 202 || s === 409)).toBe(true);
    await waitFor('both migrations', () => api.upgrade('aks-dev'), r => r.migratedNamespaces.length === 2 && r.status === 'waiting');
    const replicaSets = [...store(sandbox, 'aks-dev').scan(type('ReplicaSet'), 'payments')].map(r => r.metadata.ownerReferences[0].name).sort();
    expect(replicaSets).toEqual(['payments-api', 'payments-api', 'payments-worker', 'payments-worker']);
  });

  it('records an interrupted migration as failed, and migrating again resumes from where the cluster stands', async () => {
    const api = await backend();
    expect((await api.post('/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-30' })).status).toBe(202);
    await waitFor('the canary', () => api.upgrade('aks-dev'), stepEnded);
    // The cluster fails the second restart for good: the relabel and the first restart went through.
    const fault = sandbox.faults.add({ kind: 'error', status: 503, cluster: 'aks-dev', methods: ['PATCH'], path: '/clusters/*/apis/apps/v1/namespaces/payments/deployments/payments-worker' });
    const failed = await api.post('/clusters/aks-dev/namespaces/payments/migrate', { targetRevision: 'asm-1-30' });
    expect(failed.status).toBe(503);
    expect(failed.body.error.message).toMatch(
      /^Gave up on the restart of Deployment\/payments-worker in payments in cluster 'aks-dev' after 5 attempts \(last: 503\): cluster 'aks-dev' answered 503/,
    );
    // The whole budget was spent on that one write: 5 attempts, 4 retries, all recorded on the step.
    expect(sandbox.faults.list().find(f => f.id === fault.id)).toMatchObject({ fired: 5 });
    let run = await api.upgrade('aks-dev');
    expect(run.status).toBe('failed');
    expect(lastStep(run)).toMatchObject({
      action: 'migrate',
      outcome: 'failed',
      restartedWorkloads: ['Deployment/payments-api'],
      retries: 4,
      message: expect.stringMatching(/after 5 attempts \(last: 503\).*\(4 retries after 503\.\)$/),
    });
    expect(run.namespaces.find(n => n.name === 'payments')).toMatchObject({ revision: 'asm-1-30', state: 'failed' });

    sandbox.faults.clear();
    const retried = await migrateAndWait(api, 'aks-dev', 'payments', 'asm-1-30');
    expect(retried.step).toMatchObject({ outcome: 'succeeded', restartedWorkloads: ['Deployment/payments-worker'] });
    run = await api.upgrade('aks-dev');
    expect(run.namespaces.find(n => n.name === 'payments')).toMatchObject({ state: 'migrated', podsByRevision: { 'asm-1-30': 3 } });
  });

  it('retries throttled, failing, conflicting and dropped cluster calls during a migration, and records them', async () => {
    const api = await backend();
    expect((await api.post('/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-30' })).status).toBe(202);
    await waitFor('the canary', () => api.upgrade('aks-dev'), stepEnded);
    const nsPath = '/clusters/aks-dev/api/v1/namespaces/payments';
    const apps = '/clusters/aks-dev/apis/apps/v1/namespaces/payments';
    const rules = sandbox.faults.addAll([
      // The relabel is throttled twice (Retry-After: 1 s), then goes through.
      { kind: 'throttle', cluster: 'aks-dev', methods: ['PATCH'], path: nsPath, count: 2, retryAfterSeconds: 1 },
      // The namespace's pod list fails once, its deployment list loses its connection once.
      { kind: 'error', status: 500, cluster: 'aks-dev', methods: ['GET'], path: `${nsPath}/pods`, count: 1 },
      { kind: 'drop', cluster: 'aks-dev', methods: ['GET'], path: `${apps}/deployments`, count: 1 },
      // One restart meets a 503, the other a 409 (re-read, then written again).
      { kind: 'error', status: 503, cluster: 'aks-dev', methods: ['PATCH'], path: `${apps}/deployments/payments-api`, count: 1 },
      { kind: 'conflict', cluster: 'aks-dev', methods: ['PATCH'], path: `${apps}/deployments/payments-worker`, count: 1 },
    ]);
    const { step, run } = await migrateAndWait(api, 'aks-dev', 'payments', 'asm-1-30');
    // The step's retries are part of the API: the answer still matches the OpenAPI spec.
    const ajv = openApiAjv();
    const validateRun = ajv.getSchema('openapi#/components/schemas/UpgradeRun')!;
    expect({ valid: validateRun(run), errors: validateRun.errors ?? null }).toEqual({ valid: true, errors: null });
    const fired = sandbox.faults.list().filter(f => rules.some(r => r.id === f.id)).map(f => [f.kind, f.fired]);
    expect(fired).toEqual([['throttle', 2], ['error', 1], ['drop', 1], ['error', 1], ['conflict', 1]]);
    // Every fault that fired was retried, and the step says so. The pod list's 500 and the
    // deployment list's drop hit the same read of the namespace (both lists at once), which
    // one retry repeats: 6 faults, 5 retries.
    expect(step).toMatchObject({
      outcome: 'succeeded',
      retries: 5,
      restartedWorkloads: ['Deployment/payments-api', 'Deployment/payments-worker'],
    });
    expect(step.message).toMatch(/\(5 retries after (\w+\/)*409(\/\w+)*\.\)$/);
    expect(step.message).toContain('429');
    expect(step.message).toContain('503');
    const row = await api.knex('istio_mesh_upgrade_steps').where({ id: step.id }).first();
    const details = typeof row.details === 'string' ? JSON.parse(row.details) : row.details;
    expect(details.retries.total).toBe(5);
    expect(details.retries.causes).toMatchObject({ '429': 2, '503': 1, '409': 1 });
    // The migration is whole: labelled, every pod on the canary, each Deployment restarted once.
    expect(sidecarRevisions(sandbox, 'aks-dev', 'payments')).toEqual(['asm-1-30', 'asm-1-30', 'asm-1-30']);
    const replicaSets = [...store(sandbox, 'aks-dev').scan(type('ReplicaSet'), 'payments')].map(r => r.metadata.ownerReferences[0].name).sort();
    expect(replicaSets).toEqual(['payments-api', 'payments-api', 'payments-worker', 'payments-worker']);
  });

  it('rides out throttling and 5xx of Azure Resource Manager (the SDK retries them)', async () => {
    const api = await backend();
    const rules = sandbox.faults.addAll([
      { kind: 'throttle', cluster: 'aks-dev', methods: ['PUT'], path: '/subscriptions/**/managedClusters/aks-dev', count: 1, retryAfterSeconds: 1 },
      { kind: 'error', status: 500, cluster: 'aks-dev', methods: ['GET'], path: '/subscriptions/**/meshUpgradeProfiles/istio', count: 1 },
    ]);
    expect((await api.post('/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-30' })).status).toBe(202);
    const run = await waitFor('the canary', () => api.upgrade('aks-dev'), stepEnded);
    expect(lastStep(run)).toMatchObject({ action: 'start', outcome: 'succeeded' });
    expect(run.installedRevisions).toEqual(['asm-1-29', 'asm-1-30']);
    expect(sandbox.faults.list().filter(f => rules.some(r => r.id === f.id)).map(f => f.fired)).toEqual([1, 1]);
  });

  it('answers 400 for bad input and writes nothing', async () => {
    const api = await backend();
    const cases: Array<[string, object | undefined, string]> = [
      ['/clusters/bad%20name/upgrade', { targetRevision: 'asm-1-30' }, 'cluster:'],
      ['/clusters/aks-dev/upgrade', { targetRevision: 'ASM 1.30' }, 'targetRevision:'],
      ['/clusters/aks-dev/upgrade', {}, 'targetRevision:'],
      ['/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-30', force: true }, 'Unrecognized key'],
      ['/clusters/aks-dev/upgrade', undefined, 'targetRevision:'],
      ['/clusters/aks-dev/namespaces/Payments_/migrate', { targetRevision: 'asm-1-30' }, 'namespace:'],
      ['/clusters/aks-dev/namespaces/payments/migrate', { targetRevision: 'x'.repeat(64) }, 'targetRevision:'],
      ['/clusters/aks-dev/upgrade/complete', { now: true }, 'Unrecognized key'],
      ['/clusters/aks-dev/upgrade/rollback', { to: 'asm-1-29' }, 'Unrecognized key'],
    ];
    for (const [path, body, field] of cases) {
      const res = await api.post(path, body);
      expect({ path, status: res.status, name: res.body.error?.name, field: res.body.error?.message.includes(field) }).toEqual({
        path,
        status: 400,
        name: 'InputError',
        field: true,
      });
    }
    // A downgrade or an unoffered revision is the state machine's 400.
    const downgrade = await api.post('/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-28' });
    expect(downgrade.status).toBe(400);
    expect(downgrade.body.error.message).toContain('downgrades are not supported');
    expect((await api.get('/clusters/bad%20name/upgrade')).status).toBe(400);
    expect((await api.get('/clusters/aks-nowhere/upgrade')).status).toBe(404);
    expect((await api.post('/clusters/aks-nowhere/upgrade', { targetRevision: 'asm-1-30' })).status).toBe(404);
    // Nothing was written: no run, ARM and the cluster unchanged, every attempt audited as failed.
    expect((await api.get('/clusters/aks-dev/upgrade')).status).toBe(404);
    expect(istiodRevisions(sandbox, 'aks-dev')).toEqual(['asm-1-29']);
    expect(configMapNames(sandbox, 'aks-dev')).toEqual(['istio-shared-configmap-asm-1-29']);
    expect(api.audit.every(e => e.outcome === 'fail')).toBe(true);
    expect(api.audit).toHaveLength(cases.length + 2);
  });

  it('answers 403 for each action when the permissions are denied', async () => {
    const api = await backend({ permissions: AuthorizeResult.DENY });
    const calls: Array<[string, object | undefined]> = [
      ['/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-30' }],
      ['/clusters/aks-dev/namespaces/payments/migrate', { targetRevision: 'asm-1-30' }],
      ['/clusters/aks-dev/upgrade/complete', undefined],
      ['/clusters/aks-dev/upgrade/rollback', undefined],
    ];
    for (const [path, body] of calls) {
      const res = await api.post(path, body);
      expect({ path, status: res.status, name: res.body.error?.name }).toEqual({ path, status: 403, name: 'NotAllowedError' });
    }
    expect((await api.get('/clusters/aks-dev/upgrade')).status).toBe(403);
    expect(istiodRevisions(sandbox, 'aks-dev')).toEqual(['asm-1-29']);
    expect(api.audit.map(e => [e.eventId, e.outcome])).toEqual([
      ['upgrade-start', 'fail'],
      ['namespace-migrate', 'fail'],
      ['upgrade-complete', 'fail'],
      ['upgrade-rollback', 'fail'],
    ]);
  });

  it("lets owners migrate their own service's namespace, but not a namespace of other teams' services", async () => {
    const api = await backend({
      permissions: permissionsFactory({
        deny: ['istio-mesh.upgrade.start', 'istio-mesh.upgrade.complete', 'istio-mesh.upgrade.rollback'],
        migrateOn: ['component:default/payments-api', 'component:default/payments-worker', 'component:default/checkout'],
      }),
    });
    expect((await api.post('/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-30' })).status).toBe(403);
    // Authorized for every entity in payments: the request gets past authorization (no upgrade runs, hence 409).
    const payments = await api.post('/clusters/aks-dev/namespaces/payments/migrate', { targetRevision: 'asm-1-30' });
    expect(payments.status).toBe(409);
    expect(payments.body.error.message).toContain('No upgrade is in progress on aks-dev');
    // storefront also runs cart, which this user may not migrate.
    const storefront = await api.post('/clusters/aks-dev/namespaces/storefront/migrate', { targetRevision: 'asm-1-30' });
    expect(storefront.status).toBe(403);
    expect(storefront.body.error.message).toContain('component:default/cart');
    expect(storefront.body.error.message).not.toContain('component:default/checkout');
    // No catalog entity runs in tools: only the platform team may migrate it.
    const tools = await api.post('/clusters/aks-dev/namespaces/tools/migrate', { targetRevision: 'asm-1-30' });
    expect(tools.status).toBe(403);
    expect(tools.body.error.message).toContain('No catalog entity runs workloads in namespace tools');
  });

  it('adopts upstream Istio revisions installed with helm, migrates, and completes by verifying and recording', async () => {
    const api = await backend();
    const notInstalled = await api.post('/clusters/istio-lab/upgrade', { targetRevision: '1-28-0' });
    expect(notInstalled.status).toBe(409);
    expect(notInstalled.body.error.message).toContain('install 1-28-0 with helm or istioctl');

    const adopted = await api.post('/clusters/istio-lab/upgrade', { targetRevision: '1-27-1' });
    expect(adopted.status).toBe(202);
    expect(adopted.body).toMatchObject({
      step: { action: 'adopt', outcome: 'succeeded' },
      run: { provider: 'istio', from: '1-26-3', to: '1-27-1', phase: 'CanaryDeployed', pendingNamespaces: ['payments', 'storefront'] },
    });
    await migrateAndWait(api, 'istio-lab', 'payments', '1-27-1');
    expect(sidecarRevisions(sandbox, 'istio-lab', 'payments')).toEqual(['1-27-1', '1-27-1', '1-27-1']);
    expect((await api.post('/clusters/istio-lab/upgrade/complete')).status).toBe(409);
    await migrateAndWait(api, 'istio-lab', 'storefront', '1-27-1');
    const completed = await api.post('/clusters/istio-lab/upgrade/complete');
    expect(completed.status).toBe(202);
    expect(completed.body).toMatchObject({
      step: { action: 'complete', outcome: 'succeeded', message: expect.stringContaining('remove 1-26-3 with helm or istioctl') },
      run: { status: 'completed', phase: 'Completed' },
    });
    // The portal installs and removes nothing upstream.
    expect(istiodRevisions(sandbox, 'istio-lab', 'istio-system')).toEqual(['1-26-3', '1-27-1']);
  });

  it('adopts a canary started outside the portal (aks-prod) and finishes its migration', async () => {
    const api = await backend();
    const res = await api.post('/clusters/aks-prod/upgrade', { targetRevision: 'asm-1-30' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ step: { action: 'adopt' }, run: { phase: 'Migrating', pendingNamespaces: ['payments', 'storefront'] } });
    // payments is labelled for the canary but payments-api still runs asm-1-29: migrating restarts only that one.
    const { step } = await migrateAndWait(api, 'aks-prod', 'payments', 'asm-1-30');
    expect(step).toMatchObject({ outcome: 'succeeded', restartedWorkloads: ['Deployment/payments-api'] });
  });
});

describe('resuming after a restart', () => {
  it('finishes a migration started by a backend that stopped, without redoing its restarts', async () => {
    const clock = new ManualClock('2026-12-01T10:00:00Z');
    const tick = () => clock.advance(1000);
    const { sandbox, caFile } = await startSandbox({ clock });
    try {
      const knex = await databases.init('SQLITE_3');
      const first = await startBackend({ sandbox, caFile, knex });
      expect((await first.post('/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-30' })).status).toBe(202);
      await waitFor('the canary', () => first.upgrade('aks-dev'), stepEnded, tick);

      // Rules that match but never fire count the writes reaching the payments namespace.
      const watchPatches = () =>
        sandbox.faults.add({ kind: 'latency', latencyMs: 0, rate: 0, cluster: 'aks-dev', methods: ['PATCH'], path: '/clusters/*/api*/**/namespaces/payments**' });
      const patchesBefore = watchPatches();
      const res = await first.post('/clusters/aks-dev/namespaces/payments/migrate', { targetRevision: 'asm-1-30' });
      expect(res.status).toBe(202);
      const stepId = (res.body as UpgradeActionResponse).step.id;
      // The first pass relabelled and restarted; the rollouts wait for the clock, which stands still.
      const deployments = () => [...store(sandbox, 'aks-dev').scan(type('Deployment'), 'payments')];
      const restartedAt = () => deployments().map(d => `${d.metadata.name}@${d.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']}`);
      const stamps = restartedAt();
      expect(stamps).toHaveLength(2);
      expect(stamps.every(s => !s.endsWith('@undefined'))).toBe(true);
      expect(sidecarRevisions(sandbox, 'aks-dev', 'payments')).toContain('asm-1-29');
      await first.backend.stop();
      // The first backend wrote the label and two restarts.
      expect(sandbox.faults.list().find(f => f.id === patchesBefore.id)!.matched).toBe(3);
      sandbox.faults.remove(patchesBefore.id);
      const patches = watchPatches();
      const reads = sandbox.faults.add({ kind: 'latency', latencyMs: 0, rate: 0, cluster: 'aks-dev', methods: ['GET'], path: '/clusters/*/api/v1/namespaces/payments/pods' });
      const rolloutsPending = deployments().filter(d => (d.status?.updatedReplicas ?? 0) < d.spec.replicas || d.status?.replicas > d.status?.updatedReplicas);
      expect(rolloutsPending.length).toBeGreaterThan(0); // unfinished work: the rollouts and the verification

      // A new backend on the same database: its scheduled task picks the step up at startup.
      const second = await startBackend({ sandbox, caFile, knex });
      const stepOf = (r: UpgradeRun) => r.steps.find(s => s.id === stepId)!;
      expect(stepOf(await second.upgrade('aks-dev')).outcome).toBe('running');
      const run = await waitFor('the resumed migration', () => second.upgrade('aks-dev'), r => stepOf(r).outcome !== 'running', tick);
      expect(stepOf(run)).toMatchObject({ outcome: 'succeeded', restartedWorkloads: ['Deployment/payments-api', 'Deployment/payments-worker'] });
      expect(run).toMatchObject({ migratedNamespaces: ['payments'], status: 'waiting' });
      expect(sidecarRevisions(sandbox, 'aks-dev', 'payments')).toEqual(['asm-1-30', 'asm-1-30', 'asm-1-30']);
      // Not restarted twice: the same stamps, one new ReplicaSet per Deployment, and the
      // second backend sent no write at all to the namespace or its workloads (the label and
      // both restarts were done), while it did read the pods to verify them.
      expect(restartedAt()).toEqual(stamps);
      const replicaSets = [...store(sandbox, 'aks-dev').scan(type('ReplicaSet'), 'payments')].map(r => r.metadata.ownerReferences[0].name).sort();
      expect(replicaSets).toEqual(['payments-api', 'payments-api', 'payments-worker', 'payments-worker']);
      const watched = sandbox.faults.list();
      expect(watched.find(f => f.id === patches.id)!.matched).toBe(0);
      expect(watched.find(f => f.id === reads.id)!.matched).toBeGreaterThan(0);
      // Unfinished work finished: every rollout is complete.
      expect(deployments().map(d => [d.metadata.name, d.status.updatedReplicas === d.spec.replicas && d.status.replicas === d.spec.replicas])).toEqual([
        ['payments-api', true],
        ['payments-worker', true],
      ]);
      await second.backend.stop();
    } finally {
      await sandbox.close();
    }
  });
});
