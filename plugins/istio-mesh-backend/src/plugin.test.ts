import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { SandboxServer } from '@mesh-portal/mesh-sandbox';
import {
  ClusterDetail,
  ClustersResponse,
  EntityMeshStatus,
  OverviewResponse,
} from '@mesh-portal/plugin-istio-mesh-common';
import request from 'supertest';
import { aksConfigFor, component, kubernetesConfigFor, permissionResult, startMeshBackend, startSandboxWithArm } from './__testUtils__/sandboxBackend';
import { openApiAjv } from './__testUtils__/openapi';

const entities = [
  component('payments-api', { 'backstage.io/kubernetes-id': 'payments-api' }),
  component('payments-worker', { 'backstage.io/kubernetes-id': 'payments-worker' }),
  component('legacy-billing', { 'backstage.io/kubernetes-id': 'legacy-billing' }),
  component('ops-toolbox', { 'backstage.io/kubernetes-id': 'ops-toolbox' }),
  component('checkout-in-prod', {
    'backstage.io/kubernetes-label-selector': 'app=checkout',
    'backstage.io/kubernetes-namespace': 'storefront',
    'backstage.io/kubernetes-cluster': 'aks-prod',
  }),
  component('no-kubernetes', {}),
];

jest.setTimeout(60_000);

describe('istio-mesh backend against the sandbox, through the Kubernetes backend', () => {
  let sandbox: SandboxServer;
  let caFile: string;

  beforeAll(async () => {
    ({ sandbox, caFile } = await startSandboxWithArm());
  });
  afterAll(() => sandbox.close());

  async function startBackend(options: { extraClusters?: object[]; permission?: AuthorizeResult.ALLOW | AuthorizeResult.DENY } = {}) {
    const { server } = await startMeshBackend({
      entities,
      config: {
        istioMesh: { aks: aksConfigFor(sandbox, caFile) },
        kubernetes: kubernetesConfigFor(sandbox, { extraClusters: options.extraClusters }),
      },
      features: permissionResult(options.permission),
    });
    return server;
  }

  const get = async (server: any, path: string) => request(server).get(`/api/istio-mesh${path}`);

  it('reports drift in aks-prod and a stable revision in aks-dev for payments-api', async () => {
    const server = await startBackend();
    const res = await get(server, '/v1/entities/component/default/payments-api');
    expect(res.status).toBe(200);
    const body = res.body as EntityMeshStatus;
    expect(body.entityRef).toBe('component:default/payments-api');
    expect(body.errors).toEqual([]);
    expect(body.clusters.map(c => c.cluster)).toEqual(['aks-dev', 'aks-prod', 'istio-lab']);

    const [dev, prod, lab] = body.clusters;
    // Upstream Istio: control plane in istio-system, the namespace follows a revision tag.
    expect(lab.provider).toBe('istio');
    expect(lab.controlPlane.namespace).toBe('istio-system');
    expect(lab.controlPlane.tags).toEqual({ 'prod-stable': '1-26-3', default: '1-27-1' });
    expect(lab.controlPlane.revisions.map(r => [r.revision, r.version])).toEqual([['1-26-3', '1.26.3'], ['1-27-1', '1.27.1']]);
    expect(lab.namespaces[0].injection).toEqual({ mode: 'revision', label: 'prod-stable', revision: '1-26-3', viaTag: 'prod-stable' });
    expect(lab.namespaces[0].pods.map(p => [p.state, p.sidecar.revision, p.sidecar.native])).toEqual([
      ['in-sync', '1-26-3', false],
      ['in-sync', '1-26-3', false],
    ]);
    expect(dev.controlPlane.phase).toBe('Stable');
    expect(dev.controlPlane.revisions.map(r => [r.revision, r.version, r.ready])).toEqual([['asm-1-29', '1.29.2', true]]);
    expect(dev.driftedPods).toBe(0);
    expect(dev.namespaces[0].pods.map(p => p.state)).toEqual(['in-sync', 'in-sync']);

    expect(prod.provider).toBe('aks');
    expect(prod.controlPlane.namespace).toBe('aks-istio-system');
    expect(prod.controlPlane.phase).toBe('Canary');
    expect(prod.controlPlane.revisions.map(r => r.revision)).toEqual(['asm-1-29', 'asm-1-30']);
    expect(prod.driftedPods).toBe(3);
    const payments = prod.namespaces.find(n => n.name === 'payments')!;
    expect(payments.revisionLabel).toBe('asm-1-30');
    expect(payments.targetRevision).toBe('asm-1-30');
    expect(payments.pods).toHaveLength(3);
    for (const pod of payments.pods) {
      expect(pod.state).toBe('drifted');
      expect(pod.workload).toBe('Deployment/payments-api');
      expect(pod.sidecar).toEqual({ injected: true, revision: 'asm-1-29', proxyVersion: '1.29.2', native: true });
    }
    expect(payments.workloads).toEqual([
      { kind: 'Deployment', name: 'payments-api', replicas: 3, readyReplicas: 3, podsByRevision: { 'asm-1-29': 3 } },
    ]);
  });

  it('answers in the shape the OpenAPI spec promises', async () => {
    const ajv = openApiAjv();
    const validate = ajv.getSchema('openapi#/components/schemas/EntityMeshStatus')!;
    const server = await startBackend();
    for (const name of ['payments-api', 'legacy-billing', 'ops-toolbox', 'no-kubernetes']) {
      const res = await get(server, `/v1/entities/component/default/${name}`);
      expect(res.status).toBe(200);
      expect({ name, valid: validate(res.body), errors: validate.errors ?? null }).toEqual({ name, valid: true, errors: null });
    }
    for (const [path, schema] of [
      ['/v1/clusters', 'ClustersResponse'],
      ['/v1/clusters/aks-prod', 'ClusterDetail'],
      ['/v1/overview', 'OverviewResponse'],
    ]) {
      const check = ajv.getSchema(`openapi#/components/schemas/${schema}`)!;
      const res = await get(server, path);
      expect({ path, valid: check(res.body), errors: check.errors ?? null }).toEqual({ path, valid: true, errors: null });
    }
    const bad = await get(server, '/v1/entities/component/default/bad%20name');
    const validateError = ajv.getSchema('openapi#/components/responses/Error/content/application~1json/schema')!;
    expect(validateError(bad.body)).toBe(true);
  });

  it('shows payments-worker already on the canary in aks-prod', async () => {
    const server = await startBackend();
    const res = await get(server, '/v1/entities/component/default/payments-worker');
    const prod = (res.body as EntityMeshStatus).clusters.find(c => c.cluster === 'aks-prod')!;
    expect(prod.driftedPods).toBe(0);
    expect(prod.namespaces[0].pods.map(p => [p.state, p.sidecar.revision, p.sidecar.proxyVersion])).toEqual([
      ['in-sync', 'asm-1-30', '1.30.1'],
      ['in-sync', 'asm-1-30', '1.30.1'],
    ]);
  });

  it('explains that the add-on ignores istio-injection=enabled', async () => {
    const server = await startBackend();
    const body = (await get(server, '/v1/entities/component/default/legacy-billing')).body as EntityMeshStatus;
    expect(body.clusters.map(c => c.cluster)).toEqual(['aks-dev']);
    const [dev] = body.clusters;
    expect(dev.meshed).toBe(false);
    expect(dev.namespaces[0].injection.mode).toBe('ignored-injection-label');
    expect(dev.namespaces[0].pods.map(p => [p.state, p.sidecar.injected])).toEqual([['unmeshed', false]]);
  });

  it('marks an unlabelled namespace as outside the mesh', async () => {
    const server = await startBackend();
    const body = (await get(server, '/v1/entities/component/default/ops-toolbox')).body as EntityMeshStatus;
    expect(body.clusters).toHaveLength(1);
    expect(body.clusters[0].meshed).toBe(false);
    expect(body.clusters[0].namespaces[0].injection).toEqual({ mode: 'none' });
  });

  it('honours the label-selector, namespace and cluster annotations', async () => {
    const server = await startBackend();
    const body = (await get(server, '/v1/entities/component/default/checkout-in-prod')).body as EntityMeshStatus;
    expect(body.clusters.map(c => c.cluster)).toEqual(['aks-prod']);
    expect(body.clusters[0].namespaces.map(n => [n.name, n.pods.length])).toEqual([['storefront', 3]]);
  });

  it('returns no clusters for an entity without Kubernetes annotations', async () => {
    const server = await startBackend();
    const res = await get(server, '/v1/entities/component/default/no-kubernetes');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ entityRef: 'component:default/no-kubernetes', clusters: [], errors: [] });
  });

  it('reports an unreachable cluster without failing the others', async () => {
    const server = await startBackend({
      extraClusters: [
        { name: 'aks-gone', url: 'http://127.0.0.1:9', authProvider: 'serviceAccount', serviceAccountToken: 'x', skipMetricsLookup: true },
      ],
    });
    const body = (await get(server, '/v1/entities/component/default/payments-api')).body as EntityMeshStatus;
    expect(body.clusters.map(c => c.cluster)).toEqual(['aks-dev', 'aks-prod', 'istio-lab']);
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].cluster).toBe('aks-gone');
    expect(body.errors[0].error.message).toContain("cluster 'aks-gone'");
  });

  it('reports a cluster that rejects the credentials', async () => {
    const server = await startBackend({
      extraClusters: [
        { name: 'aks-wrong-token', url: sandbox.clusterUrl('aks-dev'), authProvider: 'serviceAccount', serviceAccountToken: 'wrong', skipMetricsLookup: true },
      ],
    });
    const body = (await get(server, '/v1/entities/component/default/payments-api')).body as EntityMeshStatus;
    expect(body.errors).toEqual([
      { cluster: 'aks-wrong-token', error: { name: 'NotAllowedError', message: "cluster 'aks-wrong-token' denied the request: Unauthorized" } },
    ]);
  });

  it.each([
    ['/v1/entities/component/default/bad%20name', 'name'],
    ['/v1/entities/comp%2Fonent/default/payments-api', 'kind'],
    ['/v1/entities/component/-default/payments-api', 'namespace'],
    [`/v1/entities/component/default/${'a'.repeat(64)}`, 'name'],
  ])('rejects %s with 400', async (path, field) => {
    const server = await startBackend();
    const res = await get(server, path);
    expect(res.status).toBe(400);
    expect(res.body.error.name).toBe('InputError');
    expect(res.body.error.message).toContain(`${field}:`);
  });

  it('returns 404 for an entity that is not in the catalog', async () => {
    const server = await startBackend();
    const res = await get(server, '/v1/entities/component/default/nope');
    expect(res.status).toBe(404);
    expect(res.body.error.name).toBe('NotFoundError');
  });

  it('lists clusters with their revisions, phase, counts and health', async () => {
    const server = await startBackend();
    const res = await get(server, '/v1/clusters');
    expect(res.status).toBe(200);
    const body = res.body as ClustersResponse;
    expect(body.errors).toEqual([]);
    expect(
      body.clusters.map(c => ({
        cluster: c.cluster,
        provider: c.provider,
        revisions: c.controlPlane.revisions.map(r => r.revision),
        phase: c.controlPlane.phase,
        meshedNamespaces: c.meshedNamespaces,
        driftedPods: c.driftedPods,
        health: c.health,
      })),
    ).toEqual([
      { cluster: 'aks-dev', provider: 'aks', revisions: ['asm-1-29'], phase: 'Stable', meshedNamespaces: 2, driftedPods: 0, health: 'warning' },
      { cluster: 'aks-prod', provider: 'aks', revisions: ['asm-1-29', 'asm-1-30'], phase: 'Canary', meshedNamespaces: 2, driftedPods: 3, health: 'warning' },
      { cluster: 'istio-lab', provider: 'istio', revisions: ['1-26-3', '1-27-1'], phase: 'Canary', meshedNamespaces: 2, driftedPods: 0, health: 'healthy' },
    ]);
    expect(body.clusters[0].healthReasons).toEqual([
      expect.stringMatching(/^Namespace legacy uses istio-injection=enabled, which the AKS add-on ignores/),
    ]);
    expect(body.clusters[1].healthReasons).toEqual([
      "3 pods drifted from their namespace's revision and need a restart.",
      // Gateways and certificates: see trust/trustAndGateways.test.ts.
      'Gateway payments-egress has no Deployment for asm-1-30: it still runs only asm-1-29, so it lags the control plane.',
      expect.stringMatching(/^Root certificate Contoso Mesh Root CA 2023 expires in 21 days/),
      expect.stringMatching(/^Namespace storefront has a stale trust bundle/),
    ]);
  });

  it('details one cluster: namespaces with injection mode and pods per revision, gateways', async () => {
    const server = await startBackend();
    const res = await get(server, '/v1/clusters/aks-prod');
    expect(res.status).toBe(200);
    const body = res.body as ClusterDetail;
    const payments = body.namespaces.find(n => n.name === 'payments')!;
    expect(payments).toMatchObject({
      revisionLabel: 'asm-1-30',
      targetRevision: 'asm-1-30',
      injection: { mode: 'revision' },
      workloads: 2,
      pods: 5,
      podsByRevision: { 'asm-1-29': 3, 'asm-1-30': 2 },
      driftedPods: 3,
    });
    // Gateway details (HPAs, lag, egress): trust/trustAndGateways.test.ts.
    expect(body.gateways.map(g => g.name)).toEqual(['aks-istio-ingressgateway-external', 'aks-istio-ingressgateway-internal', 'payments-egress']);
    expect(body.gateways[0]).toMatchObject({
      name: 'aks-istio-ingressgateway-external',
      namespace: 'aks-istio-ingress',
      type: 'LoadBalancer',
      addresses: ['20.61.14.7'],
      ports: [15021, 80, 443],
      deployments: [
        { name: 'aks-istio-ingressgateway-external-asm-1-29', revision: 'asm-1-29', replicas: 2, readyReplicas: 2 },
        { name: 'aks-istio-ingressgateway-external-asm-1-30', revision: 'asm-1-30', replicas: 2, readyReplicas: 2 },
      ],
    });
    const dev = (await get(server, '/v1/clusters/aks-dev')).body as ClusterDetail;
    expect(dev.namespaces.find(n => n.name === 'legacy')).toMatchObject({
      injection: { mode: 'ignored-injection-label' },
      podsByRevision: { none: 1 },
      problem: expect.stringContaining('which the AKS add-on ignores'),
    });
    const tools = dev.namespaces.find(n => n.name === 'tools')!;
    expect(tools.injection).toEqual({ mode: 'none' });
    expect(tools.problem).toBeUndefined();
  });

  it('reports the upgrades each cluster is offered, from ARM for AKS and from the cluster for upstream Istio', async () => {
    const server = await startBackend();
    const upgrades = async (cluster: string) => ((await get(server, `/v1/clusters/${cluster}`)).body as ClusterDetail).upgrades;
    expect(await upgrades('aks-dev')).toEqual({ provider: 'aks', source: 'arm', availableUpgrades: ['asm-1-30'], upgradeInProgress: false });
    expect(await upgrades('aks-prod')).toEqual({
      provider: 'aks',
      source: 'arm',
      availableUpgrades: [],
      upgradeInProgress: true,
      message: 'A mesh upgrade is in progress: complete or roll it back before the next one.',
    });
    expect(await upgrades('istio-lab')).toEqual({ provider: 'istio', source: 'cluster', availableUpgrades: ['1-27-1'], upgradeInProgress: false });
  });

  it('keeps the cluster page up when ARM fails, naming ARM in the error', async () => {
    const server = await startBackend();
    sandbox.faults.add({ kind: 'error', status: 500, path: '**/meshUpgradeProfiles/**' });
    try {
      const res = await get(server, '/v1/clusters/aks-dev');
      expect(res.status).toBe(200);
      expect(res.body.upgrades.error.name).toBe('ServiceUnavailableError');
      expect(res.body.upgrades.error.message).toContain("Azure Resource Manager could not report upgrades for cluster 'aks-dev'");
      expect(res.body.namespaces.length).toBeGreaterThan(0);
    } finally {
      sandbox.faults.clear();
    }
  });

  it('answers 404 for an unknown cluster and 400 for a malformed name', async () => {
    const server = await startBackend();
    expect((await get(server, '/v1/clusters/aks-nowhere')).status).toBe(404);
    const bad = await get(server, '/v1/clusters/bad%20name');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('cluster:');
  });

  it('builds the overview: one row per meshed entity, cluster and namespace', async () => {
    const server = await startBackend();
    const res = await get(server, '/v1/overview');
    expect(res.status).toBe(200);
    const body = res.body as OverviewResponse;
    expect(body.rows.map(r => [r.name, r.owner, r.cluster, r.kubernetesNamespace, r.revision, r.sidecarRevisions, r.pods, r.driftedPods, r.phase])).toEqual([
      ['checkout-in-prod', 'team-payments', 'aks-prod', 'storefront', 'asm-1-29', ['asm-1-29'], 3, 0, 'Canary'],
      ['payments-api', 'team-payments', 'aks-dev', 'payments', 'asm-1-29', ['asm-1-29'], 2, 0, 'Stable'],
      ['payments-api', 'team-payments', 'aks-prod', 'payments', 'asm-1-30', ['asm-1-29'], 3, 3, 'Canary'],
      ['payments-api', 'team-payments', 'istio-lab', 'payments', '1-26-3', ['1-26-3'], 2, 0, 'Canary'],
      ['payments-worker', 'team-payments', 'aks-dev', 'payments', 'asm-1-29', ['asm-1-29'], 1, 0, 'Stable'],
      ['payments-worker', 'team-payments', 'aks-prod', 'payments', 'asm-1-30', ['asm-1-30'], 2, 0, 'Canary'],
      ['payments-worker', 'team-payments', 'istio-lab', 'payments', '1-26-3', ['1-26-3'], 1, 0, 'Canary'],
    ]);
    expect(body.clusters.map(c => c.cluster)).toEqual(['aks-dev', 'aks-prod', 'istio-lab']);
  });

  it('keeps the overview up when a cluster is down', async () => {
    const server = await startBackend({
      extraClusters: [{ name: 'aks-gone', url: 'http://127.0.0.1:9', authProvider: 'serviceAccount', serviceAccountToken: 'x', skipMetricsLookup: true }],
    });
    const body = (await get(server, '/v1/overview')).body as OverviewResponse;
    expect(body.rows).toHaveLength(7);
    expect(body.errors.map(e => e.cluster)).toEqual(['aks-gone']);
  });

  it('returns 403 when the read permission is denied', async () => {
    const server = await startBackend({ permission: AuthorizeResult.DENY });
    for (const path of ['/v1/entities/component/default/payments-api', '/v1/clusters', '/v1/clusters/aks-dev', '/v1/overview']) {
      const res = await get(server, path);
      expect({ path, status: res.status, name: res.body.error?.name }).toEqual({ path, status: 403, name: 'NotAllowedError' });
    }
  });
});
