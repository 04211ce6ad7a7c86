import { X509Certificate } from 'node:crypto';
import { ManualClock } from '../clock';
import { applyMeshRevisions } from '../controllers/controlPlane';
import { createDemoFleet } from '../fleet';
import { SandboxCluster, SandboxServer, startSandboxServer } from '../server';
import { callCluster } from '../__testUtils__/sandboxHttp';

/**
 * The demo fleet's certificate authorities and gateways, read over the Kubernetes API as
 * the portal reads them: real X.509 in `istio-ca-root-cert`, istiod's `cacerts` volume
 * and SecretProviderClasses for the plug-in CA, gateway Services, Deployments and HPAs.
 */

const NOW = new Date('2026-11-25T10:00:00Z');
const DAY = 86_400_000;
let clock: ManualClock;
let fleet: Map<string, SandboxCluster>;
let server: SandboxServer;

beforeEach(async () => {
  clock = new ManualClock(NOW.toISOString());
  fleet = createDemoFleet({ clock, stepMs: 1000 });
  server = await startSandboxServer({ clusters: fleet, port: 0 });
});

afterEach(async () => {
  await server.close();
});

const get = async (cluster: string, path: string) => {
  const res = await callCluster(server, cluster, 'GET', path);
  expect({ path, status: res.status }).toEqual({ path, status: 200 });
  return res.body;
};
const names = (list: any) => list.items.map((i: any) => `${i.metadata.namespace ?? ''}/${i.metadata.name}`).sort();

/** Splits a PEM bundle into certificates. */
function certificates(bundle: string): X509Certificate[] {
  return (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(p => new X509Certificate(p));
}

async function bundles(cluster: string): Promise<Map<string, X509Certificate[]>> {
  const list = await get(cluster, '/api/v1/configmaps?fieldSelector=metadata.name%3Distio-ca-root-cert');
  return new Map(list.items.map((cm: any) => [cm.metadata.namespace, certificates(cm.data['root-cert.pem'])]));
}

const daysLeft = (c: X509Certificate) => (Date.parse(c.validTo) - NOW.getTime()) / DAY;

describe('certificates', () => {
  it('aks-dev: one self-signed istiod root (O=cluster.local, RSA 2048, ten years) in every bundle', async () => {
    const byNamespace = await bundles('aks-dev');
    expect([...byNamespace.keys()].sort()).toEqual(['aks-istio-ingress', 'aks-istio-system', 'legacy', 'payments', 'storefront']);
    const fingerprints = new Set([...byNamespace.values()].flatMap(certs => certs.map(c => c.fingerprint256)));
    expect(fingerprints.size).toBe(1);
    const [root] = byNamespace.get('aks-istio-system')!;
    expect(root.subject).toBe('O=cluster.local');
    expect(root.issuer).toBe('O=cluster.local');
    expect(root.ca).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(root.checkIssued(root)).toBe(true);
    expect(root.publicKey.asymmetricKeyType).toBe('rsa');
    expect(root.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(Math.round(daysLeft(root))).toBe(3650 - 180);
    // No plug-in CA: istiod has no cacerts volume, and there is no SecretProviderClass.
    const istiod = await get('aks-dev', '/apis/apps/v1/namespaces/aks-istio-system/deployments/istiod-asm-1-29');
    expect(istiod.spec.template.spec.volumes).toBeUndefined();
    expect((await get('aks-dev', '/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasses')).items).toEqual([]);
  });

  it('aks-prod: a plug-in CA mid root rotation, two roots in most bundles and only the old one in storefront', async () => {
    const byNamespace = await bundles('aks-prod');
    expect(
      Object.fromEntries([...byNamespace].map(([ns, certs]) => [ns, certs.map(c => c.subject.split('\n').pop())])),
    ).toEqual({
      'aks-istio-system': ['CN=Contoso Mesh Root CA 2023', 'CN=Contoso Mesh Root CA 2026'],
      'aks-istio-ingress': ['CN=Contoso Mesh Root CA 2023', 'CN=Contoso Mesh Root CA 2026'],
      'aks-istio-egress': ['CN=Contoso Mesh Root CA 2023', 'CN=Contoso Mesh Root CA 2026'],
      payments: ['CN=Contoso Mesh Root CA 2023', 'CN=Contoso Mesh Root CA 2026'],
      storefront: ['CN=Contoso Mesh Root CA 2023'],
    });
    const [oldRoot, newRoot] = byNamespace.get('aks-istio-system')!;
    expect(oldRoot.subject).toBe('C=NL\nO=Contoso\nCN=Contoso Mesh Root CA 2023');
    expect(oldRoot.publicKey.asymmetricKeyType).toBe('rsa');
    expect(newRoot.publicKey.asymmetricKeyType).toBe('ec');
    expect(newRoot.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
    for (const root of [oldRoot, newRoot]) {
      expect(root.ca).toBe(true);
      expect(root.checkIssued(root)).toBe(true);
      expect(root.verify(root.publicKey)).toBe(true);
    }
    expect(newRoot.verify(oldRoot.publicKey)).toBe(false);
    // The old root expires in 21 days: inside a 30-day warning window.
    expect(Math.floor(daysLeft(oldRoot))).toBe(21);
    expect(Math.round(daysLeft(newRoot))).toBe(3650 - 2);
    expect(byNamespace.get('storefront')![0].fingerprint256).toBe(oldRoot.fingerprint256);
  });

  it('aks-prod: every istiod mounts cacerts from its own SecretProviderClass istio-spc-<rev>', async () => {
    const spcs = await get('aks-prod', '/apis/secrets-store.csi.x-k8s.io/v1/namespaces/aks-istio-system/secretproviderclasses');
    expect(spcs.kind).toBe('SecretProviderClassList');
    expect(names(spcs)).toEqual(['aks-istio-system/istio-spc-asm-1-29', 'aks-istio-system/istio-spc-asm-1-30']);
    expect(spcs.items[0].spec.provider).toBe('azure');
    expect(spcs.items[0].spec.parameters.keyvaultName).toBe('kv-mesh-prod');
    for (const rev of ['asm-1-29', 'asm-1-30']) {
      const istiod = await get('aks-prod', `/apis/apps/v1/namespaces/aks-istio-system/deployments/istiod-${rev}`);
      expect(istiod.spec.template.spec.volumes).toEqual([
        { name: 'cacerts', csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: `istio-spc-${rev}` } } },
      ]);
      expect(istiod.spec.template.spec.containers[0].volumeMounts).toEqual([{ name: 'cacerts', mountPath: '/etc/cacerts', readOnly: true }]);
    }
  });

  it('makes certificates at fleet creation, relative to the fleet clock', () => {
    const later = createDemoFleet({ clock: new ManualClock('2027-03-01T00:00:00Z') });
    const bundle = later.get('aks-prod')!.store.peek({ group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true }, 'storefront', 'istio-ca-root-cert')!;
    const [oldRoot] = certificates(bundle.data['root-cert.pem']);
    expect(Math.floor((Date.parse(oldRoot.validTo) - Date.parse('2027-03-01T00:00:00Z')) / DAY)).toBe(21);
  });

  it('gives a new revision of a plug-in-CA mesh its own SecretProviderClass and cacerts volume, and removes them with it', async () => {
    const prod = fleet.get('aks-prod')!;
    await applyMeshRevisions(prod, ['asm-1-30', 'asm-1-31'], { delayMs: 0 });
    const spcs = await get('aks-prod', '/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasses');
    expect(names(spcs)).toEqual(['aks-istio-system/istio-spc-asm-1-30', 'aks-istio-system/istio-spc-asm-1-31']);
    expect(spcs.items[1].spec).toEqual(spcs.items[0].spec);
    const istiod = await get('aks-prod', '/apis/apps/v1/namespaces/aks-istio-system/deployments/istiod-asm-1-31');
    expect(istiod.spec.template.spec.volumes[0].csi.volumeAttributes.secretProviderClass).toBe('istio-spc-asm-1-31');
  });
});

describe('gateways', () => {
  it('aks-prod: external and internal ingress LoadBalancers spanning both revisions, an egress ClusterIP on the old revision only', async () => {
    const services = await get('aks-prod', '/api/v1/services');
    const gateways = services.items.filter((s: any) => /^aks-istio-(ingress|egress)$/.test(s.metadata.namespace));
    expect(
      gateways.map((s: any) => [s.metadata.name, s.spec.type, s.spec.ports.map((p: any) => p.port), s.status.loadBalancer.ingress?.map((i: any) => i.ip)]),
    ).toEqual([
      ['payments-egress', 'ClusterIP', [80, 443], undefined],
      ['aks-istio-ingressgateway-external', 'LoadBalancer', [15021, 80, 443], ['20.61.14.7']],
      ['aks-istio-ingressgateway-internal', 'LoadBalancer', [15021, 80, 443], ['10.224.0.250']],
    ]);
    const deployments = await get('aks-prod', '/apis/apps/v1/deployments?labelSelector=kubernetes.azure.com%2Fmanagedby%3Daks');
    const gatewayDeployments = deployments.items
      .filter((d: any) => d.metadata.namespace !== 'aks-istio-system')
      .map((d: any) => [d.metadata.name, d.metadata.labels['istio.io/rev'], d.status.readyReplicas]);
    expect(gatewayDeployments.sort()).toEqual([
      ['aks-istio-ingressgateway-external-asm-1-29', 'asm-1-29', 2],
      ['aks-istio-ingressgateway-external-asm-1-30', 'asm-1-30', 2],
      ['aks-istio-ingressgateway-internal-asm-1-29', 'asm-1-29', 2],
      ['aks-istio-ingressgateway-internal-asm-1-30', 'asm-1-30', 2],
      ['payments-egress-asm-1-29', 'asm-1-29', 2],
    ]);
  });

  it('serves an HPA (autoscaling/v2) per gateway Deployment and per istiod', async () => {
    const hpas = await get('aks-prod', '/apis/autoscaling/v2/horizontalpodautoscalers');
    expect(hpas.kind).toBe('HorizontalPodAutoscalerList');
    expect(hpas.apiVersion).toBe('autoscaling/v2');
    expect(names(hpas)).toEqual([
      'aks-istio-egress/payments-egress-asm-1-29',
      'aks-istio-ingress/aks-istio-ingressgateway-external-asm-1-29',
      'aks-istio-ingress/aks-istio-ingressgateway-external-asm-1-30',
      'aks-istio-ingress/aks-istio-ingressgateway-internal-asm-1-29',
      'aks-istio-ingress/aks-istio-ingressgateway-internal-asm-1-30',
      'aks-istio-system/istiod-asm-1-29',
      'aks-istio-system/istiod-asm-1-30',
    ]);
    const one = await get('aks-prod', '/apis/autoscaling/v2/namespaces/aks-istio-ingress/horizontalpodautoscalers/aks-istio-ingressgateway-internal-asm-1-30');
    expect(one.spec).toMatchObject({ minReplicas: 2, maxReplicas: 5, scaleTargetRef: { kind: 'Deployment', name: 'aks-istio-ingressgateway-internal-asm-1-30' } });
  });

  it('a new revision gets egress and ingress gateway Deployments with the stable revision’s HPA bounds', async () => {
    const prod = fleet.get('aks-prod')!;
    // A user widened the stable egress gateway's HPA; the canary inherits it.
    const patched = await callCluster(server, 'aks-prod', 'PATCH', '/apis/autoscaling/v2/namespaces/aks-istio-egress/horizontalpodautoscalers/payments-egress-asm-1-29', { body: { spec: { minReplicas: 3, maxReplicas: 8 } }, contentType: 'application/merge-patch+json' });
    expect(patched.status).toBe(200);
    await applyMeshRevisions(prod, ['asm-1-29', 'asm-1-30', 'asm-1-31'], { delayMs: 0 });
    const hpa = await get('aks-prod', '/apis/autoscaling/v2/namespaces/aks-istio-egress/horizontalpodautoscalers/payments-egress-asm-1-31');
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([3, 8]);
    await applyMeshRevisions(prod, ['asm-1-31'], { delayMs: 0 });
    const egress = await get('aks-prod', '/apis/apps/v1/namespaces/aks-istio-egress/deployments');
    expect(names(egress)).toEqual(['aks-istio-egress/payments-egress-asm-1-31']);
    const hpas = await get('aks-prod', '/apis/autoscaling/v2/namespaces/aks-istio-ingress/horizontalpodautoscalers');
    expect(names(hpas)).toEqual(['aks-istio-ingress/aks-istio-ingressgateway-external-asm-1-31', 'aks-istio-ingress/aks-istio-ingressgateway-internal-asm-1-31']);
  });
});
