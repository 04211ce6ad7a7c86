/* eslint-disable no-console */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createDemoFleet } from '../fleet';
import { SandboxServer, startSandboxServer } from '../server';
import { histogramQuantile } from './distributions';
import { DEMO_TRAFFIC_GRAPH, isExternal } from './graph';

/**
 * The simulated telemetry scraped by a real Prometheus (the Debian package, 2.42+): the
 * demo fleet on a random port, Prometheus discovering every proxy through the sandbox's
 * HTTP service discovery and scraping each second, then PromQL through /api/v1/query.
 *
 * Without /usr/bin/prometheus (`PROMETHEUS_BIN` overrides) the suite is skipped, unless
 * CI=true: then it fails (scripts/system-deps.sh installs the package).
 *
 * Tolerances. Counters are linear in time between changes, so:
 * - ratios of series scraped together (5xx over all, histogram buckets) are exact: every
 *   pod's 5xx and total counters come from the same scrape, computed at the same instant,
 *   so `irate()` and `rate()` scale them alike; only float rounding remains (1e-9);
 * - a rate from `irate()` (the last two samples, no extrapolation) is off only by the
 *   jitter between Prometheus' scrape timestamp and the instant the sandbox computes the
 *   values, a few ms against a 1 s interval: 5% covers 50 ms of jitter on a busy machine;
 * - `rate()` extrapolates to the window's ends (by up to 1.1 scrape intervals, or half of
 *   one when the gap is larger): once the samples cover the window it is checked with 15%.
 */

const PROMETHEUS = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
const PROMTOOL = path.join(path.dirname(PROMETHEUS), 'promtool');
const AVAILABLE = existsSync(PROMETHEUS);
const CI = process.env.CI === 'true';

const CLUSTER = 'aks-prod';
const API = `cluster="${CLUSTER}",reporter="destination",destination_workload="payments-api",destination_workload_namespace="payments"`;

let server: SandboxServer;
let prometheus: ChildProcess | undefined;
let promUrl: string;
let workDir: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}\n${prometheusLog()}`);
    await sleep(200);
  }
}

function prometheusLog(): string {
  try {
    return `--- prometheus log (tail) ---\n${readFileSync(path.join(workDir, 'prometheus.log'), 'utf8').split('\n').slice(-20).join('\n')}`;
  } catch {
    return '';
  }
}

/** /api/v1/query; returns the result vector or matrix. */
async function query(promql: string, time?: number): Promise<any[]> {
  const params = new URLSearchParams({ query: promql, ...(time !== undefined ? { time: String(time) } : {}) });
  const res = await fetch(`${promUrl}/api/v1/query?${params}`);
  const body = await res.json();
  if (body.status !== 'success') throw new Error(`${promql}: ${body.error ?? res.status}`);
  return body.data.result;
}

/** A query that returns one sample, as a number. */
async function scalar(promql: string): Promise<number> {
  const result = await query(promql);
  if (result.length !== 1) throw new Error(`${promql}: ${result.length} series`);
  return Number(result[0].value[1]);
}

function stopPrometheus() {
  if (prometheus && prometheus.exitCode === null && prometheus.pid) {
    prometheus.kill('SIGTERM');
    const pid = prometheus.pid;
    setTimeout(() => {
      try {
        process.kill(pid, 0);
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, 3000).unref();
  }
}

if (!AVAILABLE) {
  const message = `${PROMETHEUS} is missing: install the Debian package prometheus (scripts/system-deps.sh, or apt-get install -y prometheus)`;
  if (CI) {
    // eslint-disable-next-line jest/expect-expect
    it('runs against a real Prometheus', () => {
      throw new Error(`${message}; CI=true does not skip this suite`);
    });
  } else {
    console.warn(`Skipping the Prometheus test: ${message}.`);
    // eslint-disable-next-line jest/no-disabled-tests, jest/expect-expect
    it.skip(`runs against a real Prometheus (skipped: ${message})`, () => {});
  }
} else {
  describe('the simulated Istio telemetry in a real Prometheus', () => {
    let targets: any[];

    beforeAll(async () => {
      server = await startSandboxServer({ clusters: createDemoFleet(), port: 0 });
      workDir = mkdtempSync(path.join(os.tmpdir(), 'mesh-sandbox-prometheus-'));
      // Kill it even if jest tears the worker down without afterAll.
      process.once('exit', () => prometheus?.kill('SIGKILL'));
      targets = await (await fetch(`${server.url}/_sandbox/prometheus/targets`)).json();
      const port = await freePort();
      promUrl = `http://127.0.0.1:${port}`;
      writeFileSync(
        path.join(workDir, 'prometheus.yml'),
        [
          'global:',
          '  scrape_interval: 1s',
          '  scrape_timeout: 1s',
          '  evaluation_interval: 1s',
          'scrape_configs:',
          '  - job_name: mesh-sandbox',
          '    http_sd_configs:',
          `      - url: ${server.url}/_sandbox/prometheus/targets`,
          '        refresh_interval: 5s',
          '',
        ].join('\n'),
      );
      prometheus = spawn(
        PROMETHEUS,
        [
          `--config.file=${path.join(workDir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${path.join(workDir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--web.enable-lifecycle',
          '--log.level=info',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      const log: string[] = [];
      prometheus.stderr!.on('data', (c: Buffer) => {
        log.push(c.toString());
        writeFileSync(path.join(workDir, 'prometheus.log'), log.join(''));
      });
      await waitFor('Prometheus to be ready', async () => ((await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok ? true : undefined), 20_000);
      // Every proxy scraped at least 3 times, all up.
      await waitFor(
        'three scrapes of every proxy',
        async () => {
          const result = await query('count_over_time(up{job="mesh-sandbox"}[1m]) >= 3');
          const down = await query('up{job="mesh-sandbox"} == 0');
          if (down.length) throw new Error(`targets down: ${down.map(d => d.metric.pod).join(', ')}`);
          return result.length === targets.length ? true : undefined;
        },
        25_000,
      );
    }, 60_000);

    afterAll(async () => {
      stopPrometheus();
      await server?.close();
      if (prometheus && prometheus.exitCode === null) await new Promise(r => prometheus!.once('exit', r));
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    }, 15_000);

    it('scrapes every proxy of the demo fleet, found through HTTP service discovery', async () => {
      // 24 sidecars, 10 ingress and 2 egress gateway pods
      expect(targets).toHaveLength(36);
      expect(await scalar('count(up{job="mesh-sandbox"} == 1)')).toBe(36);
      // The target labels from the discovery, and a proxy's own labels.
      expect(await scalar(`count(count by (pod) (istio_build{cluster="${CLUSTER}",namespace="payments"}))`)).toBe(5);
      const rate = await scalar('sum(rate(istio_requests_total[1m]))');
      console.log(`sum(rate(istio_requests_total[1m])) = ${rate}`);
      expect(rate).toBeGreaterThan(0);
    });

    it('has the configured request rate and 5xx ratio of payments-api, then the spike', async () => {
      // Configured: the demo graph's edges into payments/payments-api whose callers run in
      // aks-prod (checkout only: legacy-billing is aks-dev's).
      const configured = DEMO_TRAFFIC_GRAPH.filter(e => !isExternal(e.to) && e.to.namespace === 'payments' && e.to.app === 'payments-api' && e.from.app === 'checkout');
      const flows = server.traffic.flows(CLUSTER).filter(f => f.destination.workload === 'payments-api');
      const expectedRate = flows.reduce((a, f) => a + f.requestsPerSecond, 0);
      expect(flows.map(f => f.source.workload)).toEqual(['checkout']);
      expect(configured.map(e => (e.protocol === 'tcp' ? 0 : e.requestsPerSecond))).toEqual([expectedRate]);
      expect(expectedRate).toBe(2);

      const irate = await scalar(`sum(irate(istio_requests_total{${API}}[10s]))`);
      const ratio = await scalar(`sum(irate(istio_requests_total{${API},response_code=~"5.."}[10s])) / sum(irate(istio_requests_total{${API}}[10s]))`);
      const ratioRate = await scalar(`sum(rate(istio_requests_total{${API},response_code=~"5.."}[1m])) / sum(rate(istio_requests_total{${API}}[1m]))`);
      const callers = await scalar(`sum(irate(istio_requests_total{cluster="${CLUSTER}",reporter="source",source_workload="checkout",destination_workload="payments-api"}[10s]))`);
      console.log(`payments-api (${CLUSTER}): irate ${irate}/s, callers' irate ${callers}/s (configured ${expectedRate}); 5xx ratio ${ratio} (irate), ${ratioRate} (rate[1m]) (configured 0.005)`);
      expect(Math.abs(irate / expectedRate - 1)).toBeLessThan(0.05);
      expect(Math.abs(callers / expectedRate - 1)).toBeLessThan(0.05);
      expect(ratio).toBeCloseTo(0.005, 9);
      expect(ratioRate).toBeCloseTo(0.005, 9);
      const p50 = await scalar(`histogram_quantile(0.5, sum by (le) (irate(istio_request_duration_milliseconds_bucket{${API}}[10s])))`);
      expect(p50).toBeCloseTo(histogramQuantile(0.5, { median: 30, sigma: 0.5 }), 6);

      // The spike, over the admin API: 20% errors, latencies × 4.
      const res = await fetch(`${server.url}/_sandbox/traffic`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ cluster: CLUSTER, namespace: 'payments', workload: 'payments-api', errorRatio: 0.2, latencyMultiplier: 4 }),
      });
      expect(res.status).toBe(201);
      const since = Date.parse((await res.json()).spikes[0].since) / 1000;
      // Wait until every payments-api series has two samples scraped after the spike (a
      // sample's timestamp is when its scrape started, before the sandbox computed it).
      await waitFor(
        'two scrapes after the spike',
        async () => {
          const series = await query(`istio_requests_total{${API},response_code="200"}[5s]`);
          return series.length === 3 && series.every(s => s.values.filter(([t]: [number]) => t > since).length >= 2) ? true : undefined;
        },
        10_000,
      );
      const spiked = await scalar(`sum(irate(istio_requests_total{${API},response_code=~"5.."}[10s])) / sum(irate(istio_requests_total{${API}}[10s]))`);
      const spikedRate = await scalar(`sum(irate(istio_requests_total{${API}}[10s]))`);
      const spikedP50 = await scalar(`histogram_quantile(0.5, sum by (le) (irate(istio_request_duration_milliseconds_bucket{${API}}[10s])))`);
      console.log(`after the spike: 5xx ratio ${spiked} (set 0.2), rate ${spikedRate}/s, p50 ${spikedP50} ms (before ${p50} ms)`);
      expect(spiked).toBeCloseTo(0.2, 9);
      expect(Math.abs(spikedRate / expectedRate - 1)).toBeLessThan(0.05);
      expect(spikedP50).toBeCloseTo(histogramQuantile(0.5, { median: 30, sigma: 0.5, multiplier: 4 }), 6);
      // Other workloads keep the baseline.
      const worker = await scalar(
        `sum(irate(istio_requests_total{cluster="${CLUSTER}",reporter="destination",destination_workload="payments-worker",response_code=~"5.."}[10s])) / sum(irate(istio_requests_total{cluster="${CLUSTER}",reporter="destination",destination_workload="payments-worker"}[10s]))`,
      );
      expect(worker).toBeCloseTo(0.005, 9);
      // Counters never went down (no resets seen by Prometheus).
      expect(await query(`resets(istio_requests_total{cluster="${CLUSTER}"}[1m]) > 0`)).toEqual([]);

      // rate() as a backend would query it, once the samples cover its window (rate()
      // extrapolates to the window's ends; with a window longer than the data it reads low).
      await waitFor('5 s of samples', async () => ((await scalar(`min(count_over_time(istio_requests_total{${API}}[1m]))`)) >= 6 ? true : undefined), 10_000);
      const rate4s = await scalar(`sum(rate(istio_requests_total{${API}}[4s]))`);
      console.log(`rate[4s] ${rate4s}/s (configured ${expectedRate})`);
      expect(Math.abs(rate4s / expectedRate - 1)).toBeLessThan(0.15);
    }, 30_000);

    it('serves text that promtool accepts (its only remark is Istio\'s own unit, milliseconds)', () => {
      if (!existsSync(PROMTOOL)) {
        console.warn(`${PROMTOOL} is missing; skipping the promtool check`);
        return;
      }
      const pod = targets.find(t => t.labels.cluster === CLUSTER && t.labels.pod.startsWith('payments-api'))!.labels;
      const text = server.traffic.scrape(CLUSTER, pod.namespace, pod.pod)!;
      const out = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      const remarks = `${out.stdout}${out.stderr}`.split('\n').filter(Boolean);
      // Exit 3 is "lint problems", 1 a parse error.
      expect([0, 3]).toContain(out.status);
      expect(remarks.filter(r => !/use base unit "seconds" instead of "milliseconds"/.test(r))).toEqual([]);
    });
  });
}
