import https from 'node:https';
import { injectedPod, sidecarProfile } from '../istio/injection';
import { AKS_LAYOUT, injectorWebhookConfiguration } from '../istio/install';
import { jsonPatch } from '../patch';
import {
  InjectionWebhook,
  reviewPodAdmission,
  startInjectionWebhook,
} from './injectionWebhook';
import { jsonPatchDiff } from './jsonPatchDiff';

/**
 * The injection webhook without a cluster: the JSONPatch it computes, and the
 * AdmissionReview exchange over HTTPS. ./realCluster.test.ts has kube-apiserver call it.
 */

const pod = (
  extra: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  } = {},
) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    generateName: 'payments-api-7d9c5b-',
    namespace: 'payments',
    labels: { app: 'payments-api', ...extra.labels },
    ...(extra.annotations ? { annotations: extra.annotations } : {}),
  },
  spec: {
    containers: [
      {
        name: 'app',
        image: 'example.com/payments-api:1',
        imagePullPolicy: 'IfNotPresent',
        terminationMessagePath: '/dev/termination-log',
      },
    ],
    restartPolicy: 'Always',
  },
});

describe('jsonPatchDiff', () => {
  it.each([
    ['asm-1-29 (native sidecar)', 'asm-1-29'],
    ['asm-1-28 (classic sidecar)', 'asm-1-28'],
    ['upstream 1-26-3', '1-26-3'],
  ])('turns a pod into the pod injected by %s', (_name, revision) => {
    const original = pod();
    const injected = injectedPod(original, revision);
    const patch = jsonPatchDiff(original, injected);
    expect(jsonPatch(original, patch)).toEqual(injected);
    // Only additions: the injector never removes or rewrites what the pod had.
    expect(patch.map(op => op.op)).toEqual(patch.map(() => 'add'));
    expect(patch.map(op => op.path)).toEqual(
      expect.arrayContaining([
        '/metadata/labels/istio.io~1rev',
        '/metadata/annotations',
      ]),
    );
  });

  it('leaves the input untouched and adds to existing annotations and containers by index', () => {
    const original = pod({
      annotations: { 'team.example.com/owner': 'payments' },
    });
    const before = structuredClone(original);
    const patch = jsonPatchDiff(original, injectedPod(original, 'asm-1-28'));
    expect(original).toEqual(before);
    expect(patch).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          op: 'add',
          path: '/metadata/annotations/sidecar.istio.io~1status',
        }),
        expect.objectContaining({
          op: 'add',
          path: '/spec/containers/1',
          value: expect.objectContaining({ name: 'istio-proxy' }),
        }),
        expect.objectContaining({
          op: 'add',
          path: '/spec/initContainers',
          value: [expect.objectContaining({ name: 'istio-init' })],
        }),
      ]),
    );
  });

  it('escapes ~ and / in keys, removes, replaces changed arrays and scalars', () => {
    const from = {
      a: { 'x/y': 1, 'm~n': 2, gone: true },
      list: [1, 2, 3],
      s: 'a',
      same: [1],
    };
    const to = {
      a: { 'x/y': 3, 'm~n': 2 },
      list: [3, 2, 1],
      s: 'b',
      same: [1],
      added: null,
    };
    const patch = jsonPatchDiff(from, to);
    expect(patch).toEqual([
      { op: 'remove', path: '/a/gone' },
      { op: 'replace', path: '/a/x~1y', value: 3 },
      { op: 'replace', path: '/list', value: [3, 2, 1] },
      { op: 'replace', path: '/s', value: 'b' },
      { op: 'add', path: '/added', value: null },
    ]);
    expect(jsonPatch(from, patch)).toEqual(to);
    expect(jsonPatchDiff(from, structuredClone(from))).toEqual([]);
    expect(jsonPatchDiff({ a: 1 }, [1])).toEqual([
      { op: 'replace', path: '', value: [1] },
    ]);
  });
});

describe('reviewPodAdmission', () => {
  const profile = sidecarProfile('asm-1-29', 'aks-istio-system');
  const request = (overrides: object) => ({
    uid: 'u-1',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    operation: 'CREATE',
    namespace: 'payments',
    object: pod(),
    ...overrides,
  });

  it('answers a pod CREATE with a base64 JSONPatch that injects the revision', () => {
    const { response, patch } = reviewPodAdmission(request({}), profile);
    expect(response).toEqual({
      uid: 'u-1',
      allowed: true,
      patchType: 'JSONPatch',
      patch: expect.any(String),
    });
    expect(
      JSON.parse(Buffer.from(response.patch!, 'base64').toString()),
    ).toEqual(patch);
    expect(jsonPatch(pod(), patch)).toEqual(injectedPod(pod(), profile));
  });

  it.each([
    ['an UPDATE', { operation: 'UPDATE' }, 'operation UPDATE'],
    [
      'another kind',
      { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } },
      'not a pod (Deployment)',
    ],
    [
      'an injected pod',
      { object: injectedPod(pod(), 'asm-1-30') },
      'already injected',
    ],
    [
      'a pod annotated sidecar.istio.io/inject=false',
      { object: pod({ annotations: { 'sidecar.istio.io/inject': 'false' } }) },
      'opted out by annotation',
    ],
  ])('allows %s unchanged', (_what, overrides, skipped) => {
    expect(reviewPodAdmission(request(overrides), profile)).toEqual({
      response: { uid: 'u-1', allowed: true },
      patch: [],
      skipped,
    });
  });
});

describe('the webhook server', () => {
  let webhook: InjectionWebhook;

  beforeAll(async () => {
    webhook = await startInjectionWebhook();
  });
  afterAll(() => webhook.close());

  const call = (path: string, method: string, body?: unknown) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = https.request(
        `${webhook.url}${path}`,
        {
          method,
          ca: webhook.caPem,
          headers: { 'Content-Type': 'application/json' },
        },
        res => {
          const chunks: Buffer[] = [];
          res.on('data', c => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(Buffer.concat(chunks).toString()),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });

  it('serves AdmissionReview v1 over HTTPS with its own certificate, and records the review', async () => {
    expect(webhook.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(webhook.urlFor('asm-1-30')).toBe(`${webhook.url}/inject/asm-1-30`);
    expect(Buffer.from(webhook.caBundle, 'base64').toString()).toBe(
      webhook.caPem,
    );
    const res = await call('/inject/asm-1-30', 'POST', {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'abc',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        operation: 'CREATE',
        namespace: 'payments',
        object: pod(),
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.apiVersion).toBe('admission.k8s.io/v1');
    expect(res.body.kind).toBe('AdmissionReview');
    expect(res.body.response).toMatchObject({
      uid: 'abc',
      allowed: true,
      patchType: 'JSONPatch',
    });
    const patched = jsonPatch(
      pod(),
      JSON.parse(Buffer.from(res.body.response.patch, 'base64').toString()),
    );
    expect(patched).toEqual(
      injectedPod(pod(), sidecarProfile('asm-1-30', 'aks-istio-system')),
    );
    expect(
      patched.spec.initContainers.map((c: any) => [c.name, c.image]),
    ).toEqual([
      ['istio-init', 'mcr.microsoft.com/oss/istio/proxyv2:1.30.1-distroless'],
      ['istio-proxy', 'mcr.microsoft.com/oss/istio/proxyv2:1.30.1-distroless'],
    ]);
    expect(webhook.records.at(-1)).toEqual({
      revision: 'asm-1-30',
      uid: 'abc',
      operation: 'CREATE',
      kind: 'Pod',
      namespace: 'payments',
      name: 'payments-api-7d9c5b-',
      dryRun: false,
      patchOperations: expect.any(Number),
    });
  });

  it('answers health checks, unknown paths and malformed reviews', async () => {
    expect(await call('/healthz', 'GET')).toEqual({
      status: 200,
      body: { status: 'ok' },
    });
    expect((await call('/mutate', 'POST', {})).status).toBe(404);
    expect((await call('/inject/Not_A_Revision', 'POST', {})).status).toBe(404);
    expect((await call('/inject/asm-1-29', 'GET')).status).toBe(405);
    const bad = await call('/inject/asm-1-29', 'POST', { kind: 'Pod' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('expected an AdmissionReview');
  });

  it("is registered with the add-on's name and selectors, pointing at its URL", () => {
    const config = injectorWebhookConfiguration(
      'asm-1-29',
      { url: webhook.urlFor('asm-1-29'), caBundle: webhook.caBundle },
      { layout: AKS_LAYOUT },
    );
    expect(config.metadata.name).toBe(
      'istio-sidecar-injector-asm-1-29-aks-istio-system',
    );
    expect(config.webhooks[0]).toMatchObject({
      name: 'rev.namespace.sidecar-injector.istio.io',
      clientConfig: {
        url: `${webhook.url}/inject/asm-1-29`,
        caBundle: webhook.caBundle,
      },
      failurePolicy: 'Fail',
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
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
    });
  });
});
