/* eslint-disable jest/no-export -- a shared suite: test files call describeKubeContract() */
import http from 'node:http';
import https from 'node:https';
import {
  ApiException,
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  V1ConfigMap,
  V1Deployment,
  V1ReplicaSet,
  V1Service,
  Watch,
  setHeaderOptions,
} from '@kubernetes/client-node';

/**
 * The kube-apiserver contract the sandbox has to honour, as a client
 * (`@kubernetes/client-node`) sees it. The same cases run against the sandbox
 * (../sandbox.contract.test.ts) and, when configured, against a real cluster
 * (../cluster.contract.test.ts): every case creates its own namespace and objects with
 * unique names and cleans up after itself, so an empty cluster is enough.
 */

export interface KubeContractTarget {
  /**
   * Credentials to act with. They need to create, patch and delete namespaces,
   * ConfigMaps, Services and Deployments.
   */
  kubeConfig: KubeConfig;
}

export interface KubeContractOptions {
  /**
   * Set when the target authenticates with bearer tokens; enables the 401 cases.
   * `anonymousStatus` is what it answers a request without credentials: 401, or 403
   * when anonymous auth is on (system:anonymous is then authenticated but forbidden).
   */
  tokenAuth?: { anonymousStatus: 401 | 403 };
  /** Per-test timeout; a real cluster over the network is slower than the sandbox. */
  timeoutMs?: number;
  /**
   * How long to wait for what controllers do (a rollout, a namespace finalized), polling.
   * Default 20 s; a real cluster with kwok needs more.
   */
  eventuallyTimeoutMs?: number;
}

/** The body of a failed request, as kube-apiserver sends it. */
export interface KubeStatus {
  kind: string;
  apiVersion: string;
  metadata: { continue?: string };
  status: string;
  message: string;
  reason?: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: Array<{ reason: string; message: string; field: string }>;
  };
  code: number;
}

/** Awaits a request that must fail with an ApiException, and returns it. */
export async function captureApiError(
  request: Promise<unknown>,
): Promise<ApiException<unknown>> {
  let error: unknown;
  try {
    await request;
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ApiException);
  return error as ApiException<unknown>;
}

/** Awaits a request that must fail and returns the `Status` it failed with. */
export async function expectFailure(
  request: Promise<unknown>,
  codes: number | number[],
): Promise<KubeStatus> {
  const allowed = Array.isArray(codes) ? codes : [codes];
  const apiError = await captureApiError(request);
  expect(allowed).toContain(apiError.code);
  const body: KubeStatus =
    typeof apiError.body === 'string'
      ? JSON.parse(apiError.body)
      : (apiError.body as KubeStatus);
  expect(body).toMatchObject({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    code: apiError.code,
  });
  return body;
}

/**
 * A GET with nothing but `kc`'s credentials, for responses the typed client hides
 * (it drops the body of a 401).
 */
export async function rawGet(
  kc: KubeConfig,
  path: string,
): Promise<{ status: number; body: any }> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the KubeConfig has no current cluster');
  const options: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  const url = new URL(`${cluster.server.replace(/\/$/, '')}${path}`);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(url, { ...options, method: 'GET' }, res => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: text });
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A KubeConfig for the same server as `kc`, authenticating with `token` (or not at all). */
export function withBearerToken(
  kc: KubeConfig,
  token: string | undefined,
): KubeConfig {
  const cluster = kc.getCurrentCluster();
  if (!cluster)
    throw new Error('the contract target KubeConfig has no current cluster');
  const out = new KubeConfig();
  out.loadFromClusterAndUser(cluster, {
    name: 'kube-contract',
    ...(token !== undefined ? { token } : {}),
  });
  return out;
}

const patchAs = (strategy: string) =>
  setHeaderOptions('Content-Type', strategy);
const rv = (o: { metadata?: { resourceVersion?: string } }) =>
  Number(o.metadata?.resourceVersion);
const namesOf = (list: { items: Array<{ metadata?: { name?: string } }> }) =>
  list.items.map(i => i.metadata?.name ?? '').sort();

function configMap(
  name: string,
  labels: Record<string, string> = {},
  data: Record<string, string> = {},
): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, labels },
    data,
  };
}

function deployment(name: string): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 0, // no pods: the contract is about the API, not the scheduler
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            { name: 'app', image: 'registry.k8s.io/pause:3.10' },
            { name: 'helper', image: 'registry.k8s.io/pause:3.9' },
          ],
        },
      },
    },
  };
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `not within ${timeoutMs} ms: ${what}${
          last ? ` (last error: ${String(last)})` : ''
        }`,
      );
    }
    await new Promise(resolve => setTimeout(resolve, intervalMs));
  }
}

export interface CollectedEvent {
  type: string;
  object: any;
}

/**
 * A watch through client-node's `Watch` (as informers use it), collecting its events.
 * `query` holds the list parameters (labelSelector, resourceVersion...).
 */
export async function collectWatch(
  kc: KubeConfig,
  path: string,
  query: Record<string, string | number | boolean>,
) {
  const events: CollectedEvent[] = [];
  let closed: unknown = undefined;
  const controller = await new Watch(kc).watch(
    path,
    query,
    (type: string, object: any) => events.push({ type, object }),
    (err: unknown) => {
      closed = err ?? 'closed';
    },
  );
  return {
    events,
    /** Resolves with the events once `predicate` holds for them. */
    until: (
      what: string,
      predicate: (all: CollectedEvent[]) => boolean,
      timeoutMs: number,
    ) =>
      eventually(
        `${what}; saw ${JSON.stringify(
          events.map(e => [e.type, e.object?.metadata?.name]),
        )}${closed ? `, then the watch closed (${String(closed)})` : ''}`,
        () => (predicate(events) ? [...events] : undefined),
        timeoutMs,
      ),
    stop: () => controller.abort(),
  };
}

export function describeKubeContract(
  name: string,
  getTarget: () => KubeContractTarget,
  options: KubeContractOptions = {},
) {
  const timeout = options.timeoutMs ?? 15_000;
  const eventuallyMs = options.eventuallyTimeoutMs ?? 20_000;
  const slowTimeout = Math.max(timeout, eventuallyMs * 2 + 5_000);

  describe(`kube-apiserver contract: ${name}`, () => {
    const run = Math.random().toString(36).slice(2, 8);
    const ns = `kube-contract-${run}`;
    let kc: KubeConfig;
    let core: CoreV1Api;
    let apps: AppsV1Api;

    beforeAll(async () => {
      kc = getTarget().kubeConfig;
      core = kc.makeApiClient(CoreV1Api);
      apps = kc.makeApiClient(AppsV1Api);
      await core.createNamespace({
        body: { metadata: { name: ns, labels: { 'kube-contract': run } } },
      });
    }, timeout);

    afterAll(async () => {
      await core.deleteNamespace({ name: ns }).catch(() => undefined);
    }, timeout);

    describe('lists', () => {
      it(
        'returns typed lists with a resourceVersion no older than any of their items',
        async () => {
          await core.createNamespacedConfigMap({
            namespace: ns,
            body: configMap('list-item', { fixture: 'lists' }),
          });

          const namespaces = await core.listNamespace({
            labelSelector: `kube-contract=${run}`,
          });
          expect(namespaces.kind).toBe('NamespaceList');
          expect(namespaces.apiVersion).toBe('v1');
          expect(namesOf(namespaces)).toEqual([ns]);
          expect(namespaces.metadata?.resourceVersion).toMatch(/^[1-9][0-9]*$/);
          expect(rv(namespaces)).toBeGreaterThanOrEqual(
            rv(namespaces.items[0]),
          );

          const configMaps = await core.listNamespacedConfigMap({
            namespace: ns,
            labelSelector: 'fixture=lists',
          });
          expect(configMaps.kind).toBe('ConfigMapList');
          expect(configMaps.apiVersion).toBe('v1');
          expect(namesOf(configMaps)).toEqual(['list-item']);
          expect(configMaps.items[0].metadata?.namespace).toBe(ns);
          expect(rv(configMaps)).toBeGreaterThanOrEqual(
            rv(configMaps.items[0]),
          );
          // Items of a typed list carry no kind/apiVersion of their own.
          expect(configMaps.items[0].kind).toBeUndefined();
          expect(configMaps.items[0].apiVersion).toBeUndefined();

          const deployments = await apps.listNamespacedDeployment({
            namespace: ns,
          });
          expect(deployments.kind).toBe('DeploymentList');
          expect(deployments.apiVersion).toBe('apps/v1');
          expect(deployments.items).toEqual([]);
          expect(deployments.metadata?.resourceVersion).toMatch(
            /^[1-9][0-9]*$/,
          );
        },
        timeout,
      );

      it(
        'filters by field selector on metadata.name',
        async () => {
          await core.createNamespacedConfigMap({
            namespace: ns,
            body: configMap('field-a', { fixture: 'fields' }),
          });
          await core.createNamespacedConfigMap({
            namespace: ns,
            body: configMap('field-b', { fixture: 'fields' }),
          });
          const eq = await core.listNamespacedConfigMap({
            namespace: ns,
            fieldSelector: 'metadata.name=field-b',
          });
          expect(namesOf(eq)).toEqual(['field-b']);
          const neq = await core.listNamespacedConfigMap({
            namespace: ns,
            labelSelector: 'fixture=fields',
            fieldSelector: 'metadata.name!=field-b',
          });
          expect(namesOf(neq)).toEqual(['field-a']);
        },
        timeout,
      );

      it(
        'lists one name across namespaces with a field selector (as the portal reads istio-ca-root-cert)',
        async () => {
          const other = `${ns}-b`;
          await core.createNamespace({ body: { metadata: { name: other, labels: { 'kube-contract': run } } } });
          try {
            for (const namespace of [ns, other]) {
              await core.createNamespacedConfigMap({ namespace, body: configMap('across-ns', { fixture: 'across' }) });
            }
            await core.createNamespacedConfigMap({ namespace: ns, body: configMap('across-ns-not', { fixture: 'across' }) });
            const all = await core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.name=across-ns', labelSelector: 'fixture=across' });
            expect(all.kind).toBe('ConfigMapList');
            expect(all.items.map(c => c.metadata?.namespace).sort()).toEqual([ns, other].sort());
            expect(all.items.every(c => c.metadata?.name === 'across-ns')).toBe(true);
          } finally {
            await core.deleteNamespace({ name: other }).catch(() => undefined);
          }
        },
        timeout,
      );

      it(
        'serves autoscaling/v2 HorizontalPodAutoscalers: create, get, list across namespaces by label',
        async () => {
          const autoscaling = kc.makeApiClient(AutoscalingV2Api);
          await apps.createNamespacedDeployment({ namespace: ns, body: deployment('hpa-target') });
          const created = await autoscaling.createNamespacedHorizontalPodAutoscaler({
            namespace: ns,
            body: {
              metadata: { name: 'hpa-target', labels: { fixture: 'hpa', 'istio.io/rev': 'asm-1-30' } },
              spec: {
                minReplicas: 2,
                maxReplicas: 5,
                scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'hpa-target' },
                metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
              },
            },
          });
          expect(created.metadata?.uid).toBeTruthy();
          const read = await autoscaling.readNamespacedHorizontalPodAutoscaler({ namespace: ns, name: 'hpa-target' });
          expect(read.spec).toMatchObject({ minReplicas: 2, maxReplicas: 5, scaleTargetRef: { kind: 'Deployment', name: 'hpa-target' } });
          const list = await autoscaling.listHorizontalPodAutoscalerForAllNamespaces({ labelSelector: 'fixture=hpa,istio.io/rev' });
          expect(list.kind).toBe('HorizontalPodAutoscalerList');
          expect(list.apiVersion).toBe('autoscaling/v2');
          expect(list.items.map(h => [h.metadata?.namespace, h.metadata?.name])).toEqual([[ns, 'hpa-target']]);
        },
        timeout,
      );
    });

    describe('label selectors', () => {
      const fixtures: Record<string, Record<string, string>> = {
        'sel-a': { tier: 'frontend', env: 'prod', weight: '1' },
        'sel-b': { tier: 'backend', env: 'prod', weight: '5' },
        'sel-c': { tier: 'backend', env: 'dev', canary: 'true', weight: '20' },
        'sel-d': { env: 'staging', weight: 'heavy' },
        'sel-e': { tier: 'cache', weight: '10' },
      };

      beforeAll(async () => {
        for (const [cmName, labels] of Object.entries(fixtures)) {
          await core.createNamespacedConfigMap({
            namespace: ns,
            body: configMap(cmName, { fixture: 'selectors', ...labels }),
          });
        }
      }, timeout);

      const select = async (selector: string) =>
        namesOf(
          await core.listNamespacedConfigMap({
            namespace: ns,
            labelSelector: selector
              ? `fixture=selectors,${selector}`
              : 'fixture=selectors',
          }),
        );

      it.each([
        ['', ['sel-a', 'sel-b', 'sel-c', 'sel-d', 'sel-e']],
        ['tier=backend', ['sel-b', 'sel-c']],
        ['tier==backend', ['sel-b', 'sel-c']],
        ['tier!=backend', ['sel-a', 'sel-d', 'sel-e']], // no tier label also matches !=
        ['tier in (frontend,cache)', ['sel-a', 'sel-e']],
        ['tier in (frontend, cache)', ['sel-a', 'sel-e']],
        ['tier notin (frontend,cache)', ['sel-b', 'sel-c', 'sel-d']], // as does notin
        ['canary', ['sel-c']],
        ['!tier', ['sel-d']],
        ['env=prod,tier=backend', ['sel-b']],
        ['env in (prod,dev),!canary', ['sel-a', 'sel-b']],
        ['weight>4', ['sel-b', 'sel-c', 'sel-e']], // non-integer values never match
        ['weight<5', ['sel-a']],
        ['tier=nothing', []],
      ])(
        'selects %j',
        async (selector, expected) => {
          expect(await select(selector)).toEqual(expected);
        },
        timeout,
      );

      it.each([
        'tier in (frontend',
        'tier=front end',
        '=backend',
        'tier=bad$value',
        'weight>heavy',
        'tier,,env',
        'Bad Key=x',
      ])(
        'rejects the invalid selector %j with 400 BadRequest',
        async selector => {
          const status = await expectFailure(
            core.listNamespacedConfigMap({
              namespace: ns,
              labelSelector: selector,
            }),
            400,
          );
          expect(status.reason).toBe('BadRequest');
        },
        timeout,
      );
    });

    describe('pagination', () => {
      const pageNames = [
        'page-0',
        'page-1',
        'page-2',
        'page-3',
        'page-4',
        'page-5',
        'page-6',
      ];

      beforeAll(async () => {
        for (const cmName of pageNames) {
          await core.createNamespacedConfigMap({
            namespace: ns,
            body: configMap(cmName, { fixture: 'paging' }),
          });
        }
      }, timeout);

      it(
        'walks every item exactly once from one snapshot, and the last page has no continue',
        async () => {
          const seen: string[] = [];
          const sizes: number[] = [];
          const first = await core.listNamespacedConfigMap({
            namespace: ns,
            labelSelector: 'fixture=paging',
            limit: 3,
          });
          const snapshotRv = first.metadata?.resourceVersion;
          expect(first.metadata?._continue).toMatch(/.+/);
          // With a selector the server cannot know how many items remain.
          expect(first.metadata?.remainingItemCount).toBeUndefined();
          seen.push(...first.items.map(i => i.metadata!.name!));
          sizes.push(first.items.length);

          // Writes between pages do not show up: later pages come from the first page's snapshot.
          await core.createNamespacedConfigMap({
            namespace: ns,
            body: configMap('page-9', { fixture: 'paging' }),
          });
          await core.deleteNamespacedConfigMap({
            namespace: ns,
            name: 'page-5',
          });

          let token = first.metadata?._continue;
          while (token) {
            const page = await core.listNamespacedConfigMap({
              namespace: ns,
              labelSelector: 'fixture=paging',
              limit: 3,
              _continue: token,
            });
            expect(page.metadata?.resourceVersion).toBe(snapshotRv);
            seen.push(...page.items.map(i => i.metadata!.name!));
            sizes.push(page.items.length);
            token = page.metadata?._continue;
          }
          expect(sizes).toEqual([3, 3, 1]);
          expect(seen).toEqual(pageNames); // in key order, each once

          const now = await core.listNamespacedConfigMap({
            namespace: ns,
            labelSelector: 'fixture=paging',
          });
          expect(namesOf(now)).toEqual([
            'page-0',
            'page-1',
            'page-2',
            'page-3',
            'page-4',
            'page-6',
            'page-9',
          ]);
          expect(now.metadata?._continue).toBeUndefined();
          expect(rv(now)).toBeGreaterThan(Number(snapshotRv));
        },
        timeout,
      );

      it(
        'counts the remaining items when there is no selector',
        async () => {
          const all = await core.listNamespacedConfigMap({ namespace: ns });
          const first = await core.listNamespacedConfigMap({
            namespace: ns,
            limit: 2,
          });
          expect(first.items.map(i => i.metadata?.name)).toEqual(
            namesOf(all).slice(0, 2),
          );
          expect(first.metadata?.remainingItemCount).toBe(all.items.length - 2);
          const second = await core.listNamespacedConfigMap({
            namespace: ns,
            limit: 2,
            _continue: first.metadata?._continue,
          });
          expect(second.items.map(i => i.metadata?.name)).toEqual(
            namesOf(all).slice(2, 4),
          );
          expect(second.metadata?.remainingItemCount).toBe(
            all.items.length - 4,
          );
        },
        timeout,
      );

      it(
        'does not paginate without a limit',
        async () => {
          const list = await core.listNamespacedConfigMap({
            namespace: ns,
            labelSelector: 'fixture=paging',
          });
          expect(list.items.length).toBeGreaterThan(3);
          expect(list.metadata?._continue).toBeUndefined();
          expect(list.metadata?.remainingItemCount).toBeUndefined();
        },
        timeout,
      );

      it(
        'rejects a malformed continue token (400, or 410 Gone)',
        async () => {
          const status = await expectFailure(
            core.listNamespacedConfigMap({
              namespace: ns,
              limit: 2,
              _continue: 'not-a-continue-token',
            }),
            [400, 410],
          );
          expect(status.reason).toBe(
            status.code === 400 ? 'BadRequest' : 'Expired',
          );
        },
        timeout,
      );

      it(
        'rejects a continue token combined with a resourceVersion',
        async () => {
          const first = await core.listNamespacedConfigMap({
            namespace: ns,
            labelSelector: 'fixture=paging',
            limit: 2,
          });
          const status = await expectFailure(
            core.listNamespacedConfigMap({
              namespace: ns,
              labelSelector: 'fixture=paging',
              limit: 2,
              _continue: first.metadata?._continue,
              resourceVersion: first.metadata?.resourceVersion,
            }),
            400,
          );
          expect(status.reason).toBe('BadRequest');
        },
        timeout,
      );
    });

    describe('errors', () => {
      it(
        'answers a get of a missing object with 404 and a NotFound Status',
        async () => {
          const status = await expectFailure(
            core.readNamespacedConfigMap({
              namespace: ns,
              name: 'does-not-exist',
            }),
            404,
          );
          expect(status).toEqual({
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            message: 'configmaps "does-not-exist" not found',
            reason: 'NotFound',
            details: { name: 'does-not-exist', kind: 'configmaps' },
            code: 404,
          });

          const inGroup = await expectFailure(
            apps.readNamespacedDeployment({
              namespace: ns,
              name: 'does-not-exist',
            }),
            404,
          );
          expect(inGroup.message).toBe(
            'deployments.apps "does-not-exist" not found',
          );
          expect(inGroup.reason).toBe('NotFound');
          expect(inGroup.details).toEqual({
            name: 'does-not-exist',
            group: 'apps',
            kind: 'deployments',
          });

          const namespace = await expectFailure(
            core.readNamespace({ name: `missing-${run}` }),
            404,
          );
          expect(namespace.details).toEqual({
            name: `missing-${run}`,
            kind: 'namespaces',
          });
        },
        timeout,
      );

      it(
        'answers a duplicate create with 409 AlreadyExists',
        async () => {
          await core.createNamespacedConfigMap({
            namespace: ns,
            body: configMap('dup'),
          });
          const status = await expectFailure(
            core.createNamespacedConfigMap({
              namespace: ns,
              body: configMap('dup'),
            }),
            409,
          );
          expect(status.reason).toBe('AlreadyExists');
          expect(status.message).toBe('configmaps "dup" already exists');
          expect(status.details).toEqual({ name: 'dup', kind: 'configmaps' });
        },
        timeout,
      );

      it(
        'answers a create in a missing namespace with 404',
        async () => {
          const status = await expectFailure(
            core.createNamespacedConfigMap({
              namespace: `missing-${run}`,
              body: configMap('orphan'),
            }),
            404,
          );
          expect(status.reason).toBe('NotFound');
          expect(status.message).toBe(`namespaces "missing-${run}" not found`);
        },
        timeout,
      );

      const invalidNameCases: Array<[string, string]> = [
        ['ConfigMap', 'Bad_Name'],
        ['Namespace', 'Bad_Name'],
        ['Namespace', 'dots.are.not.allowed'],
        ['Service', 'Bad_Name'], // invalid under the old and the relaxed rules (below)
      ];

      it.each(invalidNameCases)(
        'answers a %s named %j with 422 Invalid',
        async (kind, badName) => {
          const create: Record<string, () => Promise<unknown>> = {
            ConfigMap: () =>
              core.createNamespacedConfigMap({
                namespace: ns,
                body: configMap(badName),
              }),
            Namespace: () =>
              core.createNamespace({ body: { metadata: { name: badName } } }),
            Service: () =>
              core.createNamespacedService({
                namespace: ns,
                body: {
                  metadata: { name: badName },
                  spec: { ports: [{ port: 80 }] },
                },
              }),
          };
          const status = await expectFailure(create[kind](), 422);
          expect(status.reason).toBe('Invalid');
          expect(
            status.message.startsWith(
              `${kind} "${badName}" is invalid: metadata.name: Invalid value: "${badName}"`,
            ),
          ).toBe(true);
          expect(status.details?.name).toBe(badName);
          expect(status.details?.kind).toBe(kind);
          expect(status.details?.causes?.map(c => [c.reason, c.field])).toEqual(
            [['FieldValueInvalid', 'metadata.name']],
          );
        },
        timeout,
      );

      it(
        'answers a Service named "1-starts-with-a-digit" as its version does: 422 Invalid before Kubernetes 1.36, created from 1.36 on',
        async () => {
          // Service names were DNS-1035 labels (a letter first) until KEP-5311
          // ("Relaxed validation for Services names", feature gate
          // RelaxedServiceNameValidation: alpha and off in 1.34, beta and on by default
          // from 1.36 - kubernetes/kubernetes#136389 - GA in 1.37) made them DNS-1123
          // labels like other names. The sandbox imitates 1.34 and reports it at /version.
          const version = await rawGet(kc, '/version');
          expect(version.status).toBe(200);
          const [major, minor] = /^v(\d+)\.(\d+)\./
            .exec(String(version.body.gitVersion))!
            .slice(1)
            .map(Number);
          const relaxed = major > 1 || minor >= 36;
          const serviceName = '1-starts-with-a-digit';
          const result: unknown = await core
            .createNamespacedService({
              namespace: ns,
              body: {
                metadata: { name: serviceName },
                spec: { ports: [{ port: 80 }] },
              },
            })
            .catch((e: unknown) => e);
          const observed =
            result instanceof ApiException
              ? {
                  code: result.code,
                  status:
                    typeof result.body === 'string'
                      ? JSON.parse(result.body)
                      : result.body,
                }
              : { created: (result as V1Service).metadata?.name };
          if (!(result instanceof ApiException)) {
            await core.deleteNamespacedService({
              namespace: ns,
              name: serviceName,
            });
          }
          const invalid = `Service "${serviceName}" is invalid: metadata.name: Invalid value: "${serviceName}"`;
          const rejected = {
            code: 422,
            status: expect.objectContaining({
              kind: 'Status',
              status: 'Failure',
              reason: 'Invalid',
              code: 422,
              message: expect.stringMatching(
                new RegExp(`^${invalid.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
              ),
              details: expect.objectContaining({
                name: serviceName,
                kind: 'Service',
                causes: [
                  expect.objectContaining({
                    reason: 'FieldValueInvalid',
                    field: 'metadata.name',
                  }),
                ],
              }),
            }),
          };
          expect(observed).toEqual(
            relaxed ? { created: serviceName } : rejected,
          );
        },
        timeout,
      );

      it(
        'answers invalid labels with 422 Invalid on metadata.labels',
        async () => {
          const status = await expectFailure(
            core.createNamespacedConfigMap({
              namespace: ns,
              body: configMap('bad-labels', { team: 'not a valid value' }),
            }),
            422,
          );
          expect(status.reason).toBe('Invalid');
          expect(status.details?.causes?.map(c => c.field)).toEqual([
            'metadata.labels',
          ]);
        },
        timeout,
      );

      it(
        'requires a name or a generateName, and generates names from generateName',
        async () => {
          const missing = await expectFailure(
            core.createNamespacedConfigMap({
              namespace: ns,
              body: { metadata: {}, data: {} },
            }),
            422,
          );
          expect(missing.reason).toBe('Invalid');
          expect(
            missing.details?.causes?.map(c => [c.reason, c.field]),
          ).toEqual([['FieldValueRequired', 'metadata.name']]);

          const generated = await core.createNamespacedConfigMap({
            namespace: ns,
            body: { metadata: { generateName: 'gen-' } },
          });
          expect(generated.metadata?.name).toMatch(/^gen-[a-z0-9]{5}$/);
          expect(generated.metadata?.generateName).toBe('gen-');
        },
        timeout,
      );

      it(
        'rejects a create that carries a resourceVersion',
        async () => {
          const body = configMap('with-rv');
          body.metadata!.resourceVersion = '12345';
          const status = await expectFailure(
            core.createNamespacedConfigMap({ namespace: ns, body }),
            500,
          );
          expect(status.message).toContain(
            'resourceVersion should not be set on objects to be created',
          );
        },
        timeout,
      );
    });

    describe('writes', () => {
      it(
        'assigns uid, creationTimestamp and resourceVersion itself on create',
        async () => {
          const body = configMap('system-fields');
          body.metadata!.uid = 'chosen-by-the-client';
          body.metadata!.creationTimestamp = new Date('2001-01-01T00:00:00Z');
          const created = await core.createNamespacedConfigMap({
            namespace: ns,
            body,
          });
          expect(created.metadata?.uid).toMatch(
            /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
          );
          expect(
            created.metadata?.creationTimestamp?.getUTCFullYear(),
          ).toBeGreaterThanOrEqual(2024);
          expect(created.metadata?.resourceVersion).toMatch(/^[1-9][0-9]*$/);
          expect(created.metadata?.namespace).toBe(ns);
        },
        timeout,
      );

      it(
        'defaults a new namespace: its name label, the kubernetes finalizer and phase Active',
        async () => {
          const created = await core.readNamespace({ name: ns });
          expect(created.metadata?.labels).toEqual({
            'kubernetes.io/metadata.name': ns,
            'kube-contract': run,
          });
          expect(created.spec?.finalizers).toEqual(['kubernetes']);
          expect(created.status?.phase).toBe('Active');
        },
        timeout,
      );

      it(
        'rejects a PUT with a stale resourceVersion with 409 Conflict',
        async () => {
          const created = await core.createNamespacedConfigMap({
            namespace: ns,
            body: configMap('put-me', {}, { v: '1' }),
          });
          const updated = await core.replaceNamespacedConfigMap({
            namespace: ns,
            name: 'put-me',
            body: { ...created, data: { v: '2' } },
          });
          expect(updated.data).toEqual({ v: '2' });
          expect(rv(updated)).toBeGreaterThan(rv(created));

          const status = await expectFailure(
            core.replaceNamespacedConfigMap({
              namespace: ns,
              name: 'put-me',
              body: { ...created, data: { v: '3' } },
            }),
            409,
          );
          expect(status.reason).toBe('Conflict');
          expect(status.message).toBe(
            'Operation cannot be fulfilled on configmaps "put-me": the object has been modified; please apply your changes to the latest version and try again',
          );
          expect(status.details).toEqual({
            name: 'put-me',
            kind: 'configmaps',
          });
          expect(
            (
              await core.readNamespacedConfigMap({
                namespace: ns,
                name: 'put-me',
              })
            ).data,
          ).toEqual({ v: '2' });
        },
        timeout,
      );

      it(
        'accepts a PUT without a resourceVersion as an unconditional update',
        async () => {
          const created = await core.createNamespacedConfigMap({
            namespace: ns,
            body: configMap('put-blind', {}, { v: '1' }),
          });
          const updated = await core.replaceNamespacedConfigMap({
            namespace: ns,
            name: 'put-blind',
            body: configMap('put-blind', {}, { v: '2' }),
          });
          expect(updated.data).toEqual({ v: '2' });
          expect(updated.metadata?.uid).toBe(created.metadata?.uid);
          expect(rv(updated)).toBeGreaterThan(rv(created));
        },
        timeout,
      );

      it(
        'keeps the resourceVersion on a PUT that changes nothing',
        async () => {
          await core.createNamespacedConfigMap({
            namespace: ns,
            body: configMap('put-same', { a: '1', b: '2' }, { k: 'v' }),
          });
          // Read back through the typed client, which re-serializes fields in its own order.
          const current = await core.readNamespacedConfigMap({
            namespace: ns,
            name: 'put-same',
          });
          const same = await core.replaceNamespacedConfigMap({
            namespace: ns,
            name: 'put-same',
            body: current,
          });
          expect(same.metadata?.resourceVersion).toBe(
            current.metadata?.resourceVersion,
          );
        },
        timeout,
      );

      it(
        'rejects a PUT whose body names another object with 400',
        async () => {
          await core.createNamespacedConfigMap({
            namespace: ns,
            body: configMap('put-named'),
          });
          const status = await expectFailure(
            core.replaceNamespacedConfigMap({
              namespace: ns,
              name: 'put-named',
              body: configMap('other-name'),
            }),
            400,
          );
          expect(status.reason).toBe('BadRequest');
        },
        timeout,
      );

      it(
        'deletes, after which the object is gone',
        async () => {
          await core.createNamespacedConfigMap({
            namespace: ns,
            body: configMap('delete-me'),
          });
          await core.deleteNamespacedConfigMap({
            namespace: ns,
            name: 'delete-me',
          });
          const read = await expectFailure(
            core.readNamespacedConfigMap({ namespace: ns, name: 'delete-me' }),
            404,
          );
          expect(read.reason).toBe('NotFound');
          const again = await expectFailure(
            core.deleteNamespacedConfigMap({
              namespace: ns,
              name: 'delete-me',
            }),
            404,
          );
          expect(again.message).toBe('configmaps "delete-me" not found');
        },
        timeout,
      );
    });

    describe('patches', () => {
      it(
        'merges namespace labels with a JSON merge patch',
        async () => {
          const before = await core.patchNamespace(
            {
              name: ns,
              body: { metadata: { labels: { 'remove-me': 'yes' } } },
            },
            patchAs(PatchStrategy.MergePatch),
          );
          const after = await core.patchNamespace(
            {
              name: ns,
              body: {
                metadata: {
                  labels: { 'istio.io/rev': 'asm-1-29', 'remove-me': null },
                },
              },
            },
            patchAs(PatchStrategy.MergePatch),
          );
          expect(after.metadata?.labels).toEqual({
            'kubernetes.io/metadata.name': ns,
            'kube-contract': run,
            'istio.io/rev': 'asm-1-29',
          });
          expect(rv(after)).toBeGreaterThan(rv(before));
        },
        timeout,
      );

      it(
        'relabels a namespace with a strategic merge patch',
        async () => {
          const before = await core.readNamespace({ name: ns });
          const after = await core.patchNamespace(
            {
              name: ns,
              body: { metadata: { labels: { 'istio.io/rev': 'asm-1-30' } } },
            },
            patchAs(PatchStrategy.StrategicMergePatch),
          );
          expect(after.metadata?.labels?.['istio.io/rev']).toBe('asm-1-30');
          expect(after.metadata?.labels?.['kubernetes.io/metadata.name']).toBe(
            ns,
          );
          expect(rv(after)).toBeGreaterThan(rv(before));
        },
        timeout,
      );

      it(
        'restarts a rollout with a strategic merge patch, bumping generation',
        async () => {
          const created = await apps.createNamespacedDeployment({
            namespace: ns,
            body: deployment('restart-me'),
          });
          expect(created.metadata?.generation).toBe(1);
          const restartedAt = '2026-11-25T10:00:00Z';
          const restarted = await apps.patchNamespacedDeployment(
            {
              namespace: ns,
              name: 'restart-me',
              body: {
                spec: {
                  template: {
                    metadata: {
                      annotations: {
                        'kubectl.kubernetes.io/restartedAt': restartedAt,
                      },
                    },
                  },
                },
              },
            },
            patchAs(PatchStrategy.StrategicMergePatch),
          );
          expect(restarted.spec?.template.metadata?.annotations).toEqual({
            'kubectl.kubernetes.io/restartedAt': restartedAt,
          });
          expect(restarted.spec?.template.metadata?.labels).toEqual({
            app: 'restart-me',
          });
          expect(
            restarted.spec?.template.spec?.containers.map(c => c.name),
          ).toEqual(['app', 'helper']);
          expect(restarted.metadata?.generation).toBe(2);
          expect(rv(restarted)).toBeGreaterThan(rv(created));

          // The same restart as a JSON merge patch.
          const again = await apps.patchNamespacedDeployment(
            {
              namespace: ns,
              name: 'restart-me',
              body: {
                spec: {
                  template: {
                    metadata: {
                      annotations: {
                        'kubectl.kubernetes.io/restartedAt':
                          '2026-11-25T11:00:00Z',
                      },
                    },
                  },
                },
              },
            },
            patchAs(PatchStrategy.MergePatch),
          );
          expect(again.spec?.template.metadata?.annotations).toEqual({
            'kubectl.kubernetes.io/restartedAt': '2026-11-25T11:00:00Z',
          });
          expect(again.metadata?.generation).toBe(3);
          expect(rv(again)).toBeGreaterThan(rv(restarted));

          // Metadata-only changes do not bump generation.
          const relabelled = await apps.patchNamespacedDeployment(
            {
              namespace: ns,
              name: 'restart-me',
              body: { metadata: { labels: { team: 'payments' } } },
            },
            patchAs(PatchStrategy.MergePatch),
          );
          expect(relabelled.metadata?.labels).toEqual({
            app: 'restart-me',
            team: 'payments',
          });
          expect(relabelled.metadata?.generation).toBe(3);
          expect(rv(relabelled)).toBeGreaterThan(rv(again));
        },
        timeout,
      );

      it(
        'merges containers by name in a strategic merge patch, but replaces the list in a JSON merge patch',
        async () => {
          await apps.createNamespacedDeployment({
            namespace: ns,
            body: deployment('containers'),
          });
          const strategic = await apps.patchNamespacedDeployment(
            {
              namespace: ns,
              name: 'containers',
              body: {
                spec: {
                  template: {
                    spec: {
                      containers: [
                        { name: 'helper', image: 'registry.k8s.io/pause:3.10' },
                      ],
                    },
                  },
                },
              },
            },
            patchAs(PatchStrategy.StrategicMergePatch),
          );
          expect(
            strategic.spec?.template.spec?.containers.map(c => [
              c.name,
              c.image,
            ]),
          ).toEqual([
            ['app', 'registry.k8s.io/pause:3.10'],
            ['helper', 'registry.k8s.io/pause:3.10'],
          ]);
          expect(strategic.metadata?.generation).toBe(2);

          const deleted = await apps.patchNamespacedDeployment(
            {
              namespace: ns,
              name: 'containers',
              body: {
                spec: {
                  template: {
                    spec: {
                      containers: [{ name: 'helper', $patch: 'delete' }],
                    },
                  },
                },
              },
            },
            patchAs(PatchStrategy.StrategicMergePatch),
          );
          expect(
            deleted.spec?.template.spec?.containers.map(c => c.name),
          ).toEqual(['app']);

          const merged = await apps.patchNamespacedDeployment(
            {
              namespace: ns,
              name: 'containers',
              body: {
                spec: {
                  template: {
                    spec: {
                      containers: [
                        { name: 'only', image: 'registry.k8s.io/pause:3.9' },
                      ],
                    },
                  },
                },
              },
            },
            patchAs(PatchStrategy.MergePatch),
          );
          expect(
            merged.spec?.template.spec?.containers.map(c => [c.name, c.image]),
          ).toEqual([['only', 'registry.k8s.io/pause:3.9']]);
        },
        timeout,
      );

      it(
        'applies a JSON patch, with escaped paths and test operations',
        async () => {
          const created = await core.createNamespacedConfigMap({
            namespace: ns,
            body: configMap('json-patch', { team: 'payments' }, { mode: 'a' }),
          });
          const patched = await core.patchNamespacedConfigMap(
            {
              namespace: ns,
              name: 'json-patch',
              body: [
                { op: 'test', path: '/data/mode', value: 'a' },
                {
                  op: 'add',
                  path: '/metadata/labels/app.kubernetes.io~1name',
                  value: 'json-patch',
                },
                { op: 'replace', path: '/data/mode', value: 'b' },
                { op: 'remove', path: '/metadata/labels/team' },
              ],
            },
            patchAs(PatchStrategy.JsonPatch),
          );
          expect(patched.metadata?.labels).toEqual({
            'app.kubernetes.io/name': 'json-patch',
          });
          expect(patched.data).toEqual({ mode: 'b' });
          expect(rv(patched)).toBeGreaterThan(rv(created));

          const failedTest = await expectFailure(
            core.patchNamespacedConfigMap(
              {
                namespace: ns,
                name: 'json-patch',
                body: [
                  { op: 'test', path: '/data/mode', value: 'a' },
                  { op: 'replace', path: '/data/mode', value: 'c' },
                ],
              },
              patchAs(PatchStrategy.JsonPatch),
            ),
            422,
          );
          expect(failedTest.reason).toBe('Invalid');

          const missingPath = await expectFailure(
            core.patchNamespacedConfigMap(
              {
                namespace: ns,
                name: 'json-patch',
                body: [{ op: 'remove', path: '/data/nothing-here' }],
              },
              patchAs(PatchStrategy.JsonPatch),
            ),
            422,
          );
          expect(missingPath.reason).toBe('Invalid');

          const notAList = await expectFailure(
            core.patchNamespacedConfigMap(
              {
                namespace: ns,
                name: 'json-patch',
                body: { op: 'remove', path: '/data/mode' },
              },
              patchAs(PatchStrategy.JsonPatch),
            ),
            400,
          );
          expect(notAList.reason).toBe('BadRequest');

          const unchanged = await core.readNamespacedConfigMap({
            namespace: ns,
            name: 'json-patch',
          });
          expect(unchanged.data).toEqual({ mode: 'b' });
          expect(unchanged.metadata?.resourceVersion).toBe(
            patched.metadata?.resourceVersion,
          );
        },
        timeout,
      );

      it(
        'treats a resourceVersion in a patch as a precondition',
        async () => {
          const created = await core.createNamespacedConfigMap({
            namespace: ns,
            body: configMap('patch-precondition'),
          });
          await core.patchNamespacedConfigMap(
            {
              namespace: ns,
              name: 'patch-precondition',
              body: { data: { a: '1' } },
            },
            patchAs(PatchStrategy.MergePatch),
          );
          const status = await expectFailure(
            core.patchNamespacedConfigMap(
              {
                namespace: ns,
                name: 'patch-precondition',
                body: {
                  metadata: {
                    resourceVersion: created.metadata?.resourceVersion,
                  },
                  data: { a: '2' },
                },
              },
              patchAs(PatchStrategy.MergePatch),
            ),
            409,
          );
          expect(status.reason).toBe('Conflict');
        },
        timeout,
      );

      it(
        'ignores status in writes to the main resource',
        async () => {
          await core.createNamespacedService({
            namespace: ns,
            body: {
              metadata: { name: 'status-svc' },
              spec: { type: 'ClusterIP', ports: [{ port: 80 }] },
            },
          });
          const patched = await core.patchNamespacedService(
            {
              namespace: ns,
              name: 'status-svc',
              body: {
                metadata: { labels: { patched: 'true' } },
                status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } },
              },
            },
            patchAs(PatchStrategy.MergePatch),
          );
          expect(patched.metadata?.labels).toEqual({ patched: 'true' });
          expect(patched.status?.loadBalancer?.ingress).toBeUndefined();
        },
        timeout,
      );

      it(
        'answers a patch of a missing object with 404 and an unknown patch type with 415',
        async () => {
          const missing = await expectFailure(
            core.patchNamespacedConfigMap(
              {
                namespace: ns,
                name: 'no-such-map',
                body: { data: { a: '1' } },
              },
              patchAs(PatchStrategy.MergePatch),
            ),
            404,
          );
          expect(missing.message).toBe('configmaps "no-such-map" not found');
          await core.createNamespacedConfigMap({
            namespace: ns,
            body: configMap('patch-type'),
          });
          const status = await expectFailure(
            core.patchNamespacedConfigMap(
              { namespace: ns, name: 'patch-type', body: { data: { a: '1' } } },
              patchAs('application/json'),
            ),
            415,
          );
          expect(status.reason).toBe('UnsupportedMediaType');
        },
        timeout,
      );
    });

    describe('watch', () => {
      const typesAndVersions = (events: CollectedEvent[]) =>
        events.map(e => `${e.type}@${e.object.metadata.resourceVersion}`);

      it(
        'streams ADDED, MODIFIED and DELETED for a namespace, and resumes from a resourceVersion',
        async () => {
          const selector = `kube-contract-watch=${run}`;
          const start = await core.listNamespace({ labelSelector: selector });
          const watched = `${ns}-watched`;
          const w = await collectWatch(kc, '/api/v1/namespaces', {
            labelSelector: selector,
            resourceVersion: start.metadata!.resourceVersion!,
          });
          try {
            await core.createNamespace({
              body: {
                metadata: {
                  name: watched,
                  labels: { 'kube-contract-watch': run },
                },
              },
            });
            await core.patchNamespace(
              {
                name: watched,
                body: { metadata: { labels: { step: 'relabelled' } } },
              },
              patchAs(PatchStrategy.MergePatch),
            );
            await core.deleteNamespace({ name: watched });
            const events = await w.until(
              'the namespace to be DELETED',
              all => all.some(e => e.type === 'DELETED'),
              eventuallyMs,
            );
            expect(events[0].type).toBe('ADDED');
            expect(events[0].object.kind).toBe('Namespace');
            expect(events[0].object.apiVersion).toBe('v1');
            expect(events.map(e => e.object.metadata.name)).toEqual(
              events.map(() => watched),
            );
            // A real namespace is Terminating (MODIFIED) before it goes.
            expect(events.slice(1, -1).map(e => e.type)).toEqual(
              events.slice(1, -1).map(() => 'MODIFIED'),
            );
            expect(events[events.length - 1].type).toBe('DELETED');
            expect(events[1].object.metadata.labels).toEqual({
              'kubernetes.io/metadata.name': watched,
              'kube-contract-watch': run,
              step: 'relabelled',
            });
            const versions = events.map(e => rv(e.object));
            expect([...versions].sort((a, b) => a - b)).toEqual(versions);

            // Resuming after the ADDED event replays exactly what followed it.
            const resumed = await collectWatch(kc, '/api/v1/namespaces', {
              labelSelector: selector,
              resourceVersion: events[0].object.metadata.resourceVersion,
            });
            try {
              const replay = await resumed.until(
                'the replay to reach DELETED',
                all => all.some(e => e.type === 'DELETED'),
                eventuallyMs,
              );
              expect(typesAndVersions(replay)).toEqual(
                typesAndVersions(events.slice(1)),
              );
            } finally {
              resumed.stop();
            }
          } finally {
            w.stop();
            await core
              .deleteNamespace({ name: watched })
              .catch(() => undefined);
          }
        },
        slowTimeout,
      );

      it(
        'streams ADDED, MODIFIED and DELETED for a pod, and resumes from a resourceVersion',
        async () => {
          const selector = `kube-contract-pod=${run}`;
          const start = await core.listNamespacedPod({
            namespace: ns,
            labelSelector: selector,
          });
          const path = `/api/v1/namespaces/${ns}/pods`;
          const w = await collectWatch(kc, path, {
            labelSelector: selector,
            resourceVersion: start.metadata!.resourceVersion!,
          });
          try {
            await core.createNamespacedPod({
              namespace: ns,
              body: {
                metadata: {
                  name: 'watched',
                  labels: { 'kube-contract-pod': run },
                },
                spec: {
                  containers: [
                    { name: 'app', image: 'registry.k8s.io/pause:3.10' },
                  ],
                },
              },
            });
            await core.patchNamespacedPod(
              {
                namespace: ns,
                name: 'watched',
                body: { metadata: { labels: { step: 'relabelled' } } },
              },
              patchAs(PatchStrategy.MergePatch),
            );
            await core.deleteNamespacedPod({
              namespace: ns,
              name: 'watched',
              gracePeriodSeconds: 0,
            });
            const events = await w.until(
              'the pod to be DELETED',
              all => all.some(e => e.type === 'DELETED'),
              eventuallyMs,
            );
            expect(events[0].type).toBe('ADDED');
            expect(events[0].object.kind).toBe('Pod');
            expect(events[0].object.metadata.namespace).toBe(ns);
            expect(events[events.length - 1].type).toBe('DELETED');
            // Scheduling and start-up may add MODIFIED events of their own.
            expect(events.slice(1, -1).map(e => e.type)).toEqual(
              events.slice(1, -1).map(() => 'MODIFIED'),
            );
            expect(
              events.some(
                e =>
                  e.type === 'MODIFIED' &&
                  e.object.metadata.labels?.step === 'relabelled',
              ),
            ).toBe(true);
            expect(events[events.length - 1].object.metadata.labels.step).toBe(
              'relabelled',
            );

            const resumed = await collectWatch(kc, path, {
              labelSelector: selector,
              resourceVersion: events[0].object.metadata.resourceVersion,
            });
            try {
              const replay = await resumed.until(
                'the replay to reach DELETED',
                all => all.some(e => e.type === 'DELETED'),
                eventuallyMs,
              );
              expect(typesAndVersions(replay)).toEqual(
                typesAndVersions(events.slice(1)),
              );
            } finally {
              resumed.stop();
            }
          } finally {
            w.stop();
          }
        },
        slowTimeout,
      );
    });

    describe('rollouts', () => {
      it(
        'replaces the pods of a Deployment whose template changed: a new ReplicaSet, only new pods, the old ReplicaSet at 0',
        async () => {
          const app = 'rollout';
          const body = deployment(app);
          body.spec!.replicas = 2;
          body.spec!.template.spec!.containers = [
            { name: 'app', image: 'registry.k8s.io/pause:3.10' },
          ];
          await apps.createNamespacedDeployment({ namespace: ns, body });
          const ownedSets = async () =>
            (
              await apps.listNamespacedReplicaSet({
                namespace: ns,
                labelSelector: `app=${app}`,
              })
            ).items;
          const settled = (generation: number) =>
            eventually(
              `Deployment ${app} to settle at generation ${generation}`,
              async () => {
                const d = await apps.readNamespacedDeployment({
                  namespace: ns,
                  name: app,
                });
                const s = d.status ?? {};
                return s.observedGeneration === generation &&
                  s.replicas === 2 &&
                  s.updatedReplicas === 2 &&
                  s.availableReplicas === 2 &&
                  s.unavailableReplicas === undefined
                  ? d
                  : undefined;
              },
              eventuallyMs,
            );

          const first = await settled(1);
          expect(
            first.metadata?.annotations?.['deployment.kubernetes.io/revision'],
          ).toBe('1');
          const [original] = await ownedSets();
          expect((await ownedSets()).length).toBe(1);
          const originalHash = original.metadata!.labels!['pod-template-hash'];
          expect(original.metadata?.name).toBe(`${app}-${originalHash}`);
          expect(original.metadata?.ownerReferences?.[0]).toMatchObject({
            kind: 'Deployment',
            name: app,
            uid: first.metadata?.uid,
            controller: true,
          });

          const restartedAt = '2026-11-25T12:00:00Z';
          const patched = await apps.patchNamespacedDeployment(
            {
              namespace: ns,
              name: app,
              body: {
                spec: {
                  template: {
                    metadata: {
                      annotations: {
                        'kubectl.kubernetes.io/restartedAt': restartedAt,
                      },
                    },
                  },
                },
              },
            },
            patchAs(PatchStrategy.StrategicMergePatch),
          );
          expect(patched.metadata?.generation).toBe(2);

          const done = await settled(2);
          expect(
            done.metadata?.annotations?.['deployment.kubernetes.io/revision'],
          ).toBe('2');
          const conditions = Object.fromEntries(
            (done.status?.conditions ?? []).map(c => [
              c.type,
              [c.status, c.reason],
            ]),
          );
          expect(conditions).toEqual({
            Available: ['True', 'MinimumReplicasAvailable'],
            Progressing: ['True', 'NewReplicaSetAvailable'],
          });

          const sets = await eventually(
            'the old ReplicaSet to reach 0 pods',
            async () => {
              const all = await ownedSets();
              const old = all.find(
                rs => rs.metadata?.uid === original.metadata?.uid,
              );
              return old?.spec?.replicas === 0 &&
                (old.status?.replicas ?? 0) === 0
                ? all
                : undefined;
            },
            eventuallyMs,
          );
          expect(sets).toHaveLength(2);
          const newSet = sets.find(
            rs => rs.metadata?.uid !== original.metadata?.uid,
          ) as V1ReplicaSet;
          const newHash = newSet.metadata!.labels!['pod-template-hash'];
          expect(newHash).not.toBe(originalHash);
          expect(newSet.metadata?.name).toBe(`${app}-${newHash}`);
          expect(
            newSet.metadata?.annotations?.['deployment.kubernetes.io/revision'],
          ).toBe('2');
          expect(newSet.spec?.replicas).toBe(2);
          expect(newSet.spec?.template?.metadata?.annotations).toEqual({
            'kubectl.kubernetes.io/restartedAt': restartedAt,
          });

          // Eventually only the new template's pods are left (old ones may take a moment to go).
          const pods = await eventually(
            'only pods of the new template',
            async () => {
              const list = await core.listNamespacedPod({
                namespace: ns,
                labelSelector: `app=${app}`,
              });
              return list.items.length === 2 &&
                list.items.every(
                  p => p.metadata?.labels?.['pod-template-hash'] === newHash,
                )
                ? list.items
                : undefined;
            },
            eventuallyMs,
          );
          for (const pod of pods) {
            expect(
              pod.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'],
            ).toBe(restartedAt);
            expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({
              kind: 'ReplicaSet',
              name: newSet.metadata?.name,
              uid: newSet.metadata?.uid,
            });
            expect(pod.status?.phase).toBe('Running');
          }
        },
        slowTimeout,
      );
    });

    if (options.tokenAuth) {
      const { anonymousStatus } = options.tokenAuth;

      describe('bearer token authentication', () => {
        it(
          `answers a request without a token with ${anonymousStatus}`,
          async () => {
            const anonymous = withBearerToken(kc, undefined);
            const error = await captureApiError(
              anonymous.makeApiClient(CoreV1Api).listNamespace(),
            );
            expect(error.code).toBe(anonymousStatus);
            const raw = await rawGet(anonymous, '/api/v1/namespaces');
            expect(raw.status).toBe(anonymousStatus);
            expect(raw.body).toMatchObject({
              kind: 'Status',
              apiVersion: 'v1',
              status: 'Failure',
              reason: anonymousStatus === 401 ? 'Unauthorized' : 'Forbidden',
              code: anonymousStatus,
            });
          },
          timeout,
        );

        it(
          'answers a request with a wrong token with 401 Unauthorized',
          async () => {
            const impostor = withBearerToken(kc, 'not-the-right-token');
            const error = await captureApiError(
              impostor.makeApiClient(CoreV1Api).readNamespace({ name: ns }),
            );
            expect(error.code).toBe(401);
            const raw = await rawGet(impostor, `/api/v1/namespaces/${ns}`);
            expect(raw).toEqual({
              status: 401,
              body: {
                kind: 'Status',
                apiVersion: 'v1',
                metadata: {},
                status: 'Failure',
                message: 'Unauthorized',
                reason: 'Unauthorized',
                code: 401,
              },
            });
          },
          timeout,
        );

        it(
          'serves the same request with the right token',
          async () => {
            const raw = await rawGet(kc, `/api/v1/namespaces/${ns}`);
            expect(raw.status).toBe(200);
            expect(raw.body.kind).toBe('Namespace');
            expect(raw.body.metadata.name).toBe(ns);
          },
          timeout,
        );
      });
    }
  });
}
