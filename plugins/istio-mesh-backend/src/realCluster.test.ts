import { startTestBackend, mockServices } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import kubernetesBackendPlugin from '@backstage/plugin-kubernetes-backend';
import { Entity } from '@backstage/catalog-model';
import {
  deleteObject,
  InjectionWebhook,
  installAksLikeControlPlane,
  InstalledAksControlPlane,
  kubeRequest,
  KubeRestError,
  KubeTarget,
  kubeTargetFromEnv,
  pollUntil,
  startInjectionWebhook,
} from '@mesh-portal/mesh-sandbox';
import {
  ClusterDetail,
  ClustersResponse,
  EntityMeshStatus,
} from '@mesh-portal/plugin-istio-mesh-common';
import request from 'supertest';
import { istioMeshPlugin } from './plugin';

/*
 * The backend against a REAL Kubernetes control plane (kube-apiserver, etcd,
 * controller-manager, scheduler, kwok nodes: e2e/kube/), through the real Kubernetes
 * backend plugin. Pods get their sidecars through the real admission chain: kube-apiserver
 * calls the sandbox's injection webhook, registered as the AKS add-on registers istiod's.
 *
 * Runs when KUBE_URL, KUBE_ADMIN_TOKEN, KUBE_LIMITED_TOKEN and KUBE_CA_DATA are set:
 *   e2e/kube/run.sh -- bash scripts/jest.sh --real-cluster
 * It uses the namespaces `payments` and `aks-istio-system` of that (throw-away) cluster.
 */

const kube = kubeTargetFromEnv();
const limitedToken = process.env.KUBE_LIMITED_TOKEN;
const caData = process.env.KUBE_CA_DATA;

if (!kube || !limitedToken || !caData) {
  // eslint-disable-next-line jest/no-disabled-tests
  describe.skip('istio-mesh backend against a real control plane (skipped: KUBE_URL, KUBE_ADMIN_TOKEN, KUBE_LIMITED_TOKEN and KUBE_CA_DATA are not set; run it with e2e/kube/run.sh -- bash scripts/jest.sh --real-cluster)', () => {
    it.todo('reads revisions, drift and errors from a real cluster');
  });
} else {
  describeRealCluster(kube, limitedToken, caData);
}

type ClientNode = typeof import('@kubernetes/client-node');

function describeRealCluster(
  admin: KubeTarget,
  limitedTokenValue: string,
  caDataValue: string,
) {
  jest.setTimeout(180_000);

  const NS = 'payments';
  const APP = 'payments-api';
  const entity: Entity = {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name: APP,
      namespace: 'default',
      annotations: { 'backstage.io/kubernetes-id': APP },
    },
    spec: { type: 'service', owner: 'team-payments', lifecycle: 'production' },
  };
  const cluster = (name: string, token: string) => ({
    name,
    url: admin.server,
    authProvider: 'serviceAccount',
    serviceAccountToken: token,
    caData: caDataValue,
    skipMetricsLookup: true,
  });
  const config = {
    // Every read goes to the cluster: the test watches it change.
    istioMesh: { cache: { ttlSeconds: 0 } },
    kubernetes: {
      serviceLocatorMethod: { type: 'multiTenant' },
      clusterLocatorMethods: [
        {
          type: 'config',
          clusters: [
            cluster('real', admin.token),
            cluster('real-limited', limitedTokenValue),
          ],
        },
      ],
    },
  };

  describe('istio-mesh backend against a real control plane (kube-apiserver v1.36, kwok nodes)', () => {
    let k8s: ClientNode;
    let core: import('@kubernetes/client-node').CoreV1Api;
    let apps: import('@kubernetes/client-node').AppsV1Api;
    let webhook: InjectionWebhook;
    let installed: InstalledAksControlPlane | undefined;
    let server: any;

    const get = (path: string) => request(server).get(`/api/istio-mesh${path}`);
    const entityStatus = async () => {
      const res = await get(`/v1/entities/component/default/${APP}`);
      expect(res.status).toBe(200);
      return res.body as EntityMeshStatus;
    };
    const realStatus = async () => {
      const body = await entityStatus();
      return body.clusters.find(c => c.cluster === 'real');
    };
    const patchAs = (type: string) =>
      k8s.setHeaderOptions('Content-Type', type);

    beforeAll(async () => {
      // client-node is ESM-only: under --experimental-vm-modules jest loads it with import() only.
      k8s = await import('@kubernetes/client-node');
      const kc = new k8s.KubeConfig();
      kc.loadFromClusterAndUser(
        {
          name: 'real',
          server: admin.server,
          caData: caDataValue,
          skipTLSVerify: false,
        },
        { name: 'mesh-admin', token: admin.token },
      );
      core = kc.makeApiClient(k8s.CoreV1Api);
      apps = kc.makeApiClient(k8s.AppsV1Api);

      // A namespace left by an earlier run against the same cluster: wait until it is gone.
      await deleteObject(admin, `/api/v1/namespaces/${NS}`);
      await pollUntil(
        `namespace ${NS} to be gone`,
        async () => {
          try {
            await kubeRequest(admin, 'GET', `/api/v1/namespaces/${NS}`);
            return undefined;
          } catch (e) {
            return e instanceof KubeRestError && e.status === 404
              ? true
              : undefined;
          }
        },
        120_000,
        500,
      );

      webhook = await startInjectionWebhook();
      installed = await installAksLikeControlPlane(admin, {
        revisions: ['asm-1-29', 'asm-1-30'],
        webhook,
      });

      await core.createNamespace({
        body: {
          metadata: { name: NS, labels: { 'istio.io/rev': 'asm-1-29' } },
        },
      });
      const labels = { app: APP, 'backstage.io/kubernetes-id': APP };
      await apps.createNamespacedDeployment({
        namespace: NS,
        body: {
          metadata: { name: APP, labels },
          spec: {
            replicas: 2,
            selector: { matchLabels: { app: APP } },
            template: {
              metadata: { labels },
              spec: {
                containers: [
                  {
                    name: 'api',
                    image: 'registry.example.com/payments-api:2.4.1',
                    ports: [{ containerPort: 8080 }],
                  },
                ],
              },
            },
          },
        },
      });
      await pollUntil(
        `2 Running and Ready pods of ${APP}`,
        async () => {
          const pods = await core.listNamespacedPod({
            namespace: NS,
            labelSelector: `app=${APP}`,
          });
          return pods.items.length === 2 &&
            pods.items.every(
              p =>
                p.status?.phase === 'Running' &&
                p.status.conditions?.some(
                  c => c.type === 'Ready' && c.status === 'True',
                ),
            )
            ? pods.items
            : undefined;
        },
        120_000,
        250,
      );

      ({ server } = await startTestBackend({
        features: [
          istioMeshPlugin,
          kubernetesBackendPlugin,
          catalogServiceMock.factory({ entities: [entity] }),
          mockServices.rootConfig.factory({ data: config }),
        ],
      }));
    }, 300_000);

    afterAll(async () => {
      // Webhooks first: with failurePolicy Fail they would block pods once the webhook is closed.
      await installed?.uninstall();
      await deleteObject(admin, `/api/v1/namespaces/${NS}`);
      await webhook?.close();
    }, 60_000);

    it('reads the revision, the injected pods and both control-plane revisions from the cluster', async () => {
      const body = await entityStatus();
      expect(body.entityRef).toBe('component:default/payments-api');
      expect(body.clusters.map(c => c.cluster)).toEqual(['real']);
      const real = body.clusters[0];
      expect(real.provider).toBe('aks');
      expect(real.controlPlane.namespace).toBe('aks-istio-system');
      expect(
        real.controlPlane.revisions.map(r => [
          r.revision,
          r.version,
          r.replicas,
          r.readyReplicas,
          r.ready,
        ]),
      ).toEqual([
        ['asm-1-29', '1.29.2', 2, 2, true],
        ['asm-1-30', '1.30.1', 2, 2, true],
      ]);
      expect(real.controlPlane.phase).toBe('Canary');
      expect(real.meshed).toBe(true);
      expect(real.driftedPods).toBe(0);
      expect(real.namespaces).toHaveLength(1);
      const [payments] = real.namespaces;
      expect(payments).toMatchObject({
        name: NS,
        revisionLabel: 'asm-1-29',
        targetRevision: 'asm-1-29',
        injection: {
          mode: 'revision',
          label: 'asm-1-29',
          revision: 'asm-1-29',
        },
        driftedPods: 0,
      });
      expect(payments.workloads).toEqual([
        {
          kind: 'Deployment',
          name: APP,
          replicas: 2,
          readyReplicas: 2,
          podsByRevision: { 'asm-1-29': 2 },
        },
      ]);
      const podNames = (await core.listNamespacedPod({ namespace: NS })).items
        .map(p => p.metadata!.name!)
        .sort();
      expect(payments.pods.map(p => p.name)).toEqual(podNames);
      for (const pod of payments.pods) {
        expect(pod).toMatchObject({
          workload: `Deployment/${APP}`,
          phase: 'Running',
          ready: true,
          state: 'in-sync',
          sidecar: {
            injected: true,
            revision: 'asm-1-29',
            proxyVersion: '1.29.2',
            native: true,
          },
        });
      }
      // The sidecars came through kube-apiserver's admission chain: it called our webhook
      // for each pod the ReplicaSet created.
      const reviews = webhook.records.filter(
        r => r.namespace === NS && !r.dryRun,
      );
      expect(reviews.map(r => [r.revision, r.operation, r.kind])).toEqual([
        ['asm-1-29', 'CREATE', 'Pod'],
        ['asm-1-29', 'CREATE', 'Pod'],
      ]);
      expect(reviews.every(r => r.patchOperations > 0)).toBe(true);
    });

    it('reports drift when the namespace moves to asm-1-30, and none once a rollout restart re-injected the pods', async () => {
      // As `kubectl label namespace payments istio.io/rev=asm-1-30 --overwrite` (merge patch).
      await core.patchNamespace(
        {
          name: NS,
          body: { metadata: { labels: { 'istio.io/rev': 'asm-1-30' } } },
        },
        patchAs(k8s.PatchStrategy.MergePatch),
      );
      const drifted = (await realStatus())!;
      const [payments] = drifted.namespaces;
      expect(payments).toMatchObject({
        revisionLabel: 'asm-1-30',
        targetRevision: 'asm-1-30',
        driftedPods: 2,
      });
      expect(payments.pods.map(p => [p.state, p.sidecar.revision])).toEqual([
        ['drifted', 'asm-1-29'],
        ['drifted', 'asm-1-29'],
      ]);
      expect(drifted.driftedPods).toBe(2);
      const detailBefore = (await get('/v1/clusters/real'))
        .body as ClusterDetail;
      expect(detailBefore.namespaces.find(n => n.name === NS)).toMatchObject({
        revisionLabel: 'asm-1-30',
        podsByRevision: { 'asm-1-29': 2 },
        driftedPods: 2,
      });
      expect(detailBefore.healthReasons).toContain(
        "2 pods drifted from their namespace's revision and need a restart.",
      );

      // As `kubectl rollout restart deployment/payments-api` (strategic merge patch).
      const before = (
        await apps.listNamespacedReplicaSet({ namespace: NS })
      ).items.map(rs => rs.metadata!.name);
      await apps.patchNamespacedDeployment(
        {
          namespace: NS,
          name: APP,
          body: {
            spec: {
              template: {
                metadata: {
                  annotations: {
                    'kubectl.kubernetes.io/restartedAt':
                      new Date().toISOString(),
                  },
                },
              },
            },
          },
        },
        patchAs(k8s.PatchStrategy.StrategicMergePatch),
      );
      const settled = await pollUntil(
        'the entity to report 2 in-sync pods on asm-1-30',
        async () => {
          const status = await realStatus();
          const ns = status?.namespaces[0];
          return ns &&
            ns.pods.length === 2 &&
            ns.pods.every(
              p =>
                p.state === 'in-sync' &&
                p.sidecar.revision === 'asm-1-30' &&
                p.ready,
            )
            ? status
            : undefined;
        },
        150_000,
        500,
      );
      expect(settled.driftedPods).toBe(0);
      expect(settled.namespaces[0].pods.map(p => p.sidecar)).toEqual([
        {
          injected: true,
          revision: 'asm-1-30',
          proxyVersion: '1.30.1',
          native: true,
        },
        {
          injected: true,
          revision: 'asm-1-30',
          proxyVersion: '1.30.1',
          native: true,
        },
      ]);
      // A new ReplicaSet made the pods; the old one is scaled to 0.
      const sets = (await apps.listNamespacedReplicaSet({ namespace: NS }))
        .items;
      const fresh = sets.filter(rs => !before.includes(rs.metadata!.name));
      expect(fresh).toHaveLength(1);
      expect(fresh[0].spec?.replicas).toBe(2);
      expect(
        sets
          .filter(rs => before.includes(rs.metadata!.name))
          .map(rs => rs.spec?.replicas),
      ).toEqual([0]);
      expect(
        webhook.records.filter(
          r => r.namespace === NS && r.revision === 'asm-1-30' && !r.dryRun,
        ),
      ).toHaveLength(2);

      const detail = (await get('/v1/clusters/real')).body as ClusterDetail;
      expect(detail.cluster).toBe('real');
      expect(detail.controlPlane.revisions.map(r => r.revision)).toEqual([
        'asm-1-29',
        'asm-1-30',
      ]);
      expect(detail.driftedPods).toBe(0);
      expect(detail.namespaces.find(n => n.name === NS)).toMatchObject({
        revisionLabel: 'asm-1-30',
        targetRevision: 'asm-1-30',
        injection: { mode: 'revision' },
        workloads: 1,
        pods: 2,
        podsByRevision: { 'asm-1-30': 2 },
        driftedPods: 0,
      });
    });

    it("reports the limited user's cluster as NotAllowedError (403 from kube-apiserver) while the admin one works", async () => {
      const body = await entityStatus();
      expect(body.clusters.map(c => c.cluster)).toEqual(['real']);
      expect(body.errors).toEqual([
        {
          cluster: 'real-limited',
          error: {
            name: 'NotAllowedError',
            message: expect.stringMatching(
              /^cluster 'real-limited' denied the request: [a-z.]+ is forbidden: User "mesh-limited" cannot list resource "[a-z]+" in API group "[a-z.]*" (at the cluster scope|in the namespace "[a-z-]+")$/,
            ),
          },
        },
      ]);
      const clusters = (await get('/v1/clusters')).body as ClustersResponse;
      expect(clusters.clusters.map(c => c.cluster)).toEqual(['real']);
      expect(clusters.errors.map(e => [e.cluster, e.error.name])).toEqual([
        ['real-limited', 'NotAllowedError'],
      ]);
    });

    it('gets 409 Conflict from kube-apiserver for a write with a stale resourceVersion', async () => {
      const stale = await core.readNamespace({ name: NS });
      await core.patchNamespace(
        {
          name: NS,
          body: {
            metadata: {
              annotations: { 'mesh-portal.example.com/touched': 'yes' },
            },
          },
        },
        patchAs(k8s.PatchStrategy.MergePatch),
      );
      let error: unknown;
      try {
        await core.replaceNamespace({ name: NS, body: stale });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(k8s.ApiException);
      const apiError = error as InstanceType<ClientNode['ApiException']>;
      expect(apiError.code).toBe(409);
      const status =
        typeof apiError.body === 'string'
          ? JSON.parse(apiError.body)
          : apiError.body;
      expect(status).toMatchObject({
        kind: 'Status',
        status: 'Failure',
        reason: 'Conflict',
        code: 409,
        details: { name: NS, kind: 'namespaces' },
        message: `Operation cannot be fulfilled on namespaces "${NS}": the object has been modified; please apply your changes to the latest version and try again`,
      });
      // The write did not happen: the newer state is intact.
      const current = await core.readNamespace({ name: NS });
      expect(
        current.metadata?.annotations?.['mesh-portal.example.com/touched'],
      ).toBe('yes');
      expect(Number(current.metadata?.resourceVersion)).toBeGreaterThan(
        Number(stale.metadata?.resourceVersion),
      );
    });

    // The shared MeshConfig (docs/meshconfig.md) against kube-apiserver's own optimistic concurrency.
    it('saves the shared MeshConfig with the resourceVersion, and kube-apiserver refuses a stale one (409, nothing written)', async () => {
      const name = 'istio-shared-configmap-asm-1-29';
      const cmNs = 'aks-istio-system';
      await deleteObject(admin, `/api/v1/namespaces/${cmNs}/configmaps/${name}`);
      await core.createNamespacedConfigMap({
        namespace: cmNs,
        body: { metadata: { name, namespace: cmNs }, data: { mesh: 'accessLogFile: /dev/stdout\n' } },
      });
      const put = (body: object) => request(server).put('/api/istio-mesh/v1/clusters/real/meshconfig').send(body);
      const view = (await get('/v1/clusters/real/meshconfig?revision=asm-1-29')).body;
      expect(view).toMatchObject({ provider: 'aks', editable: true, shared: { configMap: name, exists: true, yaml: 'accessLogFile: /dev/stdout\n' }, addonDefault: { configMap: 'istio-asm-1-29', exists: true } });
      expect(view.effective.fields).toContainEqual({ path: 'rootNamespace', value: cmNs, source: 'default', class: 'blocked', overridden: false });

      const blocked = await put({ revision: 'asm-1-29', yaml: 'rootNamespace: payments\n', resourceVersion: view.shared.resourceVersion });
      expect(blocked.status).toBe(400);
      expect((await core.readNamespacedConfigMap({ namespace: cmNs, name })).data).toEqual({ mesh: 'accessLogFile: /dev/stdout\n' });

      const saved = await put({ revision: 'asm-1-29', yaml: 'accessLogFile: /dev/stderr\n', resourceVersion: view.shared.resourceVersion });
      expect(saved.status).toBe(200);
      expect(saved.body.diff).toEqual([{ path: 'accessLogFile', change: 'changed', before: '/dev/stdout', after: '/dev/stderr' }]);
      const stored = await core.readNamespacedConfigMap({ namespace: cmNs, name });
      expect(stored.data).toEqual({ mesh: 'accessLogFile: /dev/stderr\n' });

      // The first view's resourceVersion is stale now: kube-apiserver itself refuses the write.
      const stale = await put({ revision: 'asm-1-29', yaml: 'accessLogFile: /dev/null\n', resourceVersion: view.shared.resourceVersion });
      expect(stale.status).toBe(409);
      expect(stale.body.error.message).toBe(
        `the ConfigMap changed since you loaded it: ${name} is at resourceVersion ${stored.metadata?.resourceVersion}, you loaded ${view.shared.resourceVersion}. Reload it and apply your change again.`,
      );
      expect((await core.readNamespacedConfigMap({ namespace: cmNs, name })).data).toEqual({ mesh: 'accessLogFile: /dev/stderr\n' });

      // A user whose Kubernetes RBAC does not reach the control plane gets 403 from the cluster; nothing is written.
      const limited = await request(server).put('/api/istio-mesh/v1/clusters/real-limited/meshconfig').send({ revision: 'asm-1-29', yaml: 'accessLogFile: /dev/null\n', resourceVersion: stored.metadata?.resourceVersion });
      expect(limited.status).toBe(403);
      expect((await core.readNamespacedConfigMap({ namespace: cmNs, name })).data).toEqual({ mesh: 'accessLogFile: /dev/stderr\n' });
      await deleteObject(admin, `/api/v1/namespaces/${cmNs}/configmaps/${name}`);
    });
  });
}
