import { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import { Config } from '@backstage/config';
import { ServiceUnavailableError } from '@backstage/errors';
import { LabelMatcher, eq, isValidLabelName } from '@mesh-portal/plugin-istio-mesh-common';
import { MetricSample, MetricSeries, MetricsProvider } from '@mesh-portal/plugin-istio-mesh-node';
import { requirePositive } from '../configChecks';

/** Scope of Azure Monitor managed Prometheus' query endpoint. */
export const AZURE_MONITOR_PROMETHEUS_SCOPE = 'https://prometheus.monitor.azure.com/.default';

export interface PrometheusTarget {
  url: string;
  /** Matchers that pick the cluster's series; default `cluster="<name>"`. */
  matchers: LabelMatcher[];
  podLabel: string;
  headers: Record<string, string>;
  bearerToken?: string;
  /** Entra ID tokens for Azure Monitor managed Prometheus. */
  azure?: { credential: TokenCredential; scope: string };
  timeoutMs: number;
}

/**
 * Prometheus' HTTP API (`/api/v1/query`, `/api/v1/query_range`), one base URL per
 * cluster (several clusters may share one, told apart by a label). Queries are POSTed
 * form-encoded (no URL length limit for long workload lists), carry Prometheus' own
 * `timeout` and are aborted client-side a second later.
 */
export class PrometheusMetricsProvider implements MetricsProvider {
  readonly id = 'prometheus';

  static fromConfig(config: Config, options?: { credential?: TokenCredential }): PrometheusMetricsProvider | undefined {
    const metrics = config.getOptionalConfig('istioMesh.metrics');
    const clusters = metrics?.getOptionalConfigArray('clusters');
    if (!metrics || !clusters?.length) return undefined;
    const defaultTimeoutMs = requirePositive('istioMesh.metrics.queryTimeoutSeconds', metrics.getOptionalNumber('queryTimeoutSeconds') ?? 10) * 1000;
    let azureCredential = options?.credential;
    const targets = new Map<string, PrometheusTarget>();
    for (const c of clusters) {
      const name = c.getString('name');
      const p = c.getConfig('prometheus');
      const url = p.getString('url').replace(/\/+$/, '');
      if (!/^https?:\/\//.test(url)) throw new Error(`istioMesh.metrics.clusters[${name}].prometheus.url must be an http(s) URL, got ${url}`);
      const labels = p.getOptionalConfig('matchers');
      const matchers = labels
        ? labels.keys().map(k => eq(k, labels.getString(k)))
        : [eq('cluster', name)];
      const podLabel = p.getOptionalString('podLabel') ?? 'pod';
      for (const label of [...matchers.map(m => m.name), podLabel]) {
        if (!isValidLabelName(label)) throw new Error(`istioMesh.metrics.clusters[${name}].prometheus: invalid label name ${JSON.stringify(label)}`);
      }
      const headerConfig = p.getOptionalConfig('headers');
      const headers = Object.fromEntries((headerConfig?.keys() ?? []).map(k => [k, headerConfig!.getString(k)]));
      const azureMonitor = p.getOptionalBoolean('azureMonitor') ?? false;
      if (azureMonitor && !azureCredential) azureCredential = new DefaultAzureCredential();
      targets.set(name, {
        url,
        matchers,
        podLabel,
        headers,
        bearerToken: p.getOptionalString('bearerToken'),
        azure: azureMonitor
          ? { credential: azureCredential!, scope: p.getOptionalString('azureScope') ?? AZURE_MONITOR_PROMETHEUS_SCOPE }
          : undefined,
        timeoutMs: requirePositive(`istioMesh.metrics.clusters[${name}].prometheus.timeoutSeconds`, p.getOptionalNumber('timeoutSeconds') ?? defaultTimeoutMs / 1000) * 1000,
      });
    }
    return new PrometheusMetricsProvider(targets);
  }

  constructor(private readonly targets: Map<string, PrometheusTarget>) {}

  handles(cluster: string): boolean {
    return this.targets.has(cluster);
  }

  describe(cluster: string): string {
    return `Prometheus at ${this.target(cluster).url}`;
  }

  clusterMatchers(cluster: string): LabelMatcher[] {
    return this.target(cluster).matchers;
  }

  podLabel(cluster: string): string {
    return this.target(cluster).podLabel;
  }

  async query(cluster: string, promql: string, options: { time: number; signal?: AbortSignal }): Promise<MetricSample[]> {
    const data = await this.call(cluster, 'query', { query: promql, time: String(options.time) }, options.signal);
    if (data.resultType !== 'vector') throw new Error(`Prometheus answered a ${data.resultType} to an instant query`);
    return (data.result as Array<{ metric: Record<string, string>; value: [number, string] }>).map(r => ({
      metric: r.metric,
      value: toNumber(r.value[1]),
    }));
  }

  async queryRange(
    cluster: string,
    promql: string,
    options: { start: number; end: number; stepSeconds: number; signal?: AbortSignal },
  ): Promise<MetricSeries[]> {
    const data = await this.call(
      cluster,
      'query_range',
      { query: promql, start: String(options.start), end: String(options.end), step: String(options.stepSeconds) },
      options.signal,
    );
    if (data.resultType !== 'matrix') throw new Error(`Prometheus answered a ${data.resultType} to a range query`);
    return (data.result as Array<{ metric: Record<string, string>; values: Array<[number, string]> }>).map(r => ({
      metric: r.metric,
      values: r.values.map(([t, v]) => ({ t: Math.round(t * 1000), v: toNumber(v) })),
    }));
  }

  private target(cluster: string): PrometheusTarget {
    const t = this.targets.get(cluster);
    if (!t) throw new Error(`No Prometheus is configured for cluster ${cluster}`);
    return t;
  }

  private async call(cluster: string, api: 'query' | 'query_range', params: Record<string, string>, signal?: AbortSignal) {
    const target = this.target(cluster);
    const where = `Prometheus of ${cluster} at ${target.url}`;
    const headers: Record<string, string> = {
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
      ...target.headers,
    };
    try {
      if (target.bearerToken) headers.Authorization = `Bearer ${target.bearerToken}`;
      if (target.azure) {
        const token = await target.azure.credential.getToken(target.azure.scope);
        if (!token) throw new Error(`no Entra ID token for ${target.azure.scope}`);
        headers.Authorization = `Bearer ${token.token}`;
      }
    } catch (error) {
      throw new ServiceUnavailableError(`Could not authenticate to the ${where}: ${(error as Error).message}`);
    }
    // Prometheus gives up on its own a bit before we do, so its answer (with the reason) wins.
    const body = new URLSearchParams({ ...params, timeout: `${Math.max(1, Math.floor(target.timeoutMs / 1000))}s` });
    const timeout = AbortSignal.timeout(target.timeoutMs + 1000);
    let res: Response;
    try {
      res = await fetch(`${target.url}/api/v1/${api}`, {
        method: 'POST',
        headers,
        body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      let why = causeOf(error as Error);
      if (timeout.aborted) why = `no answer within ${target.timeoutMs + 1000} ms`;
      else if (signal?.aborted) why = 'no answer within the time the caller allows';
      throw new ServiceUnavailableError(`The ${where} is unreachable: ${why}`);
    }
    let json: any;
    try {
      json = await res.json();
    } catch {
      throw new ServiceUnavailableError(`The ${where} answered HTTP ${res.status} without a Prometheus API body`);
    }
    if (res.status === 400 || (res.status === 422 && json?.errorType !== 'execution')) {
      // The query itself is wrong: a bug on our side, not an outage.
      throw new Error(`The ${where} rejected a query (${json?.errorType}): ${json?.error}`);
    }
    if (res.status === 422) {
      // A query that was fine but hit one of Prometheus' limits (e.g. too many samples):
      // the upstream cannot answer now, like a timeout.
      throw new ServiceUnavailableError(`The ${where} could not run a query: ${json?.error}`);
    }
    if (!res.ok || json?.status !== 'success') {
      throw new ServiceUnavailableError(
        `The ${where} answered HTTP ${res.status}${json?.error ? `: ${json.error}` : ''}`,
      );
    }
    return json.data as { resultType: string; result: unknown[] };
  }
}

function toNumber(v: string): number | null {
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function causeOf(e: Error): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? e.message;
}
