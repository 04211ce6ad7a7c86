/* eslint-disable no-console */
import { ConfigReader } from '@backstage/config';
import {
  ClusterEntityMeshStatus,
  EntityMeshStatus,
  GoldenSignals,
  OverviewResponse,
  OverviewRow,
  PodMeshStatus,
} from '@mesh-portal/plugin-istio-mesh-common';
import { MetricsService } from './MetricsService';
import { PrometheusMetricsProvider } from './PrometheusMetricsProvider';
import { EXPECTED, EXPECTED_TCP, PAYMENTS_DB, knownData } from './testing/knownData';
import { RunningPrometheus, describeWithPrometheus, promQuery, startPrometheus } from './testing/prometheus';

/**
 * The backend's PromQL against a real Prometheus holding hand-computed data
 * (testing/knownData.ts explains every number). Values are exact up to float rounding:
 * counters are linear and every series is sampled at the same instants, so rates and
 * bucket ratios carry no scrape jitter.
 */

const CLUSTER = 'aks-test';
const OTHER = 'aks-other';
const POD_A = 'payments-api-7d9f8-aaaaa';
const POD_B = 'payments-api-6c4b2-bbbbb';
const WORKER = 'payments-worker-5f6d7-wwwww';
const CHECKOUT = 'checkout-84c9d-ccccc';

// Data from 2 h before the test's clock to 30 min after it; the clock sits on a sample.
const NOW = Math.floor(Date.now() / 10_000) * 10; // epoch s
const START = NOW - 2 * 3600;
const END = NOW + 1800;

function pod(name: string, workload: string, revision: string): PodMeshStatus {
  return {
    name,
    workload: `Deployment/${workload}`,
    phase: 'Running',
    ready: true,
    sidecar: { injected: true, revision, proxyVersion: '1.2x', native: false },
    state: 'in-sync',
  } as PodMeshStatus;
}

function clusterStatus(cluster: string): ClusterEntityMeshStatus {
  return {
    cluster,
    provider: 'aks',
    controlPlane: { namespace: 'aks-istio-system', revisions: [], tags: {}, phase: 'Canary' },
    meshed: true,
    driftedPods: 0,
    namespaces: [
      {
        name: 'payments',
        revisionLabel: 'asm-1-30',
        injection: { mode: 'revision', label: 'asm-1-30', revision: 'asm-1-30' },
        targetRevision: 'asm-1-30',
        workloads: [
          { kind: 'Deployment', name: 'payments-api', replicas: 2, readyReplicas: 2, podsByRevision: { 'asm-1-29': 1, 'asm-1-30': 1 } },
          { kind: 'Deployment', name: 'payments-worker', replicas: 1, readyReplicas: 1, podsByRevision: { 'asm-1-30': 1 } },
        ],
        pods: [pod(POD_A, 'payments-api', 'asm-1-29'), pod(POD_B, 'payments-api', 'asm-1-30'), pod(WORKER, 'payments-worker', 'asm-1-30')],
        driftedPods: 0,
      },
    ],
  } as ClusterEntityMeshStatus;
}

const entity: EntityMeshStatus = { entityRef: 'component:default/payments', clusters: [clusterStatus(CLUSTER)], errors: [] };

function expectSignals(actual: GoldenSignals, expected: GoldenSignals) {
  for (const key of Object.keys(expected) as Array<keyof GoldenSignals>) {
    const v = actual[key];
    if (v === null) throw new Error(`${key} is null, expected ${expected[key]}`);
    expect({ [key]: Number(v.toFixed(9)) }).toEqual({ [key]: Number((expected[key] as number).toFixed(9)) });
  }
}

function providerFor(url: string, extra: object = {}) {
  return PrometheusMetricsProvider.fromConfig(
    new ConfigReader({ istioMesh: { metrics: { clusters: [{ name: CLUSTER, prometheus: { url, ...extra } }] } } }),
  )!;
}

describeWithPrometheus('golden signals from a real Prometheus with known data', () => {
  let prom: RunningPrometheus;
  let service: MetricsService;

  beforeAll(async () => {
    prom = await startPrometheus({
      openMetrics: knownData({ cluster: CLUSTER, otherCluster: OTHER, apiPods: [POD_A, POD_B], workerPod: WORKER, checkoutPod: CHECKOUT, start: START, end: END }),
    });
    service = new MetricsService({ providers: [providerFor(prom.url)], now: () => NOW * 1000 });
  }, 60_000);

  afterAll(async () => {
    await prom?.stop();
  });

  it('has data that tells a wrong query from a right one', async () => {
    // The same sum with one matcher dropped reads something else: the traps work.
    const sum = async (selector: string) => {
      const [r] = await promQuery(prom.url, `sum(rate(istio_requests_total{${selector}}[5m]))`, NOW);
      return Number(Number(r.value[1]).toFixed(6));
    };
    const api = 'destination_workload="payments-api"';
    expect(await sum(`cluster="${CLUSTER}",reporter="destination",${api},destination_workload_namespace="payments"`)).toBe(10);
    expect(await sum(`cluster="${CLUSTER}",${api},destination_workload_namespace="payments"`)).toBe(19); // no reporter
    expect(await sum(`cluster="${CLUSTER}",reporter="destination",${api}`)).toBe(60); // no namespace
    expect(await sum(`reporter="destination",${api},destination_workload_namespace="payments"`)).toBe(110); // no cluster
  });

  it("returns each workload's current rate, 5xx ratio and p50/p90/p99 exactly", async () => {
    const metrics = await service.getEntityMetrics(entity, '1h');
    expect(metrics.errors).toEqual([]);
    expect(metrics.workloads.map(w => `${w.cluster}/${w.namespace}/${w.workload}`)).toEqual([
      `${CLUSTER}/payments/payments-api`,
      `${CLUSTER}/payments/payments-worker`,
    ]);
    const [api, worker] = metrics.workloads;
    console.log(`payments-api ${JSON.stringify(api.current)}; payments-worker ${JSON.stringify(worker.current)}`);
    expectSignals(api.current, EXPECTED.api);
    expectSignals(worker.current, EXPECTED.worker);
    // 0.04 > 0: degraded by the default rule; the worker served no 5xx at all: 0, healthy (not "no data").
    expect(api.health).toBe('degraded');
    expect(api.healthReasons).toEqual(['4 % of requests failed with 5xx (degraded above 0 %).']);
    expect(worker.current.errorRatio).toBe(0);
    expect(worker.health).toBe('healthy');
  });

  it("lists clusters the entity's status could not read, and clusters without metrics, under errors", async () => {
    const gone = { cluster: 'aks-gone', error: { name: 'ServiceUnavailableError', message: 'aks-gone is unreachable' } };
    const metrics = await service.getEntityMetrics({ ...entity, clusters: [...entity.clusters, clusterStatus('aks-unconfigured')], errors: [gone] }, '15m');
    expect(metrics.workloads.map(w => w.workload)).toEqual(['payments-api', 'payments-worker']);
    expect(metrics.errors).toEqual([
      gone,
      { cluster: 'aks-unconfigured', error: { name: 'NotConfiguredError', message: 'Metrics are not configured for cluster aks-unconfigured (istioMesh.metrics.clusters).' } },
    ]);
  });

  it('splits a workload mid-migration by sidecar revision with a pod matcher', async () => {
    const metrics = await service.getEntityMetrics(entity, '1h');
    const [api, worker] = metrics.workloads;
    expect(worker.byRevision).toBeUndefined();
    expect(api.byRevision!.map(r => [r.revision, r.pods])).toEqual([
      ['asm-1-29', [POD_A]],
      ['asm-1-30', [POD_B]],
    ]);
    expectSignals(api.byRevision![0].current, EXPECTED.apiPodA);
    expectSignals(api.byRevision![1].current, EXPECTED.apiPodB);
    expect(api.byRevision!.map(r => r.health)).toEqual(['degraded', 'degraded']);
  });

  it('returns series on a fixed grid of at most 300 points, with the values inside the data', async () => {
    const metrics = await service.getEntityMetrics(entity, '1h');
    expect(metrics.stepSeconds).toBe(13); // ceil(3600 / 299)
    const api = metrics.workloads[0];
    const points = api.series.requestsPerSecond;
    expect(points).toHaveLength(277); // floor(3600 / 13) + 1
    expect(points[0].t).toBe(metrics.start);
    expect(points[points.length - 1].t).toBe(metrics.end);
    expect(metrics.end).toBe(Math.floor((NOW * 1000) / 13_000) * 13_000);
    for (const key of ['requestsPerSecond', 'errorRatio', 'p50Ms', 'p90Ms', 'p99Ms'] as const) {
      const expected = EXPECTED.api[key];
      const values = new Set(api.series[key].map(p => (p.v === null ? null : Number(p.v.toFixed(6)))));
      expect({ [key]: [...values] }).toEqual({ [key]: [Number(expected.toFixed(6))] });
    }
    const revisionB = api.byRevision![1].series.p99Ms.map(p => Number(p.v!.toFixed(6)));
    expect(new Set(revisionB)).toEqual(new Set([90]));

    // 24 h: the step grows so the series stays bounded; before the data starts there are gaps (null).
    const day = await service.getEntityMetrics(entity, '24h');
    expect(day.stepSeconds).toBe(289); // ceil(86400 / 299)
    const dayPoints = day.workloads[0].series.requestsPerSecond;
    expect(dayPoints).toHaveLength(299); // floor(86400 / 289) + 1
    expect(dayPoints[0].v).toBeNull();
    expect(Number(dayPoints[dayPoints.length - 1].v!.toFixed(6))).toBe(10);
  });

  it('has TCP data that tells a wrong query from a right one', async () => {
    const sum = async (selector: string) => {
      const [r] = await promQuery(prom.url, `sum(rate(istio_tcp_received_bytes_total{${selector}}[5m]))`, NOW);
      return Number(Number(r.value[1]).toFixed(6));
    };
    const api = 'source_workload="payments-api",source_workload_namespace="payments"';
    const worker = 'source_workload="payments-worker"';
    expect(await sum(`cluster="${CLUSTER}",reporter="source",${api}`)).toBe(512);
    expect(await sum(`cluster="${CLUSTER}",reporter="destination",${api}`)).toBe(5000); // the wrong reporter
    expect(await sum(`cluster="${CLUSTER}",${api}`)).toBe(5512); // no reporter
    expect(await sum(`cluster="${CLUSTER}",reporter="source",${worker},source_workload_namespace="payments"`)).toBe(2048);
    expect(await sum(`cluster="${CLUSTER}",reporter="source",${worker}`)).toBe(1_002_048); // no namespace
    expect(await sum(`reporter="source",${worker},source_workload_namespace="payments"`)).toBe(102_048); // no cluster
  });

  it('returns the inbound and outbound edges as the callers reported them, unmeshed callers as unknown, TCP beside HTTP', async () => {
    const calls: Array<{ promql: string; samples: number }> = [];
    const provider = providerFor(prom.url);
    const counting = Object.assign(Object.create(Object.getPrototypeOf(provider)), provider);
    counting.query = async (cluster: string, promql: string, opts: { time: number }) => {
      const samples = await provider.query(cluster, promql, opts);
      calls.push({ promql, samples: samples.length });
      return samples;
    };
    const topology = await new MetricsService({ providers: [counting], now: () => NOW * 1000 }).getEntityTopology(entity, '15m');
    expect(topology.errors).toEqual([]);
    const round = (v: number) => Number(v.toFixed(6));
    const edges = topology.edges.map(e => ({
      edge: `${e.source.namespace}/${e.source.workload} -${e.protocol}-> ${e.destination.namespace}/${e.destination.service ?? e.destination.workload}`,
      ...(e.protocol === 'http'
        ? { rps: round(e.requestsPerSecond), errorRatio: e.errorRatio === null ? null : round(e.errorRatio) }
        : {
            rps: e.requestsPerSecond,
            errorRatio: e.errorRatio,
            tcp: { requestBytesPerSecond: round(e.tcp.requestBytesPerSecond), responseBytesPerSecond: round(e.tcp.responseBytesPerSecond), connectionsOpenedPerSecond: round(e.tcp.connectionsOpenedPerSecond) },
          }),
    }));
    expect(edges).toEqual([
      { edge: 'payments/payments-api -tcp-> payments/payments-cache', rps: 0, errorRatio: null, tcp: EXPECTED_TCP.apiToCache },
      { edge: 'payments/payments-api -http-> payments/payments-worker', rps: 2, errorRatio: 0 },
      { edge: 'payments/payments-api -http-> unknown/unknown', rps: 0.2, errorRatio: 1 },
      { edge: `payments/payments-worker -tcp-> unknown/${PAYMENTS_DB}`, rps: 0, errorRatio: null, tcp: EXPECTED_TCP.workerToDb },
      { edge: 'storefront/checkout -http-> payments/payments-api', rps: 9, errorRatio: 0.05 },
      { edge: 'unknown/unknown -http-> payments/payments-api', rps: 1, errorRatio: 0 },
      { edge: 'unknown/unknown -tcp-> payments/payments-api', rps: 0, errorRatio: null, tcp: EXPECTED_TCP.unmeshedToApi },
    ]);
    expect(topology.nodes.map(n => `${n.role}:${n.namespace}/${n.workload}${n.service ? `@${n.service}` : ''}`)).toEqual([
      'callee:payments/payments-cache',
      'callee:unknown/unknown',
      `callee:unknown/unknown@${PAYMENTS_DB}`,
      'caller:storefront/checkout',
      'caller:unknown/unknown',
      'self:payments/payments-api',
      'self:payments/payments-worker',
    ]);
    // 3 HTTP queries and one per TCP counter. Each TCP answer holds exactly the three edges'
    // series: none of staging's (a missing namespace matcher would add one).
    expect(calls).toHaveLength(6);
    expect(calls.filter(c => c.promql.includes('istio_tcp_')).map(c => c.samples)).toEqual([3, 3, 3]);
  });

  it("fills the overview's signal columns with one query per signal for the whole cluster", async () => {
    const row = (name: string, workloads: string[]): OverviewRow => ({
      entityRef: `component:default/${name}`,
      kind: 'Component',
      namespace: 'default',
      name,
      cluster: CLUSTER,
      provider: 'aks',
      kubernetesNamespace: 'payments',
      sidecarRevisions: ['asm-1-30'],
      workloads,
      pods: 1,
      driftedPods: 0,
      phase: 'Canary',
    });
    const calls: string[] = [];
    const provider = providerFor(prom.url);
    const counting = Object.assign(Object.create(Object.getPrototypeOf(provider)), provider);
    counting.query = (cluster: string, promql: string, opts: { time: number }) => {
      calls.push(promql);
      return provider.query(cluster, promql, opts);
    };
    const overviewService = new MetricsService({ providers: [counting], now: () => NOW * 1000 });
    const overview: OverviewResponse = {
      rows: [row('payments-api', ['payments-api']), row('payments-worker', ['payments-worker']), row('both', ['payments-api', 'payments-worker']), row('idle', ['nothing-here'])],
      clusters: [],
      errors: [],
    };
    const result = await overviewService.addOverviewSignals(overview);
    expect(calls).toHaveLength(5);
    expect(result.metrics).toEqual({ status: 'ok' });
    const [api, worker, both, idle] = result.rows;
    expectSignals(api.signals!, EXPECTED.api);
    expect(api.signals!.health).toBe('degraded');
    expectSignals(worker.signals!, EXPECTED.worker);
    expect(worker.signals!.health).toBe('healthy');
    // Two workloads: 12 req/s, (0.4 + 0) / 12 errors, the worse workload's latencies.
    expectSignals(both.signals!, { requestsPerSecond: 12, errorRatio: 0.4 / 12, p50Ms: 31.25, p90Ms: EXPECTED.api.p90Ms, p99Ms: 220 });
    expect(idle.signals).toEqual({ requestsPerSecond: null, errorRatio: null, p50Ms: null, p90Ms: null, p99Ms: null, health: 'no-data' });
  });

  it("reads a namespace's workloads over one window for the upgrade health gate", async () => {
    const signals = await service.namespaceSignals(CLUSTER, 'payments', NOW, 300);
    expect([...signals.keys()].sort()).toEqual(['payments-api', 'payments-worker']);
    expectSignals(signals.get('payments-api')!, EXPECTED.api);
    expectSignals(signals.get('payments-worker')!, EXPECTED.worker);
    // Before the data began there is nothing to compare with.
    expect((await service.namespaceSignals(CLUSTER, 'payments', START - 3600, 300)).size).toBe(0);
  });

  it('sends the configured auth and cluster matchers', async () => {
    const seen: Array<{ auth?: string; tenant?: string; query: string }> = [];
    const { createServer } = await import('node:http');
    const proxy = createServer((req, res) => {
      let body = '';
      req.on('data', c => (body += c));
      req.on('end', async () => {
        seen.push({ auth: req.headers.authorization, tenant: req.headers['x-scope-orgid'] as string, query: new URLSearchParams(body).get('query')! });
        const upstream = await fetch(`${prom.url}${req.url}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body });
        res.writeHead(upstream.status, { 'Content-Type': 'application/json' });
        res.end(await upstream.text());
      });
    });
    await new Promise<void>(r => proxy.listen(0, '127.0.0.1', () => r()));
    const port = (proxy.address() as { port: number }).port;
    try {
      const p = PrometheusMetricsProvider.fromConfig(
        new ConfigReader({
          istioMesh: {
            metrics: {
              clusters: [{ name: 'prod-eu', prometheus: { url: `http://127.0.0.1:${port}/`, matchers: { cluster: CLUSTER }, bearerToken: 's3cret', headers: { 'X-Scope-OrgID': 'team-a' } } }],
            },
          },
        }),
      )!;
      const s = new MetricsService({ providers: [p], now: () => NOW * 1000 });
      const signals = await s.namespaceSignals('prod-eu', 'payments', NOW, 300);
      expectSignals(signals.get('payments-api')!, EXPECTED.api);
      expect(seen).toHaveLength(5);
      expect(seen.every(r => r.auth === 'Bearer s3cret' && r.tenant === 'team-a' && r.query.includes(`cluster="${CLUSTER}"`))).toBe(true);
    } finally {
      await new Promise(r => proxy.close(r));
    }
  });
});
