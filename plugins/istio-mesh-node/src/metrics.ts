import { createExtensionPoint } from '@backstage/backend-plugin-api';
import type { LabelMatcher } from '@mesh-portal/plugin-istio-mesh-common';

export type { LabelMatcher } from '@mesh-portal/plugin-istio-mesh-common';

/** One series of an instant query: its labels and value (`null` for NaN, e.g. 0/0). */
export interface MetricSample {
  metric: Record<string, string>;
  value: number | null;
}

/** One series of a range query: its labels and points (epoch ms; `null` for NaN). */
export interface MetricSeries {
  metric: Record<string, string>;
  values: Array<{ t: number; v: number | null }>;
}

/**
 * Answers PromQL for the clusters it handles: a Prometheus, Azure Monitor managed
 * Prometheus, Thanos, Mimir… The queries themselves are built by the plugin (one module,
 * `promql.ts` in -common), so a provider is only transport, auth and the labels that pick
 * a cluster's series out of a shared store.
 *
 * Failures to reach the backend must be thrown as `ServiceUnavailableError` (from
 * `@backstage/errors`) with a message naming the cluster and where it asked, so that the
 * endpoints can answer 503 and the pages can say what is down.
 */
export interface MetricsProvider {
  /** A short id for logs, e.g. `prometheus`. */
  readonly id: string;
  handles(cluster: string): boolean;
  /** Where this cluster's metrics come from, for messages, e.g. `Prometheus at http://127.0.0.1:9090`. */
  describe(cluster: string): string;
  /** Matchers selecting the cluster's series, e.g. `cluster="aks-dev"`; empty for a per-cluster Prometheus. */
  clusterMatchers(cluster: string): LabelMatcher[];
  /** The label carrying the pod's name on the proxies' series (`pod` with the usual relabelling). */
  podLabel(cluster: string): string;
  /** An instant query at `time` (epoch seconds). */
  query(cluster: string, promql: string, options: { time: number; signal?: AbortSignal }): Promise<MetricSample[]>;
  /** A range query from `start` to `end` (epoch seconds) every `stepSeconds`. */
  queryRange(
    cluster: string,
    promql: string,
    options: { start: number; end: number; stepSeconds: number; signal?: AbortSignal },
  ): Promise<MetricSeries[]>;
}

/** Lets modules add metrics providers to the istio-mesh backend plugin; asked before the built-in Prometheus one. */
export interface IstioMeshMetricsExtensionPoint {
  addMetricsProvider(provider: MetricsProvider): void;
}

export const istioMeshMetricsExtensionPoint = createExtensionPoint<IstioMeshMetricsExtensionPoint>({
  id: 'istio-mesh.metrics-providers',
});
