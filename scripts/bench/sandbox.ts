/* eslint-disable no-console */
/**
 * The sandbox for `yarn bench`, in its own process (so its memory is not the backend's).
 * Started by bench.ts with an IPC channel; not meant to be run by hand.
 *
 * Environment: BENCH_FLEET (`demo` | `scale`), BENCH_SANDBOX_PORT, BENCH_SANDBOX_HTTPS_PORT
 * (ARM over TLS, for the AKS control-plane provider), BENCH_SANDBOX_CA_FILE (where its
 * certificate goes), BENCH_SCALE_CLUSTERS, BENCH_SCALE_NAMESPACES, BENCH_SCALE_PODS.
 *
 * It counts the Kubernetes API requests it serves (per cluster, resource and page), so
 * the bench can check the backend's own accounting (`snapshotApiRequests`) and count what
 * the Kubernetes plugin's objects endpoint costs. Messages (IPC):
 *   → { type: 'ready', info }          once serving
 *   ← { type: 'counts', id }           → { type: 'counts', id, counts }
 *   ← { type: 'reset', id }            → { type: 'reset', id }
 */
import fs from 'node:fs';
import http from 'node:http';
import {
  createDemoFleet,
  DEMO_RESOURCE_GROUP,
  DEMO_SUBSCRIPTION_ID,
  createScaleFleet,
  RESOURCE_TYPES,
  startSandboxServer,
  type SandboxCluster,
} from '@mesh-portal/mesh-sandbox';
import type { RequestCounts, SandboxInfo } from './types';

const KUBERNETES_ID = 'backstage.io/kubernetes-id';

// Capture the sandbox's http.Server (startSandboxServer does not expose it) to count
// requests with an extra 'request' listener that never answers.
const servers: http.Server[] = [];
const originalCreateServer = http.createServer;
(http as { createServer: typeof http.createServer }).createServer = ((
  ...args: Parameters<typeof http.createServer>
) => {
  const server = originalCreateServer(...args);
  servers.push(server);
  return server;
}) as typeof http.createServer;

function emptyCounts(): RequestCounts {
  return {
    total: 0,
    pages: 0,
    continuations: 0,
    byCluster: {},
    byResource: {},
    other: 0,
    perObject: 0,
  };
}
let counts = emptyCounts();

/**
 * `/clusters/<c>/api/v1/pods`, `/clusters/<c>/api/v1/namespaces/<ns>/pods`,
 * `/clusters/<c>/apis/<g>/<v>/namespaces/<ns>/deployments`, ... → cluster, resource and
 * whether the path names one object (a per-object request).
 */
function classify(
  url: string,
): { cluster: string; resource: string; perObject: boolean } | undefined {
  const path = url.split('?')[0];
  const m = /^\/clusters\/([^/]+)\/(api\/v1|apis\/[^/]+\/[^/]+)(\/.*)?$/.exec(
    path,
  );
  if (!m) return undefined;
  const rest = (m[3] ?? '').split('/').filter(Boolean);
  let segments = rest;
  if (segments[0] === 'namespaces' && segments.length >= 3)
    segments = segments.slice(2);
  const resource = segments[0] ?? '(discovery)';
  const perObject =
    segments.length > 1 || (rest[0] === 'namespaces' && rest.length === 2);
  const group = m[2] === 'api/v1' ? 'core' : m[2].split('/')[1];
  return { cluster: m[1], resource: `${resource}.${group}`, perObject };
}

function count(req: http.IncomingMessage) {
  const url = req.url ?? '';
  if (url.startsWith('/_sandbox')) return;
  const c = classify(url);
  if (!c) {
    counts.other++;
    return;
  }
  counts.total++;
  const cont = /[?&]continue=/.test(url);
  if (cont) counts.continuations++;
  else counts.pages++;
  if (c.perObject) counts.perObject++;
  counts.byCluster[c.cluster] = (counts.byCluster[c.cluster] ?? 0) + 1;
  const r = (counts.byResource[c.resource] ??= {
    requests: 0,
    continuations: 0,
  });
  r.requests++;
  if (cont) r.continuations++;
}

function describe(
  fleetName: string,
  clusters: Map<string, SandboxCluster>,
  server: { url: string; https?: { url: string } },
  caFile: string | undefined,
  buildMs: number,
): SandboxInfo {
  const url = server.url;
  const podType = RESOURCE_TYPES.find(t => t.kind === 'Pod')!;
  const namespaceType = RESOURCE_TYPES.find(t => t.kind === 'Namespace')!;
  // The sandbox's ARM serves every cluster with the add-on's namespace as a managed cluster.
  const aksClusters = [...clusters]
    .filter(([, c]) =>
      [...c.store.scan(namespaceType)].some(
        n => n.metadata?.name === 'aks-istio-system',
      ),
    )
    .map(([name]) => name);
  const ids = new Map<string, { pods: number; clusters: Set<string> }>();
  let pods = 0;
  let objects = 0;
  for (const [name, cluster] of clusters) {
    for (const t of RESOURCE_TYPES) {
      for (const obj of cluster.store.scan(t)) {
        objects++;
        const id = obj.metadata?.labels?.[KUBERNETES_ID];
        if (t === podType) pods++;
        if (!id) continue;
        const entry = ids.get(id) ?? { pods: 0, clusters: new Set<string>() };
        if (t === podType) entry.pods++;
        entry.clusters.add(name);
        ids.set(id, entry);
      }
    }
  }
  return {
    fleet: fleetName,
    url,
    pid: process.pid,
    buildMs,
    clusters: [...clusters].map(([name, c]) => ({
      name,
      token: c.token,
      url: `${url}/clusters/${name}`,
    })),
    arm:
      server.https && caFile
        ? {
            endpoint: server.https.url,
            caFile,
            subscriptionId: DEMO_SUBSCRIPTION_ID,
            resourceGroup: DEMO_RESOURCE_GROUP,
            clusters: aksClusters,
          }
        : undefined,
    pods,
    objects,
    kubernetesIds: [...ids]
      .map(([id, e]) => ({ id, pods: e.pods, clusters: e.clusters.size }))
      .sort((a, b) => b.pods - a.pods || a.id.localeCompare(b.id)),
  };
}

async function main() {
  const env = process.env;
  const fleetName = env.BENCH_FLEET === 'scale' ? 'scale' : 'demo';
  const num = (v: string | undefined) => (v ? Number(v) : undefined);
  const started = performance.now();
  const clusters =
    fleetName === 'scale'
      ? createScaleFleet({
          clusters: num(env.BENCH_SCALE_CLUSTERS),
          namespacesPerCluster: num(env.BENCH_SCALE_NAMESPACES),
          podsPerCluster: num(env.BENCH_SCALE_PODS),
        }).clusters
      : createDemoFleet();
  const buildMs = performance.now() - started;
  const server = await startSandboxServer({
    clusters,
    port: Number(env.BENCH_SANDBOX_PORT ?? 7090),
    ...(env.BENCH_SANDBOX_HTTPS_PORT
      ? { https: { port: Number(env.BENCH_SANDBOX_HTTPS_PORT) } }
      : {}),
  });
  for (const s of servers) s.prependListener('request', count);
  const caFile = env.BENCH_SANDBOX_CA_FILE;
  if (server.https && caFile) fs.writeFileSync(caFile, server.https.caCertPem);
  const info = describe(fleetName, clusters, server, caFile, buildMs);
  console.log(
    `bench sandbox (${fleetName}) on ${server.url}: ${
      info.clusters.length
    } clusters, ${info.pods} pods, ${
      info.objects
    } objects, built in ${buildMs.toFixed(0)} ms`,
  );

  process.on('message', (msg: { type: string; id: number }) => {
    if (msg.type === 'counts')
      process.send!({ type: 'counts', id: msg.id, counts });
    if (msg.type === 'reset') {
      counts = emptyCounts();
      process.send!({ type: 'reset', id: msg.id });
    }
  });
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop); // the bench went away
  process.send!({ type: 'ready', info });
}

main().catch(error => {
  console.error(error);
  process.exit(1);
});
