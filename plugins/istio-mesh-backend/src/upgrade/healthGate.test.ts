/* eslint-disable no-console */
import { mockCredentials, mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { SandboxServer } from '@mesh-portal/mesh-sandbox';
import { UpgradeActionResponse, UpgradeRun } from '@mesh-portal/plugin-istio-mesh-common';
import request from 'supertest';
import { aksConfigFor, component, kubernetesConfigFor, recordingAuditor, startMeshBackend, startSandboxWithArm } from '../__testUtils__/sandboxBackend';
import { openApiAjv } from '../__testUtils__/openapi';
import { describeWithPrometheus, promQuery, RunningPrometheus, startPrometheus } from '../metrics/testing/prometheus';

/**
 * The upgrade health gate end to end: the sandbox's simulated proxies scraped every
 * second by a real Prometheus, the plugin with a 10 s gate window. payments gets an error
 * spike right after its restart and is judged regressed; storefront migrates without one
 * and is healthy; complete is refused until the regression is acknowledged, and the
 * acknowledgement lands on the migrate step and in the audit event.
 */

jest.setTimeout(180_000);

const WINDOW = 10;
/**
 * The spike goes in SPIKE_DELAY_MS after the restart (more than a scrape, so no sample up
 * to the restart counts spiked requests) and well before the rollout ends (pods start in
 * STEP_MS; payments-api's two replicas roll one after the other), when the after-window
 * begins: both windows then hold only their own traffic, and the ratios are exact.
 */
const STEP_MS = 2000;
const SPIKE_DELAY_MS = 1500;
const databases = TestDatabases.create({ ids: ['SQLITE_3'], disableDocker: true });
const ALICE = 'user:default/alice';
const alice = mockCredentials.user.header(ALICE);

async function waitFor<T>(what: string, probe: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const giveUp = Date.now() + timeoutMs;
  let last = await probe();
  while (!check(last)) {
    if (Date.now() > giveUp) throw new Error(`Timed out waiting for ${what}; last seen: ${JSON.stringify(last, null, 2).slice(0, 3000)}`);
    await new Promise(r => setTimeout(r, 200));
    last = await probe();
  }
  return last;
}

describeWithPrometheus('the upgrade health gate against a real Prometheus scraping the sandbox', () => {
  let sandbox: SandboxServer;
  let prom: RunningPrometheus;
  let caFile: string;

  beforeAll(async () => {
    // Pods take STEP_MS to start, so a namespace's rollout outlasts the spike's delay (below).
    ({ sandbox, caFile } = await startSandboxWithArm({ fleet: { stepMs: STEP_MS }, arm: { operationDelayMs: 60 } }));
    prom = await startPrometheus({
      scrapeIntervalSeconds: 1,
      // Discovery every second, so restarted pods are scraped soon after they start.
      scrapeConfigs: ['  - job_name: mesh-sandbox', '    http_sd_configs:', `      - url: ${sandbox.url}/_sandbox/prometheus/targets`, '        refresh_interval: 1s'].join('\n'),
    });
  }, 60_000);

  afterAll(async () => {
    await prom?.stop();
    await sandbox?.close();
  });

  it('flags the namespace whose error rate rose after its restart, and completing needs an audited acknowledgement', async () => {
    const { audit, factory: auditor } = recordingAuditor(eventId => eventId === 'upgrade-complete');
    const knex = await databases.init('SQLITE_3');
    const { server } = await startMeshBackend({
      entities: [component('payments-api', { 'backstage.io/kubernetes-id': 'payments-api' })],
      config: {
        istioMesh: {
          metrics: { clusters: [{ name: 'aks-dev', prometheus: { url: prom.url } }] },
          upgrades: {
            pollIntervalMs: 200,
            leaseSeconds: 5,
            rolloutTimeoutSeconds: 60,
            controlPlaneTimeoutSeconds: 30,
            healthGate: { windowSeconds: WINDOW, graceSeconds: 20 },
          },
          aks: aksConfigFor(sandbox, caFile, ['aks-dev']),
        },
        kubernetes: kubernetesConfigFor(sandbox, { clusters: ['aks-dev'] }),
      },
      features: [mockServices.database.factory({ knex }), auditor],
    });
    const get = (path: string) => request(server).get(`/api/istio-mesh/v1${path}`).set('Authorization', alice);
    const post = (path: string, body?: object) => request(server).post(`/api/istio-mesh/v1${path}`).set('Authorization', alice).send(body ?? {});
    const upgrade = async () => (await get('/clusters/aks-dev/upgrade')).body as UpgradeRun;
    const ajv = openApiAjv();
    const validateRun = ajv.getSchema('openapi#/components/schemas/UpgradeRun')!;

    // The window before the first restart must hold data.
    await waitFor(
      `${WINDOW + 2} s of samples of aks-dev's payments and storefront`,
      async () => promQuery(prom.url, `min(count_over_time(istio_requests_total{cluster="aks-dev",reporter="destination",destination_workload_namespace=~"payments|storefront"}[1m]))`),
      r => r.length === 1 && Number(r[0].value[1]) >= WINDOW + 2,
    );

    expect((await post('/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-30' })).status).toBe(202);
    await waitFor('the canary', upgrade, r => r.steps[r.steps.length - 1]?.outcome === 'succeeded');

    const migrate = async (namespace: string, afterRestart?: () => Promise<void>) => {
      const res = await post(`/clusters/aks-dev/namespaces/${namespace}/migrate`, { targetRevision: 'asm-1-30' });
      expect({ status: res.status, error: res.body.error }).toEqual({ status: 202, error: undefined });
      await afterRestart?.();
      const { step } = res.body as UpgradeActionResponse;
      // While the gate measures, the step runs on and says so.
      // The gate measures for WINDOW seconds after the rollout; polls every 200 ms see it.
      const measuring = await waitFor(`the gate of ${namespace} to start`, upgrade, r => {
        const s = r.steps.find(x => x.id === step.id);
        return !!s?.healthGate && s.outcome === 'running';
      });
      expect(measuring.steps.find(s => s.id === step.id)!.healthGate!.verdict).toBe('pending');
      // The namespace has moved; the run waits for the next action while the gate measures.
      expect(measuring.namespaces.find(n => n.name === namespace)).toMatchObject({ state: 'migrated', healthGate: 'pending' });
      expect(measuring.status).toBe('waiting');
      const run = await waitFor(`the migration of ${namespace}`, upgrade, r => r.steps.find(s => s.id === step.id)?.outcome !== 'running', 90_000);
      return { run, step: run.steps.find(s => s.id === step.id)!, measuring };
    };

    // payments: 30 % errors on payments-api from just after the restart on.
    let spikeSince = NaN;
    const payments = await migrate('payments', async () => {
      await new Promise(r => setTimeout(r, SPIKE_DELAY_MS));
      const spike = await fetch(`${sandbox.url}/_sandbox/traffic`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ cluster: 'aks-dev', namespace: 'payments', workload: 'payments-api', errorRatio: 0.3 }),
      });
      expect(spike.status).toBe(201);
      spikeSince = Date.parse((await spike.json()).spikes[0].since);
    });
    // A gated cluster always lists what needs an acknowledgement; a gate still measuring is not listed.
    expect(payments.measuring.guards.complete.requiresAcknowledgement).toEqual([]);
    const gate = payments.step.healthGate!;
    console.log(`payments: ${payments.step.message}\n${JSON.stringify(gate.workloads.map(w => [w.workload, w.before.errorRatio, w.after.errorRatio, w.before.p99Ms, w.after.p99Ms, w.verdict]))}`);
    expect(payments.step.outcome).toBe('succeeded');
    expect(gate.verdict).toBe('regressed');
    expect(Date.parse(gate.after.end) - Date.parse(gate.after.start)).toBe(WINDOW * 1000);
    expect(Date.parse(gate.before.end)).toBe(Date.parse(payments.step.startedAt));
    // The order the exact ratios below rely on.
    expect(spikeSince - Date.parse(gate.before.end)).toBeGreaterThan(1000);
    expect(Date.parse(gate.after.start)).toBeGreaterThan(spikeSince);
    const api = gate.workloads.find(w => w.workload === 'payments-api')!;
    const worker = gate.workloads.find(w => w.workload === 'payments-worker')!;
    // The sandbox's baseline is 0.5 % 5xx; the spike sets 30 %. Ratios of series scraped together are exact.
    expect(api.before.errorRatio).toBeCloseTo(0.005, 9);
    expect(api.after.errorRatio).toBeCloseTo(0.3, 9);
    expect(api.verdict).toBe('regressed');
    expect(api.reasons).toEqual(['5xx ratio rose from 0.5 % to 30 % (more than 1 % points).']);
    expect(worker.before.errorRatio).toBeCloseTo(0.005, 9);
    expect(worker.after.errorRatio).toBeCloseTo(0.005, 9);
    expect(worker.verdict).toBe('healthy');
    expect(gate.reasons).toEqual(['payments-api: 5xx ratio rose from 0.5 % to 30 % (more than 1 % points).']);
    expect(payments.step.message).toContain('Health gate: regressed. payments-api: 5xx ratio rose from 0.5 % to 30 %');
    expect(payments.run.namespaces.find(n => n.name === 'payments')!.healthGate).toBe('regressed');

    // storefront: no spike (and payments back to normal).
    expect((await fetch(`${sandbox.url}/_sandbox/traffic`, { method: 'DELETE' })).ok).toBe(true);
    const storefront = await migrate('storefront');
    console.log(`storefront: ${storefront.step.message}`);
    expect(storefront.step.healthGate!.verdict).toBe('healthy');
    expect(storefront.step.healthGate!.workloads.map(w => [w.workload, w.verdict])).toEqual([
      ['cart', 'healthy'],
      ['checkout', 'healthy'],
    ]);

    let run = await upgrade();
    expect({ valid: validateRun(run), errors: validateRun.errors ?? null }).toEqual({ valid: true, errors: null });
    expect(run.namespaces.map(n => [n.name, n.state, n.healthGate])).toEqual([
      ['payments', 'migrated', 'regressed'],
      ['storefront', 'migrated', 'healthy'],
    ]);
    expect(run.guards.complete).toEqual({ allowed: true, requiresAcknowledgement: ['payments'] });

    // Complete: refused without the acknowledgement, naming the namespace.
    const refused = await post('/clusters/aks-dev/upgrade/complete', {});
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe(
      'The health gate of payments (regressed) did not pass: complete with { "acknowledgeRegressions": true } to remove asm-1-29 anyway.',
    );
    expect((await post('/clusters/aks-dev/upgrade/complete', { acknowledgeRegressions: 'yes' })).status).toBe(400);
    expect((await upgrade()).installedRevisions).toEqual(['asm-1-29', 'asm-1-30']);

    const accepted = await post('/clusters/aks-dev/upgrade/complete', { acknowledgeRegressions: true });
    expect(accepted.status).toBe(202);
    expect((accepted.body as UpgradeActionResponse).acknowledgedRegressions).toEqual(['payments']);
    run = await waitFor('the completion', upgrade, r => r.status === 'completed');
    const acknowledged = run.steps.find(s => s.id === payments.step.id)!.healthGate!.acknowledged!;
    expect(acknowledged.by).toBe(ALICE);
    expect(Number.isNaN(Date.parse(acknowledged.at))).toBe(false);
    expect(audit.map(e => [e.outcome, e.successMeta?.acknowledgedRegressions ?? null])).toEqual([
      ['fail', null],
      ['fail', null],
      ['success', ['payments']],
    ]);
  });
});
