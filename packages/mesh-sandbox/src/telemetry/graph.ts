import type { LogNormal } from './distributions';

/**
 * The traffic the sandbox simulates: edges between workloads, as a service graph.
 * An edge's rate is shared by the Ready pods on both ends the way a Kubernetes Service
 * spreads requests over its endpoints; see `TrafficSimulator`.
 */

/** The pods labelled `app=<app>` in `namespace`, called through the Service `<service>.<namespace>.svc.cluster.local`. */
export interface WorkloadSelector {
  namespace: string;
  app: string;
  /** The Service name (destination_service_name); default `app`. */
  service?: string;
}

/** A destination outside the cluster (e.g. a ServiceEntry host): only the caller's proxy reports it. */
export interface ExternalDestination {
  external: string;
}

export interface HttpEdge {
  from: WorkloadSelector;
  to: WorkloadSelector | ExternalDestination;
  protocol?: 'http';
  requestsPerSecond: number;
  /** Share of 5xx responses (500 and 503, 3:2). Default {@link BASELINE_ERROR_RATIO}. */
  errorRatio?: number;
  /** Latency at the destination's proxy, in ms (the caller's proxy sees 1 ms more). Default median 20 ms, σ 0.5. */
  latencyMs?: LogNormal;
  /** Request and response body sizes, in bytes. Defaults: median 350 (σ 0.5) and 1800 (σ 0.8). */
  requestBytes?: LogNormal;
  responseBytes?: LogNormal;
}

export interface TcpEdge {
  from: WorkloadSelector;
  to: WorkloadSelector | ExternalDestination;
  protocol: 'tcp';
  connectionsPerSecond: number;
  /** How long a connection stays open, in s: `…_closed_total` lags `…_opened_total` by that much. Default 30. */
  connectionSeconds?: number;
  /** Bytes from caller to destination (istio_tcp_received_bytes_total), per second. */
  requestBytesPerSecond: number;
  /** Bytes from destination to caller (istio_tcp_sent_bytes_total), per second. */
  responseBytesPerSecond: number;
}

export type TrafficEdge = HttpEdge | TcpEdge;

/** The baseline share of 5xx responses of every HTTP edge. */
export const BASELINE_ERROR_RATIO = 0.005;
export const DEFAULT_LATENCY_MS: LogNormal = { median: 20, sigma: 0.5 };
export const DEFAULT_REQUEST_BYTES: LogNormal = { median: 350, sigma: 0.5 };
export const DEFAULT_RESPONSE_BYTES: LogNormal = { median: 1800, sigma: 0.8 };
export const DEFAULT_CONNECTION_SECONDS = 30;

const sel = (namespace: string, app: string): WorkloadSelector => ({ namespace, app });

/**
 * The demo fleet's traffic, the same graph in every cluster (an edge whose pods a cluster
 * lacks carries nothing there):
 *
 * ```
 * aks-istio-ingressgateway-external ──12/s──▶ storefront/cart ──4/s──▶ storefront/checkout ──2/s──▶ payments/payments-api ──2/s──▶ payments/payments-worker ──tcp──▶ payments-db (Azure PostgreSQL)
 *                                              legacy/legacy-billing (no sidecar, aks-dev only) ──0.5/s──▶ payments/payments-api
 * ```
 *
 * istio-lab has no ingress gateway, so there cart only calls. aks-dev's payments-api gets
 * 2.5 requests/s (0.5 of them from outside the mesh: `source_workload="unknown"`,
 * `connection_security_policy="none"`); aks-prod's and istio-lab's get 2.
 */
export const DEMO_TRAFFIC_GRAPH: readonly TrafficEdge[] = [
  {
    from: sel('aks-istio-ingress', 'aks-istio-ingressgateway-external'),
    to: sel('storefront', 'cart'),
    requestsPerSecond: 12,
    latencyMs: { median: 8, sigma: 0.5 },
  },
  { from: sel('storefront', 'cart'), to: sel('storefront', 'checkout'), requestsPerSecond: 4, latencyMs: { median: 45, sigma: 0.6 } },
  {
    from: sel('storefront', 'checkout'),
    to: sel('payments', 'payments-api'),
    requestsPerSecond: 2,
    latencyMs: { median: 30, sigma: 0.5 },
    requestBytes: { median: 900, sigma: 0.4 },
    responseBytes: { median: 600, sigma: 0.4 },
  },
  { from: sel('legacy', 'legacy-billing'), to: sel('payments', 'payments-api'), requestsPerSecond: 0.5, latencyMs: { median: 30, sigma: 0.5 } },
  { from: sel('payments', 'payments-api'), to: sel('payments', 'payments-worker'), requestsPerSecond: 2, latencyMs: { median: 12, sigma: 0.7 } },
  {
    from: sel('payments', 'payments-worker'),
    to: { external: 'payments-db.postgres.database.azure.com' },
    protocol: 'tcp',
    connectionsPerSecond: 0.2,
    connectionSeconds: 20,
    requestBytesPerSecond: 2048,
    responseBytesPerSecond: 8192,
  },
];

export function isExternal(to: WorkloadSelector | ExternalDestination): to is ExternalDestination {
  return typeof (to as ExternalDestination).external === 'string';
}

export class TrafficInputError extends Error {}

/** Checks a graph's shape (numbers finite and in range); throws {@link TrafficInputError}. */
export function validateGraph(edges: readonly TrafficEdge[]): void {
  if (!Array.isArray(edges)) throw new TrafficInputError('a traffic graph must be an array of edges');
  edges.forEach((edge, i) => {
    const where = `edge ${i}`;
    const selector = (s: any, what: string) => {
      if (!s || typeof s !== 'object') throw new TrafficInputError(`${where}: ${what} is missing`);
      if (what === 'to' && isExternal(s)) return;
      if (typeof s.namespace !== 'string' || !s.namespace || typeof s.app !== 'string' || !s.app) {
        throw new TrafficInputError(`${where}: ${what} needs namespace and app`);
      }
    };
    selector(edge?.from, 'from');
    selector(edge?.to, 'to');
    const nonNegative = (v: unknown, name: string, required: boolean) => {
      if (v === undefined && !required) return;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TrafficInputError(`${where}: ${name} must be a non-negative number`);
    };
    if (edge.protocol === 'tcp') {
      nonNegative(edge.connectionsPerSecond, 'connectionsPerSecond', true);
      nonNegative(edge.connectionSeconds, 'connectionSeconds', false);
      nonNegative(edge.requestBytesPerSecond, 'requestBytesPerSecond', true);
      nonNegative(edge.responseBytesPerSecond, 'responseBytesPerSecond', true);
    } else {
      if (edge.protocol !== undefined && edge.protocol !== 'http') throw new TrafficInputError(`${where}: protocol must be http or tcp`);
      nonNegative(edge.requestsPerSecond, 'requestsPerSecond', true);
      if (edge.errorRatio !== undefined && !(typeof edge.errorRatio === 'number' && edge.errorRatio >= 0 && edge.errorRatio <= 1)) {
        throw new TrafficInputError(`${where}: errorRatio must be between 0 and 1`);
      }
      for (const key of ['latencyMs', 'requestBytes', 'responseBytes'] as const) {
        const d = edge[key];
        if (d !== undefined && !(d && typeof d.median === 'number' && d.median > 0 && (d.sigma === undefined || (typeof d.sigma === 'number' && d.sigma >= 0)))) {
          throw new TrafficInputError(`${where}: ${key} needs a positive median and a non-negative sigma`);
        }
      }
    }
  });
}
