import { ContainerServiceClient } from '@azure/arm-containerservice';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { createDemoFleet } from '../fleet';
import { SandboxServer, startSandboxServer } from '../server';
import { resourceTypeOfKind } from '../resources';

/**
 * The official Azure SDK, with only its endpoint changed, against the sandbox's ARM.
 * The SDK sends bearer tokens only over https, so the client talks to the sandbox's
 * HTTPS listener and trusts its self-signed certificate (`tlsOptions.ca`).
 */

const SUB = '00000000-0000-0000-0000-000000000000';
const RG = 'mesh-portal-demo';

const credential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({ token: 'sandbox-test-token', expiresOnTimestamp: Date.now() + 3600_000 }),
};

let server: SandboxServer;
let client: ContainerServiceClient;
const poll = { updateIntervalInMs: 10 };

beforeAll(async () => {
  server = await startSandboxServer({
    clusters: createDemoFleet(),
    port: 0,
    https: true,
    arm: { operationDelayMs: 40 },
  });
  client = new ContainerServiceClient(credential, SUB, {
    endpoint: server.https!.url,
    tlsOptions: { ca: server.https!.caCertPem },
    retryOptions: { maxRetries: 0 },
  });
});

afterAll(async () => {
  await server.close();
});

afterEach(() => {
  server.faults.clear();
});

const istiodRevisions = (cluster: string) =>
  [...server.clusters.get(cluster)!.store.scan(resourceTypeOfKind('Deployment'), 'aks-istio-system')]
    .filter(d => d.metadata.labels?.app === 'istiod')
    .map(d => d.metadata.labels['istio.io/rev'])
    .sort();

async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail');
}

describe('the Azure SDK against the sandbox ARM', () => {
  it('gets a managed cluster with its service mesh profile', async () => {
    const mc = await client.managedClusters.get(RG, 'aks-dev');
    expect(mc.id).toBe(`/subscriptions/${SUB}/resourcegroups/${RG}/providers/Microsoft.ContainerService/managedClusters/aks-dev`);
    expect(mc.name).toBe('aks-dev');
    expect(mc.type).toBe('Microsoft.ContainerService/ManagedClusters');
    expect(mc.location).toBe('westeurope');
    expect(mc.provisioningState).toBe('Succeeded');
    expect(mc.kubernetesVersion).toBe('1.34');
    expect(mc.currentKubernetesVersion).toBe('1.34.2');
    expect(mc.serviceMeshProfile).toEqual({
      mode: 'Istio',
      istio: { revisions: ['asm-1-29'], components: { ingressGateways: [{ mode: 'External', enabled: true }] } },
    });
    const prod = await client.managedClusters.get(RG, 'aks-prod');
    expect(prod.serviceMeshProfile?.istio?.revisions).toEqual(['asm-1-29', 'asm-1-30']);
    // aks-prod's plug-in CA and egress gateway, as its objects show them (SecretProviderClass, Services).
    expect(prod.serviceMeshProfile?.istio?.components).toEqual({
      ingressGateways: [{ mode: 'External', enabled: true }, { mode: 'Internal', enabled: true }],
      egressGateways: [{ name: 'payments-egress', namespace: 'aks-istio-egress', enabled: true }],
    });
    expect(prod.serviceMeshProfile?.istio?.certificateAuthority).toEqual({
      plugin: {
        keyVaultId: `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.KeyVault/vaults/kv-mesh-prod`,
        rootCertObjectName: 'root-cert',
        certObjectName: 'ca-cert',
        keyObjectName: 'ca-key',
        certChainObjectName: 'cert-chain',
      },
    });
  });

  it('lists the managed clusters of the resource group', async () => {
    const names: string[] = [];
    for await (const mc of client.managedClusters.listByResourceGroup(RG)) names.push(mc.name!);
    expect(names).toEqual(['aks-dev', 'aks-prod']);
  });

  it('gets and lists the mesh upgrade profile', async () => {
    const profile = await client.managedClusters.getMeshUpgradeProfile(RG, 'aks-dev', 'istio');
    expect(profile).toEqual({
      id: `/subscriptions/${SUB}/resourcegroups/${RG}/providers/Microsoft.ContainerService/managedClusters/aks-dev/meshUpgradeProfiles/istio`,
      name: 'istio',
      type: 'Microsoft.ContainerService/managedClusters/meshUpgradeProfiles',
      properties: {
        revision: 'asm-1-29',
        upgrades: ['asm-1-30'],
        compatibleWith: [{ name: 'kubernetes', versions: ['1.31', '1.32', '1.33', '1.34', '1.35', '1.36'] }],
      },
    });
    const listed = [];
    for await (const p of client.managedClusters.listMeshUpgradeProfiles(RG, 'aks-dev')) listed.push(p);
    expect(listed).toEqual([profile]);
  });

  it('gets and lists the mesh revision profiles of a location', async () => {
    const profile = await client.managedClusters.getMeshRevisionProfile('westeurope', 'istio');
    expect(profile.id).toBe(`/subscriptions/${SUB}/providers/Microsoft.ContainerService/locations/westeurope/meshRevisionProfiles/istio`);
    expect(profile.type).toBe('Microsoft.ContainerService/locations/meshRevisionProfiles');
    expect(profile.properties?.meshRevisions).toEqual([
      { revision: 'asm-1-28', upgrades: ['asm-1-29', 'asm-1-30'], compatibleWith: [{ name: 'kubernetes', versions: ['1.30', '1.31', '1.32', '1.33', '1.34', '1.35'] }] },
      { revision: 'asm-1-29', upgrades: ['asm-1-30'], compatibleWith: [{ name: 'kubernetes', versions: ['1.31', '1.32', '1.33', '1.34', '1.35', '1.36'] }] },
      { revision: 'asm-1-30', upgrades: [], compatibleWith: [{ name: 'kubernetes', versions: ['1.32', '1.33', '1.34', '1.35', '1.36'] }] },
    ]);
    const listed = [];
    for await (const p of client.managedClusters.listMeshRevisionProfiles('westeurope')) listed.push(p);
    expect(listed).toEqual([profile]);
  });

  it('refuses three revisions with the AKS error', async () => {
    const mc = await client.managedClusters.get(RG, 'aks-dev');
    mc.serviceMeshProfile!.istio!.revisions = ['asm-1-28', 'asm-1-29', 'asm-1-30'];
    const error = await rejection(client.managedClusters.beginCreateOrUpdateAndWait(RG, 'aks-dev', mc, poll));
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('BadRequest');
    expect(error.message).toBe('Requested change in revisions is not allowed. Reason: Request exceeds maximum allowed number of revisions.');
  });

  it('starts a canary upgrade and polls the long-running operation to Succeeded', async () => {
    // A client like the others, plus a policy that records what goes over the wire.
    const wire: string[] = [];
    const recording = new ContainerServiceClient(credential, SUB, {
      endpoint: server.https!.url,
      tlsOptions: { ca: server.https!.caCertPem },
      additionalPolicies: [
        {
          position: 'perCall',
          policy: {
            name: 'recorder',
            sendRequest: async (request, next) => {
              const response = await next(request);
              const body = JSON.parse(response.bodyAsText || '{}');
              const path = new URL(request.url).pathname.replace(/[0-9a-f-]{36}$/, '{id}');
              wire.push(`${request.method} ${path} ${response.status} ${body.properties?.provisioningState ?? body.status}`);
              return response;
            },
          },
        },
      ],
    });
    const mc = await recording.managedClusters.get(RG, 'aks-dev');
    wire.length = 0;
    mc.serviceMeshProfile!.istio!.revisions = ['asm-1-29', 'asm-1-30'];
    const result = await recording.managedClusters.beginCreateOrUpdateAndWait(RG, 'aks-dev', mc, poll);
    expect(result.provisioningState).toBe('Succeeded');
    expect(result.serviceMeshProfile?.istio?.revisions).toEqual(['asm-1-29', 'asm-1-30']);
    const cluster = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/aks-dev`;
    const operation = `/subscriptions/${SUB}/providers/Microsoft.ContainerService/locations/westeurope/operations/{id}`;
    // PUT answers Updating; the Azure-AsyncOperation status goes InProgress → Succeeded; a final GET.
    expect(wire[0]).toBe(`PUT ${cluster} 200 Updating`);
    expect(wire.slice(-2)).toEqual([`GET ${operation} 200 Succeeded`, `GET ${cluster} 200 Succeeded`]);
    expect(wire.slice(1, -2).length).toBeGreaterThan(0);
    expect(new Set(wire.slice(1, -2))).toEqual(new Set([`GET ${operation} 200 InProgress`]));
    expect(istiodRevisions('aks-dev')).toEqual(['asm-1-29', 'asm-1-30']);
  });

  it('fails get-upgrades and further revision changes while the upgrade is in progress', async () => {
    const upgrades = await rejection(client.managedClusters.getMeshUpgradeProfile(RG, 'aks-dev', 'istio'));
    expect(upgrades.statusCode).toBe(400);
    expect(upgrades.message).toBe(
      'Mesh upgrade is in progress. Please complete or roll back the current upgrade from asm-1-29 to asm-1-30 first.',
    );
    const mc = await client.managedClusters.get(RG, 'aks-dev');
    mc.serviceMeshProfile!.istio!.revisions = ['asm-1-28', 'asm-1-29'];
    const change = await rejection(client.managedClusters.beginCreateOrUpdateAndWait(RG, 'aks-dev', mc, poll));
    expect(change.statusCode).toBe(400);
    expect(change.message).toBe(upgrades.message);
  });

  it('completes the upgrade', async () => {
    const mc = await client.managedClusters.get(RG, 'aks-dev');
    mc.serviceMeshProfile!.istio!.revisions = ['asm-1-30'];
    const result = await client.managedClusters.beginCreateOrUpdateAndWait(RG, 'aks-dev', mc, poll);
    expect(result.serviceMeshProfile?.istio?.revisions).toEqual(['asm-1-30']);
    expect(istiodRevisions('aks-dev')).toEqual(['asm-1-30']);
    const profile = await client.managedClusters.getMeshUpgradeProfile(RG, 'aks-dev', 'istio');
    expect(profile.properties).toEqual({
      revision: 'asm-1-30',
      upgrades: [],
      compatibleWith: [{ name: 'kubernetes', versions: ['1.32', '1.33', '1.34', '1.35', '1.36'] }],
    });
  });

  it('reports a failed operation (failOperation fault) as the poller error', async () => {
    server.faults.add({ kind: 'failOperation', cluster: 'aks-prod', count: 1, errorCode: 'ReconcileIstioFailed', message: 'istiod-asm-1-29 did not become ready' });
    const mc = await client.managedClusters.get(RG, 'aks-prod');
    mc.serviceMeshProfile!.istio!.revisions = ['asm-1-30'];
    const error = await rejection(client.managedClusters.beginCreateOrUpdateAndWait(RG, 'aks-prod', mc, poll));
    expect(error.message).toBe('The long-running operation has failed. ReconcileIstioFailed. istiod-asm-1-29 did not become ready');
    const after = await client.managedClusters.get(RG, 'aks-prod');
    expect(after.provisioningState).toBe('Failed');
    expect(istiodRevisions('aks-prod')).toEqual(['asm-1-29', 'asm-1-30']);
    // A retry of the same request reconciles.
    const retried = await client.managedClusters.beginCreateOrUpdateAndWait(RG, 'aks-prod', mc, poll);
    expect(retried.provisioningState).toBe('Succeeded');
    expect(istiodRevisions('aks-prod')).toEqual(['asm-1-30']);
  });
});
