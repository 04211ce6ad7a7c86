import http from 'node:http';
import { BodyError, readJson, sendJson } from '../httpJson';
import type { SandboxCluster } from '../server';
import { PROMETHEUS_TEXT_CONTENT_TYPE } from './exposition';
import { TrafficInputError } from './graph';
import { TrafficSimulator } from './simulator';
import { TrafficSpikeInput } from './spikes';

/**
 * The HTTP side of the telemetry:
 *
 * - `GET /clusters/<cluster>/proxies/<namespace>/<pod>/stats/prometheus`: a proxy's metrics,
 *   without auth, as Prometheus scrapes `<pod IP>:15020/stats/prometheus` in a cluster;
 * - `GET /clusters/<cluster>/api/v1/namespaces/<namespace>/pods/<pod>:15020/proxy/stats/prometheus`
 *   (or `:15090`): the same through the Kubernetes API's pod proxy, with the cluster's token;
 * - the admin API `/_sandbox/traffic` (spikes, current flows) and
 *   `/_sandbox/prometheus/targets` (Prometheus HTTP service discovery).
 */

const PROXY_PATH = /^\/clusters\/([^/]+)\/proxies\/([^/]+)\/([^/]+)\/stats\/prometheus$/;
const POD_PROXY_PATH = /^\/clusters\/([^/]+)\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/proxy\/stats\/prometheus$/;

function sendText(res: http.ServerResponse, status: number, text: string, method: string) {
  res.writeHead(status, { 'Content-Type': status === 200 ? PROMETHEUS_TEXT_CONTENT_TYPE : 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(method === 'HEAD' ? undefined : text);
}

function kubeStatus(res: http.ServerResponse, code: number, reason: string, message: string) {
  sendJson(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

/** Answers a scrape of a proxy's metrics; `false` when the path is not one. */
export function handleProxyMetrics(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  traffic: TrafficSimulator,
  clusters: Map<string, SandboxCluster>,
  path: string,
  method: string,
): boolean {
  const direct = PROXY_PATH.exec(path);
  const viaApi = direct ? null : POD_PROXY_PATH.exec(path);
  const m = direct ?? viaApi;
  if (!m) return false;
  const [cluster, namespace, podRef] = m.slice(1).map(decodeURIComponent);
  const c = clusters.get(cluster);
  if (viaApi) {
    if (!c) {
      kubeStatus(res, 404, 'NotFound', `no cluster named "${cluster}" in this sandbox`);
      return true;
    }
    if ((req.headers.authorization ?? '') !== `Bearer ${c.token}`) {
      kubeStatus(res, 401, 'Unauthorized', 'Unauthorized');
      return true;
    }
  }
  if (method !== 'GET' && method !== 'HEAD') {
    sendText(res, 405, `${method} is not supported on /stats/prometheus\n`, method);
    return true;
  }
  let pod = podRef;
  if (viaApi) {
    // <pod>, <pod>:<port> or <scheme>:<pod>:<port>, as kube-apiserver's pod proxy takes them.
    const parts = podRef.split(':');
    if (parts.length === 3) parts.shift();
    pod = parts[0];
    const port = parts[1];
    if (port !== '15020' && port !== '15090') {
      kubeStatus(res, 503, 'ServiceUnavailable', `the mesh sandbox proxies only to the istio-proxy stats ports 15020 and 15090, not "${port ?? ''}"`);
      return true;
    }
  }
  const text = c ? traffic.scrape(cluster, namespace, pod) : undefined;
  if (text === undefined) {
    const why = !c ? `no cluster named "${cluster}" in this sandbox` : `no running istio-proxy in pod ${namespace}/${pod} of ${cluster}`;
    if (viaApi) kubeStatus(res, 404, 'NotFound', why);
    else sendText(res, 404, `${why}\n`, method);
    return true;
  }
  sendText(res, 200, text, method);
  return true;
}

/** `/_sandbox/traffic…` and `/_sandbox/prometheus/targets` (`seg`: the decoded path segments, `_sandbox` first); `false` for other admin paths. */
export async function handleTrafficAdmin(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  traffic: TrafficSimulator,
  seg: string[],
  method: string,
): Promise<boolean> {
  if (seg[1] !== 'traffic' && seg[1] !== 'prometheus') return false;
  const fail = (code: number, message: string) => sendJson(res, code, { error: { code, message } });
  const query = new URL(req.url ?? '/', 'http://sandbox').searchParams;
  const cluster = query.get('cluster') ?? undefined;
  try {
    if (seg[1] === 'prometheus') {
      if (seg[2] !== 'targets' || seg.length !== 3) fail(404, `no admin endpoint /${seg.join('/')}`);
      else if (method !== 'GET') fail(405, `${method} is not supported on /_sandbox/prometheus/targets`);
      else sendJson(res, 200, traffic.targets(req.headers.host ?? '127.0.0.1', cluster));
      return true;
    }
    if (seg.length === 2) {
      if (method === 'GET') sendJson(res, 200, { spikes: traffic.listSpikes(), flows: traffic.flows(cluster) });
      else if (method === 'POST') {
        const body = await readJson(req);
        const inputs: TrafficSpikeInput[] = Array.isArray(body?.spikes) ? body.spikes : [body];
        sendJson(res, 201, { spikes: traffic.addSpikes(inputs) });
      } else if (method === 'DELETE') sendJson(res, 200, { removed: traffic.clearSpikes() });
      else fail(405, `${method} is not supported on /_sandbox/traffic`);
      return true;
    }
    if (seg.length === 3) {
      const spike = traffic.listSpikes().find(s => s.id === seg[2]);
      if (!spike) fail(404, `no traffic spike ${seg[2]}`);
      else if (method === 'GET') sendJson(res, 200, spike);
      else if (method === 'DELETE') sendJson(res, 200, { removed: traffic.removeSpike(seg[2]) ? 1 : 0 });
      else fail(405, `${method} is not supported on a traffic spike`);
      return true;
    }
    fail(404, `no admin endpoint /${seg.join('/')}`);
    return true;
  } catch (e) {
    if (e instanceof TrafficInputError) {
      fail(400, e.message);
      return true;
    }
    if (e instanceof BodyError) {
      fail(e.status, e.message);
      return true;
    }
    if (e instanceof Error && /^no cluster named/.test(e.message)) {
      fail(404, e.message);
      return true;
    }
    throw e;
  }
}
