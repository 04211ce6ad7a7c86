/**
 * The distributions behind the simulated histograms: request latency and body sizes are
 * log-normal (what service latencies roughly look like), optionally stretched and shifted
 * by a spike (`value × multiplier + offset`). Histograms are filled with the expected
 * share of requests per bucket, so a bucket's count is `requests × CDF(le)`.
 */

/**
 * Envoy's default histogram buckets, which Istio's standard metrics use unless a pod sets
 * `sidecar.istio.io/statsHistogramBuckets`: `istio_request_duration_milliseconds` (ms) and
 * `istio_request_bytes` / `istio_response_bytes` (bytes). `+Inf` is implied.
 */
export const ISTIO_HISTOGRAM_BUCKETS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

/** A log-normal distribution given by its median and the standard deviation of its logarithm. */
export interface LogNormal {
  median: number;
  /** σ of ln(X); default 0.5. */
  sigma?: number;
}

/** A log-normal distribution, then `× multiplier + offset`. */
export interface ShiftedLogNormal extends LogNormal {
  multiplier?: number;
  offset?: number;
}

/** erf(x) after Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7). */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return sign * y;
}

/** The standard normal CDF. */
export function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

/** P(X ≤ x) for the shifted log-normal X. */
export function cdf(d: ShiftedLogNormal, x: number): number {
  const multiplier = d.multiplier ?? 1;
  const offset = d.offset ?? 0;
  const sigma = d.sigma ?? 0.5;
  const base = (x - offset) / multiplier;
  if (!(base > 0)) return 0;
  if (sigma === 0) return base >= d.median ? 1 : 0;
  return normalCdf((Math.log(base) - Math.log(d.median)) / sigma);
}

/** E[X] for the shifted log-normal X. */
export function mean(d: ShiftedLogNormal): number {
  const sigma = d.sigma ?? 0.5;
  return (d.multiplier ?? 1) * d.median * Math.exp((sigma * sigma) / 2) + (d.offset ?? 0);
}

/**
 * The quantile that Prometheus' `histogram_quantile(q, …)` reports for a histogram filled
 * from `d` with `buckets` (linear interpolation inside the bucket, the lowest bucket
 * starting at 0): what a test expects from a real Prometheus.
 */
export function histogramQuantile(q: number, d: ShiftedLogNormal, buckets: readonly number[] = ISTIO_HISTOGRAM_BUCKETS): number {
  let lower = 0;
  let below = 0;
  for (const upper of buckets) {
    const at = cdf(d, upper);
    if (at >= q) {
      if (at === below) return upper;
      return lower + ((upper - lower) * (q - below)) / (at - below);
    }
    lower = upper;
    below = at;
  }
  return buckets[buckets.length - 1]; // Prometheus answers the highest finite bound for the +Inf bucket
}
