import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { KubernetesBackendClusterGateway } from './ClusterGateway';

function gatewayWith(responses: Array<{ status: number; body: unknown }>) {
  const calls: Array<{ url: string; headers: Record<string, string>; method?: string; body?: string }> = [];
  const fetchFn = jest.fn(async (url: string, init?: RequestInit) => {
    calls.push({ url, headers: init?.headers as Record<string, string>, method: init?.method, body: init?.body as string | undefined });
    const next = responses.shift()!;
    return new Response(JSON.stringify(next.body), { status: next.status });
  });
  const gateway = KubernetesBackendClusterGateway.create({
    discovery: mockServices.discovery.mock({ getBaseUrl: async () => 'http://backstage/api/kubernetes' }),
    auth: mockServices.auth(),
    fetch: fetchFn as unknown as typeof fetch,
  });
  return { gateway, calls };
}

describe('KubernetesBackendClusterGateway', () => {
  it('follows continue tokens until the list is complete', async () => {
    const { gateway, calls } = gatewayWith([
      { status: 200, body: { items: [{ n: 1 }, { n: 2 }], metadata: { continue: 'abc' } } },
      { status: 200, body: { items: [{ n: 3 }], metadata: { continue: '' } } },
    ]);
    const items = await gateway.list('aks-prod', '/api/v1/pods', mockCredentials.user(), {
      labelSelector: 'app in (a,b)',
      pageSize: 2,
    });
    expect(items).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(calls.map(c => c.url)).toEqual([
      'http://backstage/api/kubernetes/proxy/api/v1/pods?limit=2&labelSelector=app+in+%28a%2Cb%29',
      'http://backstage/api/kubernetes/proxy/api/v1/pods?limit=2&labelSelector=app+in+%28a%2Cb%29&continue=abc',
    ]);
    expect(calls[0].headers['Backstage-Kubernetes-Cluster']).toBe('aks-prod');
    expect(calls[0].headers.Authorization).toMatch(/^Bearer /);
    expect(calls[0].headers['Accept-Encoding']).toBe('identity');
  });

  it.each([
    [403, 'NotAllowedError'],
    [404, 'NotFoundError'],
    [500, 'ServiceUnavailableError'],
    [503, 'ServiceUnavailableError'],
  ])('maps an upstream %s to %s naming the cluster', async (status, name) => {
    const { gateway } = gatewayWith([
      { status, body: { kind: 'Status', message: 'upstream says no', code: status } },
    ]);
    await expect(gateway.list('aks-dev', '/api/v1/pods', mockCredentials.user())).rejects.toMatchObject({
      name,
      message: expect.stringContaining("cluster 'aks-dev'"),
    });
  });

  it('names the Kubernetes backend when listing clusters fails', async () => {
    const { gateway } = gatewayWith([{ status: 502, body: { error: { message: 'bad gateway' } } }]);
    await expect(gateway.listClusters(mockCredentials.user())).rejects.toThrow(
      'the Kubernetes backend answered 502: bad gateway',
    );
  });

  it('writes with the patch content type Kubernetes expects, on behalf of the caller', async () => {
    const { gateway, calls } = gatewayWith([
      { status: 200, body: { kind: 'Namespace' } },
      { status: 200, body: { kind: 'Deployment' } },
      { status: 201, body: { kind: 'ConfigMap' } },
      { status: 200, body: { kind: 'Status' } },
    ]);
    const user = mockCredentials.user('user:default/alice');
    await gateway.patch('aks-dev', '/api/v1/namespaces/payments', { metadata: { labels: { 'istio-injection': null } } }, 'merge', user);
    await gateway.patch('aks-dev', '/apis/apps/v1/namespaces/payments/deployments/api', { spec: {} }, 'strategic', user);
    await gateway.create('aks-dev', '/api/v1/namespaces/aks-istio-system/configmaps', { metadata: { name: 'x' } }, user);
    await gateway.delete('aks-dev', '/api/v1/namespaces/aks-istio-system/configmaps/x', user);
    expect(calls.map(c => [c.method, c.url.replace('http://backstage/api/kubernetes', ''), c.headers['Content-Type']])).toEqual([
      ['PATCH', '/proxy/api/v1/namespaces/payments', 'application/merge-patch+json'],
      ['PATCH', '/proxy/apis/apps/v1/namespaces/payments/deployments/api', 'application/strategic-merge-patch+json'],
      ['POST', '/proxy/api/v1/namespaces/aks-istio-system/configmaps', 'application/json'],
      ['DELETE', '/proxy/api/v1/namespaces/aks-istio-system/configmaps/x', undefined],
    ]);
    expect(JSON.parse(calls[0].body!)).toEqual({ metadata: { labels: { 'istio-injection': null } } });
    expect(calls.every(c => c.headers['Backstage-Kubernetes-Cluster'] === 'aks-dev')).toBe(true);
    // The token is minted on behalf of the caller, for the Kubernetes backend.
    const token = calls[0].headers.Authorization.replace(/^Bearer /, '');
    expect(JSON.parse(token.replace(/^mock-service-token:/, ''))).toMatchObject({ obo: expect.stringContaining('user:default/alice'), target: 'kubernetes' });
  });

  it('maps 409 (AlreadyExists, conflict) to a ConflictError', async () => {
    const { gateway } = gatewayWith([{ status: 409, body: { kind: 'Status', reason: 'AlreadyExists', message: 'configmaps "x" already exists' } }]);
    await expect(gateway.create('aks-dev', '/api/v1/namespaces/a/configmaps', {}, mockCredentials.user())).rejects.toMatchObject({
      name: 'ConflictError',
      message: `cluster 'aks-dev': configmaps "x" already exists`,
    });
  });
});
