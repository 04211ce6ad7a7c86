/* eslint-disable no-console */
// A harness for several suites, not a suite: it exports, and wraps describe/it on purpose.
/* eslint-disable jest/no-export, jest/valid-title, jest/valid-describe-callback, jest/expect-expect */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A real Prometheus (the Debian package; `PROMETHEUS_BIN` overrides) for tests: started
 * on a random port over a fresh TSDB, optionally backfilled from an OpenMetrics text with
 * `promtool tsdb create-blocks-from openmetrics`, optionally scraping targets; stopped by
 * PID. Without the binary a suite is skipped with the reason, except under CI=true, where
 * it fails (scripts/system-deps.sh installs the package).
 */
export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
export const PROMTOOL_BIN = path.join(path.dirname(PROMETHEUS_BIN), 'promtool');
export const PROMETHEUS_AVAILABLE = existsSync(PROMETHEUS_BIN) && existsSync(PROMTOOL_BIN);

/** `describe` when Prometheus is installed; otherwise one skipped (or, on CI, failing) test saying why. */
export function describeWithPrometheus(name: string, fn: () => void): void {
  if (PROMETHEUS_AVAILABLE) {
    describe(name, fn);
    return;
  }
  const message = `${PROMETHEUS_BIN} or ${PROMTOOL_BIN} is missing: install the Debian package prometheus (scripts/system-deps.sh, or apt-get install -y prometheus)`;
  if (process.env.CI === 'true') {
    // eslint-disable-next-line jest/valid-title
    describe(name, () => {
      it('runs against a real Prometheus', () => {
        throw new Error(`${message}; CI=true does not skip this suite`);
      });
    });
  } else {
    console.warn(`Skipping "${name}": ${message}.`);
    // eslint-disable-next-line jest/no-disabled-tests, jest/valid-title
    describe.skip(`${name} (skipped: ${message})`, () => {
      it('needs Prometheus', () => undefined);
    });
  }
}

export interface RunningPrometheus {
  url: string;
  port: number;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
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

export async function startPrometheus(options: {
  /** OpenMetrics text (ending with `# EOF`) backfilled into the TSDB before start. */
  openMetrics?: string;
  /** YAML of `scrape_configs:` entries (already indented by two spaces), if it should scrape. */
  scrapeConfigs?: string;
  scrapeIntervalSeconds?: number;
}): Promise<RunningPrometheus> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'istio-mesh-prometheus-'));
  const data = path.join(dir, 'data');
  if (options.openMetrics !== undefined) {
    const file = path.join(dir, 'backfill.om');
    writeFileSync(file, options.openMetrics);
    const out = spawnSync(PROMTOOL_BIN, ['tsdb', 'create-blocks-from', 'openmetrics', file, data], { encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`promtool failed (${out.status}): ${out.stderr}${out.stdout}`);
  }
  const interval = options.scrapeIntervalSeconds ?? 1;
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    [
      'global:',
      `  scrape_interval: ${interval}s`,
      `  scrape_timeout: ${interval}s`,
      `  evaluation_interval: ${interval}s`,
      ...(options.scrapeConfigs ? ['scrape_configs:', options.scrapeConfigs] : []),
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = path.join(dir, 'prometheus.log');
  const child: ChildProcess = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${data}`,
      // Backfilled blocks lie in the past (and the near future): keep them all.
      '--storage.tsdb.retention.time=100y',
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=info',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const chunks: string[] = [];
  child.stderr!.on('data', (c: Buffer) => {
    chunks.push(c.toString());
    writeFileSync(logFile, chunks.join(''));
  });
  const kill = () => child.exitCode === null && child.kill('SIGKILL');
  process.once('exit', kill);
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '';
    }
  };
  const stop = async () => {
    process.removeListener('exit', kill);
    if (child.exitCode === null) {
      const exited = new Promise(r => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Prometheus exited with ${child.exitCode}:\n${log()}`);
    const ok = await fetch(`${url}/-/ready`).then(r => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Prometheus did not get ready in 30 s:\n${log()}`);
    }
    await sleep(200);
  }
  return { url, port, dir, log, stop };
}

/** An instant query straight to Prometheus (for harness checks, not for assertions on our code). */
export async function promQuery(url: string, promql: string, time?: number): Promise<any[]> {
  const params = new URLSearchParams({ query: promql, ...(time !== undefined ? { time: String(time) } : {}) });
  const res = await fetch(`${url}/api/v1/query?${params}`);
  const body = await res.json();
  if (body.status !== 'success') throw new Error(`${promql}: ${body.error ?? res.status}`);
  return body.data.result;
}
