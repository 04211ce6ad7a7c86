import { ManualClock } from '../clock';
import { applyMeshRevisionsNow } from '../controllers/controlPlane';
import { createDemoFleet } from '../fleet';
import { SandboxCluster, SandboxServer, startSandboxServer } from '../server';
import { callCluster } from '../__testUtils__/sandboxHttp';
import { setRevisionTag } from './install';

/**
 * Sidecar injection (sandbox-only behaviour): which injector, if any, the installed
 * webhooks pick for a new pod, on the add-on and on upstream Istio.
 */

let clock: ManualClock;
let fleet: Map<string, SandboxCluster>;
let server: SandboxServer;

beforeAll(async () => {
  clock = new ManualClock('2026-11-25T10:00:00Z');
  fleet = createDemoFleet({ clock, stepMs: 1000 });
  server = await startSandboxServer({ clusters: fleet, port: 0 });
});

afterAll(async () => {
  await server.close();
});

let counter = 0;

async function namespace(cluster: string, labels: Record<string, string>) {
  const name = `inject-${++counter}`;
  const res = await callCluster(server, cluster, 'POST', '/api/v1/namespaces', {
    body: { metadata: { name, labels } },
  });
  expect(res.status).toBe(201);
  return name;
}

/** Creates a pod through the API and describes what the injector did to it. */
async function createPod(
  cluster: string,
  ns: string,
  labels: Record<string, string> = {},
  annotations: Record<string, string> = {},
) {
  const res = await callCluster(
    server,
    cluster,
    'POST',
    `/api/v1/namespaces/${ns}/pods`,
    {
      body: {
        metadata: {
          name: 'app',
          labels: { app: 'app', ...labels },
          annotations,
        },
        spec: { containers: [{ name: 'app', image: 'example.com/app:1' }] },
      },
    },
  );
  expect(res.status).toBe(201);
  return describePod(res.body);
}

function describePod(pod: any) {
  const status = pod.metadata.annotations?.['sidecar.istio.io/status'];
  const proxy = [
    ...(pod.spec.initContainers ?? []),
    ...pod.spec.containers,
  ].find((c: any) => c.name === 'istio-proxy');
  return {
    revision: status ? JSON.parse(status).revision : undefined,
    revLabel: pod.metadata.labels['istio.io/rev'],
    initContainers: (pod.spec.initContainers ?? []).map((c: any) => c.name),
    containers: pod.spec.containers.map((c: any) => c.name),
    proxyImage: proxy?.image,
    native: proxy ? proxy.restartPolicy === 'Always' : undefined,
    caAddr: proxy?.env.find((e: any) => e.name === 'CA_ADDR').value,
  };
}

const notInjected = {
  revision: undefined,
  revLabel: undefined,
  initContainers: [],
  containers: ['app'],
  proxyImage: undefined,
  native: undefined,
  caAddr: undefined,
};

describe('on the AKS add-on (aks-dev runs asm-1-29)', () => {
  it('injects by the namespace label istio.io/rev, as a native sidecar from asm-1-29 on', async () => {
    const ns = await namespace('aks-dev', { 'istio.io/rev': 'asm-1-29' });
    expect(await createPod('aks-dev', ns)).toEqual({
      revision: 'asm-1-29',
      revLabel: 'asm-1-29',
      initContainers: ['istio-init', 'istio-proxy'],
      containers: ['app'],
      proxyImage: 'mcr.microsoft.com/oss/istio/proxyv2:1.29.2-distroless',
      native: true,
      caAddr: 'istiod-asm-1-29.aks-istio-system.svc:15012',
    });
  });

  it('ignores istio-injection=enabled', async () => {
    const ns = await namespace('aks-dev', { 'istio-injection': 'enabled' });
    expect(await createPod('aks-dev', ns)).toEqual(notInjected);
  });

  it('does not inject a namespace labelled with both (istio-injection must be absent)', async () => {
    const ns = await namespace('aks-dev', {
      'istio-injection': 'enabled',
      'istio.io/rev': 'asm-1-29',
    });
    expect(await createPod('aks-dev', ns)).toEqual(notInjected);
  });

  it('lets a pod opt out with the label or the annotation sidecar.istio.io/inject=false', async () => {
    const ns = await namespace('aks-dev', { 'istio.io/rev': 'asm-1-29' });
    expect(
      await createPod('aks-dev', ns, { 'sidecar.istio.io/inject': 'false' }),
    ).toEqual(notInjected);
    await callCluster(
      server,
      'aks-dev',
      'DELETE',
      `/api/v1/namespaces/${ns}/pods/app`,
    );
    expect(
      await createPod(
        'aks-dev',
        ns,
        {},
        { 'sidecar.istio.io/inject': 'false' },
      ),
    ).toEqual(notInjected);
  });

  it('injects a pod labelled istio.io/rev in an unlabelled namespace', async () => {
    const ns = await namespace('aks-dev', {});
    expect(
      (await createPod('aks-dev', ns, { 'istio.io/rev': 'asm-1-29' })).revision,
    ).toBe('asm-1-29');
  });

  it('does not inject for a revision that is not installed', async () => {
    const ns = await namespace('aks-dev', { 'istio.io/rev': 'asm-1-30' });
    expect(await createPod('aks-dev', ns)).toEqual(notInjected);
  });

  it('injects classic sidecars (istio-proxy among the containers) before asm-1-29', async () => {
    applyMeshRevisionsNow(
      fleet.get('aks-prod')!.store,
      ['asm-1-28', 'asm-1-29'],
      {
        now: clock.now(),
      },
    );
    const ns = await namespace('aks-prod', { 'istio.io/rev': 'asm-1-28' });
    expect(await createPod('aks-prod', ns)).toEqual({
      revision: 'asm-1-28',
      revLabel: 'asm-1-28',
      initContainers: ['istio-init'],
      containers: ['app', 'istio-proxy'],
      proxyImage: 'mcr.microsoft.com/oss/istio/proxyv2:1.28.4-distroless',
      native: false,
      caAddr: 'istiod-asm-1-28.aks-istio-system.svc:15012',
    });
  });

  it('injects the pods that the ReplicaSet of a Deployment creates', async () => {
    const ns = await namespace('aks-dev', { 'istio.io/rev': 'asm-1-29' });
    const created = await callCluster(
      server,
      'aks-dev',
      'POST',
      `/apis/apps/v1/namespaces/${ns}/deployments`,
      {
        body: {
          metadata: { name: 'web' },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: 'web' } },
            template: {
              metadata: { labels: { app: 'web' } },
              spec: {
                containers: [{ name: 'web', image: 'example.com/web:1' }],
              },
            },
          },
        },
      },
    );
    expect(created.status).toBe(201);
    const pods = await callCluster(
      server,
      'aks-dev',
      'GET',
      `/api/v1/namespaces/${ns}/pods`,
    );
    expect(pods.body.items.map(describePod)).toEqual([
      {
        revision: 'asm-1-29',
        revLabel: 'asm-1-29',
        initContainers: ['istio-init', 'istio-proxy'],
        containers: ['web'],
        proxyImage: 'mcr.microsoft.com/oss/istio/proxyv2:1.29.2-distroless',
        native: true,
        caAddr: 'istiod-asm-1-29.aks-istio-system.svc:15012',
      },
    ]);
    expect(
      pods.body.items[0].metadata.labels['service.istio.io/canonical-name'],
    ).toBe('web');
  });
});

describe('on upstream Istio (istio-lab: 1-26-3 tagged prod-stable, 1-27-1 tagged default)', () => {
  const v1263 = {
    revision: '1-26-3',
    revLabel: '1-26-3',
    initContainers: ['istio-init'],
    containers: ['app', 'istio-proxy'],
    proxyImage: 'docker.io/istio/proxyv2:1.26.3',
    native: false,
    caAddr: 'istiod-1-26-3.istio-system.svc:15012',
  };
  const v1271 = {
    ...v1263,
    revision: '1-27-1',
    revLabel: '1-27-1',
    proxyImage: 'docker.io/istio/proxyv2:1.27.1',
    caAddr: 'istiod-1-27-1.istio-system.svc:15012',
  };

  it('resolves a tag on the namespace to the tagged revision', async () => {
    const ns = await namespace('istio-lab', { 'istio.io/rev': 'prod-stable' });
    expect(await createPod('istio-lab', ns)).toEqual(v1263);
  });

  it('injects a revision named directly', async () => {
    const ns = await namespace('istio-lab', { 'istio.io/rev': '1-27-1' });
    expect(await createPod('istio-lab', ns)).toEqual(v1271);
  });

  it('sends istio-injection=enabled to the default tag, which wins over istio.io/rev', async () => {
    const enabled = await namespace('istio-lab', {
      'istio-injection': 'enabled',
    });
    expect(await createPod('istio-lab', enabled)).toEqual(v1271);
    const both = await namespace('istio-lab', {
      'istio-injection': 'enabled',
      'istio.io/rev': 'prod-stable',
    });
    expect(await createPod('istio-lab', both)).toEqual(v1271);
  });

  it('injects a pod labelled sidecar.istio.io/inject=true in an unlabelled namespace with the default tag', async () => {
    const ns = await namespace('istio-lab', {});
    expect(await createPod('istio-lab', ns)).toEqual(notInjected);
    await callCluster(
      server,
      'istio-lab',
      'DELETE',
      `/api/v1/namespaces/${ns}/pods/app`,
    );
    expect(
      await createPod('istio-lab', ns, { 'sidecar.istio.io/inject': 'true' }),
    ).toEqual(v1271);
  });

  it('moves every prod-stable namespace at once when the tag moves (new pods only)', async () => {
    const ns = await namespace('istio-lab', { 'istio.io/rev': 'prod-stable' });
    setRevisionTag(fleet.get('istio-lab')!.store, 'prod-stable', '1-27-1');
    try {
      expect(await createPod('istio-lab', ns)).toEqual(v1271);
      // Running pods keep the sidecar they were injected with.
      const running = await callCluster(
        server,
        'istio-lab',
        'GET',
        '/api/v1/namespaces/payments/pods?labelSelector=app=payments-api',
      );
      expect(
        running.body.items.map((p: any) => describePod(p).revision),
      ).toEqual(['1-26-3', '1-26-3']);
    } finally {
      setRevisionTag(fleet.get('istio-lab')!.store, 'prod-stable', '1-26-3');
    }
  });
});
