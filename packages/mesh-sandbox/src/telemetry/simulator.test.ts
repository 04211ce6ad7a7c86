import { ManualClock } from '../clock';
import { createDemoFleet, demoToken } from '../fleet';
import { resourceTypeOfKind } from '../resources';
import { SandboxServer, startSandboxServer } from '../server';
import { cdf, histogramQuantile, ISTIO_HISTOGRAM_BUCKETS, mean } from './distributions';
import { ExpositionParseError, parseExposition, Sample } from './exposition';
import { DEMO_TRAFFIC_GRAPH, TrafficEdge } from './graph';
import { SOURCE_OVERHEAD_MS, TrafficSimulator } from './simulator';

/**
 * The simulated telemetry on a ManualClock: exposition format, exact rates, spikes,
 * monotonic counters, pod restarts. `prometheus.test.ts` scrapes the same with a real
 * Prometheus.
 */

const POD = resourceTypeOfKind('Pod');
const REQUIRED_LABELS = [
  'reporter', 'source_workload', 'source_workload_namespace', 'destination_workload', 'destination_workload_namespace',
  'destination_service', 'destination_service_name', 'destination_service_namespace', 'response_code', 'response_flags',
  'connection_security_policy', 'source_canonical_service', 'destination_canonical_service', 'destination_canonical_revision',
  'source_cluster', 'destination_cluster', 'grpc_response_status',
];

let clock: ManualClock;
let server: SandboxServer;

beforeEach(async () => {
  clock = new ManualClock('2026-11-25T10:00:00Z');
  server = await startSandboxServer({ clusters: createDemoFleet({ clock, stepMs: 1000 }), port: 0 });
});

afterEach(async () => {
  await server.close();
});

function podsOf(cluster: string, namespace: string, app: string): string[] {
  const store = server.clusters.get(cluster)!.store;
  return [...store.scan(POD, namespace)]
    .filter(p => p.metadata.labels?.app === app && p.status?.phase === 'Running')
    .map(p => p.metadata.name)
    .sort();
}

function scrape(cluster: string, namespace: string, pod: string): Sample[] {
  const text = server.traffic.scrape(cluster, namespace, pod);
  if (text === undefined) throw new Error(`no metrics for ${cluster}/${namespace}/${pod}`);
  return parseExposition(text).samples;
}

/** Sum of the samples named `name` matching `labels` (a value starting with `~` is a regexp). */
function sum(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter(s => s.name === name && Object.entries(labels).every(([k, v]) => (v.startsWith('~') ? new RegExp(`^${v.slice(1)}$`).test(s.labels[k] ?? '') : s.labels[k] === v)))
    .reduce((acc, s) => acc + s.value, 0);
}

/** Sum over the workload's pods. */
function workloadSum(cluster: string, namespace: string, app: string, name: string, labels: Record<string, string> = {}): number {
  return podsOf(cluster, namespace, app).reduce((acc, pod) => acc + sum(scrape(cluster, namespace, pod), name, labels), 0);
}

const apiDest = (labels: Record<string, string> = {}) => workloadSum('aks-dev', 'payments', 'payments-api', 'istio_requests_total', { reporter: 'destination', ...labels });

describe('exposition format', () => {
  it('serves every proxy of the demo fleet as valid text format 0.0.4 with Istio labels and consistent histograms', () => {
    clock.advance(7_000);
    let proxies = 0;
    for (const [name, cluster] of server.clusters) {
      for (const pod of cluster.store.scan(POD)) {
        const text = server.traffic.scrape(name, pod.metadata.namespace, pod.metadata.name);
        if (text === undefined) continue;
        proxies++;
        const { families, samples } = parseExposition(text);
        expect(families.get('istio_build')?.type).toBe('gauge');
        expect(sum(samples, 'istio_build')).toBe(1);
        expect(samples.filter(s => !(Number.isFinite(s.value) && s.value >= 0))).toEqual([]);
        for (const s of samples.filter(x => x.name === 'istio_requests_total')) {
          expect(Object.keys(s.labels).sort()).toEqual(expect.arrayContaining(REQUIRED_LABELS.sort()));
        }
        for (const family of ['istio_request_duration_milliseconds', 'istio_request_bytes', 'istio_response_bytes']) {
          if (!samples.some(s => s.name === `${family}_count`)) continue;
          expect(families.get(family)?.type).toBe('histogram');
          // Per label set: buckets in order, cumulative, +Inf equal to _count.
          const sets = new Map<string, Sample[]>();
          for (const s of samples.filter(x => x.name === `${family}_bucket`)) {
            const { le, ...rest } = s.labels;
            const k = JSON.stringify(rest);
            sets.set(k, [...(sets.get(k) ?? []), s]);
          }
          for (const [k, buckets] of sets) {
            expect(buckets.map(b => b.labels.le)).toEqual([...ISTIO_HISTOGRAM_BUCKETS.map(String), '+Inf']);
            for (let i = 1; i < buckets.length; i++) expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value * (1 - 1e-12));
            const count = samples.find(x => x.name === `${family}_count` && JSON.stringify(x.labels) === k)!;
            expect(buckets[buckets.length - 1].value).toBe(count.value);
          }
        }
      }
    }
    // aks-dev: 2 gateway + 2+1+2+2 meshed; aks-prod: 8 ingress + 2 egress gateway + 3+2+3+2; istio-lab: 2+1+2+2.
    expect(proxies).toBe(2 + 7 + 10 + 10 + 7);
  });

  it('serves the HTTP paths: direct without auth, through the pod proxy with the token; nothing for pods without a sidecar', async () => {
    clock.advance(2_000);
    const [pod] = podsOf('aks-dev', 'payments', 'payments-api');
    const direct = await fetch(`${server.url}/clusters/aks-dev/proxies/payments/${pod}/stats/prometheus`);
    expect(direct.status).toBe(200);
    expect(direct.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await direct.text();
    expect(parseExposition(text).samples.length).toBeGreaterThan(100);

    const viaApi = `${server.clusterUrl('aks-dev')}/api/v1/namespaces/payments/pods/${pod}:15020/proxy/stats/prometheus`;
    expect((await fetch(viaApi)).status).toBe(401);
    const authed = await fetch(viaApi, { headers: { Authorization: `Bearer ${demoToken('aks-dev')}` } });
    expect(authed.status).toBe(200);
    expect(await authed.text()).toBe(text); // same clock time, same values

    const [legacy] = podsOf('aks-dev', 'legacy', 'legacy-billing');
    expect((await fetch(`${server.url}/clusters/aks-dev/proxies/legacy/${legacy}/stats/prometheus`)).status).toBe(404);
    expect(server.traffic.scrape('aks-dev', 'legacy', legacy)).toBeUndefined();
    expect((await fetch(`${server.url}/clusters/aks-dev/proxies/payments/nope/stats/prometheus`)).status).toBe(404);
    expect((await fetch(`${server.url}/clusters/nope/proxies/payments/${pod}/stats/prometheus`)).status).toBe(404);
  });

  it('lists every proxy as Prometheus HTTP SD targets', async () => {
    const res = await fetch(`${server.url}/_sandbox/prometheus/targets?cluster=aks-dev`);
    const groups = await res.json();
    expect(groups).toHaveLength(9);
    const host = new URL(server.url).host;
    for (const g of groups) {
      expect(g.targets).toEqual([host]);
      expect(g.labels.__metrics_path__).toBe(`/clusters/aks-dev/proxies/${g.labels.namespace}/${g.labels.pod}/stats/prometheus`);
      expect(g.labels.cluster).toBe('aks-dev');
    }
    expect(groups.map((g: any) => g.labels.namespace)).not.toContain('legacy');
    expect(await (await fetch(`${server.url}/_sandbox/prometheus/targets`)).json()).toHaveLength(36);
  });

  it('the parser rejects malformed text', () => {
    expect(() => parseExposition('# TYPE a counter\na{b="1"} x\n')).toThrow(ExpositionParseError);
    expect(() => parseExposition('a{b="1",b="2"} 1\n')).toThrow(/duplicate label/);
    expect(() => parseExposition('a{b="1"} 1\nc 1\na{b="2"} 1\n')).toThrow(/not contiguous/);
    expect(() => parseExposition('a 1\n# TYPE a counter\n')).toThrow(/after its samples/);
    expect(() => parseExposition('a{b="1} 1\n')).toThrow(ExpositionParseError);
    expect(parseExposition('# TYPE h histogram\nh_bucket{le="+Inf",x="a\\"b\\\\c\\n"} 3\nh_sum 2.5e3\nh_count 3 1700000000000\n').samples).toEqual([
      { name: 'h_bucket', labels: { le: '+Inf', x: 'a"b\\c\n' }, value: 3 },
      { name: 'h_sum', labels: {}, value: 2500 },
      { name: 'h_count', labels: {}, value: 3 },
    ]);
  });
});

describe('traffic along the graph', () => {
  it('counts exactly rate × elapsed seconds, split over the pods, on both reporters', () => {
    clock.advance(10_000);
    // aks-dev's payments-api receives checkout's 2/s and legacy-billing's 0.5/s.
    expect(apiDest()).toBeCloseTo(25, 9);
    expect(apiDest({ source_workload: 'checkout', connection_security_policy: 'mutual_tls' })).toBeCloseTo(20, 9);
    expect(apiDest({ source_workload: 'unknown', connection_security_policy: 'none' })).toBeCloseTo(5, 9);
    expect(apiDest({ response_code: '~5..' }) / apiDest()).toBeCloseTo(0.005, 12);
    // checkout's proxies report the same 2/s as callers; legacy-billing has no proxy to report.
    expect(workloadSum('aks-dev', 'storefront', 'checkout', 'istio_requests_total', { reporter: 'source', destination_workload: 'payments-api' })).toBeCloseTo(20, 9);
    // Every pod gets its share (2 pods each).
    for (const pod of podsOf('aks-dev', 'payments', 'payments-api')) {
      expect(sum(scrape('aks-dev', 'payments', pod), 'istio_requests_total', { reporter: 'destination' })).toBeCloseTo(12.5, 9);
    }
    // The gateway → cart edge, and no gateway in istio-lab.
    expect(workloadSum('aks-prod', 'storefront', 'cart', 'istio_requests_total', { reporter: 'destination' })).toBeCloseTo(120, 9);
    expect(workloadSum('aks-prod', 'storefront', 'cart', 'istio_requests_total', { reporter: 'destination', source_workload: 'aks-istio-ingressgateway-external-asm-1-30' })).toBeCloseTo(60, 9);
    expect(workloadSum('istio-lab', 'storefront', 'cart', 'istio_requests_total', { reporter: 'destination' })).toBe(0);
    expect(workloadSum('istio-lab', 'payments', 'payments-worker', 'istio_requests_total', { reporter: 'destination', source_workload: 'payments-api' })).toBeCloseTo(20, 9);
  });

  it('fills the latency histogram from the log-normal distribution (destination exact, caller + 1 ms)', () => {
    clock.advance(100_000);
    const d = { median: 30, sigma: 0.5 };
    const filter = { reporter: 'destination', source_workload: 'checkout' };
    const count = workloadSum('aks-dev', 'payments', 'payments-api', 'istio_request_duration_milliseconds_count', filter);
    expect(count).toBeCloseTo(200, 9);
    expect(workloadSum('aks-dev', 'payments', 'payments-api', 'istio_request_duration_milliseconds_sum', filter) / count).toBeCloseTo(mean(d), 9);
    expect(workloadSum('aks-dev', 'payments', 'payments-api', 'istio_request_duration_milliseconds_bucket', { ...filter, le: '25' }) / count).toBeCloseTo(cdf(d, 25), 9);
    const callers = workloadSum('aks-dev', 'storefront', 'checkout', 'istio_request_duration_milliseconds_sum', { reporter: 'source', destination_workload: 'payments-api' });
    expect(callers / 200).toBeCloseTo(mean(d) + SOURCE_OVERHEAD_MS, 9);
    // What histogram_quantile(0.5, …) will say: inside the 25–50 bucket.
    expect(histogramQuantile(0.5, d)).toBeGreaterThan(25);
    expect(histogramQuantile(0.5, d)).toBeLessThan(50);
  });

  it('reports TCP to the external database from the caller only, closed connections lagging opened ones', () => {
    clock.advance(60_000);
    const [worker] = podsOf('aks-dev', 'payments', 'payments-worker');
    const samples = scrape('aks-dev', 'payments', worker);
    const tcp = { reporter: 'source', destination_service: 'payments-db.postgres.database.azure.com', request_protocol: 'tcp' };
    expect(sum(samples, 'istio_tcp_connections_opened_total', tcp)).toBeCloseTo(12, 9); // 0.2/s × 60 s
    expect(sum(samples, 'istio_tcp_connections_closed_total', tcp)).toBeCloseTo(8, 9); // 20 s later
    expect(sum(samples, 'istio_tcp_received_bytes_total', tcp)).toBeCloseTo(2048 * 60, 6);
    expect(sum(samples, 'istio_tcp_sent_bytes_total', tcp)).toBeCloseTo(8192 * 60, 6);
    expect(samples.find(s => s.name === 'istio_tcp_sent_bytes_total')!.labels).not.toHaveProperty('response_code');
  });

  it('answers 503 UH from the callers when a destination has no Ready pod', () => {
    server.traffic.setGraph('aks-dev', [{ from: { namespace: 'storefront', app: 'checkout' }, to: { namespace: 'payments', app: 'nothing-here' }, requestsPerSecond: 3 }]);
    clock.advance(10_000);
    const calls = workloadSum('aks-dev', 'storefront', 'checkout', 'istio_requests_total', { reporter: 'source', destination_service: 'nothing-here.payments.svc.cluster.local' });
    const uh = workloadSum('aks-dev', 'storefront', 'checkout', 'istio_requests_total', { response_code: '503', response_flags: 'UH', destination_workload: 'unknown' });
    expect(calls).toBeCloseTo(30, 9);
    expect(uh).toBeCloseTo(30, 9);
    expect(server.traffic.flows('aks-dev')[0]).toMatchObject({ errorRatio: 1, destination: { pods: 0, sidecar: false } });
  });
});

describe('spikes', () => {
  it('change error ratio, latency and rate from the moment they are set; counters go on from where they were', async () => {
    clock.advance(10_000);
    const before = { total: apiDest(), errors: apiDest({ response_code: '~5..' }) };
    const res = await fetch(`${server.url}/_sandbox/traffic`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ cluster: 'aks-dev', namespace: 'payments', workload: 'payments-api', errorRatio: 0.2, errorCode: 503, latencyMultiplier: 3, latencyOffsetMs: 100, requestsPerSecond: 10 }),
    });
    expect(res.status).toBe(201);
    const { spikes } = await res.json();
    expect(spikes).toEqual([expect.objectContaining({ id: 'spike-1', workload: 'payments-api', since: '2026-11-25T10:00:10.000Z' })]);
    expect(apiDest()).toBeCloseTo(before.total, 9);

    const latencyBefore = workloadSum('aks-dev', 'payments', 'payments-api', 'istio_request_duration_milliseconds_sum', { reporter: 'destination' });
    clock.advance(10_000);
    expect(apiDest() - before.total).toBeCloseTo(100, 9); // 10/s
    expect(apiDest({ response_code: '~5..' }) - before.errors).toBeCloseTo(20, 9);
    expect(apiDest({ response_code: '500' })).toBeCloseTo(before.errors * 0.6, 9); // errors now all 503
    // Shared by the callers as their base rates (2 : 0.5).
    expect(apiDest({ source_workload: 'checkout' })).toBeCloseTo(20 + 80, 9);
    const latencyAfter = workloadSum('aks-dev', 'payments', 'payments-api', 'istio_request_duration_milliseconds_sum', { reporter: 'destination' });
    expect((latencyAfter - latencyBefore) / 100).toBeCloseTo(3 * mean({ median: 30, sigma: 0.5 }) + 100, 6);
    // Other clusters and workloads are untouched.
    const flows = server.traffic.flows();
    expect(flows.filter(f => f.cluster === 'aks-prod' && f.destination.workload === 'payments-api').map(f => f.requestsPerSecond)).toEqual([2]);
    expect(flows.filter(f => f.cluster === 'aks-dev' && f.destination.workload === 'payments-worker').map(f => f.errorRatio)).toEqual([0.005]);

    const listed = await (await fetch(`${server.url}/_sandbox/traffic?cluster=aks-dev`)).json();
    expect(listed.spikes).toHaveLength(1);
    expect(listed.flows.filter((f: any) => f.destination.workload === 'payments-api').reduce((a: number, f: any) => a + f.requestsPerSecond, 0)).toBeCloseTo(10, 9);
    expect((await fetch(`${server.url}/_sandbox/traffic/spike-1`, { method: 'DELETE' })).status).toBe(200);
    const afterSpike = apiDest();
    clock.advance(10_000);
    expect(apiDest() - afterSpike).toBeCloseTo(25, 9);
    expect(server.traffic.listSpikes()).toEqual([]);
  });

  it('rejects invalid spikes with 400 and unknown ids with 404', async () => {
    const post = (body: unknown) => fetch(`${server.url}/_sandbox/traffic`, { method: 'POST', body: JSON.stringify(body) });
    expect((await post({ workload: 'payments-api', errorRatio: 2 })).status).toBe(400);
    expect((await post({ workload: 'payments-api' })).status).toBe(400);
    expect((await post({ workload: 'payments-api', rateMultiplier: 2, requestsPerSecond: 3 })).status).toBe(400);
    expect((await post({ workload: 'payments-api', bogus: 1, errorRatio: 0.1 })).status).toBe(400);
    expect((await post({ spikes: [{ workload: 'a', errorRatio: 0.1 }, { workload: 'b' }] })).status).toBe(400);
    expect(server.traffic.listSpikes()).toEqual([]); // all or none
    expect((await fetch(`${server.url}/_sandbox/traffic/spike-9`)).status).toBe(404);
    expect((await fetch(`${server.url}/_sandbox/traffic`, { method: 'PUT' })).status).toBe(405);
    const ok = await post({ spikes: [{ workload: 'cart', rateMultiplier: 2 }, { workload: 'checkout', latencyOffsetMs: 5 }] });
    expect(ok.status).toBe(201);
    expect(await (await fetch(`${server.url}/_sandbox/traffic`, { method: 'DELETE' })).json()).toEqual({ removed: 2 });
  });
});

describe('counters over time', () => {
  it('never decrease, through spikes, scaling and rollouts', async () => {
    const seen = new Map<string, number>();
    const check = () => {
      for (const name of ['aks-dev', 'aks-prod']) {
        for (const pod of server.clusters.get(name)!.store.scan(POD)) {
          const text = server.traffic.scrape(name, pod.metadata.namespace, pod.metadata.name);
          if (!text) continue;
          // (the format itself is checked above; split lines cheaply here)
          for (const line of text.split('\n')) {
            if (!line || line.startsWith('#')) continue;
            const at = line.lastIndexOf(' ');
            const k = `${name}/${pod.metadata.uid}/${line.slice(0, at)}`;
            const value = Number(line.slice(at + 1));
            if (value < (seen.get(k) ?? 0)) throw new Error(`${k} went from ${seen.get(k)} down to ${value}`);
            seen.set(k, value);
          }
        }
      }
    };
    const patch = (cluster: string, path: string, body: unknown) =>
      fetch(`${server.clusterUrl(cluster)}${path}`, {
        method: 'PATCH',
        headers: { Authorization: `Bearer ${demoToken(cluster)}`, 'Content-Type': 'application/merge-patch+json' },
        body: JSON.stringify(body),
      });
    check();
    for (let i = 0; i < 2; i++) {
      clock.advance(1_000);
      check();
    }
    server.traffic.addSpike({ workload: 'payments-api', errorRatio: 0.5, latencyMultiplier: 10 });
    check();
    expect((await patch('aks-dev', '/apis/apps/v1/namespaces/payments/deployments/payments-api', { spec: { replicas: 4 } })).status).toBe(200);
    expect((await patch('aks-prod', '/apis/apps/v1/namespaces/storefront/deployments/checkout', { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-25T10:00:05Z' } } } } })).status).toBe(200);
    for (let i = 0; i < 8; i++) {
      clock.advance(1_000);
      check();
    }
    server.traffic.clearSpikes();
    clock.advance(5_000);
    check();
    // Scaled to 4: each payments-api pod of aks-dev now gets a quarter.
    const flows = server.traffic.flows('aks-dev').filter(f => f.destination.workload === 'payments-api');
    expect(flows.map(f => f.destination.pods)).toEqual([4, 4]);
    // aks-prod's checkout was replaced: 3 new pods, none of the old ones.
    const checkout = server.traffic.flows('aks-prod').find(f => f.source.workload === 'checkout')!;
    expect(checkout.source.pods).toBe(3);
    expect(seen.size).toBeGreaterThan(10_000);
  }, 30_000);

  it('a new pod starts at zero and the deleted one is gone, as a new Envoy', async () => {
    clock.advance(10_000);
    const [old, other] = podsOf('aks-dev', 'payments', 'payments-api');
    const res = await fetch(`${server.clusterUrl('aks-dev')}/api/v1/namespaces/payments/pods/${old}`, { method: 'DELETE', headers: { Authorization: `Bearer ${demoToken('aks-dev')}` } });
    expect(res.status).toBe(200);
    expect(server.traffic.scrape('aks-dev', 'payments', old)).toBeUndefined();
    const otherBefore = sum(scrape('aks-dev', 'payments', other), 'istio_requests_total', { reporter: 'destination' });
    // The ReplicaSet's replacement is Running one step later; until then the other pod takes it all.
    clock.advance(1_000);
    const replacement = podsOf('aks-dev', 'payments', 'payments-api').find(p => p !== other)!;
    expect(replacement).toBeDefined();
    expect(sum(scrape('aks-dev', 'payments', replacement), 'istio_requests_total')).toBe(0);
    expect(sum(scrape('aks-dev', 'payments', other), 'istio_requests_total', { reporter: 'destination' }) - otherBefore).toBeCloseTo(2.5, 9);
    clock.advance(4_000);
    expect(sum(scrape('aks-dev', 'payments', replacement), 'istio_requests_total', { reporter: 'destination' })).toBeCloseTo(5, 9);
    expect(sum(scrape('aks-dev', 'payments', other), 'istio_requests_total', { reporter: 'destination' }) - otherBefore).toBeCloseTo(2.5 + 5, 9);
  });
});

describe('TrafficSimulator', () => {
  it('takes a graph per cluster and spikes from the start', async () => {
    await server.close();
    const edges: TrafficEdge[] = [{ from: { namespace: 'storefront', app: 'cart' }, to: { namespace: 'storefront', app: 'checkout' }, requestsPerSecond: 1 }];
    server = await startSandboxServer({
      clusters: createDemoFleet({ clock, stepMs: 1000 }),
      port: 0,
      telemetry: { graph: name => (name === 'aks-prod' ? edges : undefined), spikes: [{ workload: 'checkout', rateMultiplier: 3 }] },
    });
    expect(server.traffic.flows().map(f => [f.cluster, f.requestsPerSecond])).toEqual([['aks-prod', 3]]);
    expect(server.traffic.listSpikes()).toHaveLength(1);
  });

  it('checks graphs', () => {
    const sim = new TrafficSimulator(new Map());
    expect(() => sim.setGraph('nope', DEMO_TRAFFIC_GRAPH)).toThrow(/no cluster/);
    expect(() => server.traffic.setGraph('aks-dev', [{ from: { namespace: 'a', app: 'b' }, to: { namespace: 'c', app: 'd' }, requestsPerSecond: -1 }])).toThrow(/non-negative/);
  });
});
