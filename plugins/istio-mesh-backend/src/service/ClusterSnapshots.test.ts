import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { ClusterGateway } from './ClusterGateway';
import { ClusterSnapshots } from './ClusterSnapshots';

function fakeGateway(clusters: string[], failing: string[] = []) {
  const calls: string[] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>(resolve => {
    release = resolve;
  });
  const gateway: ClusterGateway = {
    listClusters: async () => clusters,
    list: async <T>(cluster: string, path: string, _c: any, options: any = {}) => {
      calls.push(`${cluster}${path}`);
      await gate;
      if (failing.includes(cluster)) throw new Error(`cluster '${cluster}' is unreachable`);
      const items = path === '/api/v1/pods' ? [{ metadata: { name: 'p', namespace: 'ns' } }] : [];
      options.onPage?.(items);
      return (options.discardItems ? [] : items) as T[];
    },
    get: async () => {
      throw new Error('not used');
    },
    create: async () => {
      throw new Error('not used');
    },
    patch: async () => {
      throw new Error('not used');
    },
    replace: async () => {
      throw new Error('not used');
    },
    delete: async () => {
      throw new Error('not used');
    },
  };
  return { gateway, calls, release: () => release() };
}

describe('ClusterSnapshots', () => {
  it('lists each resource kind once per cluster refresh, and shares one refresh among concurrent readers', async () => {
    const { gateway, calls, release } = fakeGateway(['a']);
    const snapshots = new ClusterSnapshots({ gateway, logger: mockServices.logger.mock(), ttlMs: 1000, now: () => 0 });
    const first = snapshots.get('a', mockCredentials.user());
    const second = snapshots.get('a', mockCredentials.user());
    release();
    const [s1, s2] = await Promise.all([first, second]);
    expect(s1).toBe(s2);
    expect(calls.sort()).toEqual([
      'a/api/v1/configmaps',
      'a/api/v1/namespaces',
      'a/api/v1/pods',
      'a/api/v1/services',
      'a/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
      'a/apis/apps/v1/daemonsets',
      'a/apis/apps/v1/deployments',
      'a/apis/apps/v1/statefulsets',
      'a/apis/autoscaling/v2/horizontalpodautoscalers',
      'a/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasses',
    ]);
    expect(s1.apiRequests).toBe(10);
    expect(s1.pods.map(p => p.name)).toEqual(['p']);
  });

  it('serves from cache within the TTL and refreshes after it', async () => {
    const { gateway, calls, release } = fakeGateway(['a']);
    release();
    let now = 0;
    const snapshots = new ClusterSnapshots({ gateway, logger: mockServices.logger.mock(), ttlMs: 1000, now: () => now });
    await snapshots.get('a', mockCredentials.user());
    now = 999;
    await snapshots.get('a', mockCredentials.user());
    expect(calls).toHaveLength(10);
    now = 1000;
    await snapshots.get('a', mockCredentials.user());
    expect(calls).toHaveLength(20);
  });

  it('reports a failing cluster beside the others and does not cache the failure', async () => {
    const { gateway, calls, release } = fakeGateway(['a', 'b'], ['b']);
    release();
    const snapshots = new ClusterSnapshots({ gateway, logger: mockServices.logger.mock(), ttlMs: 1000, now: () => 0 });
    const results = await snapshots.getAll(mockCredentials.user());
    expect(results.map(r => ('error' in r ? [r.cluster, r.error.message] : [r.cluster, 'ok']))).toEqual([
      ['a', 'ok'],
      ['b', "cluster 'b' is unreachable"],
    ]);
    await snapshots.getAll(mockCredentials.user());
    expect(calls.filter(c => c.startsWith('a/'))).toHaveLength(10);
    expect(calls.filter(c => c.startsWith('b/'))).toHaveLength(20);
  });

  it('keeps the snapshot when trust bundles, HPAs or SecretProviderClasses cannot be listed', async () => {
    const { gateway, release } = fakeGateway(['a']);
    release();
    const list = gateway.list.bind(gateway);
    const seen: Array<{ path: string; fieldSelector?: string; labelSelector?: string }> = [];
    gateway.list = async <T>(cluster: string, path: string, c: any, options: any = {}) => {
      seen.push({ path, fieldSelector: options.fieldSelector, labelSelector: options.labelSelector });
      if (path === '/api/v1/configmaps') throw new Error("cluster 'a' denied the request: configmaps is forbidden");
      if (path.startsWith('/apis/secrets-store')) throw new Error("cluster 'a': the server could not find the requested resource");
      if (path.startsWith('/apis/autoscaling')) throw new Error('boom');
      return list<T>(cluster, path, c, options);
    };
    const snapshots = new ClusterSnapshots({ gateway, logger: mockServices.logger.mock(), now: () => 0 });
    const snapshot = await snapshots.get('a', mockCredentials.user());
    expect(snapshot.pods.map(p => p.name)).toEqual(['p']);
    expect(snapshot.trust).toEqual({
      bundles: [],
      istiod: [],
      error: { name: 'Error', message: "cluster 'a' denied the request: configmaps is forbidden" },
    });
    expect(snapshot.gatewayAutoscalers).toEqual([]);
    // One ConfigMap per namespace, and only the mesh's HPAs.
    expect(seen.find(s => s.path === '/api/v1/configmaps')).toEqual({ path: '/api/v1/configmaps', fieldSelector: 'metadata.name=istio-ca-root-cert', labelSelector: undefined });
    expect(seen.find(s => s.path.startsWith('/apis/autoscaling'))?.labelSelector).toBe('istio.io/rev');
  });

  it('reads anew after invalidate() or with maxAgeMs 0, and never caches a refresh that started before a write', async () => {
    const { gateway, calls, release } = fakeGateway(['a']);
    release();
    const snapshots = new ClusterSnapshots({ gateway, logger: mockServices.logger.mock(), ttlMs: 60_000, now: () => 0 });
    const credentials = mockCredentials.user();
    const podReads = () => calls.filter(c => c === 'a/api/v1/pods').length;
    await snapshots.get('a', credentials);
    await snapshots.get('a', credentials);
    expect(podReads()).toBe(1);
    await snapshots.get('a', credentials, { maxAgeMs: 0 });
    expect(podReads()).toBe(2);
    snapshots.invalidate('a');
    await snapshots.get('a', credentials);
    expect(podReads()).toBe(3);
    // A refresh in flight when the cluster is invalidated is not cached.
    const before = snapshots.get('a', credentials, { maxAgeMs: 0 });
    snapshots.invalidate('a');
    await before;
    await snapshots.get('a', credentials);
    expect(podReads()).toBe(5);
  });
});
