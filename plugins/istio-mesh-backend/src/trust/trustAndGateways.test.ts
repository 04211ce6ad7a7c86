import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { createDemoFleet, demoToken, SandboxServer, startSandboxServer } from '@mesh-portal/mesh-sandbox';
import { ClusterDetail, ClustersResponse, ClusterTrustResponse } from '@mesh-portal/plugin-istio-mesh-common';
import { X509Certificate } from 'node:crypto';
import request from 'supertest';
import { kubernetesConfigFor, permissionResult, startMeshBackend } from '../__testUtils__/sandboxBackend';
import { openApiAjv } from '../__testUtils__/openapi';

/**
 * Certificates and gateways end to end: the sandbox's generated CAs and gateway objects,
 * read by the plugin through the real Kubernetes backend (proxy, service-account auth).
 * Expected subjects and fingerprints come from what the sandbox generated at start.
 */

jest.setTimeout(60_000);

const DAY = 86_400_000;

function pemCertificates(bundle: string): X509Certificate[] {
  return (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(p => new X509Certificate(p));
}

describe('certificates and gateways against the sandbox, through the Kubernetes backend', () => {
  let sandbox: SandboxServer;
  const ajv = openApiAjv();
  const valid = (schema: string, body: unknown) => {
    const check = ajv.getSchema(`openapi#/components/schemas/${schema}`)!;
    return { valid: check(body), errors: check.errors ?? null };
  };

  beforeAll(async () => {
    sandbox = await startSandboxServer({ clusters: createDemoFleet(), port: 0 });
  });
  afterAll(() => sandbox.close());

  /** The certificates the sandbox generated for a namespace's bundle. */
  const generated = async (cluster: string, namespace: string) => {
    const res = await fetch(`${sandbox.clusterUrl(cluster)}/api/v1/namespaces/${namespace}/configmaps/istio-ca-root-cert`, {
      headers: { Authorization: `Bearer ${demoToken(cluster)}` },
    });
    return pemCertificates((await res.json()).data['root-cert.pem']);
  };

  async function startBackend(options: { permission?: AuthorizeResult.ALLOW | AuthorizeResult.DENY; trust?: object } = {}) {
    const { server } = await startMeshBackend({
      config: { ...(options.trust ? { istioMesh: { trust: options.trust } } : {}), kubernetes: kubernetesConfigFor(sandbox) },
      features: permissionResult(options.permission),
    });
    return server;
  }
  const get = (server: any, path: string) => request(server).get(`/api/istio-mesh${path}`);

  it('aks-prod: plug-in CA from istio-spc-<rev>, root rotation in progress, storefront stale, the old root’s expiry warned', async () => {
    const [oldRoot, newRoot] = await generated('aks-prod', 'aks-istio-system');
    const server = await startBackend();
    const res = await get(server, '/v1/clusters/aks-prod/trust');
    expect(res.status).toBe(200);
    expect(valid('ClusterTrust', res.body)).toEqual({ valid: true, errors: null });
    const body = res.body as ClusterTrustResponse;
    expect(body.cluster).toBe('aks-prod');
    expect(body.thresholds).toEqual({ warningDays: 30, criticalDays: 7 });
    expect(body.caMode).toBe('plug-in');
    expect(body.caSources).toEqual([
      { revision: 'asm-1-29', mode: 'plug-in', via: 'csi', secretProviderClass: 'istio-spc-asm-1-29', secretProviderClassFound: true },
      { revision: 'asm-1-30', mode: 'plug-in', via: 'csi', secretProviderClass: 'istio-spc-asm-1-30', secretProviderClassFound: true },
    ]);
    expect(body.reference).toEqual({ namespace: 'aks-istio-system', source: 'control-plane-namespace' });
    const expectedDays = (c: X509Certificate) => Math.floor((Date.parse(c.validTo) - Date.now()) / DAY);
    expect(body.roots.map(r => ({ subject: r.subject, issuer: r.issuer, fingerprint: r.fingerprintSha256, serial: r.serialNumber, keyType: r.keyType, role: r.role, notAfter: r.notAfter }))).toEqual([
      {
        subject: 'C=NL, O=Contoso, CN=Contoso Mesh Root CA 2023',
        issuer: 'C=NL, O=Contoso, CN=Contoso Mesh Root CA 2023',
        fingerprint: oldRoot.fingerprint256,
        serial: oldRoot.serialNumber.toUpperCase(),
        keyType: 'RSA 2048',
        role: 'root',
        notAfter: new Date(oldRoot.validTo).toISOString(),
      },
      {
        subject: 'C=NL, O=Contoso, CN=Contoso Mesh Root CA 2026',
        issuer: 'C=NL, O=Contoso, CN=Contoso Mesh Root CA 2026',
        fingerprint: newRoot.fingerprint256,
        serial: newRoot.serialNumber.toUpperCase(),
        keyType: 'EC P-384',
        role: 'root',
        notAfter: new Date(newRoot.validTo).toISOString(),
      },
    ]);
    expect(body.roots.map(r => [r.daysLeft, r.validity])).toEqual([
      [expectedDays(oldRoot), 'expiring'],
      [expectedDays(newRoot), 'valid'],
    ]);
    expect(body.roots[0].daysLeft).toBe(21);
    expect(body.roots[0].namespaces).toEqual(['aks-istio-egress', 'aks-istio-ingress', 'aks-istio-system', 'payments', 'storefront']);
    expect(body.roots[1].namespaces).toEqual(['aks-istio-egress', 'aks-istio-ingress', 'aks-istio-system', 'payments']);
    expect(body.intermediates).toEqual([]);
    expect(body.rotation).toMatchObject({ inProgress: true, roots: 2 });
    expect(body.staleNamespaces).toEqual(['storefront']);
    expect(body.namespaces.find(n => n.namespace === 'storefront')).toEqual({
      namespace: 'storefront',
      state: 'stale',
      fingerprints: [oldRoot.fingerprint256],
      missing: [newRoot.fingerprint256],
      extra: [],
    });
    expect(body.warnings).toEqual([
      {
        severity: 'warning',
        kind: 'expiry',
        fingerprint: oldRoot.fingerprint256,
        message: `Root certificate Contoso Mesh Root CA 2023 expires in 21 days (${new Date(oldRoot.validTo).toISOString().slice(0, 10)}); finish the root rotation before then.`,
      },
      {
        severity: 'warning',
        kind: 'stale-bundle',
        namespace: 'storefront',
        message: 'Namespace storefront has a stale trust bundle: it lacks Contoso Mesh Root CA 2026 compared with aks-istio-system.',
      },
    ]);
    expect(body.earliestExpiry).toEqual({ subject: body.roots[0].subject, fingerprintSha256: oldRoot.fingerprint256, notAfter: body.roots[0].notAfter, daysLeft: 21 });
  });

  it('aks-dev: istiod’s self-signed root, one root everywhere, nothing to warn about', async () => {
    const [root] = await generated('aks-dev', 'payments');
    const server = await startBackend();
    const res = await get(server, '/v1/clusters/aks-dev/trust');
    expect(valid('ClusterTrust', res.body)).toEqual({ valid: true, errors: null });
    const body = res.body as ClusterTrustResponse;
    expect(body.caMode).toBe('self-signed');
    expect(body.caSources).toEqual([{ revision: 'asm-1-29', mode: 'self-signed' }]);
    expect(body.roots.map(r => [r.subject, r.fingerprintSha256, r.keyType, r.selfIssued, r.isCA])).toEqual([['O=cluster.local', root.fingerprint256, 'RSA 2048', true, true]]);
    expect(body.rotation).toEqual({ inProgress: false, roots: 1 });
    expect(body.namespaces.map(n => [n.namespace, n.state])).toEqual([
      ['aks-istio-ingress', 'current'],
      ['aks-istio-system', 'current'],
      ['legacy', 'current'],
      ['payments', 'current'],
      ['storefront', 'current'],
    ]);
    expect(body.staleNamespaces).toEqual([]);
    expect(body.warnings).toEqual([]);
    // istio-lab (upstream): its own self-signed root, reference in istio-system.
    const lab = (await get(server, '/v1/clusters/istio-lab/trust')).body as ClusterTrustResponse;
    expect(valid('ClusterTrust', lab)).toEqual({ valid: true, errors: null });
    expect([lab.caMode, lab.reference.namespace, lab.roots.length, lab.roots[0].fingerprintSha256 === root.fingerprint256]).toEqual(['self-signed', 'istio-system', 1, false]);
  });

  it('surfaces the expiry warning in cluster health and on the cluster summary; honours configured thresholds', async () => {
    const server = await startBackend();
    const res = await get(server, '/v1/clusters');
    expect(valid('ClustersResponse', res.body)).toEqual({ valid: true, errors: null });
    const prod = (res.body as ClustersResponse).clusters.find(c => c.cluster === 'aks-prod')!;
    expect(prod.health).toBe('warning');
    expect(prod.healthReasons).toEqual([
      "3 pods drifted from their namespace's revision and need a restart.",
      'Gateway payments-egress has no Deployment for asm-1-30: it still runs only asm-1-29, so it lags the control plane.',
      expect.stringMatching(/^Root certificate Contoso Mesh Root CA 2023 expires in 21 days \(\d{4}-\d\d-\d\d\); finish the root rotation before then\.$/),
      'Namespace storefront has a stale trust bundle: it lacks Contoso Mesh Root CA 2026 compared with aks-istio-system.',
    ]);
    expect(prod.trust).toMatchObject({ caMode: 'plug-in', rotationInProgress: true, roots: 2, staleNamespaces: 1, earliestExpiry: { daysLeft: 21 } });
    const dev = (res.body as ClustersResponse).clusters.find(c => c.cluster === 'aks-dev')!;
    expect(dev.trust).toMatchObject({ caMode: 'self-signed', rotationInProgress: false, roots: 1, staleNamespaces: 0, warnings: [] });

    // With a critical threshold above 21 days, the old root makes aks-prod critical.
    const strict = await startBackend({ trust: { warningDays: 60, criticalDays: 25 } });
    const strictProd = ((await get(strict, '/v1/clusters')).body as ClustersResponse).clusters.find(c => c.cluster === 'aks-prod')!;
    expect(strictProd.health).toBe('critical');
    const trust = (await get(strict, '/v1/clusters/aks-prod/trust')).body as ClusterTrustResponse;
    expect(trust.thresholds).toEqual({ warningDays: 60, criticalDays: 25 });
    expect(trust.warnings[0]).toMatchObject({ severity: 'critical', kind: 'expiry' });
  });

  it('refuses thresholds that make no sense at startup', async () => {
    await expect(startBackend({ trust: { warningDays: 7, criticalDays: 30 } })).rejects.toThrow(
      'Invalid configuration: istioMesh.trust.criticalDays (30) must not exceed istioMesh.trust.warningDays (7)',
    );
  });

  it('reports a malformed bundle for its namespace, not as a failed request', async () => {
    const fleet = createDemoFleet();
    const own = await startSandboxServer({ clusters: fleet, port: 0 });
    try {
      const put = async (namespace: string, pem: string) => {
        const res = await fetch(`${own.clusterUrl('aks-dev')}/api/v1/namespaces/${namespace}/configmaps`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${demoToken('aks-dev')}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-ca-root-cert' }, data: { 'root-cert.pem': pem } }),
        });
        expect(res.status).toBe(201);
      };
      await put('tools', 'this is not PEM');
      await put('default', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
      const { server } = await startMeshBackend({ config: { kubernetes: kubernetesConfigFor(own, { clusters: ['aks-dev'] }) } });
      const res = await get(server, '/v1/clusters/aks-dev/trust');
      expect(res.status).toBe(200);
      expect(valid('ClusterTrust', res.body)).toEqual({ valid: true, errors: null });
      const body = res.body as ClusterTrustResponse;
      expect(body.namespaces.filter(n => n.state !== 'current')).toEqual([
        { namespace: 'default', state: 'invalid', fingerprints: [], missing: [], extra: [], error: expect.stringMatching(/^block 1 of 1 is not a valid X\.509 certificate \(.+\)$/) },
        { namespace: 'tools', state: 'invalid', fingerprints: [], missing: [], extra: [], error: 'root-cert.pem holds no PEM certificate' },
      ]);
      expect(body.roots).toHaveLength(1);
      expect(body.warnings.map(w => [w.kind, w.namespace])).toEqual([
        ['invalid-bundle', 'default'],
        ['invalid-bundle', 'tools'],
      ]);
    } finally {
      await own.close();
    }
  });

  it('gateways on the cluster page: Service, type, addresses, ports, ready replicas and HPA per revision, the lagging egress flagged', async () => {
    const server = await startBackend();
    const res = await get(server, '/v1/clusters/aks-prod');
    expect(res.status).toBe(200);
    expect(valid('ClusterDetail', res.body)).toEqual({ valid: true, errors: null });
    const { gateways } = res.body as ClusterDetail;
    expect(gateways.map(g => [g.kind, g.name, g.namespace, g.type, g.clusterIP, g.addresses, g.ports, g.revisions, g.lag.lagging])).toEqual([
      ['ingress-external', 'aks-istio-ingressgateway-external', 'aks-istio-ingress', 'LoadBalancer', '10.0.97.12', ['20.61.14.7'], [15021, 80, 443], ['asm-1-29', 'asm-1-30'], false],
      ['ingress-internal', 'aks-istio-ingressgateway-internal', 'aks-istio-ingress', 'LoadBalancer', '10.0.97.13', ['10.224.0.250'], [15021, 80, 443], ['asm-1-29', 'asm-1-30'], false],
      ['egress', 'payments-egress', 'aks-istio-egress', 'ClusterIP', '10.0.201.17', [], [80, 443], ['asm-1-29'], true],
    ]);
    expect(gateways[0].portDetails).toEqual([
      { name: 'status-port', port: 15021, protocol: 'TCP' },
      { name: 'http2', port: 80, protocol: 'TCP' },
      { name: 'https', port: 443, protocol: 'TCP' },
    ]);
    expect(gateways[1].deployments).toEqual([
      { name: 'aks-istio-ingressgateway-internal-asm-1-29', revision: 'asm-1-29', replicas: 2, readyReplicas: 2, ready: true, hpa: { name: 'aks-istio-ingressgateway-internal-asm-1-29', minReplicas: 2, maxReplicas: 5, currentReplicas: 2 } },
      { name: 'aks-istio-ingressgateway-internal-asm-1-30', revision: 'asm-1-30', replicas: 2, readyReplicas: 2, ready: true, hpa: { name: 'aks-istio-ingressgateway-internal-asm-1-30', minReplicas: 2, maxReplicas: 5, currentReplicas: 2 } },
    ]);
    expect(gateways[2].lag).toEqual({
      lagging: true,
      missingRevisions: ['asm-1-30'],
      orphanedRevisions: [],
      notReadyRevisions: [],
      messages: ['Gateway payments-egress has no Deployment for asm-1-30: it still runs only asm-1-29, so it lags the control plane.'],
    });
    const dev = (await get(server, '/v1/clusters/aks-dev')).body as ClusterDetail;
    expect(dev.gateways.map(g => [g.name, g.revisions, g.lag.lagging])).toEqual([['aks-istio-ingressgateway-external', ['asm-1-29'], false]]);
  });

  it('answers 404 for an unknown cluster, 400 for a malformed name, 403 without istio-mesh.read', async () => {
    const server = await startBackend();
    expect((await get(server, '/v1/clusters/aks-nowhere/trust')).status).toBe(404);
    const bad = await get(server, '/v1/clusters/-bad-/trust');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ name: 'InputError', message: expect.stringContaining('cluster: must be 1-128 characters') });
    const denied = await startBackend({ permission: AuthorizeResult.DENY });
    const res = await get(denied, '/v1/clusters/aks-prod/trust');
    expect(res.status).toBe(403);
    expect(res.body.error.name).toBe('NotAllowedError');
  });
});
