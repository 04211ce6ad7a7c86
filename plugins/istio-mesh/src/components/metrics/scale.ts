/**
 * Axis arithmetic for the SVG charts: "nice" ticks (1, 2, 2.5, 5 × 10^k) so axes read
 * 0, 0.5, 1, 1.5 rather than 0, 0.37, 0.74.
 */
export function niceTicks(max: number, count = 4): number[] {
  if (!Number.isFinite(max) || max <= 0) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map(m => m * magnitude).find(s => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let i = 0; i <= count + 1; i++) {
    // Rounded to the step's precision: 0.1 * 3 must print as 0.3.
    const value = Number((i * step).toPrecision(12));
    ticks.push(value);
    if (value >= max) break;
  }
  return ticks;
}

/** Time ticks on whole minutes/hours across [from, to] (epoch ms), about `count` of them. */
export function timeTicks(from: number, to: number, count = 5): number[] {
  if (!(to > from)) return [from];
  const minute = 60_000;
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 180, 240, 360, 720].map(m => m * minute);
  const step = steps.find(s => (to - from) / s <= count) ?? steps[steps.length - 1];
  const ticks: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);
  return ticks;
}

export function formatClock(t: number): string {
  const d = new Date(t);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** Up to three significant digits, no exponent: 0.0123, 1.23, 123, 1230. */
export function formatNumber(v: number): string {
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 100) return String(Math.round(v));
  if (abs >= 1) return String(Number(v.toFixed(2)));
  return String(Number(v.toPrecision(3)));
}
