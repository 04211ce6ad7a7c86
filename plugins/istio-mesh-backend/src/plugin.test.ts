import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { Entity } from '@backstage/catalog-model';
import {
  createDemoFleet,
  demoToken,
  SandboxServer,
  startSandboxServer,
} from '@mesh-portal/mesh-sandbox';
import { EntityMeshStatus } from '@mesh-portal/plugin-istio-mesh-common';
import kubernetesBackendPlugin from '@backstage/plugin-kubernetes-backend';
import request from 'supertest';
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { istioMeshPlugin } from './plugin';

const component = (name: string, annotations: Record<string, string>): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default', annotations },
  spec: { type: 'service', owner: 'team-payments', lifecycle: 'production' },
});

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

  beforeAll(async () => {
    sandbox = await startSandboxServer({ clusters: createDemoFleet() });
  });
  afterAll(() => sandbox.close());

  function kubernetesConfig(extraClusters: object[] = []) {
    return {
      kubernetes: {
        serviceLocatorMethod: { type: 'multiTenant' },
        clusterLocatorMethods: [
          {
            type: 'config',
            clusters: [
              ...['aks-dev', 'aks-prod'].map(name => ({
                name,
                url: sandbox.clusterUrl(name),
                authProvider: 'serviceAccount',
                serviceAccountToken: demoToken(name),
                skipMetricsLookup: true,
              })),
              ...extraClusters,
            ],
          },
        ],
      },
    };
  }

  async function startBackend(options: { extraClusters?: object[]; permission?: AuthorizeResult.ALLOW | AuthorizeResult.DENY } = {}) {
    const { server } = await startTestBackend({
      features: [
        istioMeshPlugin,
        kubernetesBackendPlugin,
        catalogServiceMock.factory({ entities }),
        mockServices.rootConfig.factory({ data: kubernetesConfig(options.extraClusters) }),
        ...(options.permission
          ? [mockServices.permissions.factory({ result: options.permission })]
          : []),
      ],
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
    expect(body.clusters.map(c => c.cluster)).toEqual(['aks-dev', 'aks-prod']);

    const [dev, prod] = body.clusters;
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
    const spec = parseYaml(readFileSync(resolvePath(__dirname, 'schema/openapi.yaml'), 'utf8'));
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addSchema(spec, 'openapi');
    const validate = ajv.getSchema('openapi#/components/schemas/EntityMeshStatus')!;
    const server = await startBackend();
    for (const name of ['payments-api', 'legacy-billing', 'ops-toolbox', 'no-kubernetes']) {
      const res = await get(server, `/v1/entities/component/default/${name}`);
      expect(res.status).toBe(200);
      expect({ name, valid: validate(res.body), errors: validate.errors ?? null }).toEqual({ name, valid: true, errors: null });
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
    expect(body.clusters.map(c => c.cluster)).toEqual(['aks-dev', 'aks-prod']);
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

  it('returns 403 when the read permission is denied', async () => {
    const server = await startBackend({ permission: AuthorizeResult.DENY });
    const res = await get(server, '/v1/entities/component/default/payments-api');
    expect(res.status).toBe(403);
    expect(res.body.error.name).toBe('NotAllowedError');
  });
});
