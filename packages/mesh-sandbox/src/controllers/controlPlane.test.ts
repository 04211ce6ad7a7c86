import { ManualClock } from '../clock';
import { createDemoFleet } from '../fleet';
import { installedRevisions } from '../istio/install';
import { SandboxCluster, SandboxServer, startSandboxServer } from '../server';
import { callCluster } from '../__testUtils__/sandboxHttp';
import {
  applyMeshRevisions,
  DEFAULT_CONTROL_PLANE_DELAY_MS,
} from './controlPlane';

/**
 * The control-plane controller (sandbox-only behaviour): revisions appearing and
 * disappearing after a delay, sidecars left behind by a removed revision, and the whole
 * canary upgrade of aks-dev driven over HTTP.
 */

let clock: ManualClock;
let fleet: Map<string, SandboxCluster>;
let server: SandboxServer;

beforeEach(async () => {
  clock = new ManualClock('2026-11-25T10:00:00Z');
  fleet = createDemoFleet({ clock, stepMs: 1000 });
  server = await startSandboxServer({ clusters: fleet, port: 0 });
});

afterEach(async () => {
  await server.close();
});

const get = async (cluster: string, path: string) => {
  const res = await callCluster(server, cluster, 'GET', path);
  expect(res.status).toBe(200);
  return res.body;
};
const names = async (cluster: string, path: string) =>
  (await get(cluster, path)).items.map((i: any) => i.metadata.name).sort();
const proxyOf = (pod: any) =>
  [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find(
    (c: any) => c.name === 'istio-proxy',
  );
const proxyStatusOf = (pod: any) =>
  [
    ...(pod.status.initContainerStatuses ?? []),
    ...pod.status.containerStatuses,
  ].find((c: any) => c.name === 'istio-proxy');
const condition = (pod: any, type: string) =>
  pod.status.conditions.find((c: any) => c.type === type);

describe('applyMeshRevisions', () => {
  it('installs a new revision after the delay, and nothing before', async () => {
    const aksDev = fleet.get('aks-dev')!;
    let done = false;
    const applied = applyMeshRevisions(aksDev, ['asm-1-29', 'asm-1-30']).then(
      () => {
        done = true;
      },
    );
    expect(DEFAULT_CONTROL_PLANE_DELAY_MS).toBe(2000);
    clock.advance(1999);
    await Promise.resolve();
    expect(done).toBe(false);
    expect(installedRevisions(aksDev.store)).toEqual(['asm-1-29']);
    clock.advance(1);
    await applied;
    expect(done).toBe(true);
    expect(installedRevisions(aksDev.store)).toEqual(['asm-1-29', 'asm-1-30']);

    const ns = '/api/v1/namespaces/aks-istio-system';
    const apps = '/apis/apps/v1/namespaces/aks-istio-system';
    expect(await names('aks-dev', `${apps}/deployments`)).toEqual([
      'istiod-asm-1-29',
      'istiod-asm-1-30',
    ]);
    const istiod = await get('aks-dev', `${apps}/deployments/istiod-asm-1-30`);
    expect(istiod.metadata.labels).toEqual({
      app: 'istiod',
      istio: 'pilot',
      'istio.io/rev': 'asm-1-30',
      'kubernetes.azure.com/managedby': 'aks',
    });
    expect(istiod.metadata.creationTimestamp).toBe('2026-11-25T10:00:02Z');
    expect(istiod.spec.template.spec.containers[0].image).toBe(
      'mcr.microsoft.com/oss/istio/pilot:1.30.1-distroless',
    );
    expect(istiod.status).toMatchObject({
      observedGeneration: 1,
      replicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
    });
    const istiodPods = await get(
      'aks-dev',
      `${ns}/pods?labelSelector=app=istiod,istio.io/rev=asm-1-30`,
    );
    expect(istiodPods.items.map((p: any) => p.status.phase)).toEqual([
      'Running',
      'Running',
    ]);
    expect(await names('aks-dev', `${ns}/services`)).toEqual([
      'istiod-asm-1-29',
      'istiod-asm-1-30',
    ]);
    expect(
      await names(
        'aks-dev',
        '/apis/autoscaling/v2/namespaces/aks-istio-system/horizontalpodautoscalers',
      ),
    ).toEqual(['istiod-asm-1-29', 'istiod-asm-1-30']);
    // No shared ConfigMap for the new revision: users create it.
    expect(await names('aks-dev', `${ns}/configmaps`)).toEqual([
      'istio-asm-1-29',
      'istio-asm-1-30',
      'istio-ca-root-cert',
      'istio-shared-configmap-asm-1-29',
    ]);
    expect(
      await names(
        'aks-dev',
        '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
      ),
    ).toEqual([
      'istio-sidecar-injector-asm-1-29-aks-istio-system',
      'istio-sidecar-injector-asm-1-30-aks-istio-system',
    ]);
    expect(
      await names(
        'aks-dev',
        '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
      ),
    ).toEqual([
      'istio-validator-asm-1-29-aks-istio-system',
      'istio-validator-asm-1-30-aks-istio-system',
    ]);
    expect(
      await names(
        'aks-dev',
        '/apis/apps/v1/namespaces/aks-istio-ingress/deployments',
      ),
    ).toEqual([
      'aks-istio-ingressgateway-external-asm-1-29',
      'aks-istio-ingressgateway-external-asm-1-30',
    ]);
  });

  it('removes a revision with everything it installed, except the users’ shared ConfigMap', async () => {
    const aksProd = fleet.get('aks-prod')!;
    await applyMeshRevisions(aksProd, ['asm-1-30'], { delayMs: 0 });
    expect(installedRevisions(aksProd.store)).toEqual(['asm-1-30']);
    const ns = '/api/v1/namespaces/aks-istio-system';
    expect(
      await names(
        'aks-prod',
        '/apis/apps/v1/namespaces/aks-istio-system/deployments',
      ),
    ).toEqual(['istiod-asm-1-30']);
    expect(
      await names(
        'aks-prod',
        '/apis/apps/v1/namespaces/aks-istio-system/replicasets',
      ),
    ).toHaveLength(1);
    expect(
      await names('aks-prod', `${ns}/pods?labelSelector=istio.io/rev=asm-1-29`),
    ).toEqual([]);
    expect(await names('aks-prod', `${ns}/services`)).toEqual([
      'istiod-asm-1-30',
    ]);
    expect(await names('aks-prod', `${ns}/configmaps`)).toEqual([
      'istio-asm-1-30',
      'istio-ca-root-cert',
      'istio-shared-configmap-asm-1-29',
      'istio-shared-configmap-asm-1-30',
    ]);
    expect(
      await names(
        'aks-prod',
        '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
      ),
    ).toEqual(['istio-sidecar-injector-asm-1-30-aks-istio-system']);
    expect(
      await names(
        'aks-prod',
        '/apis/apps/v1/namespaces/aks-istio-ingress/deployments',
      ),
    ).toEqual(['aks-istio-ingressgateway-external-asm-1-30', 'aks-istio-ingressgateway-internal-asm-1-30']);
    expect(
      await names(
        'aks-prod',
        '/api/v1/namespaces/aks-istio-ingress/pods?labelSelector=istio.io/rev=asm-1-29',
      ),
    ).toEqual([]);
    // The gateway Service spans revisions and stays.
    expect(
      await names('aks-prod', '/api/v1/namespaces/aks-istio-ingress/services'),
    ).toEqual(['aks-istio-ingressgateway-external', 'aks-istio-ingressgateway-internal']);
  });

  it('disconnects the sidecars of a removed revision, and reconnects them when it comes back', async () => {
    const aksProd = fleet.get('aks-prod')!;
    await applyMeshRevisions(aksProd, ['asm-1-30'], { delayMs: 0 });

    // storefront and payments-api still ran asm-1-29 sidecars; payments-worker runs asm-1-30.
    const podsOf = async (namespace: string, app: string) =>
      (
        await get(
          'aks-prod',
          `/api/v1/namespaces/${namespace}/pods?labelSelector=app=${app}`,
        )
      ).items;
    for (const pod of [
      ...(await podsOf('storefront', 'checkout')),
      ...(await podsOf('payments', 'payments-api')),
    ]) {
      expect(proxyStatusOf(pod)).toMatchObject({
        name: 'istio-proxy',
        ready: false,
        started: true,
      });
      expect(proxyStatusOf(pod).state.running).toBeDefined();
      for (const type of ['Ready', 'ContainersReady']) {
        expect(condition(pod, type)).toEqual({
          type,
          status: 'False',
          lastTransitionTime: '2026-11-25T10:00:00Z',
          reason: 'ContainersNotReady',
          message: 'containers with unready status: [istio-proxy]',
        });
      }
      expect(pod.status.phase).toBe('Running');
    }
    for (const pod of await podsOf('payments', 'payments-worker')) {
      expect(proxyStatusOf(pod).ready).toBe(true);
      expect(condition(pod, 'Ready').status).toBe('True');
    }
    // Their workloads lose availability.
    const checkout = await get(
      'aks-prod',
      '/apis/apps/v1/namespaces/storefront/deployments/checkout',
    );
    expect(checkout.status.readyReplicas).toBeUndefined();
    expect(checkout.status.availableReplicas).toBeUndefined();
    expect(checkout.status.unavailableReplicas).toBe(3);
    expect(
      checkout.status.conditions.map((c: any) => [c.type, c.status, c.reason]),
    ).toEqual([
      ['Progressing', 'True', 'NewReplicaSetAvailable'],
      ['Available', 'False', 'MinimumReplicasUnavailable'],
    ]);

    // Rolling back brings asm-1-29 back: the same sidecars reconnect.
    clock.advance(60_000);
    await applyMeshRevisions(aksProd, ['asm-1-29', 'asm-1-30'], { delayMs: 0 });
    for (const pod of await podsOf('storefront', 'checkout')) {
      expect(proxyStatusOf(pod).ready).toBe(true);
      expect(condition(pod, 'Ready')).toEqual({
        type: 'Ready',
        status: 'True',
        lastTransitionTime: '2026-11-25T10:01:00Z',
      });
    }
    const again = await get(
      'aks-prod',
      '/apis/apps/v1/namespaces/storefront/deployments/checkout',
    );
    expect(again.status).toMatchObject({
      readyReplicas: 3,
      availableReplicas: 3,
    });
    expect(
      again.status.conditions.map((c: any) => [c.type, c.status, c.reason]),
    ).toEqual([
      ['Progressing', 'True', 'NewReplicaSetAvailable'],
      ['Available', 'True', 'MinimumReplicasAvailable'],
    ]);
  });

  it('follows upstream Istio too: removing 1-26-3 leaves the prod-stable tag dangling, and new pods are refused', async () => {
    const lab = fleet.get('istio-lab')!;
    await applyMeshRevisions(lab, ['1-27-1'], { delayMs: 0 });
    expect(installedRevisions(lab.store)).toEqual(['1-27-1']);
    expect(
      await names(
        'istio-lab',
        '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
      ),
    ).toEqual([
      'istio-revision-tag-default',
      'istio-revision-tag-prod-stable', // istioctl leaves tags alone
      'istio-sidecar-injector-1-27-1',
    ]);
    const pods = await get(
      'istio-lab',
      '/api/v1/namespaces/payments/pods?labelSelector=app=payments-api',
    );
    expect(pods.items.map((p: any) => proxyStatusOf(p).ready)).toEqual([
      false,
      false,
    ]);
    const created = await callCluster(
      server,
      'istio-lab',
      'POST',
      '/api/v1/namespaces/payments/pods',
      {
        body: {
          metadata: { name: 'debug' },
          spec: { containers: [{ name: 'debug', image: 'busybox' }] },
        },
      },
    );
    expect(created).toEqual({
      status: 500,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message:
          'Internal error occurred: failed calling webhook "rev.namespace.sidecar-injector.istio.io": failed to call webhook: Post "https://istiod-1-26-3.istio-system.svc:443/inject?timeout=10s": service "istiod-1-26-3" not found',
        reason: 'InternalError',
        code: 500,
      },
    });
  });
});

describe('the canary upgrade of aks-dev from asm-1-29 to asm-1-30, end to end', () => {
  it('starts the canary, migrates payments, completes, and leaves storefront disconnected', async () => {
    const aksDev = fleet.get('aks-dev')!;
    const call = (
      method: string,
      path: string,
      body?: unknown,
      contentType?: string,
    ) => callCluster(server, 'aks-dev', method, path, { body, contentType });

    // 1. Start: both revisions.
    const started = applyMeshRevisions(aksDev, ['asm-1-29', 'asm-1-30']);
    clock.advance(2000);
    await started;
    expect(
      await names(
        'aks-dev',
        '/apis/apps/v1/namespaces/aks-istio-system/deployments',
      ),
    ).toEqual(['istiod-asm-1-29', 'istiod-asm-1-30']);

    // 2. Migrate payments: relabel, then `kubectl rollout restart` its Deployments.
    const relabelled = await call(
      'PATCH',
      '/api/v1/namespaces/payments',
      { metadata: { labels: { 'istio.io/rev': 'asm-1-30' } } },
      'application/merge-patch+json',
    );
    expect(relabelled.body.metadata.labels['istio.io/rev']).toBe('asm-1-30');
    const restart = (name: string) =>
      call(
        'PATCH',
        `/apis/apps/v1/namespaces/payments/deployments/${name}`,
        {
          spec: {
            template: {
              metadata: {
                annotations: {
                  'kubectl.kubernetes.io/restartedAt': '2026-11-25T10:00:02Z',
                },
              },
            },
          },
        },
        'application/strategic-merge-patch+json',
      );
    expect((await restart('payments-api')).body.metadata.generation).toBe(2);
    expect((await restart('payments-worker')).body.metadata.generation).toBe(2);

    const state = async () => {
      const sets = await get(
        'aks-dev',
        '/apis/apps/v1/namespaces/payments/replicasets?labelSelector=app=payments-api',
      );
      const pods = await get(
        'aks-dev',
        '/api/v1/namespaces/payments/pods?labelSelector=app=payments-api',
      );
      const d = await get(
        'aks-dev',
        '/apis/apps/v1/namespaces/payments/deployments/payments-api',
      );
      return {
        replicaSets: sets.items
          .map((rs: any) => [
            rs.metadata.annotations['deployment.kubernetes.io/revision'],
            rs.spec.replicas,
            rs.status.readyReplicas ?? 0,
          ])
          .sort(),
        pods: pods.items
          .map((p: any) => [p.metadata.labels['istio.io/rev'], p.status.phase])
          .sort(),
        status: {
          replicas: d.status.replicas,
          updatedReplicas: d.status.updatedReplicas,
          readyReplicas: d.status.readyReplicas,
          availableReplicas: d.status.availableReplicas,
          progressing: d.status.conditions.find(
            (c: any) => c.type === 'Progressing',
          ).reason,
        },
      };
    };
    // 2 replicas: maxSurge 25% → 1, maxUnavailable 25% → 0. One new pod at a time.
    expect(await state()).toEqual({
      replicaSets: [
        ['1', 2, 2],
        ['2', 1, 0],
      ],
      pods: [
        ['asm-1-29', 'Running'],
        ['asm-1-29', 'Running'],
        ['asm-1-30', 'Pending'],
      ],
      status: {
        replicas: 3,
        updatedReplicas: 1,
        readyReplicas: 2,
        availableReplicas: 2,
        progressing: 'ReplicaSetUpdated',
      },
    });
    clock.advance(1000);
    expect(await state()).toEqual({
      replicaSets: [
        ['1', 1, 1],
        ['2', 2, 1],
      ],
      pods: [
        ['asm-1-29', 'Running'],
        ['asm-1-30', 'Pending'],
        ['asm-1-30', 'Running'],
      ],
      status: {
        replicas: 3,
        updatedReplicas: 2,
        readyReplicas: 2,
        availableReplicas: 2,
        progressing: 'ReplicaSetUpdated',
      },
    });
    clock.advance(1000);
    expect(await state()).toEqual({
      replicaSets: [
        ['1', 0, 0],
        ['2', 2, 2],
      ],
      pods: [
        ['asm-1-30', 'Running'],
        ['asm-1-30', 'Running'],
      ],
      status: {
        replicas: 2,
        updatedReplicas: 2,
        readyReplicas: 2,
        availableReplicas: 2,
        progressing: 'NewReplicaSetAvailable',
      },
    });

    // The new pods carry asm-1-30 native sidecars.
    const migrated = await get('aks-dev', '/api/v1/namespaces/payments/pods');
    expect(migrated.items).toHaveLength(3); // payments-api ×2, payments-worker ×1
    for (const pod of migrated.items) {
      expect(
        JSON.parse(pod.metadata.annotations['sidecar.istio.io/status']),
      ).toMatchObject({
        revision: 'asm-1-30',
        initContainers: ['istio-init', 'istio-proxy'],
        containers: null,
      });
      expect(
        pod.metadata.annotations['kubectl.kubernetes.io/restartedAt'],
      ).toBe('2026-11-25T10:00:02Z');
      expect(
        pod.spec.initContainers.map((c: any) => [
          c.name,
          c.image,
          c.restartPolicy,
        ]),
      ).toEqual([
        [
          'istio-init',
          'mcr.microsoft.com/oss/istio/proxyv2:1.30.1-distroless',
          undefined,
        ],
        [
          'istio-proxy',
          'mcr.microsoft.com/oss/istio/proxyv2:1.30.1-distroless',
          'Always',
        ],
      ]);
      expect(proxyOf(pod).env[0]).toEqual({
        name: 'CA_ADDR',
        value: 'istiod-asm-1-30.aks-istio-system.svc:15012',
      });
      expect(pod.spec.containers.map((c: any) => c.name)).toEqual([
        pod.metadata.labels.app,
      ]);
      expect(condition(pod, 'Ready').status).toBe('True');
    }

    // 3. Complete: only asm-1-30 remains.
    const completed = applyMeshRevisions(aksDev, ['asm-1-30']);
    clock.advance(2000);
    await completed;
    expect(
      await names(
        'aks-dev',
        '/apis/apps/v1/namespaces/aks-istio-system/deployments',
      ),
    ).toEqual(['istiod-asm-1-30']);
    expect(
      await names(
        'aks-dev',
        '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
      ),
    ).toEqual(['istio-sidecar-injector-asm-1-30-aks-istio-system']);

    // storefront still points at asm-1-29: its sidecars are disconnected.
    const storefront = await get(
      'aks-dev',
      '/api/v1/namespaces/storefront/pods',
    );
    expect(storefront.items).toHaveLength(4);
    for (const pod of storefront.items) {
      expect(
        JSON.parse(pod.metadata.annotations['sidecar.istio.io/status'])
          .revision,
      ).toBe('asm-1-29');
      expect(proxyStatusOf(pod).ready).toBe(false);
      expect(condition(pod, 'Ready')).toEqual({
        type: 'Ready',
        status: 'False',
        lastTransitionTime: '2026-11-25T10:00:06Z',
        reason: 'ContainersNotReady',
        message: 'containers with unready status: [istio-proxy]',
      });
    }
    // payments, migrated in time, is fine.
    for (const pod of (await get('aks-dev', '/api/v1/namespaces/payments/pods'))
      .items) {
      expect(proxyStatusOf(pod).ready).toBe(true);
    }
    // A storefront pod created now gets no sidecar: no installed injector matches asm-1-29.
    await call(
      'DELETE',
      `/api/v1/namespaces/storefront/pods/${storefront.items[0].metadata.name}`,
    );
    const replaced = (
      await get('aks-dev', '/api/v1/namespaces/storefront/pods')
    ).items.find((p: any) => p.status.phase === 'Pending');
    expect(replaced.spec.initContainers).toBeUndefined();
    expect(replaced.spec.containers.map((c: any) => c.name)).toEqual([
      replaced.metadata.labels.app,
    ]);
    expect(replaced.metadata.annotations).toBeUndefined();
  });
});
