import { ResponseError } from '@backstage/errors';
import { IstioMeshClient } from './IstioMeshClient';

const ref = { kind: 'Component', namespace: 'default', name: 'payments api' };

function client(response: () => Response) {
  const fetch = jest.fn(async (_url: string, _init?: RequestInit) => response());
  const api = new IstioMeshClient({
    discoveryApi: { getBaseUrl: async (id: string) => `http://backstage/api/${id}` },
    fetchApi: { fetch: fetch as any },
  });
  return { api, fetch };
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('IstioMeshClient metrics', () => {
  it('asks for the entity metrics and topology of a window', async () => {
    const { api, fetch } = client(() => json({ workloads: [], errors: [] }));
    await api.getEntityMetrics(ref, '6h');
    await api.getEntityTopology(ref, '15m');
    expect(fetch.mock.calls.map(c => c[0])).toEqual([
      'http://backstage/api/istio-mesh/v1/entities/Component/default/payments%20api/metrics?window=6h',
      'http://backstage/api/istio-mesh/v1/entities/Component/default/payments%20api/topology?window=15m',
    ]);
  });

  it('rejects with a ResponseError carrying the 503 and its message', async () => {
    const { api } = client(() =>
      json({ error: { name: 'ServiceUnavailableError', message: 'Prometheus for aks-prod did not answer' }, response: { statusCode: 503 } }, 503),
    );
    const error = await api.getEntityMetrics(ref, '1h').catch(e => e);
    expect(error).toBeInstanceOf(ResponseError);
    expect(error.response.status).toBe(503);
    expect(error.body.error.message).toBe('Prometheus for aks-prod did not answer');
  });

  it('sends acknowledgeRegressions only when asked to', async () => {
    const { api, fetch } = client(() => json({ run: {}, step: {} }, 202));
    await api.completeUpgrade('aks-prod');
    await api.completeUpgrade('aks-prod', { acknowledgeRegressions: true });
    expect(fetch.mock.calls.map(c => [c[0], c[1]?.method, c[1]?.body])).toEqual([
      ['http://backstage/api/istio-mesh/v1/clusters/aks-prod/upgrade/complete', 'POST', '{}'],
      ['http://backstage/api/istio-mesh/v1/clusters/aks-prod/upgrade/complete', 'POST', '{"acknowledgeRegressions":true}'],
    ]);
  });
});

describe('IstioMeshClient MeshConfig', () => {
  it('reads, validates and saves with the paths, methods and bodies of the API', async () => {
    const { api, fetch } = client(() => json({}));
    await api.getMeshConfig('aks dev', 'asm-1-29');
    await api.validateMeshConfig('aks-dev', 'asm-1-29', 'accessLogFile: /dev/stdout\n');
    await api.updateMeshConfig('aks-dev', { revision: 'asm-1-29', yaml: 'accessLogFile: /dev/stdout\n', resourceVersion: '42' });
    expect(fetch.mock.calls.map(c => [c[0], c[1]?.method ?? 'GET', c[1]?.body])).toEqual([
      ['http://backstage/api/istio-mesh/v1/clusters/aks%20dev/meshconfig?revision=asm-1-29', 'GET', undefined],
      ['http://backstage/api/istio-mesh/v1/clusters/aks-dev/meshconfig/validate', 'POST', '{"revision":"asm-1-29","yaml":"accessLogFile: /dev/stdout\\n"}'],
      ['http://backstage/api/istio-mesh/v1/clusters/aks-dev/meshconfig', 'PUT', '{"revision":"asm-1-29","yaml":"accessLogFile: /dev/stdout\\n","resourceVersion":"42"}'],
    ]);
  });

  it('rejects a stale save with a ResponseError carrying the 409 and its message', async () => {
    const message = 'the ConfigMap changed since you loaded it: istio-shared-configmap-asm-1-29 is at resourceVersion 43, you loaded 42. Reload it and apply your change again.';
    const { api } = client(() => json({ error: { name: 'ConflictError', message }, response: { statusCode: 409 } }, 409));
    const error = await api.updateMeshConfig('aks-dev', { revision: 'asm-1-29', yaml: '', resourceVersion: '42' }).catch(e => e);
    expect(error).toBeInstanceOf(ResponseError);
    expect(error.response.status).toBe(409);
    expect(error.body.error.message).toBe(message);
  });
});
