import http from 'node:http';
import { AddressInfo } from 'node:net';
import { StatusError, badRequest } from './errors';
import { JsonPatchError, PatchFormatError, jsonMergePatch, jsonPatch, strategicMergePatch } from './patch';
import { apiVersionOf, findResourceType, RESOURCE_TYPES } from './resources';
import { ClusterStore } from './store';
import { installSandboxExtensions, SandboxExtensions, SandboxExtensionsOptions } from './extensions'; // mesh-sandbox extensions
import type { SandboxClock } from './clock';
import { ClusterRuntime, RuntimeOptions, startClusterRuntime } from './runtime';

export interface SandboxCluster {
  store: ClusterStore;
  /** The bearer token this cluster accepts (its service-account token). */
  token: string;
  kubernetesVersion: { major: string; minor: string; gitVersion: string };
  /** Time for the cluster's controllers and delayed changes (tests pass a ManualClock). Default: a RealClock with unref'd timers. */
  clock?: SandboxClock;
  /** Clock time of one controller step (a new pod from created to Ready), in ms. Default 1000. */
  stepMs?: number;
}

export interface SandboxServer extends SandboxExtensions /* mesh-sandbox extensions: arm, faults, https */ {
  url: string;
  port: number;
  clusters: Map<string, SandboxCluster>;
  /** The base URL of one cluster's Kubernetes API, e.g. for `kubernetes.clusterLocatorMethods`. */
  clusterUrl(name: string): string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 3 * 1024 * 1024; // kube-apiserver's default request size limit

function send(res: http.ServerResponse, code: number, body: unknown) {
  const payload = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) });
  res.end(payload);
}

function readBody(req: http.IncomingMessage): Promise<any> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      if (tooLarge) return; // drain the rest, so that the client gets to read the 413
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        tooLarge = true;
        chunks.length = 0;
        reject(new StatusError(413, 'RequestEntityTooLarge', 'the request body is too large'));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (tooLarge) return;
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text) {
        resolve(undefined);
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(badRequest(`the body of the request was in an unknown format: ${(e as Error).message}`));
      }
    });
    req.on('error', reject);
  });
}

/**
 * Routes `/clusters/<cluster>/api/v1/...` and `/clusters/<cluster>/apis/<group>/<version>/...`
 * to the cluster's store. One path prefix per cluster lets one server host a fleet.
 */
async function handle(clusters: Map<string, SandboxCluster>, req: http.IncomingMessage, res: http.ServerResponse, runtime: ClusterRuntime) {
  const url = new URL(req.url ?? '/', 'http://sandbox');
  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (segments[0] === 'healthz') return send(res, 200, { status: 'ok' });
  if (segments[0] !== 'clusters' || !segments[1]) {
    throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  }
  const cluster = clusters.get(segments[1]);
  if (!cluster) throw new StatusError(404, 'NotFound', `no cluster named "${segments[1]}" in this sandbox`);

  const auth = req.headers.authorization ?? '';
  if (auth !== `Bearer ${cluster.token}`) {
    throw new StatusError(401, 'Unauthorized', 'Unauthorized');
  }

  const rest = segments.slice(2);
  if (rest[0] === 'version' && rest.length === 1) return send(res, 200, { ...cluster.kubernetesVersion, platform: 'linux/amd64' });
  if (rest[0] === 'api' && rest.length === 1) return send(res, 200, { kind: 'APIVersions', versions: ['v1'] });
  if (rest[0] === 'apis' && rest.length === 1) return send(res, 200, apiGroupList());

  let group: string;
  let version: string;
  let path: string[];
  if (rest[0] === 'api' && rest[1] === 'v1') {
    group = '';
    version = 'v1';
    path = rest.slice(2);
  } else if (rest[0] === 'apis' && rest.length >= 3) {
    group = rest[1];
    version = rest[2];
    path = rest.slice(3);
  } else {
    throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  }

  // Shapes: [plural], [plural, name], [namespaces, ns, plural], [namespaces, ns, plural, name]
  let namespace: string | undefined;
  let plural: string;
  let name: string | undefined;
  if (path[0] === 'namespaces' && path.length >= 3) {
    namespace = path[1];
    plural = path[2];
    name = path[3];
    if (path.length > 4) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  } else if (path.length === 1 || path.length === 2) {
    plural = path[0];
    name = path[1];
  } else {
    throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  }
  const type = findResourceType(group, version, plural);
  if (!type || (namespace !== undefined && !type.namespaced)) {
    throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  }
  const store = cluster.store;
  const method = req.method ?? 'GET';

  if (!name) {
    if (method === 'GET') {
      if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
        return runtime.watch(res, cluster, type, namespace, url.searchParams);
      }
      const continueToken = url.searchParams.get('continue');
      const rvParam = url.searchParams.get('resourceVersion');
      if (continueToken && rvParam && rvParam !== '0') {
        throw badRequest('specifying resource version is not allowed when using continue');
      }
      const limitParam = url.searchParams.get('limit');
      const limit = limitParam === null ? undefined : Number(limitParam);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw badRequest(`invalid limit "${limitParam}"`);
      const result = store.list(type, {
        namespace,
        labelSelector: url.searchParams.get('labelSelector'),
        fieldSelector: url.searchParams.get('fieldSelector'),
        limit,
        continueToken,
      });
      return send(res, 200, {
        kind: `${type.kind}List`,
        apiVersion: apiVersionOf(type),
        metadata: {
          resourceVersion: result.resourceVersion,
          ...(result.continueToken ? { continue: result.continueToken, remainingItemCount: result.remainingItemCount } : {}),
        },
        items: result.items,
      });
    }
    if (method === 'POST') {
      const body = await readBody(req);
      if (!body || typeof body !== 'object' || typeof body.metadata !== 'object') {
        throw badRequest('the body must be an object with metadata');
      }
      const ns = type.namespaced ? namespace : undefined;
      if (type.namespaced && !ns) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      return send(res, 201, store.create(type, ns, body && runtime.admit(cluster, type, ns, body), 'api'));
    }
    throw new StatusError(405, 'MethodNotAllowed', `${method} is not supported on a collection`);
  }

  switch (method) {
    case 'GET':
      return send(res, 200, store.get(type, namespace, name));
    case 'PUT':
      return send(res, 200, store.replace(type, namespace, name, await readBody(req), 'api'));
    case 'DELETE': {
      const deleted = store.delete(type, namespace, name);
      return send(res, 200, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name, ...(type.group ? { group: type.group } : {}), kind: type.plural, uid: deleted.metadata.uid },
      });
    }
    case 'PATCH': {
      const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim();
      const body = await readBody(req);
      let apply: (current: any) => any;
      if (contentType === 'application/merge-patch+json') apply = c => jsonMergePatch(c, body);
      else if (contentType === 'application/strategic-merge-patch+json') apply = c => strategicMergePatch(c, body);
      else if (contentType === 'application/json-patch+json') apply = c => jsonPatch(c, body);
      else {
        throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`);
      }
      if (contentType !== 'application/json-patch+json' && (typeof body !== 'object' || body === null || Array.isArray(body))) {
        throw badRequest(`the body of a ${contentType} patch must be a JSON object`);
      }
      try {
        return send(res, 200, store.patch(type, namespace, name, apply, 'api'));
      } catch (e) {
        if (e instanceof PatchFormatError) throw badRequest(e.message);
        if (e instanceof JsonPatchError) throw new StatusError(422, 'Invalid', e.message);
        throw e;
      }
    }
    default:
      throw new StatusError(405, 'MethodNotAllowed', `${method} is not supported`);
  }
}

function apiGroupList() {
  const groups = new Map<string, string>();
  for (const t of RESOURCE_TYPES) if (t.group) groups.set(t.group, t.version);
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, version]) => ({
      name,
      versions: [{ groupVersion: `${name}/${version}`, version }],
      preferredVersion: { groupVersion: `${name}/${version}`, version },
    })),
  };
}

/** Starts the sandbox's HTTP server on 127.0.0.1 (port 0 picks a free one). */
export async function startSandboxServer(options: {
  clusters: Map<string, SandboxCluster>;
  port?: number;
  host?: string;
} & SandboxExtensionsOptions /* mesh-sandbox extensions */ & RuntimeOptions): Promise<SandboxServer> {
  const { clusters } = options;
  // Controllers, watch streams and admission of the served clusters (src/runtime.ts).
  const runtime = startClusterRuntime(clusters, options);
  const server = http.createServer((req, res) => {
    handle(clusters, req, res, runtime).catch(error => {
      if (error instanceof StatusError) {
        send(res, error.code, error.toStatus());
      } else {
        send(res, 500, new StatusError(500, 'InternalError', `internal error: ${(error as Error).message}`).toStatus());
      }
    });
  });
  // --- mesh-sandbox extensions: ARM under /subscriptions, fault injection, /_sandbox admin, optional HTTPS (src/extensions.ts) ---
  const extensions = await installSandboxExtensions(server, clusters, options);
  // --- end of mesh-sandbox extensions ---
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  }).catch(error => {
    runtime.close();
    throw error;
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  return {
    url,
    port,
    clusters,
    clusterUrl: name => `${url}/clusters/${name}`,
    ...extensions.api, // mesh-sandbox extensions
    close: () =>
      new Promise(resolve => {
        extensions.close(); // mesh-sandbox extensions
        runtime.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
