import { ManualClock } from './clock';
import { createDemoFleet, demoToken } from './fleet';
import { resourceTypeOfKind } from './resources';
import { SandboxCluster, SandboxServer, startSandboxServer } from './server';
import { ClusterStore } from './store';
import {
  callCluster,
  openWatch,
  OpenWatch,
  WatchEvent,
} from './__testUtils__/sandboxHttp';

/**
 * Watches, sandbox-specific cases (the shared contract suite covers the basics against
 * real clusters too): selectors, expiry of the bounded history, timeouts, bookmarks, and
 * streams ending with the server.
 */

let clock: ManualClock;
let server: SandboxServer;
let clusters: Map<string, SandboxCluster>;
const watches: OpenWatch[] = [];

beforeEach(async () => {
  clock = new ManualClock('2026-11-25T10:00:00Z');
  clusters = createDemoFleet({ clock, stepMs: 1000 });
  // A small cluster whose history keeps only 5 events.
  const tiny = new ClusterStore('tiny', 5);
  clusters.set('tiny', {
    store: tiny,
    token: demoToken('tiny'),
    kubernetesVersion: { major: '1', minor: '34', gitVersion: 'v1.34.2' },
    clock,
  });
  server = await startSandboxServer({
    clusters,
    port: 0,
    watchBookmarkIntervalMs: 5000,
  });
});

afterEach(async () => {
  watches.splice(0).forEach(w => w.close());
  await server.close();
});

const watch = async (cluster: string, path: string) => {
  const w = await openWatch(server, cluster, path);
  watches.push(w);
  return w;
};
const call = (
  cluster: string,
  method: string,
  path: string,
  body?: unknown,
  contentType?: string,
) => callCluster(server, cluster, method, path, { body, contentType });
const summary = (events: WatchEvent[]) =>
  events.map(e => [e.type, e.object.kind, e.object.metadata.name]);
const relabel = (
  cluster: string,
  path: string,
  labels: Record<string, string | null>,
) =>
  call(
    cluster,
    'PATCH',
    path,
    { metadata: { labels } },
    'application/merge-patch+json',
  );

describe('watch', () => {
  it('starts with the current objects as ADDED when no resourceVersion is given', async () => {
    const w = await watch(
      'aks-dev',
      '/api/v1/namespaces?labelSelector=istio.io/rev',
    );
    expect(w.status).toBe(200);
    expect(w.contentType).toBe('application/json');
    expect(summary(await w.until(e => e.length === 2))).toEqual([
      ['ADDED', 'Namespace', 'payments'],
      ['ADDED', 'Namespace', 'storefront'],
    ]);
    expect(w.events[0].object.apiVersion).toBe('v1');
  });

  it('turns an object leaving the label selector into DELETED, and one entering it into ADDED', async () => {
    const rv = clusters.get('aks-dev')!.store.resourceVersion;
    const w = await watch(
      'aks-dev',
      `/api/v1/namespaces?labelSelector=mesh=on&resourceVersion=${rv}`,
    );
    await call('aks-dev', 'POST', '/api/v1/namespaces', {
      metadata: { name: 'w-a' },
    });
    await relabel('aks-dev', '/api/v1/namespaces/w-a', { mesh: 'on' });
    await relabel('aks-dev', '/api/v1/namespaces/w-a', { team: 'x' });
    await relabel('aks-dev', '/api/v1/namespaces/w-a', { mesh: null });
    await call('aks-dev', 'DELETE', '/api/v1/namespaces/w-a');
    const events = await w.until(e => e.length === 3);
    expect(summary(events)).toEqual([
      ['ADDED', 'Namespace', 'w-a'],
      ['MODIFIED', 'Namespace', 'w-a'],
      ['DELETED', 'Namespace', 'w-a'],
    ]);
    expect(events[1].object.metadata.labels).toEqual({
      'kubernetes.io/metadata.name': 'w-a',
      mesh: 'on',
      team: 'x',
    });
    // DELETED because it left the selector: the object as it is now.
    expect(events[2].object.metadata.labels).toEqual({
      'kubernetes.io/metadata.name': 'w-a',
      team: 'x',
    });
  });

  it('scopes to the namespace of the path', async () => {
    const rv = clusters.get('aks-dev')!.store.resourceVersion;
    const w = await watch(
      'aks-dev',
      `/api/v1/namespaces/tools/configmaps?resourceVersion=${rv}`,
    );
    await call('aks-dev', 'POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'elsewhere' },
    });
    await call('aks-dev', 'POST', '/api/v1/namespaces/tools/configmaps', {
      metadata: { name: 'here' },
    });
    expect(summary(await w.until(e => e.length === 1))).toEqual([
      ['ADDED', 'ConfigMap', 'here'],
    ]);
  });

  it('streams the pods of a rollout: created Pending, then Running, old ones deleted', async () => {
    const store = clusters.get('aks-dev')!.store;
    const w = await watch(
      'aks-dev',
      `/api/v1/namespaces/payments/pods?labelSelector=app=payments-worker&resourceVersion=${store.resourceVersion}`,
    );
    await call(
      'aks-dev',
      'PATCH',
      '/apis/apps/v1/namespaces/payments/deployments/payments-worker',
      {
        spec: {
          template: {
            metadata: {
              annotations: {
                'kubectl.kubernetes.io/restartedAt': '2026-11-25T10:00:00Z',
              },
            },
          },
        },
      },
      'application/strategic-merge-patch+json',
    );
    clock.advance(1000);
    const events = await w.until(e => e.some(x => x.type === 'DELETED'));
    expect(events.map(e => [e.type, e.object.status.phase])).toEqual([
      ['ADDED', 'Pending'],
      ['MODIFIED', 'Running'],
      ['DELETED', 'Running'],
    ]);
    expect(events[0].object.metadata.name).toBe(events[1].object.metadata.name);
    expect(events[2].object.metadata.name).not.toBe(
      events[0].object.metadata.name,
    );
    // Each event carries the resourceVersion of its change, in order.
    const versions = events.map(e => Number(e.object.metadata.resourceVersion));
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
    expect(versions[2]).toBeLessThanOrEqual(Number(store.resourceVersion));
  });

  it('answers a resourceVersion older than the kept history with an ERROR event (410 Expired), as the watch cache does', async () => {
    for (let i = 0; i < 8; i++) {
      await call('tiny', 'POST', '/api/v1/namespaces', {
        metadata: { name: `n-${i}` },
      });
    }
    // Revisions 2..9 were written; the last 5 events (5..9) are kept.
    const w = await watch('tiny', '/api/v1/namespaces?resourceVersion=3');
    await w.ended;
    expect(w.status).toBe(200);
    expect(w.events).toEqual([
      {
        type: 'ERROR',
        object: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: 'too old resource version: 3 (4)',
          reason: 'Expired',
          code: 410,
        },
      },
    ]);
    const fresh = await watch('tiny', '/api/v1/namespaces?resourceVersion=4');
    expect(summary(await fresh.until(e => e.length === 5))).toEqual(
      ['n-3', 'n-4', 'n-5', 'n-6', 'n-7'].map(n => ['ADDED', 'Namespace', n]),
    );
  });

  it('rejects a bad selector or resourceVersion with 400 before streaming', async () => {
    const bad = await call(
      'aks-dev',
      'GET',
      '/api/v1/pods?watch=true&labelSelector=a%20in%20(',
    );
    expect([bad.status, bad.body.reason]).toEqual([400, 'BadRequest']);
    const rv = await call(
      'aks-dev',
      'GET',
      '/api/v1/pods?watch=1&resourceVersion=abc',
    );
    expect([rv.status, rv.body.reason]).toEqual([400, 'BadRequest']);
  });

  it('ends after timeoutSeconds of the cluster clock', async () => {
    const w = await watch(
      'aks-dev',
      '/api/v1/namespaces?timeoutSeconds=30&resourceVersion=1',
    );
    let ended = false;
    w.ended.then(() => {
      ended = true;
    });
    clock.advance(29_000);
    await new Promise(resolve => setTimeout(resolve, 20));
    expect(ended).toBe(false);
    clock.advance(1000);
    await w.ended;
    expect(ended).toBe(true);
  });

  it('sends BOOKMARK events when allowed, and marks the end of the initial events', async () => {
    const store = clusters.get('aks-dev')!.store;
    const w = await watch(
      'aks-dev',
      '/apis/apps/v1/namespaces/payments/deployments?allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan',
    );
    const initial = await w.until(e => e.length === 3);
    expect(summary(initial.slice(0, 2))).toEqual([
      ['ADDED', 'Deployment', 'payments-api'],
      ['ADDED', 'Deployment', 'payments-worker'],
    ]);
    expect(initial[2]).toEqual({
      type: 'BOOKMARK',
      object: {
        kind: 'Deployment',
        apiVersion: 'apps/v1',
        metadata: {
          resourceVersion: store.resourceVersion,
          annotations: { 'k8s.io/initial-events-end': 'true' },
        },
      },
    });
    store.patch(
      resourceTypeOfKind('ConfigMap'),
      'aks-istio-system',
      'istio-asm-1-29',
      c => ({ ...c, data: { mesh: '' } }),
    );
    clock.advance(5000);
    const [, , , periodic] = await w.until(e => e.length === 4);
    expect(periodic).toEqual({
      type: 'BOOKMARK',
      object: {
        kind: 'Deployment',
        apiVersion: 'apps/v1',
        metadata: { resourceVersion: store.resourceVersion },
      },
    });
  });

  it('serves every kind, cluster-wide', async () => {
    const rv = clusters.get('aks-dev')!.store.resourceVersion;
    const w = await watch(
      'aks-dev',
      `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations?resourceVersion=${rv}`,
    );
    await call(
      'aks-dev',
      'POST',
      '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
      { metadata: { name: 'extra' }, webhooks: [] },
    );
    expect(summary(await w.until(e => e.length === 1))).toEqual([
      ['ADDED', 'MutatingWebhookConfiguration', 'extra'],
    ]);
  });

  it('ends open streams when the server closes', async () => {
    const w = await watch('aks-dev', '/api/v1/pods');
    await w.until(e => e.length > 0);
    let ended = false;
    const closed = w.ended.then(() => {
      ended = true;
    });
    await server.close();
    await closed;
    expect(ended).toBe(true);
    server = await startSandboxServer({ clusters: createDemoFleet(), port: 0 });
  });
});
