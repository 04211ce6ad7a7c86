/* eslint-disable no-console */
/**
 * Builds the scale fleet, serves it, and prints how long that took and the memory it
 * holds. Run from packages/mesh-sandbox:
 *
 *   node --expose-gc --require @backstage/cli/config/nodeTransform.cjs scripts/scale-fleet-bench.ts
 *
 * Options (env): SCALE_CLUSTERS (20), SCALE_NAMESPACES (200), SCALE_PODS (2000),
 * SCALE_CONTROLLERS=0 to serve without the workload controllers.
 */
import { createScaleFleet } from '../src/scaleFleet';
import { startSandboxServer } from '../src/server';
import { demoToken } from '../src/fleet';

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
const gc = (globalThis as { gc?: () => void }).gc;

function memory(label: string) {
  gc?.();
  const m = process.memoryUsage();
  console.log(`${label.padEnd(22)} rss ${mb(m.rss).padStart(7)}  heapUsed ${mb(m.heapUsed).padStart(7)}  heapTotal ${mb(m.heapTotal).padStart(7)}  external ${mb(m.external).padStart(6)}`);
}

async function main() {
  const options = {
    clusters: Number(process.env.SCALE_CLUSTERS ?? 20),
    namespacesPerCluster: Number(process.env.SCALE_NAMESPACES ?? 200),
    podsPerCluster: Number(process.env.SCALE_PODS ?? 2000),
  };
  memory('baseline');
  const t0 = performance.now();
  const fleet = createScaleFleet(options);
  const built = performance.now();
  const server = await startSandboxServer({ clusters: fleet.clusters, port: 0, controllers: process.env.SCALE_CONTROLLERS !== '0' });
  const served = performance.now();
  const { totals } = fleet.summary;
  console.log(`fleet: ${options.clusters} clusters × ${options.namespacesPerCluster} namespaces × ${options.podsPerCluster} pods`);
  console.log(`objects ${totals.objects}, deployments ${totals.deployments}, pods ${totals.pods} (+ control planes), injected ${totals.injectedPods}, drifted ${totals.driftedPods}`);
  console.log(`mid-canary: ${fleet.summary.clusters.filter(c => c.revisions.length > 1).map(c => c.name).join(', ')}`);
  console.log(`build ${(built - t0).toFixed(0)} ms, server start ${(served - built).toFixed(0)} ms, total ${(served - t0).toFixed(0)} ms`);
  memory('after start');

  // A first read of every pod of one cluster, as the portal's first page load would do.
  const first = [...fleet.clusters.keys()][0];
  const t1 = performance.now();
  const res = await fetch(`${server.clusterUrl(first)}/api/v1/pods`, { headers: { Authorization: `Bearer ${demoToken(first)}` } });
  const list = await res.json();
  console.log(`GET /api/v1/pods on ${first}: ${list.items.length} pods in ${(performance.now() - t1).toFixed(0)} ms`);
  const t2 = performance.now();
  const arm = await fetch(`${server.url}/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.ContainerService/managedClusters?api-version=2026-06-01`, {
    headers: { Authorization: 'Bearer bench' },
  }).then(r => r.json());
  console.log(`ARM list of managed clusters: ${arm.value.length} in ${(performance.now() - t2).toFixed(0)} ms`);
  memory('after reads');
  await server.close();
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
