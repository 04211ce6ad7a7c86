import { createServer } from 'node:net';
import { injectorWebhookConfiguration } from '../istio/install';
import {
  installAksLikeControlPlane,
  InstalledAksControlPlane,
} from './aksControlPlane';
import { InjectionWebhook, startInjectionWebhook } from './injectionWebhook';
import {
  applyObject,
  deleteObject,
  KubeRestError,
  kubeRequest,
  kubeTargetFromEnv,
  KubeTarget,
  pollUntil,
} from './kubeRest';

/*
 * Sidecar injection through a REAL kube-apiserver: it evaluates the add-on's webhook
 * registrations (namespaceSelector, objectSelector, failurePolicy) and calls our
 * injection webhook, whose patch it applies, defaults and validates. The cases mirror the
 * AKS half of ../istio/injection.test.ts, where the sandbox imitates the same chain.
 *
 * Runs when KUBE_URL, KUBE_ADMIN_TOKEN and KUBE_CA_FILE/KUBE_CA_DATA are set, i.e. under
 * `e2e/kube/run.sh -- bash scripts/jest.sh --real-cluster` (docs/testing.md).
 */

const target = kubeTargetFromEnv();

if (!target) {
  // eslint-disable-next-line jest/no-disabled-tests
  describe.skip('sidecar injection through a real kube-apiserver (skipped: KUBE_URL, KUBE_ADMIN_TOKEN and KUBE_CA_FILE are not set; run it with e2e/kube/run.sh -- bash scripts/jest.sh --real-cluster)', () => {
    it.todo('injects istio-proxy through the real admission chain');
  });
} else {
  describeInjection(target);
}

function describeInjection(kube: KubeTarget) {
  jest.setTimeout(120_000);

  describe('sidecar injection through a real kube-apiserver (AKS add-on layout: asm-1-28, asm-1-29)', () => {
    const run = Math.random().toString(36).slice(2, 7);
    const namespaces: string[] = [];
    let webhook: InjectionWebhook;
    let installed: InstalledAksControlPlane | undefined;

    beforeAll(async () => {
      webhook = await startInjectionWebhook();
      installed = await installAksLikeControlPlane(kube, {
        revisions: ['asm-1-28', 'asm-1-29'],
        webhook,
        istiodReplicas: 1,
      });
    });

    afterAll(async () => {
      await installed?.uninstall();
      await deleteObject(
        kube,
        '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-sidecar-injector-asm-1-31-aks-istio-system',
      );
      for (const ns of namespaces)
        await deleteObject(kube, `/api/v1/namespaces/${ns}`);
      await webhook?.close();
    });

    async function namespace(labels: Record<string, string>) {
      const name = `inject-${run}-${namespaces.length + 1}`;
      await kubeRequest(kube, 'POST', '/api/v1/namespaces', {
        metadata: { name, labels },
      });
      namespaces.push(name);
      return name;
    }

    async function createPod(
      ns: string,
      labels: Record<string, string> = {},
      annotations: Record<string, string> = {},
    ) {
      return kubeRequest(kube, 'POST', `/api/v1/namespaces/${ns}/pods`, {
        metadata: {
          name: 'app',
          labels: { app: 'app', ...labels },
          annotations,
        },
        spec: { containers: [{ name: 'app', image: 'example.com/app:1' }] },
      });
    }

    const reviewsIn = (ns: string) =>
      webhook.records.filter(r => r.namespace === ns && !r.dryRun);

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

    it("registers the add-on's webhooks, and kube-apiserver keeps them as registered", async () => {
      const config = await kubeRequest(
        kube,
        'GET',
        '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-sidecar-injector-asm-1-29-aks-istio-system',
      );
      expect(config.metadata.labels).toEqual({
        app: 'sidecar-injector',
        'istio.io/rev': 'asm-1-29',
        'kubernetes.azure.com/managedby': 'aks',
      });
      expect(config.webhooks.map((w: any) => w.name)).toEqual([
        'rev.namespace.sidecar-injector.istio.io',
        'rev.object.sidecar-injector.istio.io',
      ]);
      expect(config.webhooks[0]).toEqual({
        name: 'rev.namespace.sidecar-injector.istio.io',
        admissionReviewVersions: ['v1'],
        clientConfig: {
          url: webhook.urlFor('asm-1-29'),
          caBundle: webhook.caBundle,
        },
        rules: [
          {
            apiGroups: [''],
            apiVersions: ['v1'],
            operations: ['CREATE'],
            resources: ['pods'],
            scope: '*',
          },
        ],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        reinvocationPolicy: 'Never',
        namespaceSelector: {
          matchExpressions: [
            { key: 'istio.io/rev', operator: 'In', values: ['asm-1-29'] },
            { key: 'istio-injection', operator: 'DoesNotExist' },
          ],
        },
        objectSelector: {
          matchExpressions: [
            {
              key: 'sidecar.istio.io/inject',
              operator: 'NotIn',
              values: ['false'],
            },
          ],
        },
        // Defaulted by kube-apiserver:
        matchPolicy: 'Equivalent',
        timeoutSeconds: 10,
      });
      // The registration is the one the sandbox seeds, apart from where the injector runs.
      const seeded = injectorWebhookConfiguration('asm-1-29', {
        url: webhook.urlFor('asm-1-29'),
        caBundle: webhook.caBundle,
      });
      expect(
        config.webhooks.map(({ matchPolicy, timeoutSeconds, ...w }: any) => w),
      ).toEqual(seeded.webhooks);
    });

    it('injects by the namespace label istio.io/rev, as a native sidecar from asm-1-29 on', async () => {
      const ns = await namespace({ 'istio.io/rev': 'asm-1-29' });
      const pod = await createPod(ns);
      expect(describePod(pod)).toEqual({
        revision: 'asm-1-29',
        revLabel: 'asm-1-29',
        initContainers: ['istio-init', 'istio-proxy'],
        containers: ['app'],
        proxyImage: 'mcr.microsoft.com/oss/istio/proxyv2:1.29.2-distroless',
        native: true,
        caAddr: 'istiod-asm-1-29.aks-istio-system.svc:15012',
      });
      // kube-apiserver defaulted what the patch added, as it does for any container.
      const proxy = pod.spec.initContainers[1];
      expect(proxy).toMatchObject({
        restartPolicy: 'Always',
        imagePullPolicy: 'IfNotPresent',
        terminationMessagePolicy: 'File',
      });
      expect(reviewsIn(ns)).toEqual([
        expect.objectContaining({
          revision: 'asm-1-29',
          name: 'app',
          operation: 'CREATE',
          patchOperations: expect.any(Number),
        }),
      ]);
    });

    it('injects classic sidecars (istio-proxy among the containers) before asm-1-29', async () => {
      const ns = await namespace({ 'istio.io/rev': 'asm-1-28' });
      expect(describePod(await createPod(ns))).toEqual({
        revision: 'asm-1-28',
        revLabel: 'asm-1-28',
        initContainers: ['istio-init'],
        containers: ['app', 'istio-proxy'],
        proxyImage: 'mcr.microsoft.com/oss/istio/proxyv2:1.28.4-distroless',
        native: false,
        caAddr: 'istiod-asm-1-28.aks-istio-system.svc:15012',
      });
    });

    it('ignores istio-injection=enabled, alone or with istio.io/rev: the webhook is not even called', async () => {
      const enabled = await namespace({ 'istio-injection': 'enabled' });
      expect(describePod(await createPod(enabled))).toEqual(notInjected);
      const both = await namespace({
        'istio-injection': 'enabled',
        'istio.io/rev': 'asm-1-29',
      });
      expect(describePod(await createPod(both))).toEqual(notInjected);
      expect([...reviewsIn(enabled), ...reviewsIn(both)]).toEqual([]);
    });

    it('lets a pod opt out: the label is the objectSelector (no call), the annotation is honoured by the injector', async () => {
      const ns = await namespace({ 'istio.io/rev': 'asm-1-29' });
      expect(
        describePod(
          await createPod(ns, { 'sidecar.istio.io/inject': 'false' }),
        ),
      ).toEqual(notInjected);
      expect(reviewsIn(ns)).toEqual([]);
      await kubeRequest(
        kube,
        'DELETE',
        `/api/v1/namespaces/${ns}/pods/app?gracePeriodSeconds=0`,
      );
      await pollUntil(
        'the pod to be gone',
        async () => {
          try {
            await kubeRequest(kube, 'GET', `/api/v1/namespaces/${ns}/pods/app`);
            return undefined;
          } catch (e) {
            return e instanceof KubeRestError && e.status === 404
              ? true
              : undefined;
          }
        },
        30_000,
      );
      expect(
        describePod(
          await createPod(ns, {}, { 'sidecar.istio.io/inject': 'false' }),
        ),
      ).toEqual(notInjected);
      expect(reviewsIn(ns)).toEqual([
        expect.objectContaining({
          patchOperations: 0,
          skipped: 'opted out by annotation',
        }),
      ]);
    });

    it('injects a pod labelled istio.io/rev in an unlabelled namespace', async () => {
      const ns = await namespace({});
      expect(
        describePod(await createPod(ns, { 'istio.io/rev': 'asm-1-29' }))
          .revision,
      ).toBe('asm-1-29');
    });

    it('does not inject for a revision that is not installed', async () => {
      const ns = await namespace({ 'istio.io/rev': 'asm-1-30' });
      expect(describePod(await createPod(ns))).toEqual(notInjected);
    });

    it('injects the pods that the ReplicaSet of a Deployment creates, which then run on kwok nodes', async () => {
      const ns = await namespace({ 'istio.io/rev': 'asm-1-29' });
      await kubeRequest(
        kube,
        'POST',
        `/apis/apps/v1/namespaces/${ns}/deployments`,
        {
          metadata: { name: 'web' },
          spec: {
            replicas: 2,
            selector: { matchLabels: { app: 'web' } },
            template: {
              metadata: { labels: { app: 'web' } },
              spec: {
                containers: [{ name: 'web', image: 'example.com/web:1' }],
              },
            },
          },
        },
      );
      const pods = await pollUntil(
        '2 Running pods of web',
        async () => {
          const list = await kubeRequest(
            kube,
            'GET',
            `/api/v1/namespaces/${ns}/pods?labelSelector=app%3Dweb`,
          );
          return list.items.length === 2 &&
            list.items.every((p: any) => p.status?.phase === 'Running')
            ? list.items
            : undefined;
        },
        60_000,
      );
      for (const pod of pods) {
        expect(describePod(pod)).toMatchObject({
          revision: 'asm-1-29',
          initContainers: ['istio-init', 'istio-proxy'],
          containers: ['web'],
          native: true,
        });
        expect(pod.metadata.labels['service.istio.io/canonical-name']).toBe(
          'web',
        );
        expect(pod.metadata.ownerReferences[0].kind).toBe('ReplicaSet');
      }
      // The ReplicaSet's pods reach the webhook before they have a name.
      expect(reviewsIn(ns).map(r => r.name)).toEqual([
        expect.stringMatching(/^web-[a-z0-9]+-$/),
        expect.stringMatching(/^web-[a-z0-9]+-$/),
      ]);
    });

    it('blocks pod creation when the injector cannot be reached (failurePolicy Fail), as the sandbox does for a dangling istiod', async () => {
      const closedPort = await new Promise<number>(resolve => {
        const s = createServer();
        s.listen(0, '127.0.0.1', () => {
          const { port } = s.address() as { port: number };
          s.close(() => resolve(port));
        });
      });
      const dangling = injectorWebhookConfiguration('asm-1-31', {
        url: `https://127.0.0.1:${closedPort}/inject/asm-1-31`,
        caBundle: webhook.caBundle,
      });
      await applyObject(
        kube,
        '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
        dangling,
      );
      const ns = await namespace({ 'istio.io/rev': 'asm-1-31' });
      const error = await pollUntil(
        'kube-apiserver to call the unreachable webhook',
        async () => {
          try {
            await kubeRequest(
              kube,
              'POST',
              `/api/v1/namespaces/${ns}/pods?dryRun=All`,
              {
                metadata: { name: 'app' },
                spec: {
                  containers: [{ name: 'app', image: 'example.com/app:1' }],
                },
              },
            );
            return undefined;
          } catch (e) {
            return e as KubeRestError;
          }
        },
        30_000,
      );
      expect(error).toBeInstanceOf(KubeRestError);
      expect(error.status).toBe(500);
      expect(error.body).toMatchObject({
        kind: 'Status',
        status: 'Failure',
        reason: 'InternalError',
        code: 500,
      });
      expect(error.body.message).toMatch(
        new RegExp(
          `^Internal error occurred: failed calling webhook "rev\\.namespace\\.sidecar-injector\\.istio\\.io": failed to call webhook: Post "https://127\\.0\\.0\\.1:${closedPort}/inject/asm-1-31\\?timeout=10s": `,
        ),
      );
    });
  });
}
