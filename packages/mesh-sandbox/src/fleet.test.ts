import {
  AdmissionregistrationV1Api,
  AppsV1Api,
  CoreV1Api,
  V1Pod,
} from '@kubernetes/client-node';
import { sandboxKubeConfig } from './contract/__testUtils__/sandboxKubeConfig';
import {
  createDemoFleet,
  DEMO_CLUSTER_NAMES,
  demoToken,
  REVISION_VERSIONS,
} from './fleet';
import { SandboxServer, startSandboxServer } from './server';
import { resourceTypeOfKind } from './resources';

/** What the demo fleet seeds: the state docs, screenshots and e2e tests rely on. */

let server: SandboxServer;

beforeAll(async () => {
  server = await startSandboxServer({ clusters: createDemoFleet(), port: 0 });
});

afterAll(async () => {
  await server.close();
});

const clients = (cluster: string) => {
  const kc = sandboxKubeConfig(server, cluster);
  return {
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    admission: kc.makeApiClient(AdmissionregistrationV1Api),
  };
};

const sidecarStatus = (pod: V1Pod) =>
  JSON.parse(pod.metadata?.annotations?.['sidecar.istio.io/status'] ?? 'null');
const names = (items: Array<{ metadata?: { name?: string } }>) =>
  items.map(i => i.metadata?.name).sort();

describe('the demo fleet', () => {
  it('has three clusters with their own tokens', () => {
    expect(DEMO_CLUSTER_NAMES).toEqual(['aks-dev', 'aks-prod', 'istio-lab']);
    expect([...server.clusters.keys()]).toEqual([
      'aks-dev',
      'aks-prod',
      'istio-lab',
    ]);
    expect(server.clusters.get('istio-lab')!.token).toBe(
      'sandbox-token-istio-lab',
    );
    expect(server.clusters.get('aks-dev')!.token).toBe('sandbox-token-aks-dev');
    expect(server.clusters.get('aks-prod')!.token).toBe(demoToken('aks-prod'));
    expect(server.clusterUrl('aks-prod')).toBe(
      `${server.url}/clusters/aks-prod`,
    );
  });

  it('maps each add-on revision to the Istio version it runs', () => {
    expect(REVISION_VERSIONS).toEqual({
      'asm-1-28': '1.28.4',
      'asm-1-29': '1.29.2',
      'asm-1-30': '1.30.1',
    });
  });

  it('is independent per call and deterministic in its pod names', () => {
    const a = createDemoFleet();
    const b = createDemoFleet();
    const pods = resourceTypeOfKind('Pod');
    const podNames = (fleet: typeof a) =>
      fleet
        .get('aks-prod')!
        .store.list(pods, { namespace: 'payments' })
        .items.map(p => p.metadata.name);
    expect(podNames(a)).toEqual(podNames(b));
    expect(podNames(a)).toHaveLength(5);

    a.get('aks-prod')!.store.delete(
      resourceTypeOfKind('Namespace'),
      undefined,
      'payments',
    );
    expect(podNames(a)).toEqual([]);
    expect(podNames(b)).toHaveLength(5);
  });

  it.each([
    [
      'aks-dev',
      [
        'aks-istio-ingress',
        'aks-istio-system',
        'default',
        'kube-system',
        'legacy',
        'payments',
        'storefront',
        'tools',
      ],
    ],
    [
      'aks-prod',
      [
        'aks-istio-egress',
        'aks-istio-ingress',
        'aks-istio-system',
        'default',
        'kube-system',
        'payments',
        'storefront',
      ],
    ],
    [
      'istio-lab',
      ['default', 'istio-system', 'kube-system', 'payments', 'storefront'],
    ],
  ])('%s has the namespaces %j', async (cluster, expected) => {
    const { core } = clients(cluster);
    expect(names((await core.listNamespace()).items)).toEqual(expected);
  });
});

describe('aks-prod, mid-canary from asm-1-29 to asm-1-30', () => {
  it('has the payments namespace relabelled to asm-1-30', async () => {
    const ns = await clients('aks-prod').core.readNamespace({
      name: 'payments',
    });
    expect(ns.metadata?.labels).toEqual({
      'kubernetes.io/metadata.name': 'payments',
      'istio.io/rev': 'asm-1-30',
    });
    expect(ns.status?.phase).toBe('Active');
  });

  it('keeps storefront on asm-1-29', async () => {
    const ns = await clients('aks-prod').core.readNamespace({
      name: 'storefront',
    });
    expect(ns.metadata?.labels).toEqual({
      'kubernetes.io/metadata.name': 'storefront',
      'istio.io/rev': 'asm-1-29',
    });
  });

  it('still runs payments-api pods injected by asm-1-29 (not restarted yet)', async () => {
    const pods = await clients('aks-prod').core.listNamespacedPod({
      namespace: 'payments',
      labelSelector: 'app=payments-api',
    });
    expect(pods.items).toHaveLength(3);
    for (const pod of pods.items) {
      expect(sidecarStatus(pod).revision).toBe('asm-1-29');
      expect(pod.metadata?.labels?.['istio.io/rev']).toBe('asm-1-29');
      expect(pod.metadata?.labels?.['backstage.io/kubernetes-id']).toBe(
        'payments-api',
      );
      // asm-1-29 injects istio-proxy as a native sidecar (an init container that keeps running).
      expect(
        pod.spec?.initContainers?.map(c => [c.name, c.image, c.restartPolicy]),
      ).toEqual([
        [
          'istio-init',
          'mcr.microsoft.com/oss/istio/proxyv2:1.29.2-distroless',
          undefined,
        ],
        [
          'istio-proxy',
          'mcr.microsoft.com/oss/istio/proxyv2:1.29.2-distroless',
          'Always',
        ],
      ]);
      expect(pod.spec?.containers.map(c => c.name)).toEqual(['payments-api']);
      expect(pod.status?.phase).toBe('Running');
    }
  });

  it('runs payments-worker pods injected by asm-1-30 (restarted after the relabel)', async () => {
    const pods = await clients('aks-prod').core.listNamespacedPod({
      namespace: 'payments',
      labelSelector: 'app=payments-worker',
    });
    expect(pods.items).toHaveLength(2);
    for (const pod of pods.items) {
      expect(sidecarStatus(pod)).toMatchObject({
        revision: 'asm-1-30',
        initContainers: ['istio-init', 'istio-proxy'],
        containers: null,
      });
      expect(
        pod.spec?.initContainers?.find(c => c.name === 'istio-proxy')?.image,
      ).toBe('mcr.microsoft.com/oss/istio/proxyv2:1.30.1-distroless');
      expect(pod.metadata?.creationTimestamp?.toISOString()).toBe(
        '2026-11-24T14:30:00.000Z',
      );
    }
  });

  it('runs istiod for both revisions in aks-istio-system', async () => {
    const deployments = await clients('aks-prod').apps.listNamespacedDeployment(
      {
        namespace: 'aks-istio-system',
        labelSelector: 'app=istiod',
      },
    );
    expect(
      deployments.items.map(d => [
        d.metadata?.name,
        d.metadata?.labels?.['istio.io/rev'],
        d.spec?.template.spec?.containers[0].image,
      ]),
    ).toEqual([
      [
        'istiod-asm-1-29',
        'asm-1-29',
        'mcr.microsoft.com/oss/istio/pilot:1.29.2-distroless',
      ],
      [
        'istiod-asm-1-30',
        'asm-1-30',
        'mcr.microsoft.com/oss/istio/pilot:1.30.1-distroless',
      ],
    ]);
    for (const d of deployments.items) {
      expect(d.metadata?.labels?.['kubernetes.azure.com/managedby']).toBe(
        'aks',
      );
      expect(d.spec?.replicas).toBe(2);
      expect(d.status?.readyReplicas).toBe(2);
      expect(d.status?.observedGeneration).toBe(d.metadata?.generation);
    }
  });

  it('has the mesh config maps of each revision', async () => {
    const configMaps = await clients('aks-prod').core.listNamespacedConfigMap({
      namespace: 'aks-istio-system',
    });
    expect(names(configMaps.items)).toEqual([
      'istio-asm-1-29',
      'istio-asm-1-30',
      'istio-ca-root-cert',
      'istio-shared-configmap-asm-1-29',
      'istio-shared-configmap-asm-1-30',
    ]);
    const mesh = configMaps.items.find(
      c => c.metadata?.name === 'istio-asm-1-30',
    )!;
    expect(mesh.metadata?.labels).toEqual({
      'istio.io/rev': 'asm-1-30',
      'kubernetes.azure.com/managedby': 'aks',
    });
    expect(mesh.data?.mesh).toContain(
      'discoveryAddress: istiod-asm-1-30.aks-istio-system.svc:15012',
    );
  });

  it('has one sidecar injector webhook per revision, selecting namespaces by istio.io/rev', async () => {
    const webhooks = await clients(
      'aks-prod',
    ).admission.listMutatingWebhookConfiguration();
    expect(names(webhooks.items)).toEqual([
      'istio-sidecar-injector-asm-1-29-aks-istio-system',
      'istio-sidecar-injector-asm-1-30-aks-istio-system',
    ]);
    const canary = webhooks.items.find(
      w =>
        w.metadata?.name === 'istio-sidecar-injector-asm-1-30-aks-istio-system',
    )!;
    expect(canary.webhooks?.[0].namespaceSelector?.matchExpressions).toEqual([
      { key: 'istio.io/rev', operator: 'In', values: ['asm-1-30'] },
      { key: 'istio-injection', operator: 'DoesNotExist' },
    ]);
    expect(canary.webhooks?.[0].clientConfig.service).toEqual({
      name: 'istiod-asm-1-30',
      namespace: 'aks-istio-system',
      path: '/inject',
      port: 443,
    });
    // The second webhook injects pods labelled istio.io/rev in unlabelled namespaces.
    expect(
      canary.webhooks?.map(w => [
        w.name,
        w.namespaceSelector?.matchExpressions,
        w.objectSelector?.matchExpressions,
      ]),
    ).toEqual([
      [
        'rev.namespace.sidecar-injector.istio.io',
        [
          { key: 'istio.io/rev', operator: 'In', values: ['asm-1-30'] },
          { key: 'istio-injection', operator: 'DoesNotExist' },
        ],
        [
          {
            key: 'sidecar.istio.io/inject',
            operator: 'NotIn',
            values: ['false'],
          },
        ],
      ],
      [
        'rev.object.sidecar-injector.istio.io',
        [
          { key: 'istio.io/rev', operator: 'DoesNotExist' },
          { key: 'istio-injection', operator: 'DoesNotExist' },
        ],
        [
          {
            key: 'sidecar.istio.io/inject',
            operator: 'NotIn',
            values: ['false'],
          },
          { key: 'istio.io/rev', operator: 'In', values: ['asm-1-30'] },
        ],
      ],
    ]);
  });

  it('exposes the external ingress gateway in aks-istio-ingress', async () => {
    const { core, apps } = clients('aks-prod');
    const svc = await core.readNamespacedService({
      namespace: 'aks-istio-ingress',
      name: 'aks-istio-ingressgateway-external',
    });
    expect(svc.spec?.type).toBe('LoadBalancer');
    expect(svc.spec?.selector).toEqual({
      app: 'aks-istio-ingressgateway-external',
    });
    expect(svc.spec?.ports?.map(p => [p.name, p.port])).toEqual([
      ['status-port', 15021],
      ['http2', 80],
      ['https', 443],
    ]);
    expect(svc.status?.loadBalancer?.ingress).toEqual([{ ip: '20.61.14.7' }]);

    const gateways = await apps.listNamespacedDeployment({
      namespace: 'aks-istio-ingress',
    });
    expect(names(gateways.items)).toEqual([
      'aks-istio-ingressgateway-external-asm-1-29',
      'aks-istio-ingressgateway-external-asm-1-30',
      'aks-istio-ingressgateway-internal-asm-1-29',
      'aks-istio-ingressgateway-internal-asm-1-30',
    ]);
  });
});

describe('aks-dev', () => {
  it('runs only asm-1-29', async () => {
    const { apps, admission } = clients('aks-dev');
    const istiod = await apps.listNamespacedDeployment({
      namespace: 'aks-istio-system',
      labelSelector: 'app=istiod',
    });
    expect(names(istiod.items)).toEqual(['istiod-asm-1-29']);
    const webhooks = await admission.listMutatingWebhookConfiguration();
    expect(names(webhooks.items)).toEqual([
      'istio-sidecar-injector-asm-1-29-aks-istio-system',
    ]);
  });

  it('labels legacy with istio-injection=enabled, which the add-on ignores: its pods have no sidecar', async () => {
    const { core } = clients('aks-dev');
    const ns = await core.readNamespace({ name: 'legacy' });
    expect(ns.metadata?.labels).toEqual({
      'kubernetes.io/metadata.name': 'legacy',
      'istio-injection': 'enabled',
    });

    const pods = await core.listNamespacedPod({ namespace: 'legacy' });
    expect(pods.items).toHaveLength(1);
    const [pod] = pods.items;
    expect(pod.metadata?.labels?.app).toBe('legacy-billing');
    expect(pod.spec?.containers.map(c => c.name)).toEqual(['legacy-billing']);
    expect(pod.spec?.initContainers).toBeUndefined();
    expect(pod.metadata?.annotations).toEqual({});
    expect(pod.metadata?.labels?.['istio.io/rev']).toBeUndefined();
  });

  it('leaves tools without any mesh label or sidecar', async () => {
    const { core } = clients('aks-dev');
    const ns = await core.readNamespace({ name: 'tools' });
    expect(ns.metadata?.labels).toEqual({
      'kubernetes.io/metadata.name': 'tools',
    });
    const pods = await core.listNamespacedPod({ namespace: 'tools' });
    expect(pods.items.map(p => p.spec?.containers.map(c => c.name))).toEqual([
      ['ops-toolbox'],
    ]);
  });

  it('injects every payments and storefront pod with asm-1-29', async () => {
    const { core } = clients('aks-dev');
    const pods = await core.listPodForAllNamespaces({
      labelSelector: 'istio.io/rev',
    });
    expect(
      pods.items
        .map(p => `${p.metadata?.namespace}/${p.metadata?.labels?.app}`)
        .sort(),
    ).toEqual([
      'aks-istio-ingress/aks-istio-ingressgateway-external', // gateways carry the label, not a sidecar
      'aks-istio-ingress/aks-istio-ingressgateway-external',
      'aks-istio-system/istiod',
      'aks-istio-system/istiod',
      'payments/payments-api',
      'payments/payments-api',
      'payments/payments-worker',
      'storefront/cart',
      'storefront/cart',
      'storefront/checkout',
      'storefront/checkout',
    ]);
    const injected = pods.items.filter(p =>
      ['payments', 'storefront'].includes(p.metadata!.namespace!),
    );
    expect(injected.map(p => sidecarStatus(p).revision)).toEqual(
      Array(7).fill('asm-1-29'),
    );
  });

  it('exposes its ingress gateway on its own IP', async () => {
    const svc = await clients('aks-dev').core.readNamespacedService({
      namespace: 'aks-istio-ingress',
      name: 'aks-istio-ingressgateway-external',
    });
    expect(svc.status?.loadBalancer?.ingress).toEqual([{ ip: '20.61.9.3' }]);
  });
});

describe('istio-lab, upstream Istio with revision tags', () => {
  it('runs istiod for 1-26-3 and 1-27-1 in istio-system with upstream images', async () => {
    const deployments = await clients(
      'istio-lab',
    ).apps.listNamespacedDeployment({
      namespace: 'istio-system',
      labelSelector: 'app=istiod',
    });
    expect(
      deployments.items.map(d => [
        d.metadata?.name,
        d.metadata?.labels?.['istio.io/rev'],
        d.spec?.template.spec?.containers[0].image,
        d.status?.readyReplicas,
      ]),
    ).toEqual([
      ['istiod-1-26-3', '1-26-3', 'docker.io/istio/pilot:1.26.3', 2],
      ['istiod-1-27-1', '1-27-1', 'docker.io/istio/pilot:1.27.1', 2],
    ]);
    expect(deployments.items[0].metadata?.labels).toEqual({
      app: 'istiod',
      istio: 'pilot',
      'istio.io/rev': '1-26-3',
      'operator.istio.io/component': 'Pilot',
    });
    const configMaps = await clients('istio-lab').core.listNamespacedConfigMap({
      namespace: 'istio-system',
    });
    expect(names(configMaps.items)).toEqual([
      'istio-1-26-3',
      'istio-1-27-1',
      'istio-ca-root-cert',
      'istio-sidecar-injector-1-26-3',
      'istio-sidecar-injector-1-27-1',
    ]);
  });

  it('has per-revision injectors and the prod-stable and default tags as webhooks', async () => {
    const { admission } = clients('istio-lab');
    const webhooks = await admission.listMutatingWebhookConfiguration();
    expect(
      webhooks.items.map(w => [
        w.metadata?.name,
        w.metadata?.labels?.['istio.io/rev'],
        w.metadata?.labels?.['istio.io/tag'],
        w.webhooks?.[0].clientConfig.service?.name,
      ]),
    ).toEqual([
      ['istio-revision-tag-default', '1-27-1', 'default', 'istiod-1-27-1'],
      [
        'istio-revision-tag-prod-stable',
        '1-26-3',
        'prod-stable',
        'istiod-1-26-3',
      ],
      ['istio-sidecar-injector-1-26-3', '1-26-3', undefined, 'istiod-1-26-3'],
      ['istio-sidecar-injector-1-27-1', '1-27-1', undefined, 'istiod-1-27-1'],
    ]);
    const prodStable = webhooks.items[1];
    expect(prodStable.webhooks?.map(w => w.name)).toEqual([
      'rev.namespace.sidecar-injector.istio.io',
      'rev.object.sidecar-injector.istio.io',
    ]);
    expect(
      prodStable.webhooks?.[0].namespaceSelector?.matchExpressions,
    ).toEqual([
      { key: 'istio.io/rev', operator: 'In', values: ['prod-stable'] },
      { key: 'istio-injection', operator: 'DoesNotExist' },
    ]);
    // The default tag also serves istio-injection=enabled.
    expect(
      webhooks.items[0].webhooks?.map(w => [
        w.name,
        w.namespaceSelector?.matchExpressions?.[0],
      ]),
    ).toEqual([
      [
        'rev.namespace.sidecar-injector.istio.io',
        { key: 'istio.io/rev', operator: 'In', values: ['default'] },
      ],
      [
        'rev.object.sidecar-injector.istio.io',
        { key: 'istio.io/rev', operator: 'DoesNotExist' },
      ],
      [
        'namespace.sidecar-injector.istio.io',
        { key: 'istio-injection', operator: 'In', values: ['enabled'] },
      ],
      [
        'object.sidecar-injector.istio.io',
        { key: 'istio-injection', operator: 'DoesNotExist' },
      ],
    ]);
    const validators = await admission.listValidatingWebhookConfiguration();
    expect(names(validators.items)).toEqual([
      'istio-validator-1-26-3-istio-system',
      'istio-validator-1-27-1-istio-system',
    ]);
  });

  it('labels payments and storefront with the prod-stable tag', async () => {
    const { core } = clients('istio-lab');
    for (const name of ['payments', 'storefront']) {
      const ns = await core.readNamespace({ name });
      expect(ns.metadata?.labels).toEqual({
        'kubernetes.io/metadata.name': name,
        'istio.io/rev': 'prod-stable',
      });
    }
  });

  it('runs every workload with classic 1-26-3 sidecars', async () => {
    const pods = await clients('istio-lab').core.listPodForAllNamespaces({
      labelSelector: 'backstage.io/kubernetes-id',
    });
    expect(
      pods.items
        .map(
          p =>
            `${p.metadata?.namespace}/${p.metadata?.labels?.['backstage.io/kubernetes-id']}`,
        )
        .sort(),
    ).toEqual([
      'payments/payments-api',
      'payments/payments-api',
      'payments/payments-worker',
      'storefront/cart',
      'storefront/cart',
      'storefront/checkout',
      'storefront/checkout',
    ]);
    for (const pod of pods.items) {
      expect(sidecarStatus(pod)).toMatchObject({
        revision: '1-26-3',
        initContainers: ['istio-init'],
        containers: ['istio-proxy'],
      });
      expect(pod.metadata?.labels?.['istio.io/rev']).toBe('1-26-3');
      expect(pod.spec?.initContainers?.map(c => [c.name, c.image])).toEqual([
        ['istio-init', 'docker.io/istio/proxyv2:1.26.3'],
      ]);
      const proxy = pod.spec?.containers.find(c => c.name === 'istio-proxy');
      expect(proxy?.image).toBe('docker.io/istio/proxyv2:1.26.3');
      expect(proxy?.restartPolicy).toBeUndefined();
      expect(proxy?.env?.find(e => e.name === 'CA_ADDR')?.value).toBe(
        'istiod-1-26-3.istio-system.svc:15012',
      );
      expect(pod.spec?.nodeName).toMatch(/^istio-lab-worker-[0-2]$/);
      expect(pod.status?.phase).toBe('Running');
    }
  });
});
