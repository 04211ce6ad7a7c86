import { createDemoFleet } from '../fleet';
import { AKS_LAYOUT, installControlPlaneRevision } from '../istio/install';
import { resourceTypeOfKind } from '../resources';
import { addNamespace } from '../seed';
import { SandboxCluster, SandboxServer, startSandboxServer } from '../server';
import { ClusterStore } from '../store';
import { MESH_REVISIONS } from './meshRevisions';

/** ARM over plain HTTP: shapes, errors and the long-running-operation protocol, request by request. */

const SUB = '00000000-0000-0000-0000-000000000000';
const RG = 'mesh-portal-demo';
const API = 'api-version=2026-06-01';
const mcPath = (name: string) => `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/${name}`;

/** An AKS cluster on Kubernetes 1.31 running asm-1-27 (past the default table), for the upgrade rules. */
function oldCluster(): SandboxCluster {
  const store = new ClusterStore('aks-old');
  addNamespace(store, AKS_LAYOUT.controlPlaneNamespace, { 'kubernetes.azure.com/managedby': 'aks' });
  addNamespace(store, AKS_LAYOUT.ingressNamespace!, { 'kubernetes.azure.com/managedby': 'aks' });
  installControlPlaneRevision(store, 'asm-1-27', { layout: AKS_LAYOUT });
  return { store, token: 'sandbox-token-aks-old', kubernetesVersion: { major: '1', minor: '31', gitVersion: 'v1.31.5' } };
}

let server: SandboxServer;

beforeAll(async () => {
  const clusters = createDemoFleet();
  clusters.set('aks-old', oldCluster());
  server = await startSandboxServer({
    clusters,
    port: 0,
    controllers: false,
    arm: {
      operationDelayMs: 30,
      meshRevisions: [{ revision: 'asm-1-27', upgrades: ['asm-1-28', 'asm-1-29'], kubernetesVersions: ['1.29', '1.30', '1.31'] }, ...MESH_REVISIONS],
    },
  });
});

afterAll(async () => {
  await server.close();
});

async function arm(method: string, path: string, options: { body?: unknown; auth?: string | null; query?: string } = {}) {
  const auth = options.auth === undefined ? 'Bearer anything' : options.auth;
  const query = options.query ?? API;
  const res = await fetch(`${server.url}${path}${query ? `?${query}` : ''}`, {
    method,
    headers: {
      ...(auth !== null ? { Authorization: auth } : {}),
      ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function putRevisions(name: string, revisions: string[]) {
  const current = (await arm('GET', mcPath(name))).body;
  current.properties.serviceMeshProfile.istio.revisions = revisions;
  return arm('PUT', mcPath(name), { body: current });
}

const istiod = (cluster: string) =>
  [...server.clusters.get(cluster)!.store.scan(resourceTypeOfKind('Deployment'), 'aks-istio-system')].map(d => d.metadata.name).sort();

describe('auth and request errors', () => {
  it('requires a bearer token', async () => {
    const missing = await arm('GET', mcPath('aks-dev'), { auth: null });
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ error: { code: 'AuthenticationFailed', message: "Authentication failed. The 'Authorization' header is missing." } });
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer authorization_uri=/);
    const basic = await arm('GET', mcPath('aks-dev'), { auth: 'Basic dXNlcjpwdw==' });
    expect(basic.status).toBe(401);
    expect(basic.body).toEqual({
      error: { code: 'AuthenticationFailed', message: "Authentication failed. The 'Authorization' header is provided in an invalid format." },
    });
  });

  it('requires an api-version', async () => {
    const res = await arm('GET', mcPath('aks-dev'), { query: '' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: { code: 'MissingApiVersionParameter', message: 'The api-version query parameter (?api-version=) is required for all requests.' },
    });
  });

  it('answers unknown subscriptions, resource groups and clusters with ARM 404s', async () => {
    const sub = await arm('GET', `/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/aks-dev`);
    expect(sub.status).toBe(404);
    expect(sub.body).toEqual({ error: { code: 'SubscriptionNotFound', message: "The subscription '11111111-1111-1111-1111-111111111111' could not be found." } });
    const rg = await arm('GET', `/subscriptions/${SUB}/resourceGroups/other-rg/providers/Microsoft.ContainerService/managedClusters/aks-dev`);
    expect(rg.body).toEqual({ error: { code: 'ResourceGroupNotFound', message: "Resource group 'other-rg' could not be found." } });
    const mc = await arm('GET', mcPath('aks-nope'));
    expect(mc.status).toBe(404);
    expect(mc.body).toEqual({
      error: {
        code: 'ResourceNotFound',
        message: `The Resource 'Microsoft.ContainerService/managedClusters/aks-nope' under resource group '${RG}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
      },
    });
    // The upstream-Istio cluster of the fleet is no managed cluster.
    expect((await arm('GET', mcPath('istio-lab'))).status).toBe(404);
  });

  it('treats ARM path segments case-insensitively', async () => {
    const res = await arm('GET', `/SUBSCRIPTIONS/${SUB}/resourcegroups/${RG.toUpperCase()}/PROVIDERS/microsoft.containerservice/managedclusters/AKS-DEV`);
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('aks-dev');
  });

  it('refuses methods the sandbox does not serve', async () => {
    const res = await arm('DELETE', mcPath('aks-dev'));
    expect(res.status).toBe(405);
    expect(res.body).toEqual({ error: { code: 'MethodNotAllowed', message: "The requested resource does not support http method 'DELETE'." } });
  });

  it('lists the managed clusters of the subscription', async () => {
    const res = await arm('GET', `/subscriptions/${SUB}/providers/Microsoft.ContainerService/managedClusters`);
    expect(res.body.value.map((m: any) => m.name)).toEqual(['aks-dev', 'aks-prod', 'aks-old']);
  });
});

describe('revision rules', () => {
  const refused = (reason: string) => ({ error: { code: 'BadRequest', message: `Requested change in revisions is not allowed. Reason: ${reason}` } });

  it('refuses more than two revisions', async () => {
    const res = await putRevisions('aks-dev', ['asm-1-28', 'asm-1-29', 'asm-1-30']);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(refused('Request exceeds maximum allowed number of revisions.'));
  });

  it('refuses unsupported revisions', async () => {
    const res = await putRevisions('aks-dev', ['asm-1-29', 'asm-1-31']);
    expect(res.body).toEqual(refused('Revision asm-1-31 is not supported by the service mesh add-on.'));
  });

  it('refuses revisions incompatible with the cluster version, and does not offer them', async () => {
    const res = await putRevisions('aks-old', ['asm-1-27', 'asm-1-30']);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(refused('Service mesh revision asm-1-30 is not compatible with cluster version 1.31.5.'));
    const profile = await arm('GET', `${mcPath('aks-old')}/meshUpgradeProfiles/istio`);
    expect(profile.body.properties).toEqual({
      revision: 'asm-1-27',
      upgrades: ['asm-1-28', 'asm-1-29'],
      compatibleWith: [{ name: 'kubernetes', versions: ['1.29', '1.30', '1.31'] }],
    });
  });

  it('refuses downgrades, skipping past the offered upgrades and switching without a canary', async () => {
    expect((await putRevisions('aks-dev', ['asm-1-29', 'asm-1-28'])).body).toEqual(refused('Downgrading from asm-1-29 to asm-1-28 is not supported.'));
    const direct = await putRevisions('aks-dev', ['asm-1-30']);
    expect(direct.body).toEqual(
      refused('Revision asm-1-29 cannot be replaced by asm-1-30 directly. Start a canary upgrade with revisions [asm-1-29, asm-1-30], then complete it.'),
    );
  });

  it('refuses an upgrade that is not offered', async () => {
    server.arm.addManagedCluster({
      cluster: 'aks-old',
      name: 'aks-old-132',
      currentKubernetesVersion: '1.32.4',
      kubernetesVersion: '1.32',
      serviceMeshProfile: { mode: 'Istio', istio: { revisions: ['asm-1-27'] } },
    });
    const res = await putRevisions('aks-old-132', ['asm-1-27', 'asm-1-30']);
    expect(res.body).toEqual(refused('Upgrading from asm-1-27 to asm-1-30 is not supported. Available upgrades: asm-1-28, asm-1-29.'));
  });

  it('refuses changes of another resource than the fleet has, and of the location', async () => {
    const created = await arm('PUT', mcPath('aks-new'), { body: { location: 'westeurope', properties: {} } });
    expect(created.body).toEqual({
      error: { code: 'BadRequest', message: "The mesh sandbox serves only the managed clusters of its fleet and cannot create 'aks-new'." },
    });
    const moved = await arm('PUT', mcPath('aks-dev'), { body: { location: 'eastus', properties: {} } });
    expect(moved.body.error.code).toBe('InvalidResourceLocation');
  });
});

describe('the long-running operation of a PUT', () => {
  it('accepts with Updating and Azure-AsyncOperation, runs InProgress, then Succeeded with the control plane installed', async () => {
    server.arm.operationDelayMs = 60_000; // ended below by finishOperations()
    const put = await putRevisions('aks-dev', ['asm-1-29', 'asm-1-30']);
    expect(put.status).toBe(200);
    expect(put.body.properties.provisioningState).toBe('Updating');
    expect(put.body.properties.serviceMeshProfile.istio.revisions).toEqual(['asm-1-29', 'asm-1-30']);
    const asyncOp = new URL(put.headers.get('azure-asyncoperation')!);
    const location = new URL(put.headers.get('location')!);
    const opId = asyncOp.pathname.split('/').pop()!;
    expect(asyncOp.origin).toBe(server.url);
    expect(asyncOp.pathname).toBe(`/subscriptions/${SUB}/providers/Microsoft.ContainerService/locations/westeurope/operations/${opId}`);
    expect(asyncOp.search).toBe('?api-version=2016-03-30');
    expect(location.pathname).toBe(`/subscriptions/${SUB}/providers/Microsoft.ContainerService/locations/westeurope/operationresults/${opId}`);

    const running = await arm('GET', asyncOp.pathname, { query: asyncOp.search.slice(1) });
    expect(running.body).toEqual({
      id: `/subscriptions/${SUB}/providers/Microsoft.ContainerService/locations/westeurope/operations/${opId}`,
      name: opId,
      status: 'InProgress',
      startTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect((await arm('GET', location.pathname, { query: location.search.slice(1) })).status).toBe(202);
    // A second write while the first runs:
    const again = await putRevisions('aks-dev', ['asm-1-29', 'asm-1-30']);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('OperationNotAllowed');
    expect(istiod('aks-dev')).toEqual(['istiod-asm-1-29']);

    await server.arm.finishOperations();
    server.arm.operationDelayMs = 30;
    const done = await arm('GET', asyncOp.pathname, { query: asyncOp.search.slice(1) });
    expect(done.body.status).toBe('Succeeded');
    expect(done.body.endTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await arm('GET', location.pathname, { query: location.search.slice(1) })).status).toBe(204);
    expect((await arm('GET', mcPath('aks-dev'))).body.properties.provisioningState).toBe('Succeeded');
    expect(istiod('aks-dev')).toEqual(['istiod-asm-1-29', 'istiod-asm-1-30']);
  });

  it('rolls back to the stable revision', async () => {
    const put = await putRevisions('aks-dev', ['asm-1-29']);
    expect(put.status).toBe(200);
    await server.arm.whenIdle();
    expect(istiod('aks-dev')).toEqual(['istiod-asm-1-29']);
    const profile = await arm('GET', `${mcPath('aks-dev')}/meshUpgradeProfiles/istio`);
    expect(profile.body.properties.upgrades).toEqual(['asm-1-30']);
  });

  it('disables the mesh, removing its control planes', async () => {
    const current = (await arm('GET', mcPath('aks-prod'))).body;
    current.properties.serviceMeshProfile = { mode: 'Disabled' };
    const put = await arm('PUT', mcPath('aks-prod'), { body: current });
    expect(put.body.properties.serviceMeshProfile).toEqual({ mode: 'Disabled' });
    await server.arm.whenIdle();
    expect(istiod('aks-prod')).toEqual([]);
    const profile = await arm('GET', `${mcPath('aks-prod')}/meshUpgradeProfiles/istio`);
    expect(profile.body).toEqual({ error: { code: 'BadRequest', message: 'Istio-based service mesh add-on is not enabled on the cluster.' } });
  });
});
