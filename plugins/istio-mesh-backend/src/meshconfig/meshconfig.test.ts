import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { demoToken, RESOURCE_TYPES, SandboxServer } from '@mesh-portal/mesh-sandbox';
import { MeshConfigUpdateResponse, MeshConfigValidation, MeshConfigView } from '@mesh-portal/plugin-istio-mesh-common';
import request from 'supertest';
import { parse as parseYaml } from 'yaml';
import {
  aksConfigFor,
  kubernetesConfigFor,
  permissionResult,
  recordingAuditor,
  startMeshBackend,
  startSandboxWithArm,
} from '../__testUtils__/sandboxBackend';
import { openApiAjv } from '../__testUtils__/openapi';

jest.setTimeout(60_000);

const ALICE = 'user:default/alice';
const alice = mockCredentials.user.header(ALICE);
const NS = 'aks-istio-system';
const SHARED_129 = 'istio-shared-configmap-asm-1-29';

const ajv = openApiAjv();
function expectSchema(body: unknown, schema: string) {
  const validate = ajv.getSchema(`openapi#/components/schemas/${schema}`)!;
  expect({ schema, valid: validate(body), errors: validate.errors ?? null }).toEqual({ schema, valid: true, errors: null });
}
function expectErrorBody(body: unknown) {
  const validate = ajv.getSchema('openapi#/components/responses/Error/content/application~1json/schema')!;
  expect(validate(body)).toBe(true);
}

let sandbox: SandboxServer;
let caFile: string;

beforeEach(async () => {
  ({ sandbox, caFile } = await startSandboxWithArm({ fleet: { stepMs: 10 }, arm: { operationDelayMs: 60 } }));
});
afterEach(() => sandbox.close());

const configMapType = RESOURCE_TYPES.find(t => t.kind === 'ConfigMap')!;
const store = (cluster: string) => sandbox.clusters.get(cluster)!.store;
const configMap = (cluster: string, name: string) => store(cluster).peek(configMapType, NS, name);

async function startBackend(options: { permission?: AuthorizeResult.DENY; denyUpdateOnly?: boolean } = {}) {
  const { audit, factory: auditor } = recordingAuditor(eventId => eventId.startsWith('meshconfig') || eventId.startsWith('upgrade'));
  const permissionFeatures = permissionResult(options.permission);
  if (options.denyUpdateOnly) {
    permissionFeatures.push(
      mockServices.permissions.mock({
        authorize: async (requests: any[]) =>
          requests.map(r => ({
            result: r.permission.name === 'istio-mesh.meshconfig.update' ? AuthorizeResult.DENY : AuthorizeResult.ALLOW,
          })),
      }).factory,
    );
  }
  const backend = await startMeshBackend({
    config: {
      istioMesh: {
        upgrades: { pollIntervalMs: 25, leaseSeconds: 5, lockWaitMs: 2000, rolloutTimeoutSeconds: 30, controlPlaneTimeoutSeconds: 30 },
        aks: aksConfigFor(sandbox, caFile),
      },
      kubernetes: kubernetesConfigFor(sandbox),
    },
    features: [auditor, ...permissionFeatures],
  });
  const server = backend.server;
  return {
    audit,
    get: (path: string) => request(server).get(`/api/istio-mesh/v1${path}`).set('Authorization', alice),
    post: (path: string, body: unknown) => request(server).post(`/api/istio-mesh/v1${path}`).set('Authorization', alice).send(body as object),
    put: (path: string, body: unknown) => request(server).put(`/api/istio-mesh/v1${path}`).set('Authorization', alice).send(body as object),
    view: async (cluster: string, revision: string) => (await request(server).get(`/api/istio-mesh/v1/clusters/${cluster}/meshconfig?revision=${revision}`).set('Authorization', alice)).body as MeshConfigView,
  };
}

const ALLOWED_CHANGE = 'accessLogFile: /dev/stdout\naccessLogEncoding: TEXT\ndefaultConfig:\n  holdApplicationUntilProxyStarts: true\n  concurrency: 2\n';

describe('GET /v1/clusters/:cluster/meshconfig', () => {
  it('shows the shared document, the add-on default and the effective merge with sources, classes and overrides', async () => {
    const api = await startBackend();
    const res = await api.get('/clusters/aks-dev/meshconfig?revision=asm-1-29');
    expect(res.status).toBe(200);
    expectSchema(res.body, 'MeshConfigView');
    const view = res.body as MeshConfigView;
    const stored = configMap('aks-dev', SHARED_129)!;
    expect(view).toMatchObject({
      cluster: 'aks-dev',
      revision: 'asm-1-29',
      provider: 'aks',
      editable: true,
      shared: { configMap: SHARED_129, namespace: NS, exists: true, yaml: stored.data.mesh, resourceVersion: stored.metadata.resourceVersion },
      addonDefault: { configMap: 'istio-asm-1-29', namespace: NS, exists: true, yaml: configMap('aks-dev', 'istio-asm-1-29')!.data.mesh },
    });
    expect(view.shared.findings).toEqual([
      expect.objectContaining({ severity: 'warning', path: 'defaultConfig.gatewayTopology', line: 6, column: 3 }),
    ]);
    expect(view.overridden).toEqual([
      { path: 'defaultConfig.gatewayTopology', sharedValue: { numTrustedProxies: 2 }, effectiveValue: { numTrustedProxies: 1 } },
    ]);
    const field = (path: string) => view.effective.fields.find(f => f.path === path);
    expect(field('accessLogFile')).toEqual({ path: 'accessLogFile', value: '/dev/stdout', source: 'shared', class: 'supported', overridden: false });
    expect(field('defaultConfig.gatewayTopology')).toEqual({
      path: 'defaultConfig.gatewayTopology',
      value: { numTrustedProxies: 1 },
      source: 'default',
      class: 'allowed',
      overridden: true,
      sharedValue: { numTrustedProxies: 2 },
    });
    expect(field('rootNamespace')).toMatchObject({ source: 'default', class: 'blocked', value: NS });
    expect(parseYaml(view.effective.yaml)).toMatchObject({ accessLogFile: '/dev/stdout', rootNamespace: NS, defaultConfig: { holdApplicationUntilProxyStarts: true, gatewayTopology: { numTrustedProxies: 1 } } });
  });

  it('is read-only on upstream Istio', async () => {
    const api = await startBackend();
    const res = await api.get('/clusters/istio-lab/meshconfig?revision=1-26-3');
    expect(res.status).toBe(200);
    expectSchema(res.body, 'MeshConfigView');
    expect(res.body).toMatchObject({ provider: 'istio', editable: false, readOnlyReason: expect.stringContaining('helm or istioctl'), addonDefault: { configMap: 'istio-1-26-3', namespace: 'istio-system', exists: true } });
    expect(res.body.effective.fields.every((f: any) => f.class === undefined && f.source === 'default')).toBe(true);
    const put = await api.put('/clusters/istio-lab/meshconfig', { revision: '1-26-3', yaml: 'accessLogFile: /dev/stdout\n' });
    expect(put.status).toBe(409);
    expect(put.body.error.message).toBe('istio-lab runs upstream Istio: its mesh config (istio-1-26-3 in istio-system) belongs to helm or istioctl, so the portal does not edit it.');
  });

  it.each([
    ['/clusters/aks-dev/meshconfig?revision=asm-1-31', 404, 'Revision asm-1-31 is not installed on aks-dev (installed: asm-1-29)'],
    ['/clusters/nowhere/meshconfig?revision=asm-1-29', 404, "No cluster named 'nowhere' is configured"],
    ['/clusters/aks-dev/meshconfig', 400, 'Invalid query: revision: Required'],
    ['/clusters/aks-dev/meshconfig?revision=ASM_1', 400, 'Invalid query: revision: must be a revision name such as asm-1-30 or 1-27-1 (a DNS-1123 label)'],
    ['/clusters/aks-dev/meshconfig?revision=asm-1-29&x=1', 400, "Invalid query: query: Unrecognized key(s) in object: 'x'"],
    ['/clusters/bad%20name/meshconfig?revision=asm-1-29', 400, 'Invalid cluster: cluster: must be 1-128 characters of [A-Za-z0-9-_.], starting and ending with a letter or digit'],
  ])('GET %s → %s', async (path, status, message) => {
    const api = await startBackend();
    const res = await api.get(path);
    expect({ status: res.status, message: res.body.error?.message }).toEqual({ status, message });
    expectErrorBody(res.body);
  });

  it('needs istio-mesh.read', async () => {
    const api = await startBackend({ permission: AuthorizeResult.DENY });
    const res = await api.get('/clusters/aks-dev/meshconfig?revision=asm-1-29');
    expect({ status: res.status, message: res.body.error.message }).toEqual({ status: 403, message: 'You are not allowed to read mesh status' });
  });
});

describe('POST /v1/clusters/:cluster/meshconfig/validate', () => {
  it('returns findings with paths and positions, the diff against the stored document and what the default overrides', async () => {
    const api = await startBackend();
    const yaml = 'accessLogFile: /dev/stderr\nrootNamespace: payments\nenableTracing: true\ndefaultConfig:\n  concurrency: 0\n  gatewayTopology: {numTrustedProxies: 3}\n';
    const res = await api.post('/clusters/aks-dev/meshconfig/validate', { revision: 'asm-1-29', yaml });
    expect(res.status).toBe(200);
    expectSchema(res.body, 'MeshConfigValidation');
    const body = res.body as MeshConfigValidation;
    expect(body.valid).toBe(false);
    expect(body.findings.map(f => [f.severity, f.path, f.line, f.column])).toEqual([
      ['error', 'rootNamespace', 2, 1],
      ['warning', 'enableTracing', 3, 1],
      ['warning', 'defaultConfig.concurrency', 5, 3],
      ['warning', 'defaultConfig.gatewayTopology', 6, 3],
    ]);
    expect(body.diff).toEqual([
      { path: 'accessLogEncoding', change: 'removed', before: 'JSON' },
      { path: 'accessLogFile', change: 'changed', before: '/dev/stdout', after: '/dev/stderr' },
      { path: 'defaultConfig.concurrency', change: 'added', after: 0 },
      { path: 'defaultConfig.gatewayTopology.numTrustedProxies', change: 'changed', before: 2, after: 3 },
      { path: 'defaultConfig.holdApplicationUntilProxyStarts', change: 'removed', before: true },
      { path: 'enableTracing', change: 'added', after: true },
      { path: 'rootNamespace', change: 'added', after: 'payments' },
    ]);
    expect(body.overridden).toEqual([
      { path: 'defaultConfig.gatewayTopology', sharedValue: { numTrustedProxies: 3 }, effectiveValue: { numTrustedProxies: 1 } },
      { path: 'rootNamespace', sharedValue: 'payments', effectiveValue: NS },
    ]);
  });
});

/** Every bad document: PUT answers 400 with the message (nothing written), validate 200 with the same finding. */
const BAD_DOCUMENTS: Array<[string, string, string]> = [
  ['a document over 64 KiB', `accessLogFormat: "${'x'.repeat(66_000)}"\n`, 'The MeshConfig for asm-1-29 is invalid, nothing was written: The document is 66020 bytes (64.5 KiB); the limit is 65536 bytes (64 KiB).'],
  ['an alias bomb', 'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n', 'The MeshConfig for asm-1-29 is invalid, nothing was written: b[0]: Line 2, column 8: aliases (*a) are not allowed; write the value out in full.; b[1]: Line 2, column 12: aliases (*a) are not allowed; write the value out in full.; b[2]: Line 2, column 16: aliases (*a) are not allowed; write the value out in full.; b[3]: Line 2, column 20: aliases (*a) are not allowed; write the value out in full.; b[4]: Line 2, column 24: aliases (*a) are not allowed; write the value out in full.; and 13 more'],
  ['nesting deeper than 32 levels', `defaultConfig:\n  tracing: ${'['.repeat(40)}${']'.repeat(40)}\n`, 'The MeshConfig for asm-1-29 is invalid, nothing was written: defaultConfig.tracing[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: Line 2: the document nests deeper than 32 levels.'],
  ['10,000 nested brackets', `a: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`, 'The MeshConfig for asm-1-29 is invalid, nothing was written: Line 1: the document nests deeper than 32 levels.'],
  ['a tab used for indentation', 'defaultConfig:\n  concurrency: 2\n\tdrainDuration: 45s\n', 'The MeshConfig for asm-1-29 is invalid, nothing was written: Line 3: a tab is used for indentation; YAML allows only spaces for indentation (a tab inside a value is fine).'],
  ['a sequence as the root', '- accessLogFile: /dev/stdout\n', 'The MeshConfig for asm-1-29 is invalid, nothing was written: The document must be a mapping of MeshConfig fields (such as "accessLogFile: /dev/stdout"); found a sequence at line 1.'],
  ['a string as the root', 'just some text\n', 'The MeshConfig for asm-1-29 is invalid, nothing was written: The document must be a mapping of MeshConfig fields (such as "accessLogFile: /dev/stdout"); found a string ("just some text") at line 1.'],
  ['a duplicate key', 'accessLogFile: /dev/stdout\naccessLogFile: /dev/stderr\n', 'The MeshConfig for asm-1-29 is invalid, nothing was written: Line 2, column 1: the key "accessLogFile" appears more than once in the same mapping.'],
  ['an unknown top-level field', 'accessLogFile: /dev/stdout\nmeshNetworks: {}\n', 'The MeshConfig for asm-1-29 is invalid, nothing was written: 2:1 meshNetworks: is blocked on asm-1-29: not a supported or allowed MeshConfig field of the AKS Istio add-on, so its admission webhook would reject the ConfigMap'],
  ['a blocked field', 'rootNamespace: payments\n', 'The MeshConfig for asm-1-29 is invalid, nothing was written: 1:1 rootNamespace: is blocked on asm-1-29: not a supported or allowed MeshConfig field of the AKS Istio add-on, so its admission webhook would reject the ConfigMap'],
  ['a blocked ProxyConfig field', 'defaultConfig:\n  discoveryAddress: evil:15012\n', 'The MeshConfig for asm-1-29 is invalid, nothing was written: 2:3 defaultConfig.discoveryAddress: is blocked on asm-1-29: not a supported or allowed ProxyConfig field of the AKS Istio add-on, so its admission webhook would reject the ConfigMap'],
  ['a YAML syntax error', 'defaultConfig:\n  concurrency: 2\n drainDuration: 45s\n', 'The MeshConfig for asm-1-29 is invalid, nothing was written: YAML syntax error at line 3, column 1: All mapping items must start at the same column'],
  ['two documents', 'accessLogFile: /dev/stdout\n---\nenableTracing: true\n', 'The MeshConfig for asm-1-29 is invalid, nothing was written: Line 2: the text holds more than one YAML document (a second "---"); MeshConfig is a single document.'],
  ['a negative concurrency', 'defaultConfig:\n  concurrency: -1\n', 'The MeshConfig for asm-1-29 is invalid, nothing was written: 2:3 defaultConfig.concurrency: must be a non-negative integer, the number of worker threads per proxy (found the number -1)'],
  ['a bad duration', 'defaultConfig:\n  drainDuration: 45 seconds\n', 'The MeshConfig for asm-1-29 is invalid, nothing was written: 2:3 defaultConfig.drainDuration: must be a duration such as 45s, 1m30s or 500ms (units ns, us, ms, s, m, h; found the string "45 seconds")'],
  ['a bad outbound mode', 'outboundTrafficPolicy:\n  mode: DENY_ALL\n', 'The MeshConfig for asm-1-29 is invalid, nothing was written: 2:3 outboundTrafficPolicy.mode: must be one of ALLOW_ANY, REGISTRY_ONLY (found the string "DENY_ALL")'],
  ['a custom tag', 'accessLogFile: !env LOG_PATH\n', 'The MeshConfig for asm-1-29 is invalid, nothing was written: Line 1, column 16: Unresolved tag: !env (MeshConfig uses plain YAML values, no custom tags)'],
];

describe('bad documents', () => {
  it.each(BAD_DOCUMENTS)('%s: PUT 400 with the message and nothing written; validate 200 with the finding', async (_, yaml, message) => {
    const api = await startBackend();
    const before = structuredClone(configMap('aks-dev', SHARED_129));
    const { resourceVersion } = (await api.view('aks-dev', 'asm-1-29')).shared;
    const put = await api.put('/clusters/aks-dev/meshconfig', { revision: 'asm-1-29', yaml, resourceVersion });
    expect({ status: put.status, name: put.body.error?.name, message: put.body.error?.message }).toEqual({ status: 400, name: 'InputError', message });
    expectErrorBody(put.body);
    expect(configMap('aks-dev', SHARED_129)).toEqual(before);
    const validate = await api.post('/clusters/aks-dev/meshconfig/validate', { revision: 'asm-1-29', yaml });
    expect(validate.status).toBe(200);
    expectSchema(validate.body, 'MeshConfigValidation');
    expect(validate.body.valid).toBe(false);
    const first = validate.body.findings[0];
    expect(message).toContain(first.message);
    expect(api.audit).toEqual([expect.objectContaining({ eventId: 'meshconfig-update', severityLevel: 'high', outcome: 'fail', error: message })]);
  });

  it.each([
    ['no yaml', { revision: 'asm-1-29' }, 400, 'Invalid request body: yaml: is required (the MeshConfig document as YAML text)'],
    ['yaml not a string', { revision: 'asm-1-29', yaml: { accessLogFile: 'x' } }, 400, 'Invalid request body: yaml: must be a string of YAML'],
    ['an extra field', { revision: 'asm-1-29', yaml: '', force: true }, 400, "Invalid request body: request body: Unrecognized key(s) in object: 'force'"],
    ['a bad revision', { revision: '../etc', yaml: '' }, 400, 'Invalid request body: revision: must be a revision name such as asm-1-30 or 1-27-1 (a DNS-1123 label)'],
    ['a bad resourceVersion', { revision: 'asm-1-29', yaml: '', resourceVersion: '1; drop' }, 400, 'Invalid request body: resourceVersion: must be the resourceVersion the ConfigMap was loaded with'],
    ['a revision not installed', { revision: 'asm-1-30', yaml: '' }, 404, 'Revision asm-1-30 is not installed on aks-dev (installed: asm-1-29)'],
  ])('PUT with %s → %s', async (_, body, status, message) => {
    const api = await startBackend();
    const before = structuredClone(configMap('aks-dev', SHARED_129));
    const res = await api.put('/clusters/aks-dev/meshconfig', body);
    expect({ status: res.status, message: res.body.error?.message }).toEqual({ status, message });
    expect(configMap('aks-dev', SHARED_129)).toEqual(before);
  });

  it('refuses a request body over 256 KiB', async () => {
    const api = await startBackend();
    const res = await api.put('/clusters/aks-dev/meshconfig', { revision: 'asm-1-29', yaml: `accessLogFormat: "${'x'.repeat(300_000)}"` });
    expect({ status: res.status, name: res.body.error?.name, message: res.body.error?.message }).toEqual({ status: 413, name: 'PayloadTooLargeError', message: 'request entity too large' });
  });
});

describe('PUT /v1/clusters/:cluster/meshconfig', () => {
  it('saves an allowed change with the resourceVersion and audits the diff', async () => {
    const api = await startBackend();
    const loaded = await api.view('aks-dev', 'asm-1-29');
    const res = await api.put('/clusters/aks-dev/meshconfig', { revision: 'asm-1-29', yaml: ALLOWED_CHANGE, resourceVersion: loaded.shared.resourceVersion });
    expect(res.status).toBe(200);
    expectSchema(res.body, 'MeshConfigUpdateResponse');
    const body = res.body as MeshConfigUpdateResponse;
    const expectedDiff = [
      { path: 'accessLogEncoding', change: 'changed', before: 'JSON', after: 'TEXT' },
      { path: 'defaultConfig.concurrency', change: 'added', after: 2 },
      { path: 'defaultConfig.gatewayTopology', change: 'removed', before: { numTrustedProxies: 2 } },
    ];
    expect(body.diff).toEqual(expectedDiff);
    const stored = configMap('aks-dev', SHARED_129)!;
    expect(stored.data.mesh).toBe(ALLOWED_CHANGE);
    expect(stored.metadata.annotations['istio-mesh.backstage.io/last-edited-by']).toBe(ALICE);
    expect(Number(stored.metadata.resourceVersion)).toBeGreaterThan(Number(loaded.shared.resourceVersion));
    expect(body.view.shared).toMatchObject({ yaml: ALLOWED_CHANGE, resourceVersion: stored.metadata.resourceVersion, findings: [] });
    expect(body.view.overridden).toEqual([]);
    expect(api.audit).toEqual([
      {
        eventId: 'meshconfig-update',
        severityLevel: 'high',
        meta: { cluster: 'aks-dev', revision: 'asm-1-29' },
        outcome: 'success',
        successMeta: {
          cluster: 'aks-dev',
          revision: 'asm-1-29',
          configMap: SHARED_129,
          resourceVersionBefore: loaded.shared.resourceVersion,
          resourceVersionAfter: stored.metadata.resourceVersion,
          diff: expectedDiff,
        },
      },
    ]);
  });

  it('answers 409 when the ConfigMap changed since it was loaded, and writes nothing', async () => {
    const api = await startBackend();
    const loaded = await api.view('aks-dev', 'asm-1-29');
    const current = configMap('aks-dev', SHARED_129)!;
    // Someone else edits it (kubectl edit) after the user loaded it.
    store('aks-dev').replace(configMapType, NS, SHARED_129, { ...current, data: { mesh: 'accessLogFile: /dev/null\n' } });
    const changed = structuredClone(configMap('aks-dev', SHARED_129))!;
    const res = await api.put('/clusters/aks-dev/meshconfig', { revision: 'asm-1-29', yaml: ALLOWED_CHANGE, resourceVersion: loaded.shared.resourceVersion });
    expect(res.status).toBe(409);
    expectErrorBody(res.body);
    expect(res.body.error).toEqual({
      name: 'ConflictError',
      message: `the ConfigMap changed since you loaded it: ${SHARED_129} is at resourceVersion ${changed.metadata.resourceVersion}, you loaded ${loaded.shared.resourceVersion}. Reload it and apply your change again.`,
    });
    expect(configMap('aks-dev', SHARED_129)).toEqual(changed);
    expect(api.audit[0]).toMatchObject({ outcome: 'fail', error: res.body.error.message });
  });

  it('lets the cluster refuse a stale resourceVersion (the sandbox, like kube-apiserver, compares it on PUT)', async () => {
    // What happens when the ConfigMap changes between the service's read and its write.
    const current = configMap('aks-dev', SHARED_129)!;
    store('aks-dev').replace(configMapType, NS, SHARED_129, { ...current, data: { mesh: '' } });
    const res = await fetch(`${sandbox.clusterUrl('aks-dev')}/api/v1/namespaces/${NS}/configmaps/${SHARED_129}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${demoToken('aks-dev')}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...current, data: { mesh: 'accessLogFile: /dev/stdout\n' } }),
    });
    expect(res.status).toBe(409);
    expect((await res.json()).reason).toBe('Conflict');
  });

  it('creates the ConfigMap when absent and the request has no resourceVersion; 409 if it exists meanwhile', async () => {
    const api = await startBackend();
    store('aks-dev').delete(configMapType, NS, SHARED_129);
    const loaded = await api.view('aks-dev', 'asm-1-29');
    expect(loaded.shared).toEqual({ configMap: SHARED_129, namespace: NS, exists: false, yaml: '', findings: [] });
    const created = await api.put('/clusters/aks-dev/meshconfig', { revision: 'asm-1-29', yaml: 'accessLogFile: /dev/stdout\n', resourceVersion: '' });
    expect(created.status).toBe(200);
    expect(configMap('aks-dev', SHARED_129)!.data).toEqual({ mesh: 'accessLogFile: /dev/stdout\n' });
    expect(created.body.diff).toEqual([{ path: 'accessLogFile', change: 'added', after: '/dev/stdout' }]);
    const again = await api.put('/clusters/aks-dev/meshconfig', { revision: 'asm-1-29', yaml: 'accessLogFile: /dev/stderr\n' });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/^the ConfigMap changed since you loaded it: istio-shared-configmap-asm-1-29 exists now \(resourceVersion \d+\) but did not when you loaded it\. Reload it and apply your change again\.$/);
    expect(configMap('aks-dev', SHARED_129)!.data).toEqual({ mesh: 'accessLogFile: /dev/stdout\n' });
  });

  it('answers 409 when the ConfigMap was deleted since it was loaded', async () => {
    const api = await startBackend();
    const loaded = await api.view('aks-dev', 'asm-1-29');
    store('aks-dev').delete(configMapType, NS, SHARED_129);
    const res = await api.put('/clusters/aks-dev/meshconfig', { revision: 'asm-1-29', yaml: ALLOWED_CHANGE, resourceVersion: loaded.shared.resourceVersion });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toBe(`the ConfigMap changed since you loaded it: ${SHARED_129} was deleted. Reload it and apply your change again.`);
    expect(configMap('aks-dev', SHARED_129)).toBeUndefined();
  });

  it('needs istio-mesh.meshconfig.update (403, nothing written, audited)', async () => {
    const api = await startBackend({ denyUpdateOnly: true });
    const before = structuredClone(configMap('aks-dev', SHARED_129));
    const loaded = await api.view('aks-dev', 'asm-1-29');
    expect(loaded.revision).toBe('asm-1-29'); // reading is still allowed
    const res = await api.put('/clusters/aks-dev/meshconfig', { revision: 'asm-1-29', yaml: ALLOWED_CHANGE, resourceVersion: loaded.shared.resourceVersion });
    expect({ status: res.status, name: res.body.error.name, message: res.body.error.message }).toEqual({
      status: 403,
      name: 'NotAllowedError',
      message: 'You are not allowed to change the shared MeshConfig',
    });
    expect(configMap('aks-dev', SHARED_129)).toEqual(before);
    expect(api.audit).toEqual([expect.objectContaining({ eventId: 'meshconfig-update', outcome: 'fail', error: 'You are not allowed to change the shared MeshConfig' })]);
  });
});

describe('the canary upgrade copies the shared MeshConfig through the MeshConfigService', () => {
  it('refuses to start when the new revision would reject the shared document, before anything is written', async () => {
    const api = await startBackend();
    const current = configMap('aks-dev', SHARED_129)!;
    // Written past the portal (the sandbox has no admission webhook for MeshConfig).
    store('aks-dev').replace(configMapType, NS, SHARED_129, { ...current, data: { mesh: 'accessLogFile: /dev/stdout\nrootNamespace: payments\n' } });
    const res = await api.post('/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-30' });
    expect({ status: res.status, message: res.body.error?.message }).toEqual({
      status: 409,
      message: 'istio-shared-configmap-asm-1-29 cannot be copied to asm-1-30: the add-on would reject it there (2:1 rootNamespace: is blocked on asm-1-30: not a supported or allowed MeshConfig field of the AKS Istio add-on, so its admission webhook would reject the ConfigMap). Fix the shared MeshConfig of asm-1-29 first; nothing was changed.',
    });
    expect(configMap('aks-dev', 'istio-shared-configmap-asm-1-30')).toBeUndefined();
    expect((await api.get('/clusters/aks-dev/upgrade')).status).toBe(404);
    const istiods = [...store('aks-dev').scan(RESOURCE_TYPES.find(t => t.kind === 'Deployment')!, NS)].map(d => d.metadata.name);
    expect(istiods).toEqual(['istiod-asm-1-29']);
  });

  it('copies a valid shared document to the new revision when the start goes ahead', async () => {
    const api = await startBackend();
    const res = await api.post('/clusters/aks-dev/upgrade', { targetRevision: 'asm-1-30' });
    expect(res.status).toBe(202);
    const copy = configMap('aks-dev', 'istio-shared-configmap-asm-1-30')!;
    expect(copy.data).toEqual(configMap('aks-dev', SHARED_129)!.data);
    expect(copy.metadata.annotations['istio-mesh.backstage.io/copied-from']).toBe(SHARED_129);
  });
});
