import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { KubernetesBackendClusterGateway } from '../service/ClusterGateway';
import type { ClusterSnapshots } from '../service/ClusterSnapshots';
import { DefaultMeshConfigService } from './MeshConfigService';

/**
 * The cluster itself may refuse a MeshConfig the portal's own checks passed: the add-on's
 * admission webhook (its table can be newer than ours) answers 400, the API server 422
 * for an invalid object. That is the caller's input being refused (400), not the cluster
 * being unavailable (503).
 */
const NS = 'aks-istio-system';
const SHARED = 'istio-shared-configmap-asm-1-29';

function serviceAnswering(write: { status: number; message: string }, sharedExists = true) {
  const calls: Array<{ method: string; url: string }> = [];
  const fetchFn = jest.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    calls.push({ method, url });
    if (method === 'GET' && sharedExists && url.endsWith(`/configmaps/${SHARED}`)) {
      return new Response(
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: SHARED, namespace: NS, resourceVersion: '5' },
          data: { mesh: 'accessLogFile: /dev/stdout\n' },
        }),
        { status: 200 },
      );
    }
    if (method === 'GET') {
      return new Response(JSON.stringify({ kind: 'Status', code: 404, message: 'not found' }), { status: 404 });
    }
    return new Response(
      JSON.stringify({ kind: 'Status', status: 'Failure', code: write.status, message: write.message }),
      { status: write.status },
    );
  });
  const gateway = KubernetesBackendClusterGateway.create({
    discovery: mockServices.discovery.mock({ getBaseUrl: async () => 'http://backstage/api/kubernetes' }),
    auth: mockServices.auth(),
    fetch: fetchFn as unknown as typeof fetch,
  });
  const snapshots = {
    listClusters: async () => ['aks-dev'],
    get: async () => ({ provider: 'aks', controlPlane: { namespace: NS, revisions: [{ revision: 'asm-1-29' }] } }),
  } as unknown as ClusterSnapshots;
  const service = new DefaultMeshConfigService({ gateway, snapshots, logger: mockServices.logger.mock() });
  return { service, calls };
}

describe('MeshConfig save refused by the cluster', () => {
  it.each([
    [400, 'admission webhook "validation.istio.io" denied the request: configuration is invalid: unknown field "foo"'],
    [422, 'ConfigMap "istio-shared-configmap-asm-1-29" is invalid: data: Too long: must have at most 1048576 bytes'],
  ])('answers %s from the cluster with an InputError carrying its reason', async (status, message) => {
    const { service, calls } = serviceAnswering({ status, message });
    const error = await service
      .update('aks-dev', { revision: 'asm-1-29', yaml: 'accessLogFile: /dev/null\n', resourceVersion: '5' }, mockCredentials.user())
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(calls.map(c => c.method)).toContain('PUT');
    expect(error).toMatchObject({ name: 'InputError' });
    expect(error?.message).toContain(message);
    expect(error?.message).toContain('nothing was written');
  });

  it('answers the same when the cluster refuses the first save (create)', async () => {
    const message = 'admission webhook "validation.istio.io" denied the request: unknown field "foo"';
    const { service, calls } = serviceAnswering({ status: 400, message }, false);
    const error = await service
      .update('aks-dev', { revision: 'asm-1-29', yaml: 'accessLogFile: /dev/null\n' }, mockCredentials.user())
      .then(
        () => undefined,
        (e: Error) => e,
      );
    expect(calls.map(c => c.method)).toContain('POST');
    expect(error).toMatchObject({ name: 'InputError' });
    expect(error?.message).toContain(message);
  });
});
