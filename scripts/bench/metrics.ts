/* eslint-disable no-console */
/**
 * Figures (never a pass/fail test) for the overview's golden-signal columns over the demo
 * fleet: how long `MetricsService.addOverviewSignals` takes (one instant query per signal
 * per cluster, the clusters in parallel), and each of its queries alone. See
 * docs/benchmarks.md ("Golden signals").
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs scripts/bench/metrics.ts
 *
 * The demo fleet's sandbox runs in this process on a random port; a real Prometheus
 * (Debian's, as in the tests) scrapes its proxies every 5 s as the demo's does. The bench
 * waits for BENCH_METRICS_WARMUP_SECONDS (60) of samples, then takes BENCH_METRICS_REPEATS
 * (50) samples of the overview's signals for one row per workload that receives requests,
 * uncached (every sample asks Prometheus) and then from the 15 s per-replica cache.
 * Results: .cache/bench/metrics-<timestamp>.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createDemoFleet, startSandboxServer } from '@mesh-portal/mesh-sandbox';
import { DESTINATION_WORKLOAD, OverviewResponse, OverviewRow, goldenSignalQueries } from '@mesh-portal/plugin-istio-mesh-common';
import { ConfigReader } from '@backstage/config';
import { MetricsService } from '../../plugins/istio-mesh-backend/src/metrics/MetricsService';
import { PrometheusMetricsProvider } from '../../plugins/istio-mesh-backend/src/metrics/PrometheusMetricsProvider';
import { PROMETHEUS_AVAILABLE, PROMETHEUS_BIN, promQuery, startPrometheus } from '../../plugins/istio-mesh-backend/src/metrics/testing/prometheus';
import { median, quantile } from './stats';

const REPEATS = Number(process.env.BENCH_METRICS_REPEATS ?? 50);
const WARMUP = Number(process.env.BENCH_METRICS_WARMUP_SECONDS ?? 60);
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

function stats(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  return { n: ms.length, medianMs: Number(median(ms).toFixed(2)), p95Ms: Number(quantile(sorted, 0.95).toFixed(2)), maxMs: Number(sorted[sorted.length - 1].toFixed(2)) };
}

async function main() {
  if (!PROMETHEUS_AVAILABLE) {
    console.error(`${PROMETHEUS_BIN} is missing (apt-get install -y prometheus)`);
    process.exit(1);
  }
  const sandbox = await startSandboxServer({ clusters: createDemoFleet(), port: 0 });
  const prom = await startPrometheus({
    scrapeIntervalSeconds: 5,
    scrapeConfigs: ['  - job_name: mesh-sandbox', '    http_sd_configs:', `      - url: ${sandbox.url}/_sandbox/prometheus/targets`, '        refresh_interval: 10s'].join('\n'),
  });
  try {
    const clusters = [...sandbox.clusters.keys()].sort();
    console.log(`sandbox ${sandbox.url} (${clusters.join(', ')}), Prometheus ${prom.url}; warming up ${WARMUP} s`);
    await sleep(WARMUP * 1000);
    const [series] = await promQuery(prom.url, 'count({__name__=~"istio_.*"})');
    const [targets] = await promQuery(prom.url, 'count(up == 1)');
    const rows: OverviewRow[] = clusters.flatMap(cluster => {
      const workloads = new Map<string, { namespace: string; workload: string }>();
      for (const f of sandbox.traffic.flows(cluster)) {
        if (f.destination.workload && f.destination.namespace) workloads.set(`${f.destination.namespace}/${f.destination.workload}`, f.destination as { namespace: string; workload: string });
      }
      return [...workloads.values()].map(w => ({
        entityRef: `component:default/${w.workload}`,
        kind: 'Component',
        namespace: 'default',
        name: w.workload,
        cluster,
        provider: 'aks' as const,
        kubernetesNamespace: w.namespace,
        sidecarRevisions: [],
        workloads: [w.workload],
        pods: 1,
        driftedPods: 0,
        phase: 'Stable' as const,
      }));
    });
    const provider = PrometheusMetricsProvider.fromConfig(
      new ConfigReader({ istioMesh: { metrics: { clusters: clusters.map(name => ({ name, prometheus: { url: prom.url } })) } } }),
    )!;
    // Uncached: every sample asks Prometheus (the cost of a cold read, and of every read with overviewCacheSeconds: 0).
    const service = new MetricsService({ providers: [provider], settings: { overviewCacheSeconds: 0 } });
    const cachedService = new MetricsService({ providers: [provider] });
    const overview: OverviewResponse = { rows, clusters: [], errors: [] };

    // Warm the connection and Prometheus' caches once, then sample.
    await service.addOverviewSignals(overview);
    const overviewMs: number[] = [];
    let withSignals = 0;
    for (let i = 0; i < REPEATS; i++) {
      const t0 = performance.now();
      const result = await service.addOverviewSignals(overview);
      overviewMs.push(performance.now() - t0);
      withSignals = result.rows.filter(r => r.signals?.requestsPerSecond !== null && r.signals !== undefined).length;
    }
    await cachedService.addOverviewSignals(overview);
    const cachedMs: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const t0 = performance.now();
      await cachedService.addOverviewSignals(overview);
      cachedMs.push(performance.now() - t0);
    }
    const queries = goldenSignalQueries({ matchers: provider.clusterMatchers('aks-prod'), rateIntervalSeconds: 300, by: DESTINATION_WORKLOAD });
    const perQuery: Record<string, ReturnType<typeof stats>> = {};
    for (const [signal, promql] of Object.entries(queries)) {
      const ms: number[] = [];
      for (let i = 0; i < REPEATS; i++) {
        const t0 = performance.now();
        await provider.query('aks-prod', promql, { time: Math.floor(Date.now() / 1000) });
        ms.push(performance.now() - t0);
      }
      perQuery[signal] = stats(ms);
    }
    const result = {
      at: new Date().toISOString(),
      clusters: clusters.length,
      rows: rows.length,
      rowsWithSignals: withSignals,
      queriesPerOverview: 5 * clusters.length,
      prometheusTargets: Number(targets?.value[1] ?? 0),
      istioSeries: Number(series?.value[1] ?? 0),
      overviewSignals: stats(overviewMs),
      overviewSignalsCached: stats(cachedMs),
      perQueryAksProd: perQuery,
    };
    console.log(JSON.stringify(result, null, 2));
    const out = path.join('.cache', 'bench', `metrics-${result.at.replace(/[:.]/g, '-')}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(result, null, 2));
    console.log(`written to ${out}`);
  } finally {
    await prom.stop();
    await sandbox.close();
  }
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
