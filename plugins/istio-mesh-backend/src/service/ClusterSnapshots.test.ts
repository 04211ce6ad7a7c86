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
      'a/api/v1/namespaces',
      'a/api/v1/pods',
      'a/api/v1/services',
      'a/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
      'a/apis/apps/v1/daemonsets',
      'a/apis/apps/v1/deployments',
      'a/apis/apps/v1/statefulsets',
    ]);
    expect(s1.apiRequests).toBe(7);
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
    expect(calls).toHaveLength(7);
    now = 1000;
    await snapshots.get('a', mockCredentials.user());
    expect(calls).toHaveLength(14);
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
    expect(calls.filter(c => c.startsWith('a/'))).toHaveLength(7);
    expect(calls.filter(c => c.startsWith('b/'))).toHaveLength(14);
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
