/**
 * Child processes of the bench: each in its own process group (so stopping it stops its
 * children too), all stopped on exit, failure or Ctrl-C.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

export interface Proc {
  name: string;
  child: ChildProcess;
  /** The node process itself (spawned directly, no yarn or shell in between). */
  pid: number;
  log: string;
  exited: Promise<number | null>;
  exitCode?: number | null;
}

const running = new Set<Proc>();

export const sleep = (ms: number) =>
  new Promise(resolve => setTimeout(resolve, ms));

export function startNode(
  name: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; log: string; ipc?: boolean },
): Proc {
  const fd = fs.openSync(options.log, 'w');
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true, // its own process group
    stdio: options.ipc ? ['ignore', fd, fd, 'ipc'] : ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  if (!child.pid) throw new Error(`Could not start ${name}`);
  const proc: Proc = {
    name,
    child,
    pid: child.pid,
    log: options.log,
    exited: new Promise(resolve => {
      child.once('exit', code => {
        proc.exitCode = code;
        running.delete(proc);
        resolve(code);
      });
    }),
  };
  running.add(proc);
  return proc;
}

function killGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone
  }
}

/** SIGTERM to the process group, SIGKILL after `graceMs`. */
export async function stopProc(proc: Proc, graceMs = 10_000): Promise<void> {
  if (proc.exitCode === undefined) {
    killGroup(proc.pid, 'SIGTERM');
    await Promise.race([proc.exited, sleep(graceMs)]);
  }
  killGroup(proc.pid, 'SIGKILL'); // the leader's children, or a leader that did not stop
  await Promise.race([proc.exited, sleep(2_000)]);
  running.delete(proc);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map(p => stopProc(p)));
}

let installed = false;
/** Set once a signal asked the bench to stop (errors that follow are its consequence). */
export let interrupted = false;
/** Stops every child on exit, on SIGINT/SIGTERM/SIGHUP and on an uncaught error. */
export function installCleanup() {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const p of running) killGroup(p.pid, 'SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      interrupted = true;
      process.stderr.write(`\n${signal}: stopping the bench's processes\n`);
      stopAll().finally(() => process.exit(130));
    });
  }
}

/** In use if something answers on 127.0.0.1 or the port cannot be bound on all interfaces. */
export async function portInUse(port: number): Promise<boolean> {
  const answers = await new Promise<boolean>(resolve => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
  if (answers) return true;
  return new Promise<boolean>(resolve => {
    const server = net.createServer();
    server.once('error', () => resolve(true));
    server.listen(port, () => server.close(() => resolve(false)));
  });
}

export interface ProcMemory {
  /** Peak resident set size (VmHWM), bytes. */
  peakRss: number;
  /** Current resident set size (VmRSS), bytes. */
  rss: number;
}

export function procMemory(pid: number): ProcMemory {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`No ${key} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { peakRss: kb('VmHWM'), rss: kb('VmRSS') };
}

/** CPU time (user + system) of a process, in milliseconds; 0 if it is gone. */
export function procCpuMs(pid: number, ticksPerSecond: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may contain spaces) start at state (field 3).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / ticksPerSecond;
  } catch {
    return 0;
  }
}

export function tailLog(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
