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
