/** Small statistics and formatting helpers for the bench. */

export interface Sample {
  /** Wall time from sending the request to the last byte of the body, ms. */
  ms: number;
  bytes: number;
  /** CPU time the backend process spent meanwhile, ms (10 ms resolution per sample). */
  backendCpuMs: number;
  /** CPU time the sandbox process spent meanwhile, ms. */
  sandboxCpuMs: number;
}

export interface Summary {
  n: number;
  medianMs: number;
  /** Nearest-rank 95th percentile: with fewer than 20 samples it is the maximum. */
  p95Ms: number;
  minMs: number;
  maxMs: number;
  meanBackendCpuMs: number;
  meanSandboxCpuMs: number;
  bytes: number;
  samplesMs: number[];
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function summarize(samples: Sample[]): Summary {
  const ms = samples.map(s => s.ms);
  const sorted = [...ms].sort((a, b) => a - b);
  const mean = (xs: number[]) =>
    xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
  return {
    n: samples.length,
    medianMs: round(median(ms)),
    p95Ms: round(quantile(sorted, 0.95)),
    minMs: round(sorted[0]),
    maxMs: round(sorted[sorted.length - 1]),
    meanBackendCpuMs: round(mean(samples.map(s => s.backendCpuMs))),
    meanSandboxCpuMs: round(mean(samples.map(s => s.sandboxCpuMs))),
    bytes: samples.length ? samples[samples.length - 1].bytes : 0,
    samplesMs: ms.map(round),
  };
}

export const round = (x: number, digits = 1) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}

export function fmtBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${bytes} B`;
}

export function table(
  header: string[],
  rows: string[][],
  rightAligned: boolean[] = [],
): string {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) =>
        rightAligned[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]),
      )
      .join('  ')
      .trimEnd();
  return [
    line(header),
    line(widths.map(w => '-'.repeat(w))),
    ...rows.map(line),
  ].join('\n');
}
