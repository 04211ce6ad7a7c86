/* eslint-disable no-console */
/**
 * `yarn bench [demo|scale|all]`: figures (never a pass/fail test) for the Istio mesh
 * backend on the sandbox's demo fleet and scale fleet. See docs/benchmarks.md.
 *
 * For each fleet: the sandbox in its own process; a generated catalog (one Component per
 * distinct `backstage.io/kubernetes-id` in the fleet) and app-config; then the backend,
 * twice: once with `istioMesh.cache.ttlSeconds: 0` (every read is a full refresh: the
 * cold figures) and once with a large TTL (the warm figures). Results are printed and
 * written to .cache/bench/<fleet>-<timestamp>.json; logs and generated files stay in
 * .cache/bench/<fleet>-<timestamp>/.
 *
 * Environment: BENCH_REPEATS (warm samples, 20), BENCH_COLD_REPEATS (cold samples, 5),
 * BENCH_BACKEND_PORT (7027), BENCH_SANDBOX_PORT (7090), BENCH_SANDBOX_HTTPS_PORT (7493, the
 * sandbox's ARM for the AKS control-plane provider), BENCH_SCALE_CLUSTERS (20),
 * BENCH_SCALE_NAMESPACES (200), BENCH_SCALE_PODS (2000 per cluster),
 * BENCH_MAX_COMPONENTS (3000), BENCH_START_TIMEOUT (seconds, 600), BENCH_CPU_PROF=1 (V8 CPU
 * profiles of both backends into the run's directory; see profile-summary.ts).
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  installCleanup,
  interrupted,
  portInUse,
  Proc,
  procCpuMs,
  procMemory,
  ProcMemory,
  sleep,
  startNode,
  stopAll,
  stopProc,
  tailLog,
} from './processes';
import {
  fmtBytes,
  fmtMs,
  round,
  Sample,
  summarize,
  Summary,
  table,
} from './stats';
import { benchBackendSection } from './backendConfig';
import type { RequestCounts, SandboxInfo } from './types';

const ROOT = path.resolve(__dirname, '..', '..');
const BACKEND_DIR = path.join(ROOT, 'packages', 'backend');
const OUT_DIR = path.join(ROOT, '.cache', 'bench');
const TRANSFORM = require.resolve('@backstage/cli/config/nodeTransform.cjs', {
  paths: [ROOT],
});
const PAGE_SIZE = 500; // the mesh backend's LIST page size (ClusterGateway)

const env = process.env;
const int = (value: string | undefined, fallback: number) => {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`Not a non-negative integer: ${value}`);
  return n;
};
const settings = {
  backendPort: int(env.BENCH_BACKEND_PORT, 7027),
  sandboxPort: int(env.BENCH_SANDBOX_PORT, 7090),
  sandboxHttpsPort: int(env.BENCH_SANDBOX_HTTPS_PORT, 7493),
  warmRepeats: Math.max(1, int(env.BENCH_REPEATS, 20)),
  coldRepeats: Math.max(1, int(env.BENCH_COLD_REPEATS, 5)),
  maxComponents: Math.max(1, int(env.BENCH_MAX_COMPONENTS, 3000)),
  warmTtlSeconds: 24 * 3600,
  startTimeoutMs: int(env.BENCH_START_TIMEOUT, 600) * 1000,
  cpuProfile: env.BENCH_CPU_PROF === '1',
  scale: {
    clusters: int(env.BENCH_SCALE_CLUSTERS, 20),
    namespacesPerCluster: int(env.BENCH_SCALE_NAMESPACES, 200),
    podsPerCluster: int(env.BENCH_SCALE_PODS, 2000),
  },
};
const TICKS = (() => {
  try {
    return (
      Number(
        execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim(),
      ) || 100
    );
  } catch {
    return 100;
  }
})();

const log = (message: string) =>
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);

// ---------------------------------------------------------------------------------------
// Sandbox process

let messageSeq = 0;
function ask<T>(proc: Proc, type: 'counts' | 'reset'): Promise<T> {
  const id = ++messageSeq;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`The sandbox did not answer '${type}'`)),
      30_000,
    );
    const onMessage = (msg: any) => {
      if (msg?.id !== id) return;
      clearTimeout(timer);
      proc.child.off('message', onMessage);
      resolve(msg as T);
    };
    proc.child.on('message', onMessage);
    proc.child.send({ type, id });
  });
}
const resetCounts = async (sandbox: Proc) => {
  await ask(sandbox, 'reset');
};
const getCounts = async (sandbox: Proc) =>
  (await ask<{ counts: RequestCounts }>(sandbox, 'counts')).counts;

async function startSandbox(
  fleet: string,
  dir: string,
): Promise<{ proc: Proc; info: SandboxInfo }> {
  const proc = startNode(
    'sandbox',
    ['--require', TRANSFORM, path.join(__dirname, 'sandbox.ts')],
    {
      cwd: ROOT,
      env: {
        ...env,
        BENCH_FLEET: fleet,
        BENCH_SANDBOX_PORT: String(settings.sandboxPort),
        BENCH_SANDBOX_HTTPS_PORT: String(settings.sandboxHttpsPort),
        BENCH_SANDBOX_CA_FILE: path.join(dir, 'sandbox-ca.pem'),
        BENCH_SCALE_CLUSTERS: String(settings.scale.clusters),
        BENCH_SCALE_NAMESPACES: String(settings.scale.namespacesPerCluster),
        BENCH_SCALE_PODS: String(settings.scale.podsPerCluster),
      },
      log: path.join(dir, 'sandbox.log'),
      ipc: true,
    },
  );
  const info = await new Promise<SandboxInfo>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('The sandbox did not start within 5 minutes')),
      300_000,
    );
    proc.child.on('message', (msg: any) => {
      if (msg?.type === 'ready') {
        clearTimeout(timer);
        resolve(msg.info);
      }
    });
    proc.exited.then(code => {
      clearTimeout(timer);
      reject(new Error(`The sandbox exited (${code}):\n${tailLog(proc.log)}`));
    });
  });
  return { proc, info };
}

// ---------------------------------------------------------------------------------------
// Generated catalog and config

interface Component {
  name: string;
  kubernetesId: string;
  pods: number;
  clusters: number;
}

function writeCatalog(
  file: string,
  info: SandboxInfo,
): { components: Component[]; capped: boolean } {
  const components = info.kubernetesIds
    .slice(0, settings.maxComponents)
    .map(k => ({
      name: k.id,
      kubernetesId: k.id,
      pods: k.pods,
      clusters: k.clusters,
    }));
  const docs = components.map(c =>
    JSON.stringify({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name: c.name,
        annotations: { 'backstage.io/kubernetes-id': c.kubernetesId },
      },
      spec: { type: 'service', lifecycle: 'production', owner: 'bench' },
    }),
  );
  fs.writeFileSync(
    file,
    `# Generated by scripts/bench/bench.ts: one Component per kubernetes-id (JSON documents are YAML).\n---\n${docs.join(
      '\n---\n',
    )}\n`,
  );
  return { components, capped: info.kubernetesIds.length > components.length };
}

function writeConfig(
  file: string,
  options: {
    info: SandboxInfo;
    catalogFile: string;
    token: string;
    ttlSeconds: number;
  },
) {
  const config = {
    backend: benchBackendSection(settings.backendPort, options.token, 'bench'),
    catalog: { locations: [{ type: 'file', target: options.catalogFile }] },
    kubernetes: {
      serviceLocatorMethod: { type: 'multiTenant' },
      clusterLocatorMethods: [
        {
          type: 'config',
          clusters: options.info.clusters.map(c => ({
            name: c.name,
            url: c.url,
            authProvider: 'serviceAccount',
            serviceAccountToken: c.token,
            skipTLSVerify: true,
            skipMetricsLookup: true,
          })),
        },
      ],
    },
    istioMesh: {
      cache: { ttlSeconds: options.ttlSeconds },
      // The AKS control-plane provider (cluster page: upgrades Azure offers) against the
      // sandbox's ARM, as in the demo; app-config.yaml's block names the demo's ports.
      aks: options.info.arm
        ? {
            endpoint: options.info.arm.endpoint,
            caFile: options.info.arm.caFile,
            credential: { staticToken: 'bench-arm-token' },
            clusters: options.info.arm.clusters.map(name => ({
              name,
              subscriptionId: options.info.arm!.subscriptionId,
              resourceGroup: options.info.arm!.resourceGroup,
            })),
          }
        : { clusters: [] },
    },
  };
  fs.writeFileSync(
    file,
    `# Generated by scripts/bench/bench.ts (JSON is YAML).\n${JSON.stringify(
      config,
      null,
      2,
    )}\n`,
  );
}

// ---------------------------------------------------------------------------------------
// Backend process and HTTP client

interface Backend {
  proc: Proc;
  startMs: number;
  catalogMs: number;
}

async function waitFor(
  what: string,
  proc: Proc,
  timeoutMs: number,
  check: () => Promise<boolean>,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== undefined)
      throw new Error(
        `${proc.name} exited (${
          proc.exitCode
        }) while waiting for ${what}:\n${tailLog(proc.log)}`,
      );
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await sleep(500);
  }
  throw new Error(`Timed out waiting for ${what}:\n${tailLog(proc.log)}`);
}

async function startBackend(
  name: string,
  configFile: string,
  dir: string,
  token: string,
  components: number,
): Promise<Backend> {
  const port = settings.backendPort;
  for (let i = 0; i < 20 && (await portInUse(port)); i++) await sleep(500); // the previous backend letting go
  if (await portInUse(port)) throw new Error(`Port ${port} is in use`);
  const started = performance.now();
  // What `yarn workspace backend start` (backstage-cli package start) runs, without its
  // file watcher: a change under plugins/ must not restart the backend mid-measurement.
  // One profile per thread (the main thread's is the largest; the module loader's hooks
  // run in a worker of their own).
  const profile = settings.cpuProfile
    ? ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, `${name}-profiles`)}`]
    : [];
  const proc = startNode(
    name,
    [
      ...profile,
      '--enable-source-maps',
      '--require',
      TRANSFORM,
      'src/index',
      '--config',
      '../../app-config.yaml',
      '--config',
      configFile,
    ],
    {
      cwd: BACKEND_DIR,
      env: { ...env, NODE_ENV: env.NODE_ENV || 'development' },
      log: path.join(dir, `${name}.log`),
    },
  );
  const base = `http://127.0.0.1:${port}`;
  await waitFor(
    'backend readiness',
    proc,
    settings.startTimeoutMs,
    async () => {
      const res = await fetch(`${base}/.backstage/health/v1/readiness`);
      await res.arrayBuffer();
      return res.ok;
    },
  );
  const startMs = performance.now() - started;
  await waitFor(
    `the catalog to ingest ${components} components`,
    proc,
    settings.startTimeoutMs,
    async () => {
      const res = await fetch(
        `${base}/api/catalog/entities/by-query?filter=kind=component&limit=1`,
        {
          headers: { Authorization: `Bearer ${token}` },
        },
      );
      if (!res.ok) {
        await res.arrayBuffer();
        return false;
      }
      const body = (await res.json()) as { totalItems?: number };
      return (body.totalItems ?? 0) >= components;
    },
  );
  const catalogMs = performance.now() - started - startMs;
  log(
    `${name} ready in ${fmtMs(startMs)} (pid ${
      proc.pid
    }), catalog ingested ${components} components in ${fmtMs(catalogMs)} more`,
  );
  return { proc, startMs, catalogMs };
}

interface Endpoint {
  key: string;
  label: string;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

class Client {
  constructor(
    private readonly token: string,
    private readonly backendPid: number,
    private readonly sandboxPid: number,
  ) {}

  async call(endpoint: Endpoint): Promise<{ sample: Sample; text: string }> {
    const cpu0 = [
      procCpuMs(this.backendPid, TICKS),
      procCpuMs(this.sandboxPid, TICKS),
    ];
    const started = performance.now();
    const res = await fetch(
      `http://127.0.0.1:${settings.backendPort}${endpoint.path}`,
      {
        method: endpoint.method,
        headers: {
          Authorization: `Bearer ${this.token}`,
          ...(endpoint.body !== undefined
            ? { 'Content-Type': 'application/json' }
            : {}),
        },
        body:
          endpoint.body !== undefined
            ? JSON.stringify(endpoint.body)
            : undefined,
        signal: AbortSignal.timeout(600_000),
      },
    );
    const buffer = Buffer.from(await res.arrayBuffer());
    const ms = performance.now() - started;
    const cpu1 = [
      procCpuMs(this.backendPid, TICKS),
      procCpuMs(this.sandboxPid, TICKS),
    ];
    const text = buffer.toString('utf8');
    if (!res.ok)
      throw new Error(
        `${endpoint.method} ${endpoint.path} answered ${
          res.status
        }: ${text.slice(0, 500)}`,
      );
    return {
      sample: {
        ms,
        bytes: buffer.byteLength,
        backendCpuMs: cpu1[0] - cpu0[0],
        sandboxCpuMs: cpu1[1] - cpu0[1],
      },
      text,
    };
  }

  /** `n` rounds over the endpoints, every other round in reverse order (no position bias). */
  async rounds(
    endpoints: Endpoint[],
    n: number,
  ): Promise<Record<string, Sample[]>> {
    const samples: Record<string, Sample[]> = Object.fromEntries(
      endpoints.map(e => [e.key, []]),
    );
    for (let i = 0; i < n; i++) {
      const order = i % 2 ? [...endpoints].reverse() : endpoints;
      for (const e of order) samples[e.key].push((await this.call(e)).sample);
    }
    return samples;
  }
}

// ---------------------------------------------------------------------------------------
// One fleet

interface LatencyRow {
  endpoint: string;
  mode: string;
  summary: Summary;
}

interface Target {
  target: string;
  measured: string;
  met: boolean;
  note?: string;
}

/** Monotonic clock in µs: the clock of V8 CPU profiles' timestamps (CLOCK_MONOTONIC). */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

function loadavg() {
  return os.loadavg().map(x => round(x, 2));
}

function gitState() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync(
      'git',
      ['status', '--short', '--', 'plugins', 'packages'],
      { cwd: ROOT, encoding: 'utf8' },
    )
      .split('\n')
      .filter(Boolean);
    return { commit, uncommittedChangesUnderPluginsAndPackages: dirty };
  } catch {
    return undefined;
  }
}

async function benchFleet(fleet: 'demo' | 'scale') {
  for (const port of [
    settings.sandboxPort,
    settings.sandboxHttpsPort,
    settings.backendPort,
  ]) {
    if (await portInUse(port)) {
      throw new Error(
        `Port ${port} is in use; stop what runs there or set BENCH_SANDBOX_PORT / BENCH_SANDBOX_HTTPS_PORT / BENCH_BACKEND_PORT.`,
      );
    }
  }

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = path.join(OUT_DIR, `${fleet}-${stamp}`);
  fs.mkdirSync(dir, { recursive: true });
  const token = crypto.randomBytes(24).toString('hex');
  const startedAt = new Date().toISOString();
  const load = {
    start: loadavg(),
    phases: {} as Record<string, { before: number[]; after: number[] }>,
  };
  log(`fleet ${fleet}: files and logs in ${path.relative(ROOT, dir)}`);

  const sandboxStart = performance.now();
  const { proc: sandbox, info } = await startSandbox(fleet, dir);
  log(
    `sandbox pid ${info.pid}: ${info.clusters.length} clusters, ${
      info.pods
    } pods, ${info.objects} objects, ${
      info.kubernetesIds.length
    } kubernetes-ids (built in ${fmtMs(info.buildMs)}, up in ${fmtMs(
      performance.now() - sandboxStart,
    )})`,
  );

  const catalogFile = path.join(dir, 'catalog.yaml');
  const { components, capped } = writeCatalog(catalogFile, info);
  if (capped)
    log(
      `catalog capped at ${components.length} of ${info.kubernetesIds.length} kubernetes-ids (BENCH_MAX_COMPONENTS)`,
    );
  const entity = components[0]; // the kubernetes-id with the most pods
  const cluster = info.clusters[0].name;
  const coldConfig = path.join(dir, 'app-config.cold.yaml');
  const warmConfig = path.join(dir, 'app-config.warm.yaml');
  writeConfig(coldConfig, { info, catalogFile, token, ttlSeconds: 0 });
  writeConfig(warmConfig, {
    info,
    catalogFile,
    token,
    ttlSeconds: settings.warmTtlSeconds,
  });

  const endpoints = {
    overview: {
      key: 'overview',
      label: 'GET /api/istio-mesh/v1/overview',
      method: 'GET',
      path: '/api/istio-mesh/v1/overview',
    },
    clusters: {
      key: 'clusters',
      label: 'GET /api/istio-mesh/v1/clusters',
      method: 'GET',
      path: '/api/istio-mesh/v1/clusters',
    },
    cluster: {
      key: 'cluster',
      label: `GET /api/istio-mesh/v1/clusters/${cluster}`,
      method: 'GET',
      path: `/api/istio-mesh/v1/clusters/${cluster}`,
    },
    entity: {
      key: 'entity',
      label: `GET /api/istio-mesh/v1/entities/component/default/${entity.name}`,
      method: 'GET',
      path: `/api/istio-mesh/v1/entities/component/default/${entity.name}`,
    },
  } satisfies Record<string, Endpoint>;
  const readModelEndpoints = [
    endpoints.overview,
    endpoints.clusters,
    endpoints.cluster,
  ];

  const latency: LatencyRow[] = [];
  const add = (endpoint: string, mode: string, samples: Sample[]) =>
    latency.push({ endpoint, mode, summary: summarize(samples) });
  const memory: Record<string, ProcMemory> = {};
  const backends: Record<
    string,
    { startMs: number; catalogMs: number; pid: number }
  > = {};
  const requests: Record<string, unknown> = {};
  const checks: Record<string, unknown> = {};
  const profileWindows: Record<string, { startUs: number; endUs: number }> = {};
  const windowed = async <T>(name: string, fn: () => Promise<T>) => {
    const startUs = monotonicUs();
    const value = await fn();
    profileWindows[name] = { startUs, endUs: monotonicUs() };
    return value;
  };

  // --- Phase 1: ttl 0, every read refreshes: cold figures -----------------------------
  load.phases.cold = { before: loadavg(), after: [] };
  let backend = await startBackend(
    'backend-ttl0',
    coldConfig,
    dir,
    token,
    components.length,
  );
  backends.cold = {
    startMs: round(backend.startMs),
    catalogMs: round(backend.catalogMs),
    pid: backend.proc.pid,
  };
  let client = new Client(token, backend.proc.pid, info.pid);
  const firstAfterStart: Sample[] = [];

  await resetCounts(sandbox);
  let first = await windowed('firstTtl0', () =>
    client.call(endpoints.overview),
  );
  firstAfterStart.push(first.sample);
  requests.firstOverview = await getCounts(sandbox);
  const overviewBody = JSON.parse(first.text) as {
    rows: unknown[];
    clusters: unknown[];
    errors: unknown[];
  };
  checks.overview = {
    rows: overviewBody.rows.length,
    clusters: overviewBody.clusters.length,
    errors: overviewBody.errors,
  };
  if (overviewBody.errors.length)
    log(
      `WARNING: the overview reports cluster errors: ${JSON.stringify(
        overviewBody.errors,
      ).slice(0, 500)}`,
    );

  // One full refresh, counted twice: by the backend (snapshotApiRequests) and by the sandbox.
  await resetCounts(sandbox);
  const refresh = await client.call(endpoints.clusters);
  const refreshCounts = await getCounts(sandbox);
  const clustersBody = JSON.parse(refresh.text) as {
    clusters: Array<{
      cluster: string;
      pods: number;
      snapshotApiRequests: number;
    }>;
    errors: unknown[];
  };
  const snapshotApiRequests = clustersBody.clusters.reduce(
    (sum, c) => sum + c.snapshotApiRequests,
    0,
  );
  const kinds = Object.keys(refreshCounts.byResource).length;
  const podsPerCluster = Math.max(...clustersBody.clusters.map(c => c.pods));
  requests.fullRefresh = {
    snapshotApiRequests,
    sandboxCounted: refreshCounts.total,
    listCalls: refreshCounts.pages,
    continuationPages: refreshCounts.continuations,
    perObjectRequests: refreshCounts.perObject,
    resourceKinds: kinds,
    clusters: clustersBody.clusters.length,
    kindsTimesClusters: kinds * clustersBody.clusters.length,
    pageSize: PAGE_SIZE,
    byResource: refreshCounts.byResource,
  };
  checks.clusters = {
    clusters: clustersBody.clusters.length,
    errors: clustersBody.errors,
  };

  log(
    `cold rounds (ttl 0): ${settings.coldRepeats} × overview, clusters, clusters/${cluster}`,
  );
  await resetCounts(sandbox);
  const cold = await windowed('cold', () =>
    client.rounds(readModelEndpoints, settings.coldRepeats),
  );
  requests.coldRounds = await getCounts(sandbox);
  memory.backendTtl0 = procMemory(backend.proc.pid);
  load.phases.cold.after = loadavg();
  await stopProc(backend.proc);

  // --- Phase 2: large ttl: warm figures; the entity endpoint and the Kubernetes plugin ---
  load.phases.warm = { before: loadavg(), after: [] };
  backend = await startBackend(
    'backend-warm',
    warmConfig,
    dir,
    token,
    components.length,
  );
  backends.warm = {
    startMs: round(backend.startMs),
    catalogMs: round(backend.catalogMs),
    pid: backend.proc.pid,
  };
  client = new Client(token, backend.proc.pid, info.pid);
  first = await windowed('firstWarm', () => client.call(endpoints.overview));
  firstAfterStart.push(first.sample);
  for (const e of readModelEndpoints) {
    const { text } = await client.call(e); // JIT warm-up, not recorded
    if (e === endpoints.cluster) {
      const detail = JSON.parse(text) as {
        upgrades?: unknown;
        namespaces: unknown[];
      };
      checks.cluster = {
        namespaces: detail.namespaces.length,
        upgrades: detail.upgrades,
      };
    }
  }

  log(
    `warm rounds (ttl ${settings.warmTtlSeconds} s): ${settings.warmRepeats} × overview, clusters, clusters/${cluster}`,
  );
  await resetCounts(sandbox);
  const warm = await windowed('warm', () =>
    client.rounds(readModelEndpoints, settings.warmRepeats),
  );
  requests.warmRounds = await getCounts(sandbox);

  // The Kubernetes plugin's objects endpoint, for the entity the catalog holds.
  const catalogEntity = JSON.parse(
    (
      await client.call({
        key: 'catalog',
        label: '',
        method: 'GET',
        path: `/api/catalog/entities/by-name/component/default/${entity.name}`,
      })
    ).text,
  );
  const objectsEndpoint: Endpoint = {
    key: 'objects',
    label: `POST /api/kubernetes/services/${entity.name}`,
    method: 'POST',
    path: `/api/kubernetes/services/${entity.name}`,
    body: { entity: catalogEntity },
  };
  await resetCounts(sandbox);
  const entityFirst = await client.call(endpoints.entity);
  requests.entity = await getCounts(sandbox);
  await resetCounts(sandbox);
  const objectsFirst = await client.call(objectsEndpoint);
  requests.kubernetesObjects = await getCounts(sandbox);
  const entityBody = JSON.parse(entityFirst.text) as {
    clusters: Array<{ namespaces: Array<{ pods: unknown[] }> }>;
    errors: unknown[];
  };
  const objectsBody = JSON.parse(objectsFirst.text) as {
    items: Array<{
      cluster: { name: string };
      errors: unknown[];
      resources: Array<{ type: string; resources: unknown[] }>;
    }>;
  };
  checks.entity = {
    clusters: entityBody.clusters.length,
    pods: entityBody.clusters.reduce(
      (s, c) => s + c.namespaces.reduce((t, n) => t + n.pods.length, 0),
      0,
    ),
    errors: entityBody.errors,
  };
  checks.kubernetesObjects = {
    clusters: objectsBody.items.length,
    pods: objectsBody.items.reduce(
      (s, i) =>
        s + (i.resources.find(r => r.type === 'pods')?.resources.length ?? 0),
      0,
    ),
    errors: objectsBody.items.flatMap(i => i.errors),
  };
  if (
    entityBody.errors.length ||
    (checks.kubernetesObjects as { errors: unknown[] }).errors.length
  ) {
    log(
      `WARNING: errors in the entity/objects responses: ${JSON.stringify({
        entity: entityBody.errors,
        objects: checks.kubernetesObjects,
      }).slice(0, 800)}`,
    );
  }

  log(
    `entity vs Kubernetes objects: ${settings.warmRepeats} interleaved pairs for ${entity.name} (${entity.pods} pods in ${entity.clusters} clusters)`,
  );
  const pairs = await windowed('pairs', () =>
    client.rounds([endpoints.entity, objectsEndpoint], settings.warmRepeats),
  );
  if (settings.cpuProfile) {
    // Unrecorded: each endpoint alone, so a profile can tell their costs apart.
    await windowed('entityOnly', async () => {
      for (let i = 0; i < 5; i++) await client.call(endpoints.entity);
    });
    await windowed('objectsOnly', async () => {
      for (let i = 0; i < 5; i++) await client.call(objectsEndpoint);
    });
  }
  memory.backendWarm = procMemory(backend.proc.pid);
  memory.sandbox = procMemory(info.pid);
  load.phases.warm.after = loadavg();
  await stopProc(backend.proc);
  await stopProc(sandbox);

  add(
    endpoints.overview.label,
    'first after start (cache empty)',
    firstAfterStart,
  );
  add(endpoints.overview.label, 'cold (ttl 0)', cold.overview);
  add(endpoints.overview.label, 'warm', warm.overview);
  add(endpoints.clusters.label, 'cold (ttl 0)', cold.clusters);
  add(endpoints.clusters.label, 'warm', warm.clusters);
  add(endpoints.cluster.label, 'cold (ttl 0)', cold.cluster);
  add(endpoints.cluster.label, 'warm', warm.cluster);
  add(endpoints.entity.label, 'uncached (always live)', pairs.entity);
  add(objectsEndpoint.label, 'uncached (always live)', pairs.objects);

  const get = (key: string, mode: string) =>
    latency.find(
      r =>
        r.endpoint === (endpoints as Record<string, Endpoint>)[key]?.label &&
        r.mode.startsWith(mode),
    )!.summary;
  const entitySummary = latency.find(
    r => r.endpoint === endpoints.entity.label,
  )!.summary;
  const objectsSummary = latency.find(
    r => r.endpoint === objectsEndpoint.label,
  )!.summary;
  const ratio = {
    median: round(entitySummary.medianMs / objectsSummary.medianMs, 2),
    p95: round(entitySummary.p95Ms / objectsSummary.p95Ms, 2),
    // Per pair (same moment, same load), then the median of those.
    medianOfPairs: round(
      (() => {
        const r = pairs.entity
          .map((s, i) => s.ms / pairs.objects[i].ms)
          .sort((a, b) => a - b);
        return r.length % 2
          ? r[(r.length - 1) / 2]
          : (r[r.length / 2 - 1] + r[r.length / 2]) / 2;
      })(),
      2,
    ),
  };

  const refreshInfo = requests.fullRefresh as {
    snapshotApiRequests: number;
    sandboxCounted: number;
    listCalls: number;
    continuationPages: number;
    perObjectRequests: number;
    resourceKinds: number;
    kindsTimesClusters: number;
  };
  const overviewWarm = get('overview', 'warm');
  const overviewCold = get('overview', 'cold');
  const overviewFirst = get('overview', 'first');
  const targets: Target[] = [
    {
      target: 'overview warm < 300 ms',
      measured: `median ${fmtMs(overviewWarm.medianMs)}, p95 ${fmtMs(
        overviewWarm.p95Ms,
      )}`,
      met: overviewWarm.p95Ms < 300,
      note: 'met means p95 < 300 ms',
    },
    {
      target: 'overview cold (cache expired: ttl 0) < 3 s',
      measured: `median ${fmtMs(overviewCold.medianMs)}, p95 ${fmtMs(
        overviewCold.p95Ms,
      )}`,
      met: overviewCold.p95Ms < 3000,
      note: 'met means p95 < 3 s',
    },
    {
      target: 'overview cold (first request after a fresh start) < 3 s',
      measured: firstAfterStart.map(s => fmtMs(s.ms)).join(', '),
      met: overviewFirst.maxMs < 3000,
      note: 'one sample per backend start; met means every one < 3 s',
    },
    {
      target: 'API requests per full refresh ≤ resource kinds × clusters',
      measured: `${refreshInfo.sandboxCounted} requests (${refreshInfo.listCalls} LIST calls + ${refreshInfo.continuationPages} continue pages) vs ${refreshInfo.resourceKinds} kinds × ${clustersBody.clusters.length} clusters = ${refreshInfo.kindsTimesClusters}`,
      met: refreshInfo.sandboxCounted <= refreshInfo.kindsTimesClusters,
      note:
        refreshInfo.listCalls <= refreshInfo.kindsTimesClusters
          ? `LIST calls alone: ${refreshInfo.listCalls} ≤ ${refreshInfo.kindsTimesClusters}; pages of ${PAGE_SIZE} add ${refreshInfo.continuationPages}`
          : undefined,
    },
    {
      target: 'zero API requests per pod',
      measured: `${
        refreshInfo.perObjectRequests
      } per-object requests; pod LIST pages: ${
        refreshCounts.byResource['pods.core']?.requests ?? 0
      } for ${
        clustersBody.clusters.length
      } clusters of ≤ ${podsPerCluster} pods`,
      met: refreshInfo.perObjectRequests === 0,
      note: `pages grow with ceil(pods / ${PAGE_SIZE}) per cluster, not per pod`,
    },
    {
      target: 'entity endpoint / Kubernetes objects endpoint ≤ 1.0',
      measured: `median ${fmtMs(entitySummary.medianMs)} / ${fmtMs(
        objectsSummary.medianMs,
      )} = ${ratio.median} (p95 ${ratio.p95}, median of pairs ${
        ratio.medianOfPairs
      })`,
      met: ratio.median <= 1.0,
    },
  ];

  const result = {
    fleet,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      totalMemory: os.totalmem(),
      node: process.version,
      load: { ...load, end: loadavg() },
    },
    git: gitState(),
    settings,
    fleetInfo: {
      clusters: info.clusters.length,
      pods: info.pods,
      objects: info.objects,
      kubernetesIds: info.kubernetesIds.length,
      components: components.length,
      catalogCapped: capped,
      sandboxBuildMs: round(info.buildMs),
      measuredCluster: cluster,
      measuredEntity: entity,
    },
    backends,
    memory,
    latency,
    ratio,
    requests,
    checks,
    targets,
    profileWindows,
    dir: path.relative(ROOT, dir),
  };
  const file = path.join(OUT_DIR, `${fleet}-${stamp}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  print(result, file);
  return result;
}

function print(result: any, file: string) {
  const f = result.fleetInfo;
  const out: string[] = [];
  out.push('');
  out.push(
    `=== ${result.fleet} fleet: ${f.clusters} clusters, ${f.pods.toLocaleString(
      'en',
    )} pods, ${f.objects.toLocaleString('en')} objects; ${
      f.components
    } components (one per kubernetes-id${
      f.catalogCapped ? `, capped from ${f.kubernetesIds}` : ''
    }) ===`,
  );
  out.push(
    `machine: ${result.machine.cpus} × ${
      result.machine.cpuModel
    }, load average at start ${result.machine.load.start.join(
      ' ',
    )}, at end ${result.machine.load.end.join(' ')}`,
  );
  out.push(
    `entity: ${f.measuredEntity.name} (${f.measuredEntity.pods} pods in ${f.measuredEntity.clusters} clusters); cluster: ${f.measuredCluster}`,
  );
  out.push('');
  out.push(
    table(
      [
        'endpoint',
        'mode',
        'n',
        'median',
        'p95',
        'min',
        'max',
        'backend CPU/req',
        'sandbox CPU/req',
        'body',
      ],
      result.latency.map((r: LatencyRow) => [
        r.endpoint,
        r.mode,
        String(r.summary.n),
        fmtMs(r.summary.medianMs),
        fmtMs(r.summary.p95Ms),
        fmtMs(r.summary.minMs),
        fmtMs(r.summary.maxMs),
        fmtMs(r.summary.meanBackendCpuMs),
        fmtMs(r.summary.meanSandboxCpuMs),
        fmtBytes(r.summary.bytes),
      ]),
      [false, false, true, true, true, true, true, true, true, true],
    ),
  );
  out.push('');
  out.push(
    `entity / Kubernetes objects: median ${result.ratio.median}, p95 ${result.ratio.p95}, median of per-pair ratios ${result.ratio.medianOfPairs}`,
  );
  const r = result.requests.fullRefresh;
  out.push(
    `Kubernetes API requests per full refresh: ${r.sandboxCounted} counted by the sandbox (Σ snapshotApiRequests ${r.snapshotApiRequests}); ${r.listCalls} LIST calls + ${r.continuationPages} continue pages; ${r.resourceKinds} kinds × ${r.clusters} clusters = ${r.kindsTimesClusters}; per-object requests ${r.perObjectRequests}`,
  );
  out.push(
    `  by resource: ${Object.entries(
      r.byResource as Record<string, { requests: number }>,
    )
      .map(([k, v]) => `${k} ${v.requests}`)
      .join(', ')}`,
  );
  out.push(
    `Kubernetes API requests: one entity read ${result.requests.entity.total}, one Kubernetes objects read ${result.requests.kubernetesObjects.total}, during ${result.settings.warmRepeats} warm rounds ${result.requests.warmRounds.total}`,
  );
  const c = result.checks;
  const upgrades = c.cluster?.upgrades as
    | {
        provider?: string;
        availableUpgrades?: unknown[];
        error?: { message: string };
      }
    | undefined;
  out.push(
    `responses: overview ${c.overview.rows} rows, ${c.overview.errors.length} cluster errors; entity ${c.entity.clusters} clusters / ${c.entity.pods} pods (${c.entity.errors.length} errors); ` +
      `Kubernetes objects ${c.kubernetesObjects.clusters} clusters / ${c.kubernetesObjects.pods} pods (${c.kubernetesObjects.errors.length} errors); ` +
      `cluster page upgrades: ${
        upgrades
          ? `${upgrades.provider}${
              upgrades.error
                ? ` error: ${upgrades.error.message}`
                : `, ${upgrades.availableUpgrades?.length ?? 0} offered`
            }`
          : '-'
      }`,
  );
  const mb = (m: ProcMemory) =>
    `peak ${fmtBytes(m.peakRss)} (now ${fmtBytes(m.rss)})`;
  out.push(
    `memory: backend ttl 0 ${mb(result.memory.backendTtl0)}; backend warm ${mb(
      result.memory.backendWarm,
    )}; sandbox ${mb(result.memory.sandbox)}`,
  );
  out.push(
    `backend start → ready: ${fmtMs(result.backends.cold.startMs)} / ${fmtMs(
      result.backends.warm.startMs,
    )}; catalog ingestion after that: ${fmtMs(
      result.backends.cold.catalogMs,
    )} / ${fmtMs(result.backends.warm.catalogMs)}`,
  );
  out.push('');
  out.push('targets:');
  for (const t of result.targets as Target[]) {
    out.push(
      `  [${t.met ? 'met    ' : 'NOT MET'}] ${t.target}: ${t.measured}${
        t.note ? ` (${t.note})` : ''
      }`,
    );
  }
  out.push('');
  out.push(`results: ${path.relative(ROOT, file)}`);
  console.log(out.join('\n'));
}

async function main() {
  const arg = process.argv[2] ?? 'all';
  if (!['demo', 'scale', 'all'].includes(arg)) {
    console.error(
      'usage: yarn bench [demo|scale|all]   (see docs/benchmarks.md for the environment variables)',
    );
    process.exit(2);
  }
  installCleanup();
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const fleets: Array<'demo' | 'scale'> =
    arg === 'all' ? ['demo', 'scale'] : [arg as 'demo' | 'scale'];
  log(
    `fleets: ${fleets.join(', ')}; scale fleet ${settings.scale.clusters} × ${
      settings.scale.namespacesPerCluster
    } namespaces × ${settings.scale.podsPerCluster} pods; ${
      settings.coldRepeats
    } cold / ${settings.warmRepeats} warm samples`,
  );
  for (const fleet of fleets) await benchFleet(fleet);
}

main()
  .then(() => stopAll())
  .then(() => process.exit(0))
  .catch(async error => {
    if (interrupted) return; // the signal handler stops the processes and exits
    console.error(
      `bench failed: ${
        error instanceof Error ? error.stack ?? error.message : error
      }`,
    );
    await stopAll();
    process.exit(1);
  });
