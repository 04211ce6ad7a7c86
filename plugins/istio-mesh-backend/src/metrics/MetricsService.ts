import { LoggerService } from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { ServiceUnavailableError } from '@backstage/errors';
import {
  ClusterError,
  DEFAULT_HEALTH_THRESHOLDS,
  DESTINATION_WORKLOAD,
  EntityMeshStatus,
  EntityMetrics,
  EntityTopology,
  GoldenSignalSeries,
  GoldenSignals,
  HealthThresholds,
  LabelMatcher,
  MetricsStatus,
  MetricsWindow,
  NO_SIGNALS,
  OverviewResponse,
  OverviewRow,
  RevisionMetrics,
  SeriesPoint,
  TopologyNode,
  WorkloadMetrics,
  classifyHealth,
  combineTopologyEdges,
  eq,
  goldenSignalQueries,
  metricsWindowSeconds,
  podMatcher,
  rangeFor,
  topologyQueries,
  topologyRefKey,
  validateHealthThresholds,
  workloadMatchers,
} from '@mesh-portal/plugin-istio-mesh-common';
import { MetricSample, MetricSeries, MetricsProvider } from '@mesh-portal/plugin-istio-mesh-node';
import { requireNonNegative, requirePositive } from '../configChecks';
import { mapWithConcurrency } from '../service/concurrency';

export interface MetricsSettings {
  /** The rate window of "current" signals (overview, entity, health badges). */
  rateIntervalSeconds: number;
  /** The rate window of each series point (at least the step). */
  seriesRateIntervalSeconds: number;
  maxPointsPerSeries: number;
  minStepSeconds: number;
  thresholds: HealthThresholds;
  /** The overview waits at most this long for a cluster's signals (a hung Prometheus must not hold the page). */
  overviewTimeoutSeconds: number;
  /** A cluster's overview signals are reused this long by every reader of this replica (0: never). */
  overviewCacheSeconds: number;
}

export const DEFAULT_METRICS_SETTINGS: MetricsSettings = {
  rateIntervalSeconds: 300,
  seriesRateIntervalSeconds: 60,
  maxPointsPerSeries: 300,
  minStepSeconds: 10,
  thresholds: DEFAULT_HEALTH_THRESHOLDS,
  overviewTimeoutSeconds: 3,
  overviewCacheSeconds: 15,
};

export function readMetricsSettings(config: Config): MetricsSettings {
  const c = config.getOptionalConfig('istioMesh.metrics');
  const t = c?.getOptionalConfig('thresholds');
  const thresholds: HealthThresholds = {
    degradedErrorRatio: t?.getOptionalNumber('degradedErrorRatio') ?? DEFAULT_HEALTH_THRESHOLDS.degradedErrorRatio,
    failingErrorRatio: t?.getOptionalNumber('failingErrorRatio') ?? DEFAULT_HEALTH_THRESHOLDS.failingErrorRatio,
    ...(t?.getOptionalNumber('degradedP99Ms') !== undefined ? { degradedP99Ms: t.getNumber('degradedP99Ms') } : {}),
    ...(t?.getOptionalNumber('failingP99Ms') !== undefined ? { failingP99Ms: t.getNumber('failingP99Ms') } : {}),
  };
  const problems = validateHealthThresholds(thresholds);
  if (problems.length) throw new Error(`istioMesh.metrics.thresholds: ${problems.join('; ')}`);
  const settings: MetricsSettings = {
    rateIntervalSeconds: c?.getOptionalNumber('rateIntervalSeconds') ?? DEFAULT_METRICS_SETTINGS.rateIntervalSeconds,
    seriesRateIntervalSeconds: c?.getOptionalNumber('seriesRateIntervalSeconds') ?? DEFAULT_METRICS_SETTINGS.seriesRateIntervalSeconds,
    maxPointsPerSeries: c?.getOptionalNumber('maxPointsPerSeries') ?? DEFAULT_METRICS_SETTINGS.maxPointsPerSeries,
    minStepSeconds: c?.getOptionalNumber('minStepSeconds') ?? DEFAULT_METRICS_SETTINGS.minStepSeconds,
    thresholds,
    overviewTimeoutSeconds: c?.getOptionalNumber('overviewTimeoutSeconds') ?? DEFAULT_METRICS_SETTINGS.overviewTimeoutSeconds,
    overviewCacheSeconds: c?.getOptionalNumber('overviewCacheSeconds') ?? DEFAULT_METRICS_SETTINGS.overviewCacheSeconds,
  };
  for (const key of ['rateIntervalSeconds', 'seriesRateIntervalSeconds', 'minStepSeconds'] as const) {
    if (!Number.isInteger(settings[key]) || settings[key] <= 0) throw new Error(`istioMesh.metrics.${key} must be a positive whole number of seconds`);
  }
  if (!Number.isInteger(settings.maxPointsPerSeries) || settings.maxPointsPerSeries < 2 || settings.maxPointsPerSeries > 11000) {
    throw new Error('istioMesh.metrics.maxPointsPerSeries must be a whole number from 2 to 11000 (Prometheus refuses more)');
  }
  requirePositive('istioMesh.metrics.overviewTimeoutSeconds', settings.overviewTimeoutSeconds);
  requireNonNegative('istioMesh.metrics.overviewCacheSeconds', settings.overviewCacheSeconds);
  return settings;
}

/** Workloads whose per-revision signals are queried at the same time (each group is 10 queries). */
const WORKLOADS_QUERIED_AT_ONCE = 2;

const SIGNALS = ['requestsPerSecond', 'errorRatio', 'p50Ms', 'p90Ms', 'p99Ms'] as const;

type Key = string;
const keyOf = (namespace: string, workload: string): Key => `${namespace}/${workload}`;
const destinationKey = (m: Record<string, string>) => keyOf(m.destination_workload_namespace ?? '', m.destination_workload ?? '');

interface EntityWorkload {
  namespace: string;
  workload: string;
  /** Pods with a sidecar, by sidecar revision. */
  podsByRevision: Map<string, string[]>;
}

function errorOf(cluster: string, error: unknown): ClusterError {
  const e = error as Error;
  return { cluster, error: { name: e?.name ?? 'Error', message: e?.message ?? String(error) } };
}

/**
 * Golden signals, series and topology edges from the clusters' metrics providers. Every
 * query comes from promql.ts in -common; this class picks the provider per cluster,
 * groups the results and applies the health rules.
 */
export class MetricsService {
  private readonly settings: MetricsSettings;
  private readonly now: () => number;
  private readonly providers: MetricsProvider[];
  private readonly logger?: LoggerService;
  /** Per cluster: the overview's signals, shared by concurrent readers (single-flight) for overviewCacheSeconds. */
  private readonly overviewCache = new Map<string, { expiresAt: number; value: Promise<Map<Key, GoldenSignals>> }>();

  constructor(options: {
    /** Asked in order; the first that handles a cluster answers for it. */
    providers: MetricsProvider[];
    logger?: LoggerService;
    settings?: Partial<MetricsSettings>;
    /** The clock (epoch ms); tests pin it inside their data. */
    now?: () => number;
  }) {
    this.providers = options.providers;
    this.logger = options.logger;
    this.settings = { ...DEFAULT_METRICS_SETTINGS, ...options.settings };
    this.now = options.now ?? Date.now;
  }

  get configured(): boolean {
    return this.providers.length > 0;
  }

  get thresholds(): HealthThresholds {
    return this.settings.thresholds;
  }

  providerFor(cluster: string): MetricsProvider | undefined {
    return this.providers.find(p => p.handles(cluster));
  }

  // --- entity ---

  async getEntityMetrics(status: EntityMeshStatus, window: MetricsWindow): Promise<EntityMetrics> {
    const range = rangeFor(this.now(), metricsWindowSeconds(window), {
      maxPoints: this.settings.maxPointsPerSeries,
      minStepSeconds: this.settings.minStepSeconds,
    });
    const { results, errors } = await this.perCluster(status, async (cluster, provider, workloads) => {
      const clusterMatchers = provider.clusterMatchers(cluster);
      const signalsOf = async (matchers: LabelMatcher[]) => {
        const [current, series] = await Promise.all([
          this.instantSignals(provider, cluster, matchers, range.end / 1000, this.settings.rateIntervalSeconds),
          this.seriesSignals(provider, cluster, matchers, range),
        ]);
        return { current, series };
      };
      const all = await signalsOf([...clusterMatchers, ...workloadMatchers('destination', workloads)]);
      // A workload mid-migration costs 10 more queries per revision group: bound the burst on Prometheus.
      return mapWithConcurrency(
        workloads,
        WORKLOADS_QUERIED_AT_ONCE,
        async (w): Promise<WorkloadMetrics> => {
          const key = keyOf(w.namespace, w.workload);
          const current = all.current.get(key) ?? NO_SIGNALS;
          const { health, reasons } = classifyHealth(current, this.settings.thresholds);
          const metrics: WorkloadMetrics = {
            cluster,
            namespace: w.namespace,
            workload: w.workload,
            current,
            health,
            healthReasons: reasons,
            series: all.series.get(key) ?? emptySeries(range),
          };
          if (w.podsByRevision.size > 1) {
            // Mid-migration: the same signals per group of pods running one sidecar revision.
            metrics.byRevision = await Promise.all(
              [...w.podsByRevision.entries()].map(async ([revision, pods]): Promise<RevisionMetrics> => {
                const group = await signalsOf([
                  ...clusterMatchers,
                  ...workloadMatchers('destination', [w]),
                  podMatcher(provider.podLabel(cluster), pods),
                ]);
                const groupCurrent = group.current.get(key) ?? NO_SIGNALS;
                return {
                  revision,
                  pods,
                  current: groupCurrent,
                  health: classifyHealth(groupCurrent, this.settings.thresholds).health,
                  series: group.series.get(key) ?? emptySeries(range),
                };
              }),
            );
          }
          return metrics;
        },
      );
    });
    return {
      entityRef: status.entityRef,
      window,
      start: range.start,
      end: range.end,
      stepSeconds: range.stepSeconds,
      rateIntervalSeconds: this.settings.rateIntervalSeconds,
      workloads: results.flat().sort((a, b) => a.cluster.localeCompare(b.cluster) || a.namespace.localeCompare(b.namespace) || a.workload.localeCompare(b.workload)),
      errors,
    };
  }

  async getEntityTopology(status: EntityMeshStatus, window: MetricsWindow): Promise<EntityTopology> {
    const windowSeconds = metricsWindowSeconds(window);
    const end = Math.floor(this.now() / 1000);
    const { results, errors } = await this.perCluster(status, async (cluster, provider, workloads) => {
      const queries = topologyQueries({ clusterMatchers: provider.clusterMatchers(cluster), workloads, windowSeconds });
      const ask = (promql: string) => provider.query(cluster, promql, { time: end });
      const [inbound, outbound, unmeshedInbound, requestBytes, responseBytes, connectionsOpened] = await Promise.all([
        ask(queries.inbound),
        ask(queries.outbound),
        ask(queries.unmeshedInbound),
        ask(queries.tcp.requestBytesPerSecond),
        ask(queries.tcp.responseBytesPerSecond),
        ask(queries.tcp.connectionsOpenedPerSecond),
      ]);
      const edges = combineTopologyEdges(cluster, workloads, {
        inbound,
        outbound,
        unmeshedInbound,
        tcp: { requestBytesPerSecond: requestBytes, responseBytesPerSecond: responseBytes, connectionsOpenedPerSecond: connectionsOpened },
      });
      return { cluster, edges, self: new Set(workloads.map(w => topologyRefKey(w))) };
    });
    // Clusters answer in any order; edges within one are sorted already.
    const edges = results.flatMap(r => r.edges).sort((a, b) => a.cluster.localeCompare(b.cluster));
    const selfKeys = new Set(results.flatMap(r => [...r.self].map(k => `${r.cluster}/${k}`)));
    const nodes = new Map<string, TopologyNode>();
    for (const s of status.clusters) {
      for (const ns of s.namespaces) {
        for (const w of ns.workloads) {
          nodes.set(`${s.cluster}/${topologyRefKey({ namespace: ns.name, workload: w.name })}`, { cluster: s.cluster, namespace: ns.name, workload: w.name, role: 'self' });
        }
      }
    }
    // Self nodes are keyed `<cluster>/<ref>`; neighbours by role as well, so that `unknown` as
    // a caller (no sidecar) and as a callee (nothing answered) are two peers, drawn apart.
    const isSelf = (key: string) => nodes.has(key) || selfKeys.has(key);
    for (const e of edges) {
      const src = `${e.cluster}/${topologyRefKey(e.source)}`;
      const dst = `${e.cluster}/${topologyRefKey(e.destination)}`;
      if (!isSelf(src)) nodes.set(`caller ${src}`, { cluster: e.cluster, ...e.source, role: 'caller' });
      if (!isSelf(dst)) nodes.set(`callee ${dst}`, { cluster: e.cluster, ...e.destination, role: 'callee' });
    }
    return {
      entityRef: status.entityRef,
      window,
      start: (end - windowSeconds) * 1000,
      end: end * 1000,
      nodes: [...nodes.values()].sort(
        (a, b) =>
          a.cluster.localeCompare(b.cluster) ||
          a.role.localeCompare(b.role) ||
          a.namespace.localeCompare(b.namespace) ||
          a.workload.localeCompare(b.workload) ||
          (a.service ?? '').localeCompare(b.service ?? ''),
      ),
      edges,
      errors,
    };
  }

  // --- overview ---

  /**
   * The overview with each row's golden signals: per cluster one query per signal over
   * all its workloads (grouped by workload), never one per row.
   */
  async addOverviewSignals(overview: OverviewResponse): Promise<OverviewResponse> {
    if (!this.configured) {
      return { ...overview, metrics: { status: 'unconfigured', message: 'Metrics are not configured (istioMesh.metrics in app-config).' } };
    }
    const clusters = [...new Set(overview.rows.map(r => r.cluster))].sort();
    const time = Math.floor(this.now() / 1000);
    const unconfigured = clusters.filter(c => !this.providerFor(c));
    const failures: string[] = [];
    const byCluster = new Map<string, Map<Key, GoldenSignals>>();
    await Promise.all(
      clusters
        .filter(c => this.providerFor(c))
        .map(async cluster => {
          try {
            byCluster.set(cluster, await this.overviewSignals(cluster, time));
          } catch (error) {
            this.logger?.warn(`Golden signals of ${cluster} are unavailable: ${(error as Error).message}`);
            failures.push((error as Error).message);
          }
        }),
    );
    const rows: OverviewRow[] = overview.rows.map(row => {
      const signals = byCluster.get(row.cluster);
      if (!signals) return row;
      const combined = combineSignals((row.workloads ?? []).map(w => signals.get(keyOf(row.kubernetesNamespace, w)) ?? NO_SIGNALS));
      return { ...row, signals: { ...combined, health: classifyHealth(combined, this.settings.thresholds).health } };
    });
    let metrics: MetricsStatus;
    const asked = clusters.length - unconfigured.length;
    const notConfigured = unconfigured.length ? `Metrics are not configured for ${unconfigured.join(', ')}.` : '';
    const message = [oneLine(failures), notConfigured].filter(Boolean).join(' ');
    if (asked > 0 && failures.length === asked) {
      metrics = { status: 'unavailable', message };
    } else if (failures.length > 0 || unconfigured.length > 0) {
      metrics = { status: 'partial', message };
    } else {
      metrics = { status: 'ok' };
    }
    return { ...overview, rows, metrics };
  }

  private overviewSignals(cluster: string, time: number): Promise<Map<Key, GoldenSignals>> {
    const now = this.now();
    const cached = this.overviewCache.get(cluster);
    if (cached && cached.expiresAt > now) return cached.value;
    const provider = this.providerFor(cluster)!;
    const value = this.instantSignals(provider, cluster, provider.clusterMatchers(cluster), time, this.settings.rateIntervalSeconds, AbortSignal.timeout(this.settings.overviewTimeoutSeconds * 1000));
    if (this.settings.overviewCacheSeconds > 0) {
      const entry = { expiresAt: now + this.settings.overviewCacheSeconds * 1000, value };
      this.overviewCache.set(cluster, entry);
      // A failure is not kept: the next reader asks again.
      value.catch(() => this.overviewCache.get(cluster) === entry && this.overviewCache.delete(cluster));
    }
    return value;
  }

  // --- health gate ---

  /**
   * The golden signals of every workload of a namespace over one window ending at
   * `endSeconds` (rates averaged over the whole window).
   */
  async namespaceSignals(cluster: string, namespace: string, endSeconds: number, windowSeconds: number): Promise<Map<string, GoldenSignals>> {
    const provider = this.providerFor(cluster);
    if (!provider) throw new ServiceUnavailableError(`Metrics are not configured for cluster ${cluster}`);
    const matchers = [...provider.clusterMatchers(cluster), eq('destination_workload_namespace', namespace)];
    const byKey = await this.instantSignals(provider, cluster, matchers, endSeconds, windowSeconds);
    const out = new Map<string, GoldenSignals>();
    for (const [key, signals] of byKey) {
      if (key.startsWith(`${namespace}/`)) out.set(key.slice(namespace.length + 1), signals);
    }
    return out;
  }

  // --- internals ---

  /**
   * Runs `fn` for every cluster of the entity that has a provider and meshed workloads.
   * 503 when metrics are configured for none of them, or every provider failed.
   */
  private async perCluster<T>(
    status: EntityMeshStatus,
    fn: (cluster: string, provider: MetricsProvider, workloads: EntityWorkload[]) => Promise<T>,
  ): Promise<{ results: T[]; errors: ClusterError[] }> {
    if (!this.configured) {
      throw new ServiceUnavailableError('Metrics are not configured: add Prometheus under istioMesh.metrics.clusters in app-config.');
    }
    const errors: ClusterError[] = [];
    const results: T[] = [];
    const unconfigured: string[] = [];
    let asked = 0;
    await Promise.all(
      status.clusters.map(async c => {
        const workloads = entityWorkloads(c);
        if (workloads.length === 0) return;
        const provider = this.providerFor(c.cluster);
        if (!provider) {
          unconfigured.push(c.cluster);
          errors.push({ cluster: c.cluster, error: { name: 'NotConfiguredError', message: `Metrics are not configured for cluster ${c.cluster} (istioMesh.metrics.clusters).` } });
          return;
        }
        asked++;
        try {
          results.push(await fn(c.cluster, provider, workloads));
        } catch (error) {
          this.logger?.warn(`Metrics of ${status.entityRef} in ${c.cluster} are unavailable: ${(error as Error).message}`);
          errors.push(errorOf(c.cluster, error));
        }
      }),
    );
    errors.sort((a, b) => a.cluster.localeCompare(b.cluster));
    if (results.length === 0 && errors.length > 0 && (asked > 0 || unconfigured.length > 0)) {
      const failed = errors.filter(e => e.error.name !== 'Error');
      if (failed.length === errors.length) {
        throw new ServiceUnavailableError(errors.map(e => e.error.message).join(' '));
      }
      // A query the provider rejected is our bug: fail loudly, not as an outage.
      throw new Error(errors.map(e => `${e.cluster}: ${e.error.message}`).join('; '));
    }
    // Clusters whose Kubernetes API failed have no workloads to ask about: say so too.
    return { results, errors: [...errors, ...status.errors].sort((a, b) => a.cluster.localeCompare(b.cluster)) };
  }

  private async instantSignals(
    provider: MetricsProvider,
    cluster: string,
    matchers: LabelMatcher[],
    time: number,
    rateIntervalSeconds: number,
    abort?: AbortSignal,
  ): Promise<Map<Key, GoldenSignals>> {
    const queries = goldenSignalQueries({ matchers, rateIntervalSeconds, by: DESTINATION_WORKLOAD });
    const answers = await Promise.all(SIGNALS.map(s => provider.query(cluster, queries[s], { time, signal: abort })));
    const out = new Map<Key, GoldenSignals>();
    SIGNALS.forEach((signal, i) => {
      for (const sample of answers[i] as MetricSample[]) {
        const key = destinationKey(sample.metric);
        const signals = out.get(key) ?? { ...NO_SIGNALS };
        signals[signal] = sample.value;
        out.set(key, signals);
      }
    });
    return out;
  }

  private async seriesSignals(
    provider: MetricsProvider,
    cluster: string,
    matchers: LabelMatcher[],
    range: ReturnType<typeof rangeFor>,
  ): Promise<Map<Key, GoldenSignalSeries>> {
    // Each point's rate covers at least one step, so no request falls between two points.
    const rateIntervalSeconds = Math.max(this.settings.seriesRateIntervalSeconds, range.stepSeconds);
    const queries = goldenSignalQueries({ matchers, rateIntervalSeconds, by: DESTINATION_WORKLOAD });
    const answers = await Promise.all(
      SIGNALS.map(s =>
        provider.queryRange(cluster, queries[s], { start: range.start / 1000, end: range.end / 1000, stepSeconds: range.stepSeconds }),
      ),
    );
    const out = new Map<Key, GoldenSignalSeries>();
    SIGNALS.forEach((signal, i) => {
      for (const series of answers[i] as MetricSeries[]) {
        const key = destinationKey(series.metric);
        const all = out.get(key) ?? emptySeries(range);
        all[signal] = onGrid(range, series.values);
        out.set(key, all);
      }
    });
    return out;
  }
}

/** The workloads of one cluster's entity status that have sidecars, with their pods by revision. */
function entityWorkloads(status: EntityMeshStatus['clusters'][number]): EntityWorkload[] {
  const out: EntityWorkload[] = [];
  for (const ns of status.namespaces) {
    for (const w of ns.workloads) {
      const podsByRevision = new Map<string, string[]>();
      for (const p of ns.pods) {
        if (p.workload !== `${w.kind}/${w.name}` || !p.sidecar.injected) continue;
        const revision = p.sidecar.revision ?? 'unknown';
        podsByRevision.set(revision, [...(podsByRevision.get(revision) ?? []), p.name].sort());
      }
      if (podsByRevision.size > 0) out.push({ namespace: ns.name, workload: w.name, podsByRevision });
    }
  }
  return out.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.workload.localeCompare(b.workload));
}

function emptySeries(range: ReturnType<typeof rangeFor>): GoldenSignalSeries {
  const empty = () => onGrid(range, []);
  return { requestsPerSecond: empty(), errorRatio: empty(), p50Ms: empty(), p90Ms: empty(), p99Ms: empty() };
}

/** Every step of the range, `null` where Prometheus had no value, so charts show gaps as gaps. */
function onGrid(range: ReturnType<typeof rangeFor>, values: SeriesPoint[]): SeriesPoint[] {
  const byT = new Map(values.map(p => [p.t, p.v]));
  const stepMs = range.stepSeconds * 1000;
  return Array.from({ length: range.points }, (_, i) => {
    const t = range.start + i * stepMs;
    return { t, v: byT.get(t) ?? null };
  });
}

/**
 * The signals of a row with several workloads: rates add up, the error ratio is
 * weighted by rate, latency percentiles are the worst workload's (percentiles of a
 * union cannot be derived from the parts').
 */
export function combineSignals(parts: GoldenSignals[]): GoldenSignals {
  const withData = parts.filter(p => p.requestsPerSecond !== null);
  if (withData.length === 0) return { ...NO_SIGNALS };
  if (withData.length === 1) return withData[0];
  const rps = withData.reduce((a, p) => a + (p.requestsPerSecond ?? 0), 0);
  const weighted = withData.filter(p => p.errorRatio !== null);
  const max = (k: 'p50Ms' | 'p90Ms' | 'p99Ms') => {
    const values = withData.flatMap(p => (p[k] === null ? [] : [p[k] as number]));
    return values.length ? Math.max(...values) : null;
  };
  return {
    requestsPerSecond: rps,
    errorRatio: rps > 0 && weighted.length ? weighted.reduce((a, p) => a + (p.errorRatio as number) * (p.requestsPerSecond as number), 0) / rps : null,
    p50Ms: max('p50Ms'),
    p90Ms: max('p90Ms'),
    p99Ms: max('p99Ms'),
  };
}

function oneLine(messages: string[]): string {
  if (messages.length === 0) return '';
  return messages.length === 1 ? messages[0] : `${messages[0]} (and ${messages.length - 1} more cluster${messages.length === 2 ? '' : 's'})`;
}
