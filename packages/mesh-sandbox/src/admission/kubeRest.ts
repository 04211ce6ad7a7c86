import https from 'node:https';
import { readFileSync } from 'node:fs';

/**
 * A minimal client for a real kube-apiserver (bearer token, CA in PEM), for test set-up.
 * Plain `node:https` rather than `@kubernetes/client-node`: this package is also loaded
 * by jest runs that cannot `require()` client-node (it is ESM-only; see scripts/jest.sh).
 */
export interface KubeTarget {
  /** e.g. `https://127.0.0.1:6443` */
  server: string;
  token: string;
  /** The CA that signed the apiserver's serving certificate, PEM. */
  caPem: string;
}

/**
 * The admin target of the test control plane started by `e2e/kube/start.sh` / `run.sh`
 * (KUBE_URL, KUBE_ADMIN_TOKEN, KUBE_CA_FILE or KUBE_CA_DATA), or `undefined` outside it.
 */
export function kubeTargetFromEnv(env: NodeJS.ProcessEnv = process.env, tokenVar = 'KUBE_ADMIN_TOKEN'): KubeTarget | undefined {
  const server = env.KUBE_URL;
  const token = env[tokenVar];
  if (!server || !token) return undefined;
  let caPem: string | undefined;
  if (env.KUBE_CA_FILE) caPem = readFileSync(env.KUBE_CA_FILE, 'utf8');
  else if (env.KUBE_CA_DATA) caPem = Buffer.from(env.KUBE_CA_DATA, 'base64').toString('utf8');
  if (!caPem) return undefined;
  return { server, token, caPem };
}

/** A non-2xx answer; `body` is the apiserver's `Status` when it sent one. */
export class KubeRestError extends Error {
  constructor(
    readonly status: number,
    readonly body: any,
    what: string,
  ) {
    super(`${what}: HTTP ${status}${body?.message ? `: ${body.message}` : ''}`);
    this.name = 'KubeRestError';
  }
}

export async function kubeRequest<T = any>(
  target: KubeTarget,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<T> {
  const url = new URL(`${target.server.replace(/\/$/, '')}${path}`);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        ca: target.caPem,
        headers: {
          Authorization: `Bearer ${target.token}`,
          Accept: 'application/json',
          ...(payload !== undefined ? { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) } : {}),
        },
        timeout: 30_000,
      },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: any = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(parsed as T);
          else reject(new KubeRestError(status, parsed, `${method} ${path}`));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/**
 * Creates an object, or replaces it when it exists (PUT with the current
 * resourceVersion, so a concurrent change fails with 409 rather than being lost).
 */
export async function applyObject<T = any>(target: KubeTarget, collectionPath: string, object: any): Promise<T> {
  try {
    return await kubeRequest<T>(target, 'POST', collectionPath, object);
  } catch (e) {
    if (!(e instanceof KubeRestError) || e.status !== 409) throw e;
  }
  const path = `${collectionPath}/${encodeURIComponent(object.metadata.name)}`;
  const current = await kubeRequest(target, 'GET', path);
  return kubeRequest<T>(target, 'PUT', path, {
    ...object,
    metadata: { ...object.metadata, resourceVersion: current.metadata.resourceVersion },
  });
}

/** Deletes an object; one that is already gone is fine. */
export async function deleteObject(target: KubeTarget, path: string): Promise<void> {
  try {
    await kubeRequest(target, 'DELETE', path);
  } catch (e) {
    if (!(e instanceof KubeRestError) || e.status !== 404) throw e;
  }
}

/** Polls `probe` until it returns something other than `undefined`. */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`not within ${timeoutMs} ms: ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await new Promise(resolve => setTimeout(resolve, intervalMs));
  }
}
