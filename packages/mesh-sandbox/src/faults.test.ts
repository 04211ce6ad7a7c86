import { createDemoFleet, demoToken } from './fleet';
import { FaultInjector, globToRegExp, mulberry32 } from './faults';
import { SandboxServer, startSandboxServer } from './server';

let server: SandboxServer;

beforeAll(async () => {
  server = await startSandboxServer({ clusters: createDemoFleet(), port: 0, controllers: false, arm: { operationDelayMs: 20 } });
});

afterAll(async () => {
  await server.close();
});

afterEach(() => {
  server.faults.clear();
});

const SUB = '00000000-0000-0000-0000-000000000000';
const MC = `/subscriptions/${SUB}/resourceGroups/mesh-portal-demo/providers/Microsoft.ContainerService/managedClusters`;

async function kube(method: string, cluster: string, path: string, body?: unknown, contentType = 'application/json') {
  const res = await fetch(`${server.clusterUrl(cluster)}${path}`, {
    method,
    headers: { Authorization: `Bearer ${demoToken(cluster)}`, ...(body !== undefined ? { 'Content-Type': contentType } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

async function arm(method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}?api-version=2026-06-01`, {
    method,
    headers: { Authorization: 'Bearer t', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function admin(method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}/_sandbox${path}`, {
    method,
    headers: body !== undefined ? { 'Content-Type': 'application/json' } : {},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

describe('matching', () => {
  it('matches path globs: * within a segment, ** across segments, case-insensitively', () => {
    expect(globToRegExp('/clusters/*/api/v1/namespaces/*/pods').test('/clusters/aks-dev/api/v1/namespaces/payments/pods')).toBe(true);
    expect(globToRegExp('/clusters/*/api/v1/namespaces/*/pods').test('/clusters/aks-dev/api/v1/namespaces/payments/pods/x')).toBe(false);
    expect(globToRegExp('**/meshUpgradeProfiles/**').test(`${MC}/aks-dev/meshupgradeprofiles/istio`)).toBe(true);
    expect(globToRegExp('/healthz').test('/healthz/x')).toBe(false);
  });

  it('filters by cluster and method; conflict defaults to writes', () => {
    const faults = new FaultInjector();
    faults.add({ kind: 'conflict', cluster: 'aks-dev' });
    expect(faults.decide({ method: 'GET', path: '/clusters/aks-dev/api/v1/pods', cluster: 'aks-dev' }).terminal).toBeUndefined();
    expect(faults.decide({ method: 'PATCH', path: '/clusters/aks-prod/api/v1/pods', cluster: 'aks-prod' }).terminal).toBeUndefined();
    expect(faults.decide({ method: 'PATCH', path: '/clusters/aks-dev/api/v1/pods', cluster: 'aks-dev' }).terminal?.id).toBe('fault-1');
  });

  it('hits with a seeded rate reproducibly', () => {
    const expected = (() => {
      const random = mulberry32(7);
      return Array.from({ length: 20 }, () => random() < 0.3);
    })();
    const run = () => {
      const faults = new FaultInjector();
      faults.add({ kind: 'error', rate: 0.3, seed: 7 });
      return Array.from({ length: 20 }, () => faults.decide({ method: 'GET', path: '/x' }).terminal !== undefined);
    };
    expect(run()).toEqual(expected);
    expect(run()).toEqual(expected);
    expect(expected.filter(Boolean).length).toBe(8);
  });

  it('counts down, and leaves later terminal rules untouched while an earlier one hits', () => {
    const faults = new FaultInjector();
    faults.add({ kind: 'error', count: 2 });
    faults.add({ kind: 'throttle', count: 1 });
    const kinds = Array.from({ length: 4 }, () => faults.decide({ method: 'GET', path: '/x' }).terminal?.kind);
    expect(kinds).toEqual(['error', 'error', 'throttle', undefined]);
    expect(faults.list().map(r => [r.id, r.matched, r.fired, r.remaining, r.active])).toEqual([
      ['fault-1', 2, 2, 0, false],
      ['fault-2', 1, 1, 0, false],
    ]);
  });

  it('validates rules', () => {
    const faults = new FaultInjector();
    expect(() => faults.add({ kind: 'explode' as any })).toThrow('kind must be one of latency, error, conflict, throttle, drop, failOperation');
    expect(() => faults.add({ kind: 'error', status: 404 })).toThrow('status must be a 5xx status code');
    expect(() => faults.add({ kind: 'latency' })).toThrow('a latency rule needs latencyMs');
    expect(() => faults.add({ kind: 'error', rate: 2 })).toThrow('rate must be a number between 0 and 1');
    expect(() => faults.add({ kind: 'drop', pth: '/x' } as any)).toThrow('unknown field(s) in fault rule: pth');
    expect(() => faults.addAll([{ kind: 'drop' }, { kind: 'error', count: 0 }])).toThrow('count must be a positive integer');
    expect(faults.list()).toEqual([]);
  });
});

describe('faults over HTTP', () => {
  it('adds latency to matching requests only', async () => {
    server.faults.add({ kind: 'latency', latencyMs: 150, cluster: 'aks-dev', path: '/clusters/*/api/v1/namespaces' });
    const slow = Date.now();
    expect((await kube('GET', 'aks-dev', '/api/v1/namespaces')).status).toBe(200);
    expect(Date.now() - slow).toBeGreaterThanOrEqual(150);
    const fast = Date.now();
    expect((await kube('GET', 'aks-prod', '/api/v1/namespaces')).status).toBe(200);
    expect(Date.now() - fast).toBeLessThan(150);
    expect(server.faults.list()[0]).toMatchObject({ matched: 1, fired: 1 });
  });

  it('answers 5xx in the Kubernetes Status shape and in the ARM error shape', async () => {
    server.faults.add({ kind: 'error', status: 503, count: 1, path: '/clusters/**' });
    server.faults.add({ kind: 'error', status: 500, count: 1, path: '/subscriptions/**' });
    const k = await kube('GET', 'aks-dev', '/api/v1/namespaces/payments/pods');
    expect(k.status).toBe(503);
    expect(k.headers.get('x-sandbox-fault')).toBe('fault-1');
    expect(k.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'the server is currently unable to handle the request',
      reason: 'ServiceUnavailable',
      code: 503,
    });
    const a = await arm('GET', `${MC}/aks-dev`);
    expect(a.status).toBe(500);
    expect(a.body).toEqual({ error: { code: 'InternalServerError', message: 'Encountered internal server error. The mesh sandbox injected this failure.' } });
    // count: 1 each — the next requests go through.
    expect((await kube('GET', 'aks-dev', '/api/v1/namespaces/payments/pods')).status).toBe(200);
    expect((await arm('GET', `${MC}/aks-dev`)).status).toBe(200);
  });

  it('fails a seeded fraction of requests, reproducibly', async () => {
    const random = mulberry32(2024);
    const expected = Array.from({ length: 12 }, () => (random() < 0.5 ? 502 : 200));
    server.faults.add({ kind: 'error', status: 502, rate: 0.5, seed: 2024, path: '/clusters/aks-prod/api/v1/namespaces' });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await kube('GET', 'aks-prod', '/api/v1/namespaces')).status);
    expect(statuses).toEqual(expected);
  });

  it('answers writes with 409 Conflict', async () => {
    server.faults.add({ kind: 'conflict', cluster: 'aks-dev', path: '**/deployments/*' });
    expect((await kube('GET', 'aks-dev', '/apis/apps/v1/namespaces/payments/deployments/payments-api')).status).toBe(200);
    const res = await kube('PATCH', 'aks-dev', '/apis/apps/v1/namespaces/payments/deployments/payments-api', { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json');
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'Operation cannot be fulfilled on deployments.apps "payments-api": the object has been modified; please apply your changes to the latest version and try again',
      reason: 'Conflict',
      details: { name: 'payments-api', group: 'apps', kind: 'deployments' },
      code: 409,
    });
  });

  it('throttles with 429 and Retry-After', async () => {
    server.faults.add({ kind: 'throttle', retryAfterSeconds: 7, count: 1, cluster: 'aks-dev' });
    server.faults.add({ kind: 'throttle', retryAfterSeconds: 3, count: 1, path: '**/meshUpgradeProfiles/**' });
    const k = await kube('GET', 'aks-dev', '/api/v1/pods');
    expect(k.status).toBe(429);
    expect(k.headers.get('retry-after')).toBe('7');
    expect(k.body).toMatchObject({ reason: 'TooManyRequests', message: 'Too many requests, please try again later.', details: { retryAfterSeconds: 7 }, code: 429 });
    const a = await arm('GET', `${MC}/aks-prod/meshUpgradeProfiles/istio`);
    expect(a.status).toBe(429);
    expect(a.headers.get('retry-after')).toBe('3');
    expect(a.body).toEqual({
      error: {
        code: 'SubscriptionRequestsThrottled',
        message: `Number of 'read' requests for subscription '${SUB}' exceeded. Please try again after '3' seconds after additional tickets are available. Refer to https://aka.ms/armthrottle for additional information.`,
      },
    });
  });

  it('drops the connection', async () => {
    server.faults.add({ kind: 'drop', count: 1, cluster: 'aks-prod', methods: ['GET'] });
    await expect(kube('GET', 'aks-prod', '/api/v1/namespaces')).rejects.toThrow('fetch failed');
    expect((await kube('GET', 'aks-prod', '/api/v1/namespaces')).status).toBe(200);
  });

  it('makes an accepted ARM write end Failed', async () => {
    server.faults.add({ kind: 'failOperation', cluster: 'aks-dev', count: 1 });
    const current = (await arm('GET', `${MC}/aks-dev`)).body;
    // A refused write uses up no failOperation fault.
    current.properties.serviceMeshProfile.istio.revisions = ['asm-1-28', 'asm-1-29', 'asm-1-30'];
    expect((await arm('PUT', `${MC}/aks-dev`, current)).status).toBe(400);
    current.properties.serviceMeshProfile.istio.revisions = ['asm-1-29', 'asm-1-30'];
    const put = await arm('PUT', `${MC}/aks-dev`, current);
    expect(put.status).toBe(200);
    await server.arm.whenIdle();
    const op = await fetch(put.headers.get('azure-asyncoperation')!, { headers: { Authorization: 'Bearer t' } }).then(r => r.json());
    expect(op.status).toBe('Failed');
    expect(op.error).toEqual({ code: 'InternalOperationError', message: 'Reconciling the Istio add-on failed (fault fault-1 of the mesh sandbox).' });
    expect((await arm('GET', `${MC}/aks-dev`)).body.properties.provisioningState).toBe('Failed');
    expect(server.faults.list()[0]).toMatchObject({ fired: 1, remaining: 0, active: false });
  });
});

describe('the admin endpoint /_sandbox/faults', () => {
  it('adds, lists, removes and clears rules', async () => {
    const one = await admin('POST', '/faults', { kind: 'error', status: 500, cluster: 'aks-dev', count: 3 });
    expect(one.status).toBe(201);
    const id = one.body.rules[0].id;
    expect(one.body).toEqual({
      rules: [{ id, kind: 'error', status: 500, cluster: 'aks-dev', count: 3, remaining: 3, matched: 0, fired: 0, active: true }],
    });
    const two = await admin('POST', '/faults', { rules: [{ kind: 'latency', latencyMs: 10 }, { kind: 'drop', rate: 0.1, seed: 1 }] });
    expect(two.body.rules.map((r: any) => r.kind)).toEqual(['latency', 'drop']);
    expect((await admin('GET', '/faults')).body.rules.map((r: any) => r.kind)).toEqual(['error', 'latency', 'drop']);
    expect((await admin('GET', `/faults/${id}`)).body.kind).toBe('error');
    expect(await admin('DELETE', `/faults/${id}`)).toEqual({ status: 200, body: { removed: 1 } });
    expect((await admin('DELETE', `/faults/${id}`)).status).toBe(404);
    expect(await admin('DELETE', '/faults')).toEqual({ status: 200, body: { removed: 2 } });
    expect((await admin('GET', '/faults')).body).toEqual({ rules: [] });
  });

  it('rejects invalid rules with 400', async () => {
    expect(await admin('POST', '/faults', { kind: 'throttle', retryAfterSeconds: -1 })).toEqual({
      status: 400,
      body: { error: { code: 400, message: 'retryAfterSeconds must be a non-negative integer' } },
    });
  });

  it('is itself never faulted', async () => {
    server.faults.add({ kind: 'drop' });
    expect((await admin('GET', '/faults')).status).toBe(200);
  });

  it('reads and sets the ARM operation delay', async () => {
    expect((await admin('PATCH', '/arm', { operationDelayMs: 5 })).body).toMatchObject({ operationDelayMs: 5 });
    expect(server.arm.operationDelayMs).toBe(5);
    expect((await admin('GET', '/arm')).body.managedClusters).toEqual([
      `/subscriptions/${SUB}/resourcegroups/mesh-portal-demo/providers/Microsoft.ContainerService/managedClusters/aks-dev`,
      `/subscriptions/${SUB}/resourcegroups/mesh-portal-demo/providers/Microsoft.ContainerService/managedClusters/aks-prod`,
    ]);
  });
});
