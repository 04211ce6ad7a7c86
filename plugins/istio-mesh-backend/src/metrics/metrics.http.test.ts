import { SandboxServer, createDemoFleet, demoToken, startSandboxServer } from '@mesh-portal/mesh-sandbox';
import { EntityMetrics, EntityTopology, OverviewResponse } from '@mesh-portal/plugin-istio-mesh-common';
import request from 'supertest';
import { component, kubernetesConfigFor, startMeshBackend } from '../__testUtils__/sandboxBackend';
import { openApiAjv } from '../__testUtils__/openapi';
import { EXPECTED, EXPECTED_TCP, PAYMENTS_DB, knownData } from './testing/knownData';
import { RunningPrometheus, describeWithPrometheus, freePort, startPrometheus } from './testing/prometheus';

/**
 * The metrics endpoints and the overview's signal columns through the real plugin and
 * Kubernetes backend over the sandbox: unconfigured, Prometheus down, and a real
 * Prometheus with known data for aks-prod's payments-api.
 */

const entities = [
  component('payments-api', { 'backstage.io/kubernetes-id': 'payments-api' }),
  component('payments-worker', { 'backstage.io/kubernetes-id': 'payments-worker' }),
];

jest.setTimeout(60_000);

const ajv = openApiAjv();
function expectSchema(schema: string, body: unknown) {
  const validate = ajv.getSchema(`openapi#/components/schemas/${schema}`)!;
  expect({ schema, valid: validate(body), errors: validate.errors ?? null }).toEqual({ schema, valid: true, errors: null });
}

let sandbox: SandboxServer;
beforeAll(async () => {
  sandbox = await startSandboxServer({ clusters: createDemoFleet(), port: 0 });
});
afterAll(() => sandbox?.close());

async function startBackend(metrics?: object) {
  const { server } = await startMeshBackend({
    entities,
    config: { ...(metrics ? { istioMesh: { metrics } } : {}), kubernetes: kubernetesConfigFor(sandbox) },
  });
  return server;
}

const get = (server: any, path: string) => request(server).get(`/api/istio-mesh${path}`);

describe('metrics endpoints without Prometheus', () => {
  it('answers 503 for metrics when none is configured; the overview says "unconfigured" and the other pages work', async () => {
    const server = await startBackend();
    const metrics = await get(server, '/v1/entities/component/default/payments-api/metrics');
    expect(metrics.status).toBe(503);
    expect(metrics.body.error).toEqual({
      name: 'ServiceUnavailableError',
      message: 'Metrics are not configured: add Prometheus under istioMesh.metrics.clusters in app-config.',
    });
    expect((await get(server, '/v1/entities/component/default/payments-api/topology')).status).toBe(503);
    const overview = await get(server, '/v1/overview');
    expect(overview.status).toBe(200);
    expect((overview.body as OverviewResponse).metrics).toEqual({ status: 'unconfigured', message: 'Metrics are not configured (istioMesh.metrics in app-config).' });
    expect((overview.body as OverviewResponse).rows.length).toBeGreaterThan(0);
    expect((overview.body as OverviewResponse).rows.every(r => r.signals === undefined)).toBe(true);
    expectSchema('OverviewResponse', overview.body);
    expect((await get(server, '/v1/entities/component/default/payments-api')).status).toBe(200);
    expect((await get(server, '/v1/clusters/aks-prod')).status).toBe(200);
  });

  it('answers 503 naming the clusters and Prometheus when it is down; the overview says "unavailable" in one line', async () => {
    const port = await freePort(); // nothing listens there
    const url = `http://127.0.0.1:${port}`;
    const server = await startBackend({
      queryTimeoutSeconds: 2,
      clusters: ['aks-dev', 'aks-prod'].map(name => ({ name, prometheus: { url } })),
    });
    const metrics = await get(server, '/v1/entities/component/default/payments-api/metrics?window=15m');
    expect(metrics.status).toBe(503);
    expect(metrics.body.error.name).toBe('ServiceUnavailableError');
    // payments-api runs in aks-dev, aks-prod and istio-lab: the two configured are unreachable, istio-lab is not configured.
    expect(metrics.body.error.message).toBe(
      [
        `The Prometheus of aks-dev at ${url} is unreachable: ECONNREFUSED`,
        `The Prometheus of aks-prod at ${url} is unreachable: ECONNREFUSED`,
        'Metrics are not configured for cluster istio-lab (istioMesh.metrics.clusters).',
      ].join(' '),
    );
    const topology = await get(server, '/v1/entities/component/default/payments-api/topology');
    expect(topology.status).toBe(503);
    const overview = await get(server, '/v1/overview');
    expect(overview.status).toBe(200);
    const body = overview.body as OverviewResponse;
    expect(body.metrics!.status).toBe('unavailable'); // no configured Prometheus answered
    expect(body.metrics!.message).toBe(`The Prometheus of aks-dev at ${url} is unreachable: ECONNREFUSED (and 1 more cluster) Metrics are not configured for istio-lab.`);
    expect(body.rows.every(r => r.signals === undefined)).toBe(true);
    expect((await get(server, '/v1/entities/component/default/payments-api')).status).toBe(200);
    expect((await get(server, '/v1/clusters')).status).toBe(200);
  });

  it('says "unavailable" when every configured Prometheus is down', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const server = await startBackend({ clusters: ['aks-dev', 'aks-prod', 'istio-lab'].map(name => ({ name, prometheus: { url } })) });
    const body = (await get(server, '/v1/overview')).body as OverviewResponse;
    expect(body.metrics).toEqual({ status: 'unavailable', message: `The Prometheus of aks-dev at ${url} is unreachable: ECONNREFUSED (and 2 more clusters)` });
  });

  it('does not let a Prometheus that never answers hold the overview', async () => {
    const { createServer } = await import('node:net');
    const sockets: Array<import('node:net').Socket> = [];
    const hung = createServer(socket => void sockets.push(socket)); // accepts, never answers
    await new Promise<void>(r => hung.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(hung.address() as { port: number }).port}`;
    try {
      const server = await startBackend({
        overviewTimeoutSeconds: 1,
        queryTimeoutSeconds: 1,
        clusters: ['aks-dev', 'aks-prod', 'istio-lab'].map(name => ({ name, prometheus: { url } })),
      });
      const overview = await get(server, '/v1/overview');
      expect(overview.status).toBe(200);
      expect((overview.body as OverviewResponse).metrics).toEqual({
        status: 'unavailable',
        message: `The Prometheus of aks-dev at ${url} is unreachable: no answer within the time the caller allows (and 2 more clusters)`,
      });
      const metrics = await get(server, '/v1/entities/component/default/payments-worker/metrics?window=15m');
      expect(metrics.status).toBe(503);
      expect(metrics.body.error.message).toContain(`The Prometheus of aks-dev at ${url} is unreachable: no answer within 2000 ms`);
    } finally {
      sockets.forEach(s => s.destroy());
      await new Promise(r => hung.close(r));
    }
  });

  it('refuses a bad window or unknown parameters with 400 naming the field', async () => {
    const server = await startBackend();
    const bad = await get(server, '/v1/entities/component/default/payments-api/metrics?window=2h');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toBe('Invalid query: window: must be one of 15m, 1h, 6h, 24h');
    const extra = await get(server, '/v1/entities/component/default/payments-api/metrics?window=1h&step=1');
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toBe("Invalid query: query: Unrecognized key(s) in object: 'step'");
    const name = await get(server, '/v1/entities/component/default/bad%20name/topology');
    expect(name.status).toBe(400);
    expect(name.body.error.message).toMatch(/^Invalid entity reference: name: /);
  });
});

describeWithPrometheus('metrics endpoints with a real Prometheus', () => {
  let prom: RunningPrometheus;
  let server: any;

  beforeAll(async () => {
    // The data is about the sandbox's own aks-prod pods, up to 30 min ahead, so "now" lies inside it.
    const res = await fetch(`${sandbox.clusterUrl('aks-prod')}/api/v1/namespaces/payments/pods`, {
      headers: { Authorization: `Bearer ${demoToken('aks-prod')}` },
    });
    const pods: string[] = (await res.json()).items.map((p: any) => p.metadata.name).sort();
    const api = pods.filter(p => p.startsWith('payments-api-'));
    const worker = pods.find(p => p.startsWith('payments-worker-'))!;
    const now = Math.floor(Date.now() / 10_000) * 10;
    prom = await startPrometheus({
      openMetrics: knownData({ cluster: 'aks-prod', otherCluster: 'aks-dev', apiPods: [api[0], api[1]], workerPod: worker, checkoutPod: 'checkout-0', start: now - 7200, end: now + 1800 }),
    });
    server = await startBackend({ clusters: [{ name: 'aks-prod', prometheus: { url: prom.url } }] });
  }, 60_000);
  afterAll(async () => {
    await prom?.stop();
  });

  it("returns payments-api's exact signals in aks-prod, in the OpenAPI shape, with the other clusters under errors", async () => {
    const res = await get(server, '/v1/entities/component/default/payments-api/metrics?window=15m');
    expect(res.status).toBe(200);
    expectSchema('EntityMetrics', res.body);
    const body = res.body as EntityMetrics;
    expect(body.window).toBe('15m');
    expect(body.stepSeconds).toBe(10);
    expect(body.workloads.map(w => `${w.cluster}/${w.namespace}/${w.workload}`)).toEqual(['aks-prod/payments/payments-api']);
    const [api] = body.workloads;
    const round = (v: number | null) => (v === null ? null : Number(v.toFixed(6)));
    expect(Object.fromEntries(Object.entries(api.current).map(([k, v]) => [k, round(v)]))).toEqual(
      Object.fromEntries(Object.entries(EXPECTED.api).map(([k, v]) => [k, round(v)])),
    );
    expect(api.health).toBe('degraded');
    expect(api.byRevision).toBeUndefined(); // every payments-api pod in aks-prod still runs asm-1-29
    expect(api.series.requestsPerSecond).toHaveLength(91);
    expect(body.errors.map(e => e.cluster)).toEqual(['aks-dev', 'istio-lab']);
  });

  it('returns the topology edges in the OpenAPI shape, TCP beside HTTP', async () => {
    const res = await get(server, '/v1/entities/component/default/payments-api/topology?window=1h');
    expect(res.status).toBe(200);
    expectSchema('EntityTopology', res.body);
    const edges = (res.body as EntityTopology).edges.map(e => [
      `${e.source.workload} -${e.protocol}-> ${e.destination.workload}`,
      e.protocol === 'http' ? Number(e.requestsPerSecond.toFixed(6)) : Number(e.tcp.requestBytesPerSecond.toFixed(6)),
    ]);
    expect(edges).toEqual([
      ['payments-api -tcp-> payments-cache', EXPECTED_TCP.apiToCache.requestBytesPerSecond],
      ['payments-api -http-> payments-worker', 2],
      ['payments-api -http-> unknown', 0.2],
      ['checkout -http-> payments-api', 9],
      ['unknown -http-> payments-api', 1],
      ['unknown -tcp-> payments-api', EXPECTED_TCP.unmeshedToApi.requestBytesPerSecond],
    ]);
  });

  it("names payments-worker's database outside the mesh by its host", async () => {
    const res = await get(server, '/v1/entities/component/default/payments-worker/topology?window=15m');
    expect(res.status).toBe(200);
    expectSchema('EntityTopology', res.body);
    const body = res.body as EntityTopology;
    const tcp = body.edges.filter(e => e.protocol === 'tcp');
    expect(tcp.map(e => ({ ...e, tcp: Object.fromEntries(Object.entries(e.tcp).map(([k, v]) => [k, Number(v.toFixed(6))])) }))).toEqual([
      {
        cluster: 'aks-prod',
        protocol: 'tcp',
        source: { workload: 'payments-worker', namespace: 'payments' },
        destination: { workload: 'unknown', namespace: 'unknown', service: PAYMENTS_DB },
        requestsPerSecond: 0,
        errorRatio: null,
        tcp: EXPECTED_TCP.workerToDb,
      },
    ]);
    expect(body.nodes.filter(n => n.role === 'callee')).toEqual([{ cluster: 'aks-prod', workload: 'unknown', namespace: 'unknown', service: PAYMENTS_DB, role: 'callee' }]);
  });

  it("fills aks-prod's overview rows and says which clusters have no metrics", async () => {
    const res = await get(server, '/v1/overview');
    expect(res.status).toBe(200);
    expectSchema('OverviewResponse', res.body);
    const body = res.body as OverviewResponse;
    const prodApi = body.rows.find(r => r.name === 'payments-api' && r.cluster === 'aks-prod')!;
    expect(prodApi.workloads).toEqual(['payments-api']);
    expect(Number(prodApi.signals!.requestsPerSecond!.toFixed(6))).toBe(10);
    expect(Number(prodApi.signals!.errorRatio!.toFixed(6))).toBe(0.04);
    expect(prodApi.signals!.health).toBe('degraded');
    const prodWorker = body.rows.find(r => r.name === 'payments-worker' && r.cluster === 'aks-prod')!;
    expect(prodWorker.signals!.errorRatio).toBe(0);
    expect(prodWorker.signals!.health).toBe('healthy');
    expect(body.rows.filter(r => r.cluster !== 'aks-prod').every(r => r.signals === undefined)).toBe(true);
    expect(body.metrics).toEqual({ status: 'partial', message: 'Metrics are not configured for aks-dev, istio-lab.' });
  });
});
