import { ManualClock } from '../clock';
import { createDemoFleet } from '../fleet';
import { SandboxCluster, SandboxServer, startSandboxServer } from '../server';
import { callCluster } from '../__testUtils__/sandboxHttp';
import { applyMeshRevisionsNow } from './controlPlane';

/**
 * istiod's namespace controller as the sandbox plays it: new namespaces get the trust
 * bundle, a deleted bundle comes back, and nothing happens without a control plane or in
 * the namespaces istiod ignores.
 */

let fleet: Map<string, SandboxCluster>;
let server: SandboxServer;

beforeEach(async () => {
  fleet = createDemoFleet({ clock: new ManualClock('2026-11-25T10:00:00Z'), stepMs: 1000 });
  server = await startSandboxServer({ clusters: fleet, port: 0 });
});

afterEach(async () => {
  await server.close();
});

const bundlePath = (namespace: string) => `/api/v1/namespaces/${namespace}/configmaps/istio-ca-root-cert`;

async function bundleOf(cluster: string, namespace: string): Promise<string | undefined> {
  const res = await callCluster(server, cluster, 'GET', bundlePath(namespace));
  if (res.status === 404) return undefined;
  expect(res.status).toBe(200);
  return res.body.data['root-cert.pem'];
}

async function createNamespace(cluster: string, name: string) {
  const res = await callCluster(server, cluster, 'POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
  });
  expect(res.status).toBe(201);
}

const certificateCount = (bundle: string | undefined) => bundle?.match(/BEGIN CERTIFICATE/g)?.length ?? 0;

describe('istio-ca-root-cert in namespaces', () => {
  it('a namespace created while istiod runs gets the control plane’s bundle', async () => {
    const istiods = await bundleOf('aks-dev', 'aks-istio-system');
    expect(certificateCount(istiods)).toBe(1);
    await createNamespace('aks-dev', 'orders');
    expect(await bundleOf('aks-dev', 'orders')).toBe(istiods);
  });

  it('mid-rotation (aks-prod) a new namespace gets both roots, and the stale namespace stays stale', async () => {
    const istiods = await bundleOf('aks-prod', 'aks-istio-system');
    expect(certificateCount(istiods)).toBe(2);
    const staleBefore = await bundleOf('aks-prod', 'storefront');
    expect(certificateCount(staleBefore)).toBe(1);

    await createNamespace('aks-prod', 'orders');
    expect(await bundleOf('aks-prod', 'orders')).toBe(istiods);
    expect(await bundleOf('aks-prod', 'storefront')).toBe(staleBefore);
  });

  it('a deleted bundle is written again, with the same roots', async () => {
    const before = await callCluster(server, 'aks-dev', 'GET', bundlePath('payments'));
    const deleted = await callCluster(server, 'aks-dev', 'DELETE', bundlePath('payments'));
    expect(deleted.status).toBe(200);

    const after = await callCluster(server, 'aks-dev', 'GET', bundlePath('payments'));
    expect(after.status).toBe(200);
    expect(after.body.metadata.uid).not.toBe(before.body.metadata.uid);
    expect(after.body.data).toEqual(before.body.data);
  });

  it('upstream Istio (istio-lab) publishes from istio-system', async () => {
    await createNamespace('istio-lab', 'orders');
    expect(await bundleOf('istio-lab', 'orders')).toBe(await bundleOf('istio-lab', 'istio-system'));
  });

  it('leaves the namespaces istiod ignores alone', async () => {
    await createNamespace('aks-dev', 'kube-public');
    expect(await bundleOf('aks-dev', 'kube-public')).toBeUndefined();
  });

  it('writes nothing once no control plane runs', async () => {
    applyMeshRevisionsNow(fleet.get('aks-dev')!.store, []);
    await createNamespace('aks-dev', 'orders');
    expect(await bundleOf('aks-dev', 'orders')).toBeUndefined();

    expect((await callCluster(server, 'aks-dev', 'DELETE', bundlePath('payments'))).status).toBe(200);
    expect(await bundleOf('aks-dev', 'payments')).toBeUndefined();
  });
});
