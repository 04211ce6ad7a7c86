/* eslint-disable no-console */
/**
 * `yarn bench:migrate`: figures (never a pass/fail test) for migrating one namespace of
 * 50 workloads to a canary revision through the real backend and the real Kubernetes
 * backend, against the sandbox. See docs/benchmarks.md ("Namespace migration").
 *
 * The sandbox runs in this process: the demo fleet, plus namespaces `bench-0`, `bench-1`,
 * … in aks-dev, each with BENCH_MIGRATE_WORKLOADS single-replica Deployments on asm-1-29.
 * The backend (packages/backend, as `yarn workspace backend start` runs it, without the
 * file watcher) is a child process with a generated app-config. The bench starts the
 * canary of aks-dev (asm-1-29 → asm-1-30 through the sandbox's ARM), then migrates one
 * bench namespace after the other: each is one sample of "time to migrate". Then more
 * namespaces are migrated with faults injected at BENCH_MIGRATE_FAULT_RATE on every
 * Kubernetes request touching them (503, 429 with Retry-After 1 s, 409 on writes), to
 * count the retries the steps make and what they cost.
 *
 * Measured per migration: the step's own duration (its startedAt → finishedAt, recorded by
 * the backend), the client's wall time (POST → the step seen ended), Kubernetes API
 * requests that touched the namespace (the step's reads and writes), all requests to the
 * cluster meanwhile (including the progress polling, GET …/upgrade every 500 ms), and the
 * retries the step recorded.
 *
 * Environment: BENCH_MIGRATE_RUNS (5 fault-free samples), BENCH_MIGRATE_FAULT_RUNS (3),
 * BENCH_MIGRATE_WORKLOADS (50), BENCH_MIGRATE_FAULT_RATE (0.05), BENCH_SANDBOX_STEP_MS (the
 * sandbox controllers' step, 1000 as in the demo), BENCH_MIGRATE_POLL_MS (the backend's
 * pause between two passes of a step, istioMesh.upgrades.pollIntervalMs, default 2000),
 * BENCH_BACKEND_PORT (7029), BENCH_SANDBOX_PORT (7092), BENCH_SANDBOX_HTTPS_PORT (7495; ports apart
 * from `yarn bench`'s and the browser tests' Prometheus on 7090),
 * BENCH_START_TIMEOUT (seconds, 600). Results: .cache/bench/migrate-<timestamp>.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  addDeployment,
  addNamespace,
  createDemoFleet,
  DEMO_RESOURCE_GROUP,
  DEMO_SUBSCRIPTION_ID,
  demoToken,
  FaultRule,
  startSandboxServer,
  type SandboxServer,
} from '@mesh-portal/mesh-sandbox';
import { benchBackendSection } from './backendConfig';
import { installCleanup, portInUse, sleep, startNode, stopAll, stopProc, tailLog, type Proc } from './processes';
import { fmtMs, median, quantile, round } from './stats';

const ROOT = path.resolve(__dirname, '..', '..');
const BACKEND_DIR = path.join(ROOT, 'packages', 'backend');
const OUT_DIR = path.join(ROOT, '.cache', 'bench');
const TRANSFORM = require.resolve('@backstage/cli/config/nodeTransform.cjs', { paths: [ROOT] });
const CLUSTER = 'aks-dev';
const FROM = 'asm-1-29';
const TO = 'asm-1-30';

const env = process.env;
const num = (value: string | undefined, fallback: number) => {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`Not a non-negative number: ${value}`);
  return n;
};
const settings = {
  runs: Math.max(1, num(env.BENCH_MIGRATE_RUNS, 5)),
  faultRuns: num(env.BENCH_MIGRATE_FAULT_RUNS, 3),
  workloads: Math.max(1, num(env.BENCH_MIGRATE_WORKLOADS, 50)),
  faultRate: Math.min(1, num(env.BENCH_MIGRATE_FAULT_RATE, 0.05)),
  stepMs: num(env.BENCH_SANDBOX_STEP_MS, 1000),
  pollIntervalMs: num(env.BENCH_MIGRATE_POLL_MS, 2000),
  backendPort: num(env.BENCH_BACKEND_PORT, 7029),
  sandboxPort: num(env.BENCH_SANDBOX_PORT, 7092),
  sandboxHttpsPort: num(env.BENCH_SANDBOX_HTTPS_PORT, 7495),
  startTimeoutMs: num(env.BENCH_START_TIMEOUT, 600) * 1000,
};
const TOKEN = `bench-migrate-${process.pid}`;
const base = `http://127.0.0.1:${settings.backendPort}`;

const log = (message: string) => console.log(`[bench:migrate ${new Date().toISOString().slice(11, 19)}] ${message}`);

/** The demo fleet's aks-dev with the bench namespaces: `count` namespaces of `workloads` Deployments on asm-1-29. */
function buildFleet(namespaces: string[]) {
  const clusters = createDemoFleet({ stepMs: settings.stepMs });
  const store = clusters.get(CLUSTER)!.store;
  for (const ns of namespaces) {
    addNamespace(store, ns, { 'istio.io/rev': FROM });
    for (let i = 0; i < settings.workloads; i++) {
      const name = `svc-${String(i).padStart(2, '0')}`;
      addDeployment(store, {
        namespace: ns,
        name,
        replicas: 1,
        image: `mcr.microsoft.com/mesh-portal/bench/${name}:1.0.0`,
        sidecarRevision: FROM,
        labels: { app: name },
      });
    }
  }
  return clusters;
}

function writeConfig(file: string, sandbox: SandboxServer, caFile: string) {
  const config = {
    backend: benchBackendSection(settings.backendPort, TOKEN, 'bench-migrate'),
    kubernetes: {
      serviceLocatorMethod: { type: 'multiTenant' },
      clusterLocatorMethods: [
        {
          type: 'config',
          clusters: [
            { name: CLUSTER, url: sandbox.clusterUrl(CLUSTER), authProvider: 'serviceAccount', serviceAccountToken: demoToken(CLUSTER), skipMetricsLookup: true },
          ],
        },
      ],
    },
    istioMesh: {
      // The health gate (docs/metrics.md) adds its measuring window after the rollout: a
      // fixed wait, not the migration's cost. The demo's Prometheus is not running here anyway.
      upgrades: { pollIntervalMs: settings.pollIntervalMs, healthGate: { enabled: false } },
      aks: {
        endpoint: sandbox.https!.url,
        caFile,
        credential: { staticToken: 'bench-arm-token' },
        clusters: [{ name: CLUSTER, subscriptionId: DEMO_SUBSCRIPTION_ID, resourceGroup: DEMO_RESOURCE_GROUP }],
      },
    },
  };
  fs.writeFileSync(file, `# Generated by scripts/bench/migrate.ts (JSON is YAML).\n${JSON.stringify(config, null, 2)}\n`);
}

async function startBackend(configFile: string, dir: string): Promise<Proc> {
  if (await portInUse(settings.backendPort)) throw new Error(`Port ${settings.backendPort} is in use`);
  const proc = startNode(
    'backend',
    ['--enable-source-maps', '--require', TRANSFORM, 'src/index', '--config', '../../app-config.yaml', '--config', configFile],
    { cwd: BACKEND_DIR, env: { ...env, NODE_ENV: env.NODE_ENV || 'development' }, log: path.join(dir, 'backend.log') },
  );
  const deadline = Date.now() + settings.startTimeoutMs;
  for (;;) {
    if (proc.exitCode !== undefined) throw new Error(`The backend exited (${proc.exitCode}):\n${tailLog(proc.log)}`);
    if (Date.now() > deadline) throw new Error(`The backend did not get ready:\n${tailLog(proc.log)}`);
    try {
      const res = await fetch(`${base}/.backstage/health/v1/readiness`);
      await res.arrayBuffer();
      if (res.ok) return proc;
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
}

async function api(method: 'GET' | 'POST', p: string, body?: object): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}/api/istio-mesh/v1${p}`, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

async function waitForRun(what: string, check: (run: any) => boolean, timeoutMs = 600_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let run: any;
  for (;;) {
    run = (await api('GET', `/clusters/${CLUSTER}/upgrade`)).body;
    if (run && check(run)) return run;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}; last seen ${JSON.stringify(run)?.slice(0, 2000)}`);
    await sleep(500);
  }
}

/** Rules that match but never fire: request counters. */
function counters(sandbox: SandboxServer, namespace: string) {
  const onNamespace = (methods: string[]) =>
    [`/clusters/${CLUSTER}/api*/**/namespaces/${namespace}`, `/clusters/${CLUSTER}/api*/**/namespaces/${namespace}/**`].map(p =>
      sandbox.faults.add({ kind: 'latency', latencyMs: 0, rate: 0, cluster: CLUSTER, methods, path: p }),
    );
  const rules = {
    nsReads: onNamespace(['GET']),
    nsWrites: onNamespace(['PATCH', 'POST', 'PUT', 'DELETE']),
    cluster: [sandbox.faults.add({ kind: 'latency', latencyMs: 0, rate: 0, cluster: CLUSTER, path: `/clusters/${CLUSTER}/**` })],
  };
  const sum = (list: FaultRule[]) => {
    const now = sandbox.faults.list();
    return list.reduce((n, r) => n + (now.find(f => f.id === r.id)?.matched ?? 0), 0);
  };
  return {
    read: () => ({ nsReads: sum(rules.nsReads), nsWrites: sum(rules.nsWrites), cluster: sum(rules.cluster) }),
    remove: () => Object.values(rules).flat().forEach(r => sandbox.faults.remove(r.id)),
  };
}

/** Faults on every request touching the namespace, each at `rate` (seeded, so a run can be repeated). */
function injectFaults(sandbox: SandboxServer, namespace: string, seed: number): FaultRule[] {
  const rate = settings.faultRate;
  const paths = [`/clusters/${CLUSTER}/api*/**/namespaces/${namespace}`, `/clusters/${CLUSTER}/api*/**/namespaces/${namespace}/**`];
  return paths.flatMap((p, i) =>
    sandbox.faults.addAll([
      { kind: 'error', status: 503, cluster: CLUSTER, path: p, rate, seed: seed * 10 + i },
      { kind: 'throttle', retryAfterSeconds: 1, cluster: CLUSTER, path: p, rate, seed: seed * 10 + i + 3 },
      { kind: 'conflict', cluster: CLUSTER, methods: ['PATCH'], path: p, rate, seed: seed * 10 + i + 6 },
    ]),
  );
}

interface Sample {
  namespace: string;
  faults: boolean;
  outcome: string;
  stepMs: number;
  wallMs: number;
  namespaceReads: number;
  namespaceWrites: number;
  clusterRequests: number;
  restarted: number;
  retries: number;
  faultsFired: number;
  message: string;
}

async function migrateOne(sandbox: SandboxServer, namespace: string, faults?: number): Promise<Sample> {
  const count = counters(sandbox, namespace);
  const injected = faults === undefined ? [] : injectFaults(sandbox, namespace, faults);
  const started = performance.now();
  const res = await api('POST', `/clusters/${CLUSTER}/namespaces/${namespace}/migrate`, { targetRevision: TO });
  if (res.status !== 202) throw new Error(`migrate ${namespace} answered ${res.status}: ${JSON.stringify(res.body)}`);
  const stepId = res.body.step.id;
  const run = await waitForRun(`the migration of ${namespace}`, r => r.steps.some((s: any) => s.id === stepId && s.outcome !== 'running'));
  const wallMs = performance.now() - started;
  const step = run.steps.find((s: any) => s.id === stepId);
  const counts = count.read();
  const fired = sandbox.faults.list().filter(f => injected.some(r => r.id === f.id)).reduce((n, f) => n + f.fired, 0);
  count.remove();
  injected.forEach(r => sandbox.faults.remove(r.id));
  const sample: Sample = {
    namespace,
    faults: faults !== undefined,
    outcome: step.outcome,
    stepMs: Date.parse(step.finishedAt) - Date.parse(step.startedAt),
    wallMs: round(wallMs),
    namespaceReads: counts.nsReads,
    namespaceWrites: counts.nsWrites,
    clusterRequests: counts.cluster,
    restarted: step.restartedWorkloads?.length ?? 0,
    retries: step.retries ?? 0,
    faultsFired: fired,
    message: step.message,
  };
  log(
    `${namespace}${sample.faults ? ` (faults at ${settings.faultRate})` : ''}: ${sample.outcome} in ${fmtMs(sample.stepMs)} (wall ${fmtMs(
      sample.wallMs,
    )}), ${sample.restarted} restarted, ${sample.namespaceReads} reads + ${sample.namespaceWrites} writes on the namespace, ${
      sample.clusterRequests
    } cluster requests in all, ${sample.retries} retries for ${sample.faultsFired} faults`,
  );
  return sample;
}

function summary(samples: Sample[]) {
  const pick = (f: (s: Sample) => number) => {
    const values = samples.map(f).sort((a, b) => a - b);
    return { median: round(median(values)), min: values[0], max: values[values.length - 1], p90: round(quantile(values, 0.9)) };
  };
  return {
    n: samples.length,
    succeeded: samples.filter(s => s.outcome === 'succeeded').length,
    stepMs: pick(s => s.stepMs),
    wallMs: pick(s => s.wallMs),
    namespaceReads: pick(s => s.namespaceReads),
    namespaceWrites: pick(s => s.namespaceWrites),
    clusterRequests: pick(s => s.clusterRequests),
    retries: { total: samples.reduce((n, s) => n + s.retries, 0), ...pick(s => s.retries) },
    faultsFired: samples.reduce((n, s) => n + s.faultsFired, 0),
  };
}

async function main() {
  installCleanup();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = path.join(OUT_DIR, `migrate-${stamp}`);
  fs.mkdirSync(dir, { recursive: true });
  const clean = Array.from({ length: settings.runs }, (_, i) => `bench-${i}`);
  const faulty = Array.from({ length: settings.faultRuns }, (_, i) => `bench-f${i}`);
  const built = performance.now();
  const clusters = buildFleet([...clean, ...faulty]);
  const sandbox = await startSandboxServer({
    clusters,
    port: settings.sandboxPort,
    https: { port: settings.sandboxHttpsPort },
    arm: { operationDelayMs: 1500 },
  });
  const caFile = path.join(dir, 'sandbox-ca.pem');
  fs.writeFileSync(caFile, sandbox.https!.caCertPem);
  log(
    `sandbox on ${sandbox.url}: aks-dev with ${clean.length + faulty.length} bench namespaces × ${settings.workloads} Deployments (1 replica, ${FROM}), controller step ${settings.stepMs} ms, built in ${fmtMs(
      performance.now() - built,
    )}`,
  );
  const configFile = path.join(dir, 'app-config.yaml');
  writeConfig(configFile, sandbox, caFile);
  const backendStarted = performance.now();
  const backend = await startBackend(configFile, dir);
  log(`backend ready in ${fmtMs(performance.now() - backendStarted)} (pid ${backend.pid}, step passes every ${settings.pollIntervalMs} ms)`);

  try {
    const start = await api('POST', `/clusters/${CLUSTER}/upgrade`, { targetRevision: TO });
    if (start.status !== 202) throw new Error(`start answered ${start.status}: ${JSON.stringify(start.body)}`);
    await waitForRun('the canary', r => r.steps.every((s: any) => s.outcome !== 'running'));
    log(`canary ${FROM} → ${TO} running`);

    const samples: Sample[] = [];
    for (const ns of clean) samples.push(await migrateOne(sandbox, ns));
    for (const [i, ns] of faulty.entries()) samples.push(await migrateOne(sandbox, ns, i + 1));

    const result = {
      bench: 'migrate',
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, loadavg: os.loadavg().map(l => round(l, 2)) },
      settings,
      clean: summary(samples.filter(s => !s.faults)),
      faults: settings.faultRuns ? summary(samples.filter(s => s.faults)) : undefined,
      samples,
    };
    const file = path.join(OUT_DIR, `migrate-${stamp}.json`);
    fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    const c = result.clean;
    const lines = [
      '',
      `namespace migration, ${settings.workloads} Deployments (1 replica each), aks-dev ${FROM} → ${TO}, load ${result.machine.loadavg.join(' ')} on ${result.machine.cpus} cores`,
      `  time to migrate (step start → end), median of ${c.n}: ${fmtMs(c.stepMs.median)} (min ${fmtMs(c.stepMs.min)}, max ${fmtMs(c.stepMs.max)}); client wall ${fmtMs(c.wallMs.median)}`,
      `  Kubernetes requests on the namespace per migration, median: ${c.namespaceReads.median} reads + ${c.namespaceWrites.median} writes; all requests to the cluster meanwhile (incl. the page-like polling): ${c.clusterRequests.median}`,
      `  succeeded: ${c.succeeded} of ${c.n}`,
    ];
    if (result.faults) {
      const f = result.faults;
      lines.push(
        `  with faults at rate ${settings.faultRate} each (503, 429 + Retry-After 1 s, 409 on PATCH) on the namespace's requests, ${f.n} migrations: ${f.faultsFired} faults fired, ${f.retries.total} retries recorded on the steps (median ${f.retries.median} per migration), succeeded ${f.succeeded} of ${f.n}; time median ${fmtMs(
          f.stepMs.median,
        )} (max ${fmtMs(f.stepMs.max)})`,
      );
    }
    lines.push(`  results: ${path.relative(ROOT, file)}`);
    console.log(lines.join('\n'));
  } finally {
    await stopProc(backend);
    await sandbox.close();
  }
}

main()
  .then(() => stopAll())
  .then(() => process.exit(0))
  .catch(async error => {
    console.error(`bench:migrate failed: ${error instanceof Error ? error.stack ?? error.message : error}`);
    await stopAll();
    process.exit(1);
  });
