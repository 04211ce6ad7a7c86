import http from 'node:http';
import https from 'node:https';
import { AddressInfo } from 'node:net';
import { ArmOptions, ArmSimulator } from './arm/managedClusters';
import { armClusterOf, handleArm, isArmPath, parseArmPath, sendArmError } from './arm/armHttp';
import { ArmError } from './arm/armErrors';
import { FaultInjector, FaultInputError, FaultRule, FaultRuleInput } from './faults';
import { BodyError, readJson, sendJson } from './httpJson';
import { handleProxyMetrics, handleTrafficAdmin, TelemetryOptions, TrafficSimulator } from './telemetry'; // simulated Istio telemetry
import type { SandboxCluster } from './server';
import { createSelfSignedCert } from './tls/selfSignedCert';

/**
 * What the sandbox serves besides the Kubernetes API, in front of it on the same server:
 *
 * - Azure Resource Manager for `Microsoft.ContainerService` under `/subscriptions/...`
 *   (`src/arm/`), with long-running operations that drive the clusters' control planes;
 * - fault injection on any request (`src/faults.ts`);
 * - the admin API `/_sandbox/faults` and `/_sandbox/arm`;
 * - optionally HTTPS, with a self-signed certificate made at start (the Azure SDK sends
 *   bearer tokens only over https).
 */
export interface SandboxExtensionsOptions {
  arm?: ArmOptions;
  /** Fault rules active from the start. */
  faults?: FaultRuleInput[];
  /** Simulated traffic and Istio metrics (`src/telemetry/`); default: the demo graph. */
  telemetry?: TelemetryOptions;
  /** Also serve everything over HTTPS (`port` 0 or omitted: a free port). */
  https?: boolean | { port?: number };
}

export interface SandboxExtensions {
  /** The simulated Azure Resource Manager (managed clusters, operations). */
  arm: ArmSimulator;
  /** The fault rules; also reachable at `/_sandbox/faults`. */
  faults: FaultInjector;
  /** Simulated traffic, its spikes and the proxies' metrics; also reachable at `/_sandbox/traffic`. */
  traffic: TrafficSimulator;
  /** The HTTPS endpoint, when asked for; clients trust `caCertPem`. */
  https?: { url: string; port: number; caCertPem: string };
}

export interface InstalledExtensions {
  api: SandboxExtensions;
  /** Stops running ARM operations and the HTTPS listener. */
  close(): void;
}

type RequestListener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/**
 * Puts the extensions in front of the server's request handler (the Kubernetes API):
 * a request they do not answer goes on to it unchanged.
 */
export async function installSandboxExtensions(
  server: http.Server,
  clusters: Map<string, SandboxCluster>,
  options: SandboxExtensionsOptions & { host?: string } = {},
): Promise<InstalledExtensions> {
  const faults = new FaultInjector();
  if (options.faults) faults.addAll(options.faults);
  const arm = new ArmSimulator(clusters, options.arm);
  const traffic = new TrafficSimulator(clusters, options.telemetry);

  const downstream = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  const onRequest: RequestListener = (req, res) => {
    intercept(req, res, { arm, faults, clusters, traffic }).then(
      handled => {
        if (!handled) downstream.forEach(l => l.call(server, req, res));
      },
      error => {
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'InternalError', message: (error as Error).message } });
      },
    );
  };
  server.on('request', onRequest);

  let httpsServer: https.Server | undefined;
  let httpsApi: SandboxExtensions['https'];
  if (options.https) {
    const host = options.host ?? '127.0.0.1';
    const { certPem, keyPem } = createSelfSignedCert({ hosts: ['localhost', '127.0.0.1', '::1', ...(host !== '127.0.0.1' && host !== 'localhost' ? [host] : [])] });
    httpsServer = https.createServer({ key: keyPem, cert: certPem }, onRequest);
    const port = typeof options.https === 'object' ? options.https.port ?? 0 : 0;
    await new Promise<void>((resolve, reject) => {
      httpsServer!.once('error', reject);
      httpsServer!.listen(port, host, () => resolve());
    });
    const actual = (httpsServer.address() as AddressInfo).port;
    httpsApi = { url: `https://${host}:${actual}`, port: actual, caCertPem: certPem };
  }

  return {
    api: { arm, faults, traffic, ...(httpsApi ? { https: httpsApi } : {}) },
    close: () => {
      arm.close();
      traffic.close();
      httpsServer?.closeAllConnections();
      httpsServer?.close();
    },
  };
}

interface Context {
  arm: ArmSimulator;
  faults: FaultInjector;
  clusters: Map<string, SandboxCluster>;
  traffic: TrafficSimulator;
}

/** Answers admin, faulted and ARM requests; `false` hands the request on to the Kubernetes API. */
async function intercept(req: http.IncomingMessage, res: http.ServerResponse, ctx: Context): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://sandbox');
  const path = url.pathname;
  const method = (req.method ?? 'GET').toUpperCase();
  if (path === '/_sandbox' || path.startsWith('/_sandbox/')) {
    await handleAdmin(req, res, ctx, path, method);
    return true;
  }

  const arm = isArmPath(path);
  const cluster = arm ? armClusterOf(ctx.arm, path) : kubeClusterOf(path);
  const decision = ctx.faults.decide({ method, path, cluster });
  if (decision.latencyMs > 0) {
    await new Promise(resolve => setTimeout(resolve, decision.latencyMs));
    if (req.socket.destroyed) return true;
  }
  if (decision.terminal) {
    respondWithFault(req, res, decision.terminal, { arm, path, method });
    return true;
  }
  if (!arm) return handleProxyMetrics(req, res, ctx.traffic, ctx.clusters, path, method); // proxies' /stats/prometheus, else the Kubernetes API
  const route = parseArmPath(path);
  const isClusterWrite = method === 'PUT' && route?.kind === 'cluster' && route.child === undefined;
  await handleArm(ctx.arm, req, res, {
    operationFailure: isClusterWrite
      ? () => {
          const rule = ctx.faults.operationFailure({ method, path, cluster });
          return rule
            ? {
                code: rule.errorCode ?? 'InternalOperationError',
                message: rule.message ?? `Reconciling the Istio add-on failed (fault ${rule.id} of the mesh sandbox).`,
              }
            : undefined;
        }
      : undefined,
  });
  return true;
}

function kubeClusterOf(path: string): string | undefined {
  const m = /^\/clusters\/([^/]+)/.exec(path);
  return m ? decodeURIComponent(m[1]) : undefined;
}

// --- fault responses, in the shape of the API that was called ---

const KUBE_5XX: Record<number, { reason: string; message: string }> = {
  500: { reason: 'InternalError', message: 'Internal error occurred: the mesh sandbox injected this failure' },
  503: { reason: 'ServiceUnavailable', message: 'the server is currently unable to handle the request' },
  504: { reason: 'Timeout', message: 'the server was unable to return a response in the time allotted, but may still be processing the request' },
};

const ARM_5XX: Record<number, { code: string; message: string }> = {
  500: { code: 'InternalServerError', message: 'Encountered internal server error. The mesh sandbox injected this failure.' },
  502: { code: 'BadGateway', message: "The gateway did not receive a valid response from 'Microsoft.ContainerService'." },
  503: { code: 'ServiceUnavailable', message: 'The service is currently unavailable. Please try again later.' },
  504: { code: 'GatewayTimeout', message: "The gateway did not receive a response from 'Microsoft.ContainerService' within the specified time period." },
};

function respondWithFault(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  rule: FaultRule,
  at: { arm: boolean; path: string; method: string },
) {
  const mark = { 'X-Sandbox-Fault': rule.id };
  if (rule.kind === 'drop') {
    req.socket.destroy();
    return;
  }
  if (at.arm) {
    let error: ArmError;
    if (rule.kind === 'throttle') {
      const sub = parseArmPath(at.path)?.sub ?? '';
      const kind = at.method === 'GET' ? 'read' : 'write';
      error = new ArmError(
        429,
        'SubscriptionRequestsThrottled',
        `Number of '${kind}' requests for subscription '${sub}' exceeded. Please try again after '${rule.retryAfterSeconds}' seconds after additional tickets are available. Refer to https://aka.ms/armthrottle for additional information.`,
        { 'Retry-After': String(rule.retryAfterSeconds) },
      );
    } else if (rule.kind === 'conflict') {
      error = new ArmError(
        409,
        'OperationNotAllowed',
        rule.message ?? "Operation is not allowed because there's an in progress update managed cluster operation. Please wait for it to finish and try again.",
      );
    } else {
      const known = ARM_5XX[rule.status!] ?? { code: 'InternalServerError', message: 'Encountered internal server error.' };
      error = new ArmError(rule.status!, known.code, rule.message ?? known.message);
    }
    error.headers['X-Sandbox-Fault'] = rule.id;
    sendArmError(res, error);
    return;
  }
  // The Kubernetes API (and anything else): a metav1.Status.
  const status = (code: number, reason: string, message: string, details?: Record<string, unknown>) => ({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    ...(reason ? { reason } : {}),
    ...(details ? { details } : {}),
    code,
  });
  if (rule.kind === 'throttle') {
    sendJson(
      res,
      429,
      status(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds: rule.retryAfterSeconds }),
      { ...mark, 'Retry-After': String(rule.retryAfterSeconds) },
    );
    return;
  }
  if (rule.kind === 'conflict') {
    const target = kubeTarget(at.path);
    const resource = `${target.plural ?? 'resources'}${target.group ? `.${target.group}` : ''}`;
    sendJson(
      res,
      409,
      status(
        409,
        'Conflict',
        rule.message ??
          `Operation cannot be fulfilled on ${resource}${target.name ? ` "${target.name}"` : ''}: the object has been modified; please apply your changes to the latest version and try again`,
        { ...(target.name ? { name: target.name } : {}), ...(target.group ? { group: target.group } : {}), ...(target.plural ? { kind: target.plural } : {}) },
      ),
      mark,
    );
    return;
  }
  const known = KUBE_5XX[rule.status!] ?? { reason: '', message: 'the mesh sandbox injected this failure' };
  sendJson(res, rule.status!, status(rule.status!, known.reason, rule.message ?? known.message), mark);
}

/** Resource and name of a Kubernetes API path (for the 409 message). */
function kubeTarget(path: string): { group?: string; plural?: string; name?: string } {
  const seg = path.split('/').filter(Boolean).map(decodeURIComponent);
  let rest: string[];
  let group = '';
  if (seg[2] === 'api') rest = seg.slice(4);
  else if (seg[2] === 'apis') {
    group = seg[3] ?? '';
    rest = seg.slice(5);
  } else return {};
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  return { group, plural: rest[0], name: rest[1] };
}

// --- /_sandbox admin API ---

async function handleAdmin(req: http.IncomingMessage, res: http.ServerResponse, ctx: Context, path: string, method: string) {
  const seg = path.split('/').filter(Boolean).map(decodeURIComponent);
  const fail = (code: number, message: string) => sendJson(res, code, { error: { code, message } });
  try {
    if (await handleTrafficAdmin(req, res, ctx.traffic, seg, method)) return undefined; // /_sandbox/traffic, /_sandbox/prometheus/targets
    if (seg[1] === 'faults' && seg.length === 2) {
      if (method === 'GET') return sendJson(res, 200, { rules: ctx.faults.list() });
      if (method === 'POST') {
        const body = await readJson(req);
        const inputs: FaultRuleInput[] = Array.isArray(body?.rules) ? body.rules : [body];
        return sendJson(res, 201, { rules: ctx.faults.addAll(inputs) });
      }
      if (method === 'DELETE') return sendJson(res, 200, { removed: ctx.faults.clear() });
      return fail(405, `${method} is not supported on /_sandbox/faults`);
    }
    if (seg[1] === 'faults' && seg.length === 3) {
      const rule = ctx.faults.list().find(r => r.id === seg[2]);
      if (!rule) return fail(404, `no fault rule ${seg[2]}`);
      if (method === 'GET') return sendJson(res, 200, rule);
      if (method === 'DELETE') return sendJson(res, 200, { removed: ctx.faults.remove(seg[2]) ? 1 : 0 });
      return fail(405, `${method} is not supported on a fault rule`);
    }
    if (seg[1] === 'arm' && seg.length === 2) {
      if (method === 'PATCH') {
        const body = await readJson(req);
        const delay = body?.operationDelayMs;
        if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) return fail(400, 'operationDelayMs must be a non-negative number');
        ctx.arm.operationDelayMs = delay;
      } else if (method !== 'GET') return fail(405, `${method} is not supported on /_sandbox/arm`);
      return sendJson(res, 200, { operationDelayMs: ctx.arm.operationDelayMs, managedClusters: ctx.arm.list() });
    }
    return fail(404, `no admin endpoint ${path}`);
  } catch (e) {
    if (e instanceof FaultInputError) return fail(400, e.message);
    if (e instanceof BodyError) return fail(e.status, e.message);
    throw e;
  }
}
