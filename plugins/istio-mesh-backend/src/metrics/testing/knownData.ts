/**
 * Istio metrics with values worked out by hand, as OpenMetrics for
 * `promtool tsdb create-blocks-from openmetrics`. Every counter grows linearly (a sample
 * every 10 s), so `rate()` over any window inside the data is the configured rate and
 * `histogram_quantile` interpolates linearly inside the bucket that holds the rank.
 *
 * Rates per second, in cluster `cluster` unless noted:
 *
 * payments/payments-api, as its own proxies report it (`reporter="destination"`):
 *   pod A (revision asm-1-29): from storefront/checkout 200: 4.7, 500: 0.3; from unknown 200: 1.0
 *   pod B (revision asm-1-30): from storefront/checkout 200: 3.9, 503: 0.1
 *   → 10 req/s, 5xx 0.4/s = 0.04; A: 6 req/s, 0.05; B: 4 req/s, 0.025
 *   duration buckets (cumulative, le 10 25 50 100 250 500 1000 +Inf):
 *   A: 0.6 1.8 4.2 5.5 6 6 6 6;  B: 1.4 2.2 3.8 4.0 4 4 4 4;  A+B: 2 4 8 9.5 10 10 10 10
 *   → p50: rank 5 in (25, 50]: 25 + 25·(5−4)/(8−4) = 31.25
 *     p90: rank 9 in (50, 100]: 50 + 50·(9−8)/(9.5−8) = 83.333…
 *     p99: rank 9.9 in (100, 250]: 100 + 150·(9.9−9.5)/(10−9.5) = 220
 *     A: p50 25 + 25·(3−1.8)/2.4 = 37.5, p90 50 + 50·(5.4−4.2)/1.3 = 96.1538…, p99 100 + 150·(5.94−5.5)/0.5 = 232
 *     B: p50 10 + 15·(2−1.4)/0.8 = 21.25, p90 25 + 25·(3.6−2.2)/1.6 = 46.875, p99 50 + 50·(3.96−3.8)/0.2 = 90
 * storefront/checkout's proxy about its calls to payments-api (`reporter="source"`):
 *   200: 8.55, 500: 0.45 (edge 9 req/s, 0.05), every request in (500, 1000] ms. Deliberately
 *   not what the destination saw: a query on the wrong reporter gets 19 req/s and p50 > 500.
 * payments-api's proxies about their calls (`reporter="source"`): to payments/payments-worker
 *   A 200: 1.5, B 200: 0.5 (edge 2 req/s, 0); to unknown (no healthy upstream) B 503: 0.2 (edge 0.2, 1).
 * payments/payments-worker (`reporter="destination"`): from payments-api 200: 2, no 5xx series at
 *   all (the ratio is 0, not "no data"); buckets le 10: 1, 25 and up: 2
 *   → p50 0 + 10·1/1 = 10, p90 10 + 15·(1.8−1)/1 = 22, p99 10 + 15·(1.98−1)/1 = 24.7
 * Traps: payments-api in namespace staging (50 req/s, all 5xx) and in cluster `otherCluster`
 *   (100 req/s, all 5xx): a query missing the namespace or the cluster matcher sees them.
 *
 * TCP (`istio_tcp_received_bytes_total` = bytes the caller sent, `istio_tcp_sent_bytes_total`
 * = bytes that came back, `istio_tcp_connections_opened_total`; no response codes), per second:
 * payments-worker's proxy (`reporter="source"`) to payments-db.postgres.database.azure.com, an
 *   Azure PostgreSQL without a sidecar (`destination_workload="unknown"`): 2048 B out,
 *   8192 B back, 0.2 connections (closed at the same rate).
 * payments-api's proxies (`reporter="source"`) to payments/payments-cache: A 300 B out,
 *   1200 B back, 0.5 connections; B 212, 848, 0.25 → edge 512 B, 2048 B, 0.75 connections.
 *   payments-cache's own proxy about the same connections (`reporter="destination"`): 5000,
 *   20000, 7. Deliberately not what the callers saw: a query on the wrong reporter reads
 *   5000, one without a reporter 5512.
 * payments-api pod A (`reporter="destination"`) from a caller without a sidecar
 *   (`source_workload="unknown"`): 64 B in, 256 B back, 0.125 connections.
 * Traps: payments-worker in namespace staging (1e6 B/s each way, 100 connections/s) and in
 *   cluster `otherCluster` (1e5 B/s each way, 10 connections/s), both to payments-db.
 */
export interface KnownDataOptions {
  cluster: string;
  otherCluster: string;
  apiPods: [string, string];
  workerPod: string;
  checkoutPod: string;
  /** First and last sample (epoch seconds, multiples of 10). */
  start: number;
  end: number;
}

export const EXPECTED = {
  api: { requestsPerSecond: 10, errorRatio: 0.04, p50Ms: 31.25, p90Ms: 50 + 50 / 1.5, p99Ms: 220 },
  apiPodA: { requestsPerSecond: 6, errorRatio: 0.05, p50Ms: 37.5, p90Ms: 50 + (50 * 1.2) / 1.3, p99Ms: 232 },
  apiPodB: { requestsPerSecond: 4, errorRatio: 0.025, p50Ms: 21.25, p90Ms: 46.875, p99Ms: 90 },
  worker: { requestsPerSecond: 2, errorRatio: 0, p50Ms: 10, p90Ms: 22, p99Ms: 24.7 },
} as const;

export const PAYMENTS_DB = 'payments-db.postgres.database.azure.com';

/** The TCP edges touching payments/payments-api and payments/payments-worker, as `combineTopologyEdges` gives them. */
export const EXPECTED_TCP = {
  apiToCache: { requestBytesPerSecond: 512, responseBytesPerSecond: 2048, connectionsOpenedPerSecond: 0.75 },
  workerToDb: { requestBytesPerSecond: 2048, responseBytesPerSecond: 8192, connectionsOpenedPerSecond: 0.2 },
  unmeshedToApi: { requestBytesPerSecond: 64, responseBytesPerSecond: 256, connectionsOpenedPerSecond: 0.125 },
} as const;

type TcpFamily = 'istio_tcp_received_bytes_total' | 'istio_tcp_sent_bytes_total' | 'istio_tcp_connections_opened_total' | 'istio_tcp_connections_closed_total';

interface TcpSeries {
  labels: Record<string, string>;
  /** Rates per family: bytes out, bytes back, connections opened (and closed at the same rate). */
  received: number;
  sent: number;
  opened: number;
}

const LE = ['10', '25', '50', '100', '250', '500', '1000', '+Inf'];

interface CounterSeries {
  labels: Record<string, string>;
  rate: number;
}

interface HistogramSeries {
  labels: Record<string, string>;
  /** Cumulative rates per `LE` bound. */
  buckets: number[];
  /** Rate of the sum of durations (ms/s), only for realism. */
  sum: number;
}

export function knownData(o: KnownDataOptions): string {
  const proxy = (cluster: string, namespace: string, pod: string) => ({ job: 'mesh-sandbox', cluster, namespace, pod });
  const dest = (workload: string, namespace: string) => ({
    destination_workload: workload,
    destination_workload_namespace: namespace,
    destination_service: `${workload}.${namespace}.svc.cluster.local`,
  });
  const src = (workload: string, namespace: string) => ({ source_workload: workload, source_workload_namespace: namespace });
  const [podA, podB] = o.apiPods;
  const a = proxy(o.cluster, 'payments', podA);
  const b = proxy(o.cluster, 'payments', podB);
  const worker = proxy(o.cluster, 'payments', o.workerPod);
  const checkout = proxy(o.cluster, 'storefront', o.checkoutPod);
  const api = dest('payments-api', 'payments');
  const fromCheckout = src('checkout', 'storefront');
  const inbound = { reporter: 'destination', request_protocol: 'http' };
  const outbound = { reporter: 'source', request_protocol: 'http' };
  const code = (c: string) => ({ response_code: c });

  const counters: CounterSeries[] = [
    { labels: { ...a, ...inbound, ...fromCheckout, ...api, ...code('200') }, rate: 4.7 },
    { labels: { ...a, ...inbound, ...fromCheckout, ...api, ...code('500') }, rate: 0.3 },
    { labels: { ...a, ...inbound, ...src('unknown', 'unknown'), ...api, ...code('200') }, rate: 1.0 },
    { labels: { ...b, ...inbound, ...fromCheckout, ...api, ...code('200') }, rate: 3.9 },
    { labels: { ...b, ...inbound, ...fromCheckout, ...api, ...code('503') }, rate: 0.1 },
    { labels: { ...checkout, ...outbound, ...fromCheckout, ...api, ...code('200') }, rate: 8.55 },
    { labels: { ...checkout, ...outbound, ...fromCheckout, ...api, ...code('500') }, rate: 0.45 },
    { labels: { ...a, ...outbound, ...src('payments-api', 'payments'), ...dest('payments-worker', 'payments'), ...code('200') }, rate: 1.5 },
    { labels: { ...b, ...outbound, ...src('payments-api', 'payments'), ...dest('payments-worker', 'payments'), ...code('200') }, rate: 0.5 },
    {
      labels: { ...b, ...outbound, ...src('payments-api', 'payments'), destination_workload: 'unknown', destination_workload_namespace: 'unknown', destination_service: 'unknown', ...code('503'), response_flags: 'UH' },
      rate: 0.2,
    },
    { labels: { ...worker, ...inbound, ...src('payments-api', 'payments'), ...dest('payments-worker', 'payments'), ...code('200') }, rate: 2 },
    // Traps.
    { labels: { ...proxy(o.cluster, 'staging', 'payments-api-staging-0'), ...inbound, ...fromCheckout, ...dest('payments-api', 'staging'), ...code('500') }, rate: 50 },
    { labels: { ...proxy(o.otherCluster, 'payments', 'payments-api-other-0'), ...inbound, ...fromCheckout, ...api, ...code('503') }, rate: 100 },
  ];
  const histograms: HistogramSeries[] = [
    { labels: { ...a, ...inbound, ...fromCheckout, ...api, ...code('200') }, buckets: [0.6, 1.8, 4.2, 5.5, 6, 6, 6, 6], sum: 300 },
    { labels: { ...b, ...inbound, ...fromCheckout, ...api, ...code('200') }, buckets: [1.4, 2.2, 3.8, 4.0, 4, 4, 4, 4], sum: 120 },
    { labels: { ...checkout, ...outbound, ...fromCheckout, ...api, ...code('200') }, buckets: [0, 0, 0, 0, 0, 0, 9, 9], sum: 6750 },
    { labels: { ...worker, ...inbound, ...src('payments-api', 'payments'), ...dest('payments-worker', 'payments'), ...code('200') }, buckets: [1, 2, 2, 2, 2, 2, 2, 2], sum: 25 },
    { labels: { ...proxy(o.cluster, 'staging', 'payments-api-staging-0'), ...inbound, ...fromCheckout, ...dest('payments-api', 'staging'), ...code('500') }, buckets: [0, 0, 0, 0, 0, 0, 0, 50], sum: 1e6 },
    { labels: { ...proxy(o.otherCluster, 'payments', 'payments-api-other-0'), ...inbound, ...fromCheckout, ...api, ...code('503') }, buckets: [100, 100, 100, 100, 100, 100, 100, 100], sum: 100 },
  ];

  const tcp = { request_protocol: 'tcp', response_flags: '-' };
  const toDb = {
    destination_workload: 'unknown',
    destination_workload_namespace: 'unknown',
    destination_service: PAYMENTS_DB,
    destination_service_name: PAYMENTS_DB,
    destination_service_namespace: 'unknown',
  };
  const fromWorker = src('payments-worker', 'payments');
  const fromApi = src('payments-api', 'payments');
  const cachePod = proxy(o.cluster, 'payments', 'payments-cache-0');
  const tcpSeries: TcpSeries[] = [
    { labels: { ...worker, reporter: 'source', ...tcp, ...fromWorker, ...toDb }, received: 2048, sent: 8192, opened: 0.2 },
    { labels: { ...a, reporter: 'source', ...tcp, ...fromApi, ...dest('payments-cache', 'payments') }, received: 300, sent: 1200, opened: 0.5 },
    { labels: { ...b, reporter: 'source', ...tcp, ...fromApi, ...dest('payments-cache', 'payments') }, received: 212, sent: 848, opened: 0.25 },
    { labels: { ...cachePod, reporter: 'destination', ...tcp, ...fromApi, ...dest('payments-cache', 'payments') }, received: 5000, sent: 20000, opened: 7 },
    { labels: { ...a, reporter: 'destination', ...tcp, ...src('unknown', 'unknown'), ...api }, received: 64, sent: 256, opened: 0.125 },
    // Traps.
    { labels: { ...proxy(o.cluster, 'staging', 'payments-worker-staging-0'), reporter: 'source', ...tcp, ...src('payments-worker', 'staging'), ...toDb }, received: 1e6, sent: 1e6, opened: 100 },
    { labels: { ...proxy(o.otherCluster, 'payments', 'payments-worker-other-0'), reporter: 'source', ...tcp, ...fromWorker, ...toDb }, received: 1e5, sent: 1e5, opened: 10 },
  ];
  const tcpRate: Record<TcpFamily, (s: TcpSeries) => number> = {
    istio_tcp_received_bytes_total: s => s.received,
    istio_tcp_sent_bytes_total: s => s.sent,
    istio_tcp_connections_opened_total: s => s.opened,
    istio_tcp_connections_closed_total: s => s.opened,
  };

  const fmt = (labels: Record<string, string>) =>
    `{${Object.entries(labels)
      .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
      .join(',')}}`;
  // Counters start high so that rate()'s extrapolation is never clipped at zero.
  const value = (rate: number, elapsed: number) => (100000 + rate * elapsed).toFixed(4);
  const lines: string[] = ['# TYPE istio_requests counter'];
  const times: number[] = [];
  for (let t = o.start; t <= o.end; t += 10) times.push(t);
  for (const t of times) {
    for (const s of counters) lines.push(`istio_requests_total${fmt(s.labels)} ${value(s.rate, t - o.start)} ${t}`);
  }
  lines.push('# TYPE istio_request_duration_milliseconds histogram');
  for (const t of times) {
    for (const h of histograms) {
      h.buckets.forEach((rate, i) => lines.push(`istio_request_duration_milliseconds_bucket${fmt({ ...h.labels, le: LE[i] })} ${value(rate, t - o.start)} ${t}`));
      lines.push(`istio_request_duration_milliseconds_sum${fmt(h.labels)} ${value(h.sum, t - o.start)} ${t}`);
      lines.push(`istio_request_duration_milliseconds_count${fmt(h.labels)} ${value(h.buckets[h.buckets.length - 1], t - o.start)} ${t}`);
    }
  }
  for (const [family, rate] of Object.entries(tcpRate)) {
    lines.push(`# TYPE ${family.replace(/_total$/, '')} counter`);
    for (const t of times) {
      for (const s of tcpSeries) lines.push(`${family}${fmt(s.labels)} ${value(rate(s), t - o.start)} ${t}`);
    }
  }
  lines.push('# EOF', '');
  return lines.join('\n');
}
