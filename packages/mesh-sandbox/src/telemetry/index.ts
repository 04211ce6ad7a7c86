/**
 * Simulated Istio telemetry: traffic along a service graph, exported by every proxy in
 * Prometheus text format (see the README's "Traffic and metrics" and docs/metrics.md).
 */
export { TrafficSimulator, proxyMetricsPath, workloadNameOf, SOURCE_OVERHEAD_MS } from './simulator';
export type { TelemetryOptions, TrafficFlow, TargetGroup } from './simulator';
export { DEMO_TRAFFIC_GRAPH, BASELINE_ERROR_RATIO, TrafficInputError } from './graph';
export type { TrafficEdge, HttpEdge, TcpEdge, WorkloadSelector, ExternalDestination } from './graph';
export type { TrafficSpike, TrafficSpikeInput } from './spikes';
export { ISTIO_HISTOGRAM_BUCKETS, histogramQuantile } from './distributions';
export type { LogNormal, ShiftedLogNormal } from './distributions';
export { parseExposition, PROMETHEUS_TEXT_CONTENT_TYPE } from './exposition';
export type { ParsedExposition, Sample, MetricFamily } from './exposition';
export { handleProxyMetrics, handleTrafficAdmin } from './http';
