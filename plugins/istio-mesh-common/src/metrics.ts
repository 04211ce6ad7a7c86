/**
 * Golden signals (request rate, 5xx ratio, latency percentiles) of mesh workloads, read
 * from the Istio standard metrics through Prometheus: the response types of the metrics
 * endpoints, the topology's edges, the health rules and the upgrade health gate's
 * comparison. Pure; no I/O.
 * Kept in sync with `istio-mesh-backend/src/schema/openapi.yaml` and docs/metrics.md.
 */
import type { ClusterError } from './api';

/** The time ranges the metrics endpoints accept (`?window=`). */
export type MetricsWindow = '15m' | '1h' | '6h' | '24h';

export const METRICS_WINDOWS: readonly MetricsWindow[] = ['15m', '1h', '6h', '24h'];

const WINDOW_SECONDS: Record<MetricsWindow, number> = {
  '15m': 15 * 60,
  '1h': 60 * 60,
  '6h': 6 * 60 * 60,
  '24h': 24 * 60 * 60,
};

export function metricsWindowSeconds(window: MetricsWindow): number {
  return WINDOW_SECONDS[window];
}

export function isMetricsWindow(value: unknown): value is MetricsWindow {
  return typeof value === 'string' && (METRICS_WINDOWS as readonly string[]).includes(value);
}

/**
 * A workload's (or a group of pods') golden signals. `null` when Prometheus has no data:
 * no series at all, or no requests (a ratio or quantile of zero requests is undefined).
 */
export interface GoldenSignals {
  requestsPerSecond: number | null;
  /** 5xx responses over all responses, 0..1. */
  errorRatio: number | null;
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
}

export const NO_SIGNALS: GoldenSignals = {
  requestsPerSecond: null,
  errorRatio: null,
  p50Ms: null,
  p90Ms: null,
  p99Ms: null,
};

/** Health from the golden signals (not to be confused with a cluster's `MeshHealth`). */
export type SignalHealth = 'healthy' | 'degraded' | 'failing' | 'no-data';

/** One point of a series: epoch milliseconds and the value (`null` for a gap). */
export interface SeriesPoint {
  t: number;
  v: number | null;
}

export interface GoldenSignalSeries {
  requestsPerSecond: SeriesPoint[];
  errorRatio: SeriesPoint[];
  p50Ms: SeriesPoint[];
  p90Ms: SeriesPoint[];
  p99Ms: SeriesPoint[];
}

/** The pods of one workload that run one sidecar revision (a workload mid-migration). */
export interface RevisionMetrics {
  /** The sidecar revision of these pods. */
  revision: string;
  pods: string[];
  current: GoldenSignals;
  health: SignalHealth;
  series: GoldenSignalSeries;
}

export interface WorkloadMetrics {
  cluster: string;
  namespace: string;
  /** The workload's name as Istio reports it (`destination_workload`, the Deployment's name). */
  workload: string;
  /** Over the last `rateIntervalSeconds` before `end`. */
  current: GoldenSignals;
  health: SignalHealth;
  /** Why the health is not `healthy`, in plain words. */
  healthReasons: string[];
  series: GoldenSignalSeries;
  /** Present when the workload's pods run more than one sidecar revision. */
  byRevision?: RevisionMetrics[];
}

/** `GET /v1/entities/:kind/:namespace/:name/metrics?window=1h`. */
export interface EntityMetrics {
  entityRef: string;
  window: MetricsWindow;
  /** Epoch milliseconds of the first and last point of every series. */
  start: number;
  end: number;
  stepSeconds: number;
  /** The rate window behind `current` and each series point, e.g. 300 for `[5m]`. */
  rateIntervalSeconds: number;
  workloads: WorkloadMetrics[];
  /** Clusters whose Prometheus failed or is not configured; never fatal for the others. */
  errors: ClusterError[];
}

export interface TopologyWorkloadRef {
  /** `unknown` for peers without a sidecar (outside the mesh). */
  workload: string;
  namespace: string;
  /**
   * Only on an `unknown` destination whose caller knew what it addressed: the host
   * (`destination_service`), e.g. `payments-db.postgres.database.azure.com` for a database
   * outside the mesh. It names the node, so two such destinations stay two nodes. Absent
   * for known workloads (reached through any of their Services) and when the caller did not
   * know the host either (`destination_service="unknown"`).
   */
  service?: string;
}

/** One node's identity within a cluster: namespace, workload and, for an unknown destination, the host. */
export function topologyRefKey(ref: TopologyWorkloadRef): string {
  return `${ref.namespace}/${ref.workload}${ref.service === undefined ? '' : `@${ref.service}`}`;
}

export interface TopologyNode extends TopologyWorkloadRef {
  cluster: string;
  /** `self`: one of the entity's workloads; `caller`/`callee`: a neighbour. */
  role: 'self' | 'caller' | 'callee';
}

interface TopologyEdgeBase {
  cluster: string;
  source: TopologyWorkloadRef;
  destination: TopologyWorkloadRef;
}

/** Requests (HTTP/1.1, HTTP/2, gRPC: `istio_requests_total`). */
export interface HttpTopologyEdge extends TopologyEdgeBase {
  protocol: 'http';
  /** Averaged over the window, as the callers' proxies saw it (`reporter="source"`). */
  requestsPerSecond: number;
  /** 5xx over all responses; `null` without requests. */
  errorRatio: number | null;
}

/**
 * What a TCP edge carried, averaged over the window, from the caller's point of view. Istio
 * names the counters from the destination's side: `istio_tcp_received_bytes_total` is what
 * the caller sent, `istio_tcp_sent_bytes_total` what came back.
 */
export interface TcpTraffic {
  /** Bytes/s from the source to the destination (`istio_tcp_received_bytes_total`). */
  requestBytesPerSecond: number;
  /** Bytes/s from the destination back to the source (`istio_tcp_sent_bytes_total`). */
  responseBytesPerSecond: number;
  /** Connections opened per second (`istio_tcp_connections_opened_total`). */
  connectionsOpenedPerSecond: number;
}

/**
 * Connections Istio proxied as plain TCP (a database, a TLS passthrough): no requests and no
 * response codes. `requestsPerSecond` is 0 and `errorRatio` null, so readers written before
 * TCP edges existed (summing request rates over every edge) keep working.
 */
export interface TcpTopologyEdge extends TopologyEdgeBase {
  protocol: 'tcp';
  requestsPerSecond: 0;
  errorRatio: null;
  tcp: TcpTraffic;
}

/** One direction between two nodes for one protocol: a pair talking HTTP and TCP has two edges. */
export type TopologyEdge = HttpTopologyEdge | TcpTopologyEdge;

/** A sample of an instant query, as a metrics provider returns it (`null` for NaN). */
export interface TopologySample {
  metric: Record<string, string>;
  value: number | null;
}

/** The answers to `topologyQueries` (promql.ts), by query. */
export interface TopologySamples {
  inbound: TopologySample[];
  outbound: TopologySample[];
  unmeshedInbound: TopologySample[];
  tcp: Record<keyof TcpTraffic, TopologySample[]>;
}

function sourceOf(m: Record<string, string>): TopologyWorkloadRef {
  return { workload: m.source_workload ?? 'unknown', namespace: m.source_workload_namespace ?? 'unknown' };
}

function destinationOf(m: Record<string, string>): TopologyWorkloadRef {
  const ref: TopologyWorkloadRef = { workload: m.destination_workload ?? 'unknown', namespace: m.destination_workload_namespace ?? 'unknown' };
  const service = m.destination_service;
  // A known workload is one node however it was addressed; an unknown one is only told apart by the host.
  if (ref.workload === 'unknown' && service && service !== 'unknown') ref.service = service;
  return ref;
}

/**
 * The edges of one cluster touching the entity's `workloads` (namespace and name), from
 * the answers to `topologyQueries`:
 * - a series whose matched side is not one of the workloads is dropped: the name and
 *   namespace regexes select their cross product, which may include a neighbour;
 * - an edge between two of the workloads is in both `inbound` and `outbound`: counted once
 *   (the TCP queries `or` the directions, which keeps one already);
 * - HTTP response codes are summed into the rate and the 5xx ratio; the three TCP
 *   counters of one edge are joined.
 * Sorted by source, destination, protocol.
 */
export function combineTopologyEdges(
  cluster: string,
  workloads: Array<{ workload: string; namespace: string }>,
  samples: TopologySamples,
): TopologyEdge[] {
  const self = new Set(workloads.map(w => topologyRefKey({ workload: w.workload, namespace: w.namespace })));
  const isSelf = (ref: TopologyWorkloadRef) => self.has(topologyRefKey(ref));
  const edgeKey = (protocol: string, source: TopologyWorkloadRef, destination: TopologyWorkloadRef) =>
    `${protocol} ${topologyRefKey(source)}>${topologyRefKey(destination)}`;

  const http = new Map<string, { edge: HttpTopologyEdge; errors: number }>();
  const reported = new Map<string, TopologySample>();
  for (const s of [
    ...samples.inbound.filter(x => isSelf(destinationOf(x.metric))),
    ...samples.outbound.filter(x => isSelf(sourceOf(x.metric))),
  ]) {
    reported.set(JSON.stringify(Object.entries(s.metric).sort()), s);
  }
  for (const s of [...reported.values(), ...samples.unmeshedInbound.filter(x => isSelf(destinationOf(x.metric)))]) {
    const source = sourceOf(s.metric);
    const destination = destinationOf(s.metric);
    const key = edgeKey('http', source, destination);
    const entry = http.get(key) ?? { edge: { cluster, source, destination, protocol: 'http', requestsPerSecond: 0, errorRatio: null }, errors: 0 };
    const rate = s.value ?? 0;
    entry.edge.requestsPerSecond += rate;
    if (/^5/.test(s.metric.response_code ?? '')) entry.errors += rate;
    http.set(key, entry);
  }

  const tcp = new Map<string, TcpTopologyEdge>();
  for (const field of ['requestBytesPerSecond', 'responseBytesPerSecond', 'connectionsOpenedPerSecond'] as const) {
    for (const s of samples.tcp[field]) {
      const source = sourceOf(s.metric);
      const destination = destinationOf(s.metric);
      if (!isSelf(source) && !isSelf(destination)) continue;
      const key = edgeKey('tcp', source, destination);
      const edge = tcp.get(key) ?? {
        cluster,
        source,
        destination,
        protocol: 'tcp',
        requestsPerSecond: 0,
        errorRatio: null,
        tcp: { requestBytesPerSecond: 0, responseBytesPerSecond: 0, connectionsOpenedPerSecond: 0 },
      };
      edge.tcp[field] += s.value ?? 0;
      tcp.set(key, edge);
    }
  }

  const edges: TopologyEdge[] = [
    ...[...http.values()].map(({ edge, errors }) => ({ ...edge, errorRatio: edge.requestsPerSecond > 0 ? errors / edge.requestsPerSecond : null })),
    ...tcp.values(),
  ];
  return edges.sort(
    (a, b) =>
      a.source.namespace.localeCompare(b.source.namespace) ||
      a.source.workload.localeCompare(b.source.workload) ||
      a.destination.namespace.localeCompare(b.destination.namespace) ||
      a.destination.workload.localeCompare(b.destination.workload) ||
      (a.destination.service ?? '').localeCompare(b.destination.service ?? '') ||
      a.protocol.localeCompare(b.protocol),
  );
}

/** `GET /v1/entities/:kind/:namespace/:name/topology?window=1h`. */
export interface EntityTopology {
  entityRef: string;
  window: MetricsWindow;
  start: number;
  end: number;
  nodes: TopologyNode[];
  edges: TopologyEdge[];
  errors: ClusterError[];
}

/** Whether the overview's golden-signal columns could be filled. */
export interface MetricsStatus {
  /** `unconfigured`: no metrics provider; `unavailable`: every configured Prometheus failed; `partial`: some did. */
  status: 'ok' | 'partial' | 'unconfigured' | 'unavailable';
  /** One line saying why, when not `ok`. */
  message?: string;
}

/** An overview row's signals (over the last `rateIntervalSeconds`). */
export type OverviewSignals = GoldenSignals & { health: SignalHealth };

/**
 * When golden signals count as degraded or failing. Error ratios are 0..1; a signal is
 * degraded when above `degradedErrorRatio` and failing at or above `failingErrorRatio`.
 * Latency thresholds are optional (no latency rule when unset).
 */
export interface HealthThresholds {
  degradedErrorRatio: number;
  failingErrorRatio: number;
  degradedP99Ms?: number;
  failingP99Ms?: number;
}

/** The common convention: any 5xx is degraded, 10 % or more is failing. */
export const DEFAULT_HEALTH_THRESHOLDS: HealthThresholds = {
  degradedErrorRatio: 0,
  failingErrorRatio: 0.1,
};

function percent(ratio: number): string {
  return `${Number((ratio * 100).toFixed(2))} %`;
}

function ms(value: number): string {
  return `${Number(value.toFixed(1))} ms`;
}

/**
 * The health of a set of golden signals with the reasons, in plain words. No data
 * (no requests, so no error ratio) is `no-data`, never `healthy`.
 */
export function classifyHealth(
  signals: GoldenSignals,
  thresholds: HealthThresholds = DEFAULT_HEALTH_THRESHOLDS,
): { health: SignalHealth; reasons: string[] } {
  if (signals.errorRatio === null || signals.requestsPerSecond === null || signals.requestsPerSecond === 0) {
    return { health: 'no-data', reasons: ['No requests were recorded in the window.'] };
  }
  const failing: string[] = [];
  const degraded: string[] = [];
  if (signals.errorRatio >= thresholds.failingErrorRatio) {
    failing.push(`${percent(signals.errorRatio)} of requests failed with 5xx (failing at ${percent(thresholds.failingErrorRatio)}).`);
  } else if (signals.errorRatio > thresholds.degradedErrorRatio) {
    degraded.push(
      `${percent(signals.errorRatio)} of requests failed with 5xx (degraded above ${percent(thresholds.degradedErrorRatio)}).`,
    );
  }
  if (signals.p99Ms !== null) {
    if (thresholds.failingP99Ms !== undefined && signals.p99Ms >= thresholds.failingP99Ms) {
      failing.push(`p99 latency is ${ms(signals.p99Ms)} (failing at ${ms(thresholds.failingP99Ms)}).`);
    } else if (thresholds.degradedP99Ms !== undefined && signals.p99Ms > thresholds.degradedP99Ms) {
      degraded.push(`p99 latency is ${ms(signals.p99Ms)} (degraded above ${ms(thresholds.degradedP99Ms)}).`);
    }
  }
  if (failing.length > 0) return { health: 'failing', reasons: [...failing, ...degraded] };
  if (degraded.length > 0) return { health: 'degraded', reasons: degraded };
  return { health: 'healthy', reasons: [] };
}

/** Checks thresholds read from config; returns the problems (empty when valid). */
export function validateHealthThresholds(t: HealthThresholds): string[] {
  const problems: string[] = [];
  const ratio = (name: string, v: number) => {
    if (!Number.isFinite(v) || v < 0 || v > 1) problems.push(`${name} must be a ratio between 0 and 1, got ${v}`);
  };
  ratio('degradedErrorRatio', t.degradedErrorRatio);
  ratio('failingErrorRatio', t.failingErrorRatio);
  if (t.failingErrorRatio < t.degradedErrorRatio) problems.push('failingErrorRatio must not be below degradedErrorRatio');
  for (const [name, v] of [
    ['degradedP99Ms', t.degradedP99Ms],
    ['failingP99Ms', t.failingP99Ms],
  ] as const) {
    if (v !== undefined && (!Number.isFinite(v) || v <= 0)) problems.push(`${name} must be a positive number of milliseconds, got ${v}`);
  }
  if (t.degradedP99Ms !== undefined && t.failingP99Ms !== undefined && t.failingP99Ms < t.degradedP99Ms) {
    problems.push('failingP99Ms must not be below degradedP99Ms');
  }
  return problems;
}

// ---------------------------------------------------------------------------------------
// Upgrade health gate
// ---------------------------------------------------------------------------------------

/**
 * When a namespace's workloads count as regressed after a migration, comparing the window
 * after the restart with the window before it:
 * - the error ratio rose by more than `maxErrorRatioIncrease` (absolute, 0.01 = one
 *   percentage point), or reached `failingErrorRatio` while it was below before;
 * - p99 rose by more than `maxP99IncreaseRatio` (0.5 = +50 %) and by more than
 *   `minP99IncreaseMs` (so 2 ms → 4 ms is not a regression).
 */
export interface HealthGateThresholds {
  maxErrorRatioIncrease: number;
  failingErrorRatio: number;
  maxP99IncreaseRatio: number;
  minP99IncreaseMs: number;
}

export const DEFAULT_HEALTH_GATE_THRESHOLDS: HealthGateThresholds = {
  maxErrorRatioIncrease: 0.01,
  failingErrorRatio: 0.1,
  maxP99IncreaseRatio: 0.5,
  minP99IncreaseMs: 10,
};

export type HealthGateVerdict = 'healthy' | 'regressed' | 'no-data';

/**
 * One workload's comparison. `no-data` when either window had no requests (nothing to
 * compare), with the reason.
 */
export function compareHealth(
  before: GoldenSignals,
  after: GoldenSignals,
  thresholds: HealthGateThresholds = DEFAULT_HEALTH_GATE_THRESHOLDS,
): { verdict: HealthGateVerdict; reasons: string[] } {
  const noTraffic = (s: GoldenSignals) => s.errorRatio === null || !s.requestsPerSecond;
  if (noTraffic(before) && noTraffic(after)) {
    return { verdict: 'no-data', reasons: ['No requests before or after the restart.'] };
  }
  if (noTraffic(before)) return { verdict: 'no-data', reasons: ['No requests in the window before the restart.'] };
  if (noTraffic(after)) return { verdict: 'no-data', reasons: ['No requests in the window after the restart.'] };
  const reasons: string[] = [];
  const eb = before.errorRatio as number;
  const ea = after.errorRatio as number;
  if (ea - eb > thresholds.maxErrorRatioIncrease) {
    reasons.push(
      `5xx ratio rose from ${percent(eb)} to ${percent(ea)} (more than ${percent(thresholds.maxErrorRatioIncrease)} points).`,
    );
  } else if (ea >= thresholds.failingErrorRatio && eb < thresholds.failingErrorRatio) {
    reasons.push(`5xx ratio reached ${percent(ea)} (failing at ${percent(thresholds.failingErrorRatio)}); it was ${percent(eb)}.`);
  }
  if (before.p99Ms !== null && after.p99Ms !== null) {
    const increase = after.p99Ms - before.p99Ms;
    if (increase > before.p99Ms * thresholds.maxP99IncreaseRatio && increase > thresholds.minP99IncreaseMs) {
      reasons.push(
        `p99 latency rose from ${ms(before.p99Ms)} to ${ms(after.p99Ms)} (more than +${Number(
          (thresholds.maxP99IncreaseRatio * 100).toFixed(1),
        )} % and +${ms(thresholds.minP99IncreaseMs)}).`,
      );
    }
  }
  return reasons.length > 0 ? { verdict: 'regressed', reasons } : { verdict: 'healthy', reasons: [] };
}

/** A namespace's verdict from its workloads': any regressed wins, then healthy, else no-data. */
export function combineVerdicts(verdicts: HealthGateVerdict[]): HealthGateVerdict {
  if (verdicts.includes('regressed')) return 'regressed';
  if (verdicts.includes('healthy')) return 'healthy';
  return 'no-data';
}

export interface HealthGateWorkload {
  workload: string;
  before: GoldenSignals;
  after: GoldenSignals;
  verdict: HealthGateVerdict;
  reasons: string[];
}

/**
 * The health gate of one migrate step, stored in the step's details. `pending` while the
 * window after the restart has not elapsed yet (or Prometheus could not be asked yet).
 */
export interface HealthGateResult {
  verdict: HealthGateVerdict | 'pending';
  /** ISO timestamps of the two windows compared. */
  before: { start: string; end: string };
  after: { start: string; end: string };
  workloads: HealthGateWorkload[];
  /** Plain words: why regressed or no-data; what it waits for while pending. */
  reasons: string[];
  evaluatedAt?: string;
  /** Set when someone completed the upgrade despite this regression. */
  acknowledged?: { by: string; at: string };
}
