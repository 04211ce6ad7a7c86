import { clockOf, SandboxClock } from '../clock';
import { resourceTypeOfKind } from '../resources';
import type { SandboxCluster } from '../server';
import { ClusterStore, KubeObject, StoreEvent } from '../store';
import { cdf, ISTIO_HISTOGRAM_BUCKETS, LogNormal, mean, ShiftedLogNormal } from './distributions';
import { familyHeader, formatLe, formatValue, MetricFamily, renderLabels } from './exposition';
import {
  BASELINE_ERROR_RATIO,
  DEFAULT_CONNECTION_SECONDS,
  DEFAULT_LATENCY_MS,
  DEFAULT_REQUEST_BYTES,
  DEFAULT_RESPONSE_BYTES,
  DEMO_TRAFFIC_GRAPH,
  isExternal,
  TrafficEdge,
  validateGraph,
} from './graph';
import { mergeSpikes, spikeMatches, TrafficSpike, TrafficSpikeInput, validateSpike } from './spikes';

/**
 * Istio's standard metrics, as every proxy of the sandbox would export them at
 * `/stats/prometheus`, for traffic that follows a service graph (`graph.ts`).
 *
 * Counters are the integral of piecewise-constant rates over the cluster clock: between
 * two changes (a pod of the graph starts, stops, turns Ready or not; a spike is set or
 * removed) every series of every proxy grows linearly; at a change, the values so far are
 * settled and the new rates apply from then on. So counters are monotonic, a deterministic
 * function of the clock and of those changes, and `rate()` over an interval without a
 * change is exactly the configured rate. They are expected values, not whole requests
 * (a 0.5% error ratio at 1 request/s is 0.005 errors a second, not one error every 200 s).
 *
 * An edge's rate is spread over the Ready pods on both sides, as a Service spreads
 * requests over its endpoints: a caller pod sends `rate / callers`, a destination pod
 * receives `rate / destinations`. Proxies count from when the simulator started (server
 * start) or, for later pods, from when the pod is Running: a new pod starts at zero, as a
 * new Envoy does, and a deleted pod's series are gone.
 */

const POD = resourceTypeOfKind('Pod');
const REPLICA_SET = resourceTypeOfKind('ReplicaSet');

export interface TelemetryOptions {
  /** The traffic graph of every cluster, or per cluster (`undefined`: no traffic there). Default: {@link DEMO_TRAFFIC_GRAPH}. */
  graph?: readonly TrafficEdge[] | ((cluster: string) => readonly TrafficEdge[] | undefined);
  /** Spikes in effect from the start. */
  spikes?: TrafficSpikeInput[];
}

/** One flow of the current traffic: a caller workload to a destination workload (what a topology graph draws). */
export interface TrafficFlow {
  cluster: string;
  protocol: 'http' | 'tcp';
  source: { namespace: string; workload: string; sidecar: boolean; pods: number };
  /** `workload` is absent for an external destination or a Service without Ready endpoints (503 `UH`). */
  destination: { service: string; namespace?: string; workload?: string; sidecar: boolean; pods: number };
  /** HTTP requests per second (0 for TCP). */
  requestsPerSecond: number;
  /** Share of each response code, e.g. `{ "200": 0.995, "500": 0.003, "503": 0.002 }`. */
  responseCodes: Record<string, number>;
  /** Share of 5xx responses. */
  errorRatio: number;
  /** Latency at the destination's proxy, in ms (the caller's proxy adds 1 ms). */
  latencyMs?: ShiftedLogNormal;
  connectionsPerSecond?: number;
  requestBytesPerSecond?: number;
  responseBytesPerSecond?: number;
}

/** A Prometheus `http_sd_configs` / `file_sd_configs` target group. */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** What the caller's proxy adds to the latency its peer reports, in ms. */
export const SOURCE_OVERHEAD_MS = 1;

const FAMILIES: Record<string, MetricFamily> = {
  istio_build: { name: 'istio_build', type: 'gauge', help: 'Istio component build info' },
  istio_requests_total: { name: 'istio_requests_total', type: 'counter', help: 'Total requests' },
  istio_request_duration_milliseconds: { name: 'istio_request_duration_milliseconds', type: 'histogram', help: 'Request duration in milliseconds' },
  istio_request_bytes: { name: 'istio_request_bytes', type: 'histogram', help: 'Request body size in bytes' },
  istio_response_bytes: { name: 'istio_response_bytes', type: 'histogram', help: 'Response body size in bytes' },
  istio_tcp_sent_bytes_total: { name: 'istio_tcp_sent_bytes_total', type: 'counter', help: 'Bytes sent during response of TCP connections' },
  istio_tcp_received_bytes_total: { name: 'istio_tcp_received_bytes_total', type: 'counter', help: 'Bytes received during request of TCP connections' },
  istio_tcp_connections_opened_total: { name: 'istio_tcp_connections_opened_total', type: 'counter', help: 'TCP connections opened' },
  istio_tcp_connections_closed_total: { name: 'istio_tcp_connections_closed_total', type: 'counter', help: 'TCP connections closed' },
};

type Part = 'value' | 'bucket' | 'sum' | 'count';
const PART_ORDER: Record<Part, number> = { value: 0, bucket: 0, sum: 1, count: 2 };

interface Series {
  key: string;
  family: string;
  part: Part;
  /** Index into the buckets; `buckets.length` is +Inf. */
  le: number;
  /** Rendered labels without braces (and without `le`). */
  labels: string;
  /** The value at the cluster's last settlement. */
  value: number;
  /** Per second, from the last settlement on. */
  rate: number;
  /** The rate applies only from `since + delayMs` of the proxy (closed connections lag opened ones). */
  delayMs: number;
}

/** How the peers of a request are labelled. */
interface Peer {
  workload: string;
  namespace: string;
  canonicalService: string;
  canonicalRevision: string;
  app: string;
  version: string;
  principal: string;
  cluster: string;
}

const UNKNOWN_PEER: Peer = {
  workload: 'unknown',
  namespace: 'unknown',
  canonicalService: 'unknown',
  canonicalRevision: 'unknown',
  app: 'unknown',
  version: 'unknown',
  principal: 'unknown',
  cluster: 'unknown',
};

interface TrackedPod {
  uid: string;
  name: string;
  namespace: string;
  app: string;
  workload: string;
  /** Has a proxy (sidecar or gateway) that reports. */
  meshed: boolean;
  ready: boolean;
  peer: Peer;
  /** Clock ms from which it counts. */
  since: number;
  series: Map<string, Series>;
  /** The series with a rate now. */
  active: Set<Series>;
  /** `series` in exposition order; reset when a series is added. */
  sorted?: Series[];
}

interface Group {
  namespace: string;
  workload: string;
  meshed: boolean;
  pods: TrackedPod[];
}

interface Flow {
  edge: TrafficEdge;
  src: Group;
  /** Undefined: external, or no Ready endpoint. */
  dst?: Group;
  service: { host: string; name: string; namespace: string };
  external: boolean;
  /** HTTP requests/s, or the TCP rate factor. */
  rate: number;
  codes: Array<{ code: string; flags: string; share: number }>;
  latency: ShiftedLogNormal;
  requestBytes: LogNormal;
  responseBytes: LogNormal;
}

// --- pods ---

function proxyContainerOf(pod: KubeObject): any | undefined {
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const sidecar = containers.find((c: any) => c.name === 'istio-proxy');
  if (sidecar) return sidecar;
  // A gateway runs Envoy as its main container (the add-on's aks-istio-ingressgateway-*).
  if (/gateway/.test(pod.metadata?.labels?.istio ?? '')) return (pod.spec?.containers ?? []).find((c: any) => /\/proxyv2:/.test(c.image ?? ''));
  return undefined;
}

function isRunning(pod: KubeObject): boolean {
  return pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp;
}

function isReady(pod: KubeObject): boolean {
  return (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

/** A pod serves `/stats/prometheus` when it is Running with a proxy. */
export function hasProxy(pod: KubeObject): boolean {
  return isRunning(pod) && proxyContainerOf(pod) !== undefined;
}

/**
 * The workload name Istio gives a pod: its Deployment (the ReplicaSet's owner, or the
 * ReplicaSet's name without the pod-template-hash), else its controller, else the pod.
 */
export function workloadNameOf(pod: KubeObject, store?: ClusterStore): string {
  const owner = (pod.metadata?.ownerReferences ?? []).find((r: any) => r.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (!owner) return pod.metadata.name;
  if (owner.kind !== 'ReplicaSet') return owner.name;
  const rs = store?.peek(REPLICA_SET, pod.metadata.namespace, owner.name);
  const deployment = (rs?.metadata.ownerReferences ?? []).find((r: any) => r.kind === 'Deployment');
  if (deployment) return deployment.name;
  const hash = pod.metadata?.labels?.['pod-template-hash'] ?? rs?.metadata.labels?.['pod-template-hash'];
  if (hash && owner.name.endsWith(`-${hash}`)) return owner.name.slice(0, -hash.length - 1);
  return owner.name;
}

function peerOf(pod: KubeObject, workload: string): Peer {
  const labels = pod.metadata?.labels ?? {};
  const ns = pod.metadata.namespace;
  const proxy = proxyContainerOf(pod);
  const clusterId = proxy?.env?.find((e: any) => e.name === 'ISTIO_META_CLUSTER_ID')?.value ?? 'Kubernetes';
  return {
    workload,
    namespace: ns,
    canonicalService: labels['service.istio.io/canonical-name'] ?? labels['app.kubernetes.io/name'] ?? labels.app ?? workload,
    canonicalRevision: labels['service.istio.io/canonical-revision'] ?? labels['app.kubernetes.io/version'] ?? labels.version ?? 'latest',
    app: labels.app ?? 'unknown',
    version: labels.version ?? 'unknown',
    principal: `spiffe://cluster.local/ns/${ns}/sa/${pod.spec?.serviceAccountName ?? 'default'}`,
    cluster: clusterId,
  };
}

function istioVersionOf(pod: KubeObject): string {
  const image: string = proxyContainerOf(pod)?.image ?? '';
  return /:(\d+\.\d+\.\d+)/.exec(image)?.[1] ?? 'unknown';
}

// --- labels ---

function httpLabels(
  reporter: 'source' | 'destination',
  src: Peer,
  dst: Peer,
  service: Flow['service'],
  protocol: 'http' | 'tcp',
  code: string | undefined,
  flags: string,
  security: string,
  mtls: boolean,
): string {
  const labels: Array<[string, string]> = [
    ['reporter', reporter],
    ['source_workload', src.workload],
    ['source_canonical_service', src.canonicalService],
    ['source_canonical_revision', src.canonicalRevision],
    ['source_workload_namespace', src.namespace],
    ['source_principal', mtls ? src.principal : 'unknown'],
    ['source_app', src.app],
    ['source_version', src.version],
    ['source_cluster', src.cluster],
    ['destination_workload', dst.workload],
    ['destination_workload_namespace', dst.namespace],
    ['destination_principal', mtls ? dst.principal : 'unknown'],
    ['destination_app', dst.app],
    ['destination_version', dst.version],
    ['destination_service', service.host],
    ['destination_canonical_service', dst.canonicalService],
    ['destination_canonical_revision', dst.canonicalRevision],
    ['destination_service_name', service.name],
    ['destination_service_namespace', service.namespace],
    ['destination_cluster', dst.cluster],
    ['request_protocol', protocol],
    ...(code !== undefined
      ? ([
          ['response_code', code],
          ['grpc_response_status', ''],
        ] as Array<[string, string]>)
      : []),
    ['response_flags', flags],
    ['connection_security_policy', security],
  ];
  return renderLabels(labels).slice(1, -1);
}

// --- one cluster ---

class ClusterTraffic {
  private edges: readonly TrafficEdge[] = [];
  /** `namespace/app` of the graph's endpoints: the pods worth tracking. */
  private endpoints = new Set<string>();
  private readonly pods = new Map<string, TrackedPod>();
  private lastSettle: number;
  private readonly clock: SandboxClock;
  private current: Flow[] = [];
  private readonly unsubscribe: () => void;

  constructor(
    readonly name: string,
    private readonly cluster: SandboxCluster,
    edges: readonly TrafficEdge[],
    private readonly spikes: () => readonly TrafficSpike[],
  ) {
    this.clock = clockOf(cluster);
    this.lastSettle = this.now();
    this.setEdges(edges);
    this.unsubscribe = cluster.store.subscribe(e => this.onEvent(e));
  }

  close() {
    this.unsubscribe();
  }

  now(): number {
    return this.clock.now().getTime();
  }

  setEdges(edges: readonly TrafficEdge[]) {
    validateGraph(edges);
    this.settle();
    this.edges = edges;
    this.endpoints = new Set();
    for (const e of edges) {
      this.endpoints.add(`${e.from.namespace}/${e.from.app}`);
      if (!isExternal(e.to)) this.endpoints.add(`${e.to.namespace}/${e.to.app}`);
    }
    for (const key of [...this.pods.keys()]) {
      const [ns, name] = key.split('/');
      if (!this.cluster.store.peek(POD, ns, name)) this.pods.delete(key);
    }
    for (const pod of this.cluster.store.scan(POD)) this.apply(pod.metadata.namespace, pod.metadata.name, pod);
    this.recompute();
  }

  private onEvent(event: StoreEvent) {
    if (event.resource.kind !== 'Pod') return;
    const o = event.object;
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    if (!this.pods.has(key) && !this.endpoints.has(`${o.metadata.namespace}/${o.metadata.labels?.app}`)) return;
    const tracked = this.pods.get(key);
    const wanted = event.type === 'DELETED' ? undefined : this.desired(o);
    const unchanged =
      tracked && wanted
        ? tracked.uid === wanted.uid && tracked.ready === wanted.ready && tracked.meshed === wanted.meshed && tracked.workload === wanted.workload
        : !tracked && !wanted;
    if (unchanged) return;
    this.settle();
    this.apply(o.metadata.namespace, o.metadata.name, event.type === 'DELETED' ? undefined : o);
    this.recompute();
  }

  private desired(pod: KubeObject) {
    const app = pod.metadata.labels?.app;
    if (!app || !this.endpoints.has(`${pod.metadata.namespace}/${app}`) || !isRunning(pod)) return undefined;
    const workload = workloadNameOf(pod, this.cluster.store);
    return { uid: String(pod.metadata.uid ?? pod.metadata.name), app, workload, ready: isReady(pod), meshed: proxyContainerOf(pod) !== undefined, peer: peerOf(pod, workload) };
  }

  /** Brings the tracked state of one pod in line with the store (no settling, no recompute). */
  private apply(namespace: string, name: string, pod: KubeObject | undefined) {
    const key = `${namespace}/${name}`;
    const wanted = pod ? this.desired(pod) : undefined;
    const tracked = this.pods.get(key);
    if (!wanted) {
      this.pods.delete(key);
      return;
    }
    if (tracked && tracked.uid === wanted.uid) {
      Object.assign(tracked, { ready: wanted.ready, meshed: wanted.meshed, workload: wanted.workload, peer: wanted.peer });
      return;
    }
    // A new pod (or a new one under an old name): a new Envoy, counting from zero.
    this.pods.set(key, { ...wanted, name, namespace, since: this.now(), series: new Map(), active: new Set() });
  }

  /** Adds what every series earned since the last settlement, at the current rates. */
  settle() {
    const now = this.now();
    if (now <= this.lastSettle) return;
    for (const pod of this.pods.values()) {
      for (const s of pod.active) s.value += s.rate * this.elapsed(pod, s, now);
    }
    this.lastSettle = now;
  }

  private elapsed(pod: TrackedPod, s: Series, now: number): number {
    const from = Math.max(this.lastSettle, pod.since + s.delayMs);
    return now > from ? (now - from) / 1000 : 0;
  }

  /** New rates for every series, from the graph, the Ready pods and the spikes. */
  recompute() {
    for (const pod of this.pods.values()) {
      for (const s of pod.active) s.rate = 0;
      pod.active.clear();
    }
    this.current = this.computeFlows();
    for (const flow of this.current) this.emit(flow);
  }

  private computeFlows(): Flow[] {
    const ready = [...this.pods.values()].filter(p => p.ready);
    const groupsOf = (namespace: string, app: string): { groups: Group[]; total: number } => {
      const pods = ready.filter(p => p.namespace === namespace && p.app === app);
      const groups = new Map<string, Group>();
      for (const p of pods.sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const k = `${p.workload}\u0000${p.meshed}`;
        if (!groups.has(k)) groups.set(k, { namespace, workload: p.workload, meshed: p.meshed, pods: [] });
        groups.get(k)!.pods.push(p);
      }
      return { groups: [...groups.values()], total: pods.length };
    };
    const base: Array<Omit<Flow, 'codes' | 'latency'>> = [];
    for (const edge of this.edges) {
      const from = groupsOf(edge.from.namespace, edge.from.app);
      if (from.total === 0) continue;
      const perSecond = edge.protocol === 'tcp' ? 1 : edge.requestsPerSecond;
      const external = isExternal(edge.to);
      const service = isExternal(edge.to)
        ? { host: edge.to.external, name: edge.to.external, namespace: 'unknown' }
        : { host: `${edge.to.service ?? edge.to.app}.${edge.to.namespace}.svc.cluster.local`, name: edge.to.service ?? edge.to.app, namespace: edge.to.namespace };
      const to = isExternal(edge.to) ? { groups: [], total: 0 } : groupsOf(edge.to.namespace, edge.to.app);
      const bytes = {
        requestBytes: edge.protocol === 'tcp' ? DEFAULT_REQUEST_BYTES : edge.requestBytes ?? DEFAULT_REQUEST_BYTES,
        responseBytes: edge.protocol === 'tcp' ? DEFAULT_RESPONSE_BYTES : edge.responseBytes ?? DEFAULT_RESPONSE_BYTES,
      };
      for (const src of from.groups) {
        const srcShare = src.pods.length / from.total;
        if (to.total === 0) {
          base.push({ edge, src, service, external, rate: perSecond * srcShare, ...bytes });
          continue;
        }
        for (const dst of to.groups) base.push({ edge, src, dst, service, external, rate: (perSecond * srcShare * dst.pods.length) / to.total, ...bytes });
      }
    }
    // Spikes on destination workloads.
    const spikeOf = (dst: Group) => mergeSpikes(this.spikes().filter(s => spikeMatches(s, this.name, dst.namespace, dst.workload)));
    const inbound = new Map<string, number>();
    for (const f of base) {
      if (f.dst && f.edge.protocol !== 'tcp') inbound.set(`${f.dst.namespace}/${f.dst.workload}`, (inbound.get(`${f.dst.namespace}/${f.dst.workload}`) ?? 0) + f.rate);
    }
    return base.map(f => {
      const spike = f.dst ? spikeOf(f.dst) : {};
      let rate = f.rate;
      if (spike.rateMultiplier !== undefined) rate *= spike.rateMultiplier;
      if (spike.requestsPerSecond !== undefined && f.dst && f.edge.protocol !== 'tcp') {
        const total = inbound.get(`${f.dst.namespace}/${f.dst.workload}`) ?? 0;
        rate = total > 0 ? (rate * spike.requestsPerSecond) / total : 0;
      }
      if (f.edge.protocol === 'tcp') return { ...f, rate, codes: [], latency: { median: 1 } };
      if (!f.dst && !f.external) {
        // No Ready endpoint: the caller's Envoy answers 503 itself ("no healthy upstream").
        return { ...f, rate, codes: [{ code: '503', flags: 'UH', share: 1 }], latency: { median: 0.3, sigma: 0.3 }, responseBytes: { median: 19, sigma: 0 } };
      }
      const err = spike.errorRatio ?? f.edge.errorRatio ?? BASELINE_ERROR_RATIO;
      const errors =
        spike.errorCode !== undefined
          ? [{ code: String(spike.errorCode), flags: '-', share: err }]
          : [
              { code: '500', flags: '-', share: err * 0.6 },
              { code: '503', flags: '-', share: err * 0.4 },
            ];
      const d = f.edge.latencyMs ?? DEFAULT_LATENCY_MS;
      return {
        ...f,
        rate,
        codes: [{ code: '200', flags: '-', share: 1 - err }, ...errors],
        latency: { median: d.median, sigma: d.sigma ?? 0.5, multiplier: spike.latencyMultiplier ?? 1, offset: spike.latencyOffsetMs ?? 0 },
      };
    });
  }

  /** Gives the proxies on both ends of a flow their series. */
  private emit(flow: Flow) {
    const { src, dst, edge } = flow;
    const mtls = src.meshed && !!dst?.meshed;
    const dstPeerSample = dst?.meshed ? dst.pods[0].peer : UNKNOWN_PEER;
    const srcPeerSample = src.meshed ? src.pods[0].peer : UNKNOWN_PEER;
    const reporters: Array<{ reporter: 'source' | 'destination'; pods: TrackedPod[] }> = [];
    if (src.meshed) reporters.push({ reporter: 'source', pods: src.pods });
    if (dst?.meshed) reporters.push({ reporter: 'destination', pods: dst.pods });
    for (const { reporter, pods } of reporters) {
      const perPod = flow.rate / pods.length;
      // The caller's proxy does not know how the peer accepted it; the destination's does.
      let security = 'unknown';
      if (reporter === 'destination') security = src.meshed ? 'mutual_tls' : 'none';
      for (const pod of pods) {
        const srcPeer = reporter === 'source' ? pod.peer : srcPeerSample;
        const dstPeer = reporter === 'destination' ? pod.peer : dstPeerSample;
        if (edge.protocol === 'tcp') {
          const labels = httpLabels(reporter, srcPeer, dstPeer, flow.service, 'tcp', undefined, '-', security, mtls);
          const c = edge.connectionsPerSecond * perPod;
          this.add(pod, 'istio_tcp_connections_opened_total', 'value', 0, labels, c);
          this.add(pod, 'istio_tcp_connections_closed_total', 'value', 0, labels, c, (edge.connectionSeconds ?? DEFAULT_CONNECTION_SECONDS) * 1000);
          this.add(pod, 'istio_tcp_received_bytes_total', 'value', 0, labels, edge.requestBytesPerSecond * perPod);
          this.add(pod, 'istio_tcp_sent_bytes_total', 'value', 0, labels, edge.responseBytesPerSecond * perPod);
          continue;
        }
        const latency = reporter === 'source' && flow.codes[0]?.flags !== 'UH' ? { ...flow.latency, offset: (flow.latency.offset ?? 0) + SOURCE_OVERHEAD_MS } : flow.latency;
        for (const { code, flags, share } of flow.codes) {
          const q = perPod * share;
          if (!(q > 0)) continue;
          const labels = httpLabels(reporter, srcPeer, dstPeer, flow.service, 'http', code, flags, security, mtls);
          this.add(pod, 'istio_requests_total', 'value', 0, labels, q);
          this.histogram(pod, 'istio_request_duration_milliseconds', labels, q, latency);
          this.histogram(pod, 'istio_request_bytes', labels, q, flow.requestBytes);
          this.histogram(pod, 'istio_response_bytes', labels, q, flow.responseBytes);
        }
      }
    }
  }

  private histogram(pod: TrackedPod, family: string, labels: string, q: number, d: ShiftedLogNormal) {
    ISTIO_HISTOGRAM_BUCKETS.forEach((bound, i) => this.add(pod, family, 'bucket', i, labels, q * cdf(d, bound)));
    this.add(pod, family, 'bucket', ISTIO_HISTOGRAM_BUCKETS.length, labels, q);
    this.add(pod, family, 'sum', 0, labels, q * mean(d));
    this.add(pod, family, 'count', 0, labels, q);
  }

  private add(pod: TrackedPod, family: string, part: Part, le: number, labels: string, rate: number, delayMs = 0) {
    const key = `${family}|${part}|${le}|${labels}`;
    let s = pod.series.get(key);
    if (!s) {
      // Buckets exist from the start even when empty; other series once they get a rate.
      if (!(rate > 0) && part !== 'bucket') return;
      s = { key, family, part, le, labels, value: 0, rate: 0, delayMs };
      pod.series.set(key, s);
      pod.sorted = undefined;
    }
    pod.active.add(s);
    s.rate += rate;
    s.delayMs = delayMs;
  }

  /** The `/stats/prometheus` text of a pod's proxy, or undefined when the pod has no running proxy. */
  scrape(namespace: string, name: string): string | undefined {
    const pod = this.cluster.store.peek(POD, namespace, name);
    if (!pod || !hasProxy(pod)) return undefined;
    let out = `${familyHeader(FAMILIES.istio_build)}istio_build{component="proxy",tag="${istioVersionOf(pod)}"} 1\n`;
    const tracked = this.pods.get(`${namespace}/${name}`);
    if (!tracked || tracked.uid !== String(pod.metadata.uid ?? pod.metadata.name) || !tracked.meshed) return out;
    const now = Math.max(this.now(), this.lastSettle);
    tracked.sorted ??= [...tracked.series.values()].sort(
      (a, b) => cmp(a.family, b.family) || cmp(a.labels, b.labels) || PART_ORDER[a.part] - PART_ORDER[b.part] || a.le - b.le,
    );
    const series = tracked.sorted;
    let family = '';
    for (const s of series) {
      if (s.family !== family) {
        family = s.family;
        out += familyHeader(FAMILIES[family]);
      }
      const value = s.value + s.rate * this.elapsed(tracked, s, now);
      if (s.part === 'bucket') {
        const le = s.le < ISTIO_HISTOGRAM_BUCKETS.length ? ISTIO_HISTOGRAM_BUCKETS[s.le] : Infinity;
        out += `${family}_bucket{${s.labels},le="${formatLe(le)}"} ${formatValue(value)}\n`;
      } else {
        out += `${family}${s.part === 'value' ? '' : `_${s.part}`}{${s.labels}} ${formatValue(value)}\n`;
      }
    }
    return out;
  }

  /** The pods with a running proxy (what Prometheus scrapes). */
  proxies(): KubeObject[] {
    return [...this.cluster.store.scan(POD)].filter(hasProxy).sort((a, b) => cmp(`${a.metadata.namespace}/${a.metadata.name}`, `${b.metadata.namespace}/${b.metadata.name}`));
  }

  flows(): TrafficFlow[] {
    return this.current.map(f => {
      const edge = f.edge;
      const tcp = edge.protocol === 'tcp';
      const responseCodes: Record<string, number> = {};
      for (const c of f.codes) responseCodes[c.code] = (responseCodes[c.code] ?? 0) + c.share;
      return {
        cluster: this.name,
        protocol: tcp ? 'tcp' : 'http',
        source: { namespace: f.src.namespace, workload: f.src.workload, sidecar: f.src.meshed, pods: f.src.pods.length },
        destination: f.dst
          ? { service: f.service.host, namespace: f.dst.namespace, workload: f.dst.workload, sidecar: f.dst.meshed, pods: f.dst.pods.length }
          : { service: f.service.host, sidecar: false, pods: 0 },
        requestsPerSecond: tcp ? 0 : f.rate,
        responseCodes,
        errorRatio: f.codes.filter(c => c.code.startsWith('5')).reduce((sum, c) => sum + c.share, 0),
        ...(edge.protocol === 'tcp'
          ? {
              connectionsPerSecond: edge.connectionsPerSecond * f.rate,
              requestBytesPerSecond: edge.requestBytesPerSecond * f.rate,
              responseBytesPerSecond: edge.responseBytesPerSecond * f.rate,
            }
          : { latencyMs: f.latency }),
      };
    });
  }
}

function cmp(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

// --- the fleet ---

/** The simulated traffic and telemetry of a sandbox server's clusters (`server.traffic`). */
export class TrafficSimulator {
  private readonly clusters = new Map<string, ClusterTraffic>();
  private spikes: TrafficSpike[] = [];
  private nextId = 1;

  constructor(
    clusters: Map<string, SandboxCluster>,
    options: TelemetryOptions = {},
  ) {
    const graphOf = (name: string) => {
      const g = options.graph;
      if (g === undefined) return DEMO_TRAFFIC_GRAPH;
      return (typeof g === 'function' ? g(name) : g) ?? [];
    };
    for (const [name, cluster] of clusters) this.clusters.set(name, new ClusterTraffic(name, cluster, graphOf(name), () => this.spikes));
    if (options.spikes) this.addSpikes(options.spikes);
  }

  /** Replaces a cluster's traffic graph from now on. */
  setGraph(cluster: string, edges: readonly TrafficEdge[]): void {
    this.clusterOrThrow(cluster).setEdges(edges);
  }

  /** Sets a spike (effective now); throws `TrafficInputError` for an invalid one. */
  addSpike(input: TrafficSpikeInput): TrafficSpike {
    return this.addSpikes([input])[0];
  }

  /** Sets several spikes, all or none. */
  addSpikes(inputs: TrafficSpikeInput[]): TrafficSpike[] {
    inputs.forEach(validateSpike);
    this.settleAll();
    const added = inputs.map(input => {
      const clock = input.cluster ? this.clusters.get(input.cluster) : this.clusters.values().next().value;
      const spike: TrafficSpike = { ...input, id: `spike-${this.nextId++}`, since: new Date(clock ? clock.now() : Date.now()).toISOString() };
      this.spikes.push(spike);
      return spike;
    });
    this.recomputeAll();
    return added.map(s => ({ ...s }));
  }

  listSpikes(): TrafficSpike[] {
    return this.spikes.map(s => ({ ...s }));
  }

  removeSpike(id: string): boolean {
    if (!this.spikes.some(s => s.id === id)) return false;
    this.settleAll();
    this.spikes = this.spikes.filter(s => s.id !== id);
    this.recomputeAll();
    return true;
  }

  /** Removes every spike (ids start again at `spike-1`); returns how many there were. */
  clearSpikes(): number {
    const n = this.spikes.length;
    this.settleAll();
    this.spikes = [];
    this.nextId = 1;
    this.recomputeAll();
    return n;
  }

  /** The current flows (rates, error ratios, latency) of one cluster or of all. */
  flows(cluster?: string): TrafficFlow[] {
    if (cluster !== undefined) return this.clusterOrThrow(cluster).flows();
    return [...this.clusters.values()].flatMap(c => c.flows());
  }

  /** A proxy's `/stats/prometheus` text; undefined for an unknown cluster or a pod without a running proxy. */
  scrape(cluster: string, namespace: string, pod: string): string | undefined {
    return this.clusters.get(cluster)?.scrape(namespace, pod);
  }

  /**
   * Prometheus targets for every proxy (`http_sd_configs` / `file_sd_configs`): `address`
   * is this server's `host:port`; each target gets `__metrics_path__` and the labels
   * `cluster`, `namespace`, `pod`.
   */
  targets(address: string, cluster?: string): TargetGroup[] {
    const out: TargetGroup[] = [];
    for (const c of this.clusters.values()) {
      if (cluster !== undefined && c.name !== cluster) continue;
      for (const pod of c.proxies()) {
        const { namespace, name } = pod.metadata;
        out.push({
          targets: [address],
          labels: { __metrics_path__: proxyMetricsPath(c.name, namespace, name), cluster: c.name, namespace, pod: name },
        });
      }
    }
    return out;
  }

  close(): void {
    for (const c of this.clusters.values()) c.close();
  }

  private settleAll() {
    for (const c of this.clusters.values()) c.settle();
  }

  private recomputeAll() {
    for (const c of this.clusters.values()) c.recompute();
  }

  private clusterOrThrow(name: string): ClusterTraffic {
    const c = this.clusters.get(name);
    if (!c) throw new Error(`no cluster named "${name}" in this sandbox`);
    return c;
  }
}

/** Where the sandbox serves a proxy's metrics (no auth, like Envoy's port 15020). */
export function proxyMetricsPath(cluster: string, namespace: string, pod: string): string {
  return `/clusters/${encodeURIComponent(cluster)}/proxies/${encodeURIComponent(namespace)}/${encodeURIComponent(pod)}/stats/prometheus`;
}
