/**
 * Every PromQL query the portal runs, built from parts that are escaped and validated
 * here (workload and namespace names come from the catalog and the cluster, so they are
 * user input). Documented in docs/metrics.md; tested against a real Prometheus in
 * istio-mesh-backend/src/metrics/metrics.prometheus.test.ts.
 */
import type { GoldenSignals, TcpTraffic } from './metrics';

export interface LabelMatcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isValidLabelName(name: string): boolean {
  return LABEL_NAME.test(name);
}

/** A label value as a PromQL double-quoted string literal (without the quotes). */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** RE2 metacharacters escaped, so a name matches only itself inside `=~`. */
export function escapeRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/**
 * Names Istio puts into `*_workload` and `*_namespace` labels: Kubernetes object names
 * (DNS subdomains, at most 253 characters), or `unknown`. Anything else is refused before
 * it gets near a query.
 */
const KUBERNETES_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export function isValidWorkloadName(value: string): boolean {
  return KUBERNETES_NAME.test(value);
}

export function assertValidName(what: string, value: string): void {
  if (!isValidWorkloadName(value)) {
    throw new TypeError(`Invalid ${what} for a metrics query: ${JSON.stringify(value)} is not a Kubernetes name`);
  }
}

export function eq(name: string, value: string): LabelMatcher {
  return { name, op: '=', value };
}

/** `name=~"a|b"` matching exactly the given values (escaped). */
export function oneOf(name: string, values: string[]): LabelMatcher {
  const unique = [...new Set(values)].sort();
  if (unique.length === 1) return eq(name, unique[0]);
  return { name, op: '=~', value: unique.map(escapeRegex).join('|') };
}

/** `{a="b",c=~"d"}`; label names validated, values escaped. */
export function selector(matchers: LabelMatcher[]): string {
  for (const m of matchers) {
    if (!isValidLabelName(m.name)) throw new TypeError(`Invalid Prometheus label name ${JSON.stringify(m.name)}`);
  }
  return `{${matchers.map(m => `${m.name}${m.op}"${escapeLabelValue(m.value)}"`).join(',')}}`;
}

/** A PromQL range duration in whole seconds, e.g. `300s`. */
export function duration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds <= 0) throw new TypeError(`Invalid range duration ${seconds} s`);
  return `${seconds}s`;
}

/** The labels that name a workload on the destination side of Istio's metrics. */
export const DESTINATION_WORKLOAD = ['destination_workload', 'destination_workload_namespace'] as const;
export const SOURCE_WORKLOAD = ['source_workload', 'source_workload_namespace'] as const;

export const ISTIO_METRICS = {
  requests: 'istio_requests_total',
  durationBucket: 'istio_request_duration_milliseconds_bucket',
} as const;

export const QUANTILES = { p50Ms: 0.5, p90Ms: 0.9, p99Ms: 0.99 } as const;

export interface GoldenSignalQueryInput {
  /** Cluster matchers (e.g. `cluster="aks-dev"`) and what selects the workloads. */
  matchers: LabelMatcher[];
  /** The rate window in seconds. */
  rateIntervalSeconds: number;
  /** Labels kept in the result (besides `le` for the quantiles); empty: one series. */
  by: readonly string[];
}

/**
 * The golden signals of the workloads the matchers select, as the receiving proxies saw
 * them (`reporter="destination"`): one query per signal, each returning one series per
 * `by` group.
 *
 * - The error ratio's numerator is `or`-ed with zero per group: a workload that served
 *   no 5xx has no 5xx series, and without it the division would drop the group (no
 *   data) instead of answering 0.
 * - A group with no requests divides 0 by 0 (NaN), and histogram_quantile of empty
 *   buckets is NaN: both read as "no data".
 */
export function goldenSignalQueries(input: GoldenSignalQueryInput): Record<keyof GoldenSignals, string> {
  const base: LabelMatcher[] = [eq('reporter', 'destination'), ...input.matchers];
  const range = `[${duration(input.rateIntervalSeconds)}]`;
  const by = (labels: readonly string[]) => `sum by (${labels.join(', ')})`;
  const sum = (labels: readonly string[]) => (labels.length ? by(labels) : 'sum');
  const requests = `rate(${ISTIO_METRICS.requests}${selector(base)}${range})`;
  const errors = `rate(${ISTIO_METRICS.requests}${selector([...base, { name: 'response_code', op: '=~', value: '5..' }])}${range})`;
  const total = `${sum(input.by)} (${requests})`;
  const quantile = (q: number) =>
    `histogram_quantile(${q}, ${by([...input.by, 'le'])} (rate(${ISTIO_METRICS.durationBucket}${selector(base)}${range})))`;
  return {
    requestsPerSecond: total,
    errorRatio: `(${sum(input.by)} (${errors}) or ${total} * 0) / ${total}`,
    p50Ms: quantile(QUANTILES.p50Ms),
    p90Ms: quantile(QUANTILES.p90Ms),
    p99Ms: quantile(QUANTILES.p99Ms),
  };
}

/** Matchers selecting workloads by name and namespace (validated; cross product with the other's values is filtered by the caller). */
export function workloadMatchers(
  side: 'destination' | 'source',
  workloads: Array<{ workload: string; namespace: string }>,
): LabelMatcher[] {
  if (workloads.length === 0) throw new TypeError('No workloads to query');
  for (const w of workloads) {
    assertValidName('workload', w.workload);
    assertValidName('namespace', w.namespace);
  }
  return [
    oneOf(`${side}_workload`, workloads.map(w => w.workload)),
    oneOf(`${side}_workload_namespace`, workloads.map(w => w.namespace)),
  ];
}

/** `pod=~"a|b"` for a group of pods (per sidecar revision). */
export function podMatcher(podLabel: string, pods: string[]): LabelMatcher {
  if (pods.length === 0) throw new TypeError('No pods to query');
  for (const p of pods) assertValidName('pod', p);
  return oneOf(podLabel, pods);
}

export const ISTIO_TCP_METRICS: Record<keyof TcpTraffic, string> = {
  requestBytesPerSecond: 'istio_tcp_received_bytes_total',
  responseBytesPerSecond: 'istio_tcp_sent_bytes_total',
  connectionsOpenedPerSecond: 'istio_tcp_connections_opened_total',
};

/** What an edge is grouped by: both workloads, and the host that names an unknown destination. */
const EDGE_LABELS = [...SOURCE_WORKLOAD, ...DESTINATION_WORKLOAD, 'destination_service'] as const;

/**
 * The topology edges touching the given workloads, averaged over `windowSeconds`
 * (`combineTopologyEdges` in metrics.ts turns the answers into edges):
 * - HTTP (`istio_requests_total`, by response code, for the 5xx ratio): `inbound` and
 *   `outbound` as the callers' proxies reported them (`reporter="source"`), and
 *   `unmeshedInbound`: callers without a sidecar have no proxy to report, so the receiving
 *   proxy's view of them (`reporter="destination"`, `source_workload="unknown"`);
 * - TCP: one query per counter, the same three selections `or`-ed. They cannot overlap
 *   but for an edge between two of the workloads, which is in both directions with the
 *   same labels and value, and `or` keeps it once. A destination outside the mesh has no
 *   proxy: only the caller reports it, as `destination_workload="unknown"` with the host
 *   it connected to in `destination_service`.
 */
export function topologyQueries(input: {
  clusterMatchers: LabelMatcher[];
  workloads: Array<{ workload: string; namespace: string }>;
  windowSeconds: number;
}): { inbound: string; outbound: string; unmeshedInbound: string; tcp: Record<keyof TcpTraffic, string> } {
  const range = `[${duration(input.windowSeconds)}]`;
  const selections = {
    inbound: [eq('reporter', 'source'), ...workloadMatchers('destination', input.workloads)],
    outbound: [eq('reporter', 'source'), ...workloadMatchers('source', input.workloads)],
    unmeshedInbound: [eq('reporter', 'destination'), eq('source_workload', 'unknown'), ...workloadMatchers('destination', input.workloads)],
  };
  const q = (metric: string, labels: readonly string[], matchers: LabelMatcher[]) =>
    `sum by (${labels.join(', ')}) (rate(${metric}${selector([...matchers, ...input.clusterMatchers])}${range}))`;
  const http = (matchers: LabelMatcher[]) => q(ISTIO_METRICS.requests, [...EDGE_LABELS, 'response_code'], matchers);
  const tcp = (metric: string) => Object.values(selections).map(m => q(metric, EDGE_LABELS, m)).join(' or ');
  return {
    inbound: http(selections.inbound),
    outbound: http(selections.outbound),
    unmeshedInbound: http(selections.unmeshedInbound),
    tcp: {
      requestBytesPerSecond: tcp(ISTIO_TCP_METRICS.requestBytesPerSecond),
      responseBytesPerSecond: tcp(ISTIO_TCP_METRICS.responseBytesPerSecond),
      connectionsOpenedPerSecond: tcp(ISTIO_TCP_METRICS.connectionsOpenedPerSecond),
    },
  };
}

/**
 * The step of a range query over `windowSeconds`: at least `minStepSeconds`, and coarse
 * enough that a series has at most `maxPoints` points. `end` is aligned to the step so
 * that successive reloads ask for the same points.
 */
export function rangeFor(
  endMs: number,
  windowSeconds: number,
  options: { maxPoints: number; minStepSeconds: number },
): { start: number; end: number; stepSeconds: number; points: number } {
  if (!(options.maxPoints >= 2)) throw new TypeError('maxPoints must be at least 2');
  const stepSeconds = Math.max(options.minStepSeconds, Math.ceil(windowSeconds / (options.maxPoints - 1)));
  const stepMs = stepSeconds * 1000;
  const end = Math.floor(endMs / stepMs) * stepMs;
  const points = Math.floor((windowSeconds * 1000) / stepMs) + 1;
  const start = end - (points - 1) * stepMs;
  return { start, end, stepSeconds, points };
}
