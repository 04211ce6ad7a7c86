/**
 * Time for the sandbox's controllers: what "now" is (timestamps they write) and when
 * their delayed work runs (a pod starting, a control plane appearing). Servers use
 * {@link RealClock}; tests use {@link ManualClock} and move time themselves.
 */
export interface SandboxClock {
  now(): Date;
  /** Runs `callback` once after `ms` milliseconds of this clock's time. */
  setTimeout(callback: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
  /** Drops every pending timer (the server calls it on close). */
  dispose(): void;
}

export interface ClockTimer {
  readonly id: number;
}

/** Wall-clock time; timers are unref'd, so they never keep a process alive. */
export class RealClock implements SandboxClock {
  private nextId = 1;
  private readonly timers = new Map<number, NodeJS.Timeout>();

  now(): Date {
    return new Date();
  }

  setTimeout(callback: () => void, ms: number): ClockTimer {
    const id = this.nextId++;
    const handle = setTimeout(() => {
      this.timers.delete(id);
      callback();
    }, Math.max(0, ms));
    handle.unref();
    this.timers.set(id, handle);
    return { id };
  }

  clearTimeout(timer: ClockTimer): void {
    const handle = this.timers.get(timer.id);
    if (handle) clearTimeout(handle);
    this.timers.delete(timer.id);
  }

  dispose(): void {
    for (const handle of this.timers.values()) clearTimeout(handle);
    this.timers.clear();
  }

  /** How many timers are waiting. */
  get pending(): number {
    return this.timers.size;
  }
}

/**
 * Time that moves only when a test says so. `advance(ms)` runs every timer that falls
 * due, in due order (timers scheduled by those callbacks run too when they fall inside
 * the window), and leaves `now()` at the end of the window.
 */
export class ManualClock implements SandboxClock {
  private current: number;
  private nextId = 1;
  private readonly timers = new Map<number, { due: number; callback: () => void }>();

  constructor(start: Date | string = '2026-11-25T10:00:00Z') {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  setTimeout(callback: () => void, ms: number): ClockTimer {
    const id = this.nextId++;
    this.timers.set(id, { due: this.current + Math.max(0, ms), callback });
    return { id };
  }

  clearTimeout(timer: ClockTimer): void {
    this.timers.delete(timer.id);
  }

  dispose(): void {
    this.timers.clear();
  }

  /** How many timers are waiting. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, running the timers that fall due. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      let next: [number, { due: number; callback: () => void }] | undefined;
      for (const entry of this.timers) {
        // Earliest due first; equal due times in the order they were scheduled.
        if (entry[1].due <= end && (!next || entry[1].due < next[1].due)) next = entry;
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.current = Math.max(this.current, next[1].due);
      next[1].callback();
    }
    this.current = end;
  }

  /**
   * Runs timers until none is left (or `maxMs` of clock time has passed), and returns how
   * far the clock moved.
   */
  runAll(maxMs = 3_600_000): number {
    const start = this.current;
    while (this.timers.size > 0) {
      const due = Math.min(...[...this.timers.values()].map(t => t.due));
      if (due - start > maxMs) break;
      this.advance(Math.max(0, due - this.current));
    }
    return this.current - start;
  }
}

/** An ISO timestamp at second precision, as Kubernetes writes them. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** The clock of a cluster (anything with an optional `clock`), creating a RealClock on first use. */
export function clockOf(holder: { clock?: SandboxClock }): SandboxClock {
  if (!holder.clock) holder.clock = new RealClock();
  return holder.clock;
}
