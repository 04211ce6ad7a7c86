import { createDemoFleet, demoToken } from './fleet';
import { resourceTypeOfKind } from './resources';
import { SandboxServer, startSandboxServer } from './server';
import { callCluster } from './__testUtils__/sandboxHttp';

/**
 * Sandbox-specific behaviour over HTTP: routing of the fleet, and the cases of the
 * kube-apiserver contract a real cluster cannot be made to show on demand.
 */

let server: SandboxServer;

beforeAll(async () => {
  server = await startSandboxServer({ clusters: createDemoFleet(), port: 0 });
});

afterAll(async () => {
  await server.close();
});

async function call(
  method: string,
  path: string,
  options: {
    cluster?: string;
    token?: string | null;
    body?: unknown;
    contentType?: string;
  } = {},
): Promise<{ status: number; body: any }> {
  return callCluster(server, options.cluster ?? 'aks-dev', method, path, options);
}

let counter = 0;
async function freshNamespace(cluster = 'aks-dev'): Promise<string> {
  const name = `server-test-${++counter}`;
  const res = await call('POST', '/api/v1/namespaces', {
    cluster,
    body: { metadata: { name } },
  });
  expect(res.status).toBe(201);
  return name;
}

describe('routing', () => {
  it('answers /healthz without a token', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('serves version and discovery per cluster', async () => {
    expect(await call('GET', '/version')).toEqual({
      status: 200,
      body: {
        major: '1',
        minor: '34',
        gitVersion: 'v1.34.2',
        platform: 'linux/amd64',
      },
    });
    expect(await call('GET', '/api')).toEqual({
      status: 200,
      body: { kind: 'APIVersions', versions: ['v1'] },
    });
    const apis = await call('GET', '/apis');
    expect(
      apis.body.groups.map((g: any) => g.preferredVersion.groupVersion),
    ).toEqual([
      'apps/v1',
      'batch/v1',
      'networking.k8s.io/v1',
      'autoscaling/v2',
      'secrets-store.csi.x-k8s.io/v1',
      'admissionregistration.k8s.io/v1',
    ]);
  });

  it('answers an unknown cluster with 404', async () => {
    const res = await fetch(
      `${server.url}/clusters/aks-nowhere/api/v1/namespaces`,
      {
        headers: { Authorization: `Bearer ${demoToken('aks-nowhere')}` },
      },
    );
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({
      kind: 'Status',
      reason: 'NotFound',
      code: 404,
    });
  });

  it("does not accept one cluster's token on another", async () => {
    const res = await call('GET', '/api/v1/namespaces', {
      cluster: 'aks-prod',
      token: demoToken('aks-dev'),
    });
    expect(res).toEqual({
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
  });

  it('answers unknown resources and subresources with 404', async () => {
    for (const path of [
      '/api/v1/secrets',
      '/apis/apps/v1/namespaces/payments/deployments/payments-api/scale',
      '/apis/nope.io/v1/things',
    ]) {
      const res = await call('GET', path);
      expect([path, res.status, res.body.reason]).toEqual([
        path,
        404,
        'NotFound',
      ]);
    }
  });

  it('reports NotFound for a missing Ingress with its plural', async () => {
    const res = await call(
      'GET',
      '/apis/networking.k8s.io/v1/namespaces/default/ingresses/nope',
    );
    expect(res.body).toMatchObject({
      message: 'ingresses.networking.k8s.io "nope" not found',
      details: { name: 'nope', group: 'networking.k8s.io', kind: 'ingresses' },
    });
  });
});

describe('pagination snapshots', () => {
  it('expires old continue tokens with 410 Expired and an inconsistent token to go on with', async () => {
    const ns = await freshNamespace();
    for (const name of ['a', 'b', 'c']) {
      expect(
        (
          await call('POST', `/api/v1/namespaces/${ns}/configmaps`, {
            body: { metadata: { name } },
          })
        ).status,
      ).toBe(201);
    }
    const first = await call(
      'GET',
      `/api/v1/namespaces/${ns}/configmaps?limit=1`,
    );
    expect(first.body.items.map((i: any) => i.metadata.name)).toEqual(['a']);
    const token = first.body.metadata.continue;

    // Paginated lists at 32 later revisions push the first snapshot out, as etcd compaction would.
    for (let i = 0; i < 32; i++) {
      await call('POST', `/api/v1/namespaces/${ns}/configmaps`, {
        body: { metadata: { name: `z-${i}` } },
      });
      await call('GET', `/api/v1/namespaces/${ns}/configmaps?limit=1`);
    }

    const expired = await call(
      'GET',
      `/api/v1/namespaces/${ns}/configmaps?limit=1&continue=${token}`,
    );
    expect(expired.status).toBe(410);
    expect(expired.body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Expired',
      code: 410,
    });
    expect(expired.body.message).toMatch(
      /^The provided continue parameter is too old/,
    );

    // The inconsistent token goes on after "a" in the current state, new objects included.
    const inconsistent = expired.body.metadata.continue;
    const rest: string[] = [];
    let next: string | undefined = inconsistent;
    while (next) {
      const page: { body: any } = await call(
        'GET',
        `/api/v1/namespaces/${ns}/configmaps?limit=10&continue=${next}`,
      );
      rest.push(...page.body.items.map((i: any) => i.metadata.name));
      next = page.body.metadata.continue;
    }
    expect(rest).toEqual([
      'b',
      'c',
      // istiod's trust bundle, written into every new namespace (controllers/caRootPublisher.ts)
      'istio-ca-root-cert',
      ...Array.from({ length: 32 }, (_, i) => `z-${i}`).sort(),
    ]);
  });

  it('rejects a continue token for another namespace', async () => {
    const ns = await freshNamespace();
    for (const name of ['a', 'b'])
      await call('POST', `/api/v1/namespaces/${ns}/configmaps`, {
        body: { metadata: { name } },
      });
    const first = await call(
      'GET',
      `/api/v1/namespaces/${ns}/configmaps?limit=1`,
    );
    const res = await call(
      'GET',
      `/api/v1/namespaces/default/configmaps?limit=1&continue=${first.body.metadata.continue}`,
    );
    expect(res.status).toBe(400);
    expect(res.body.reason).toBe('BadRequest');
  });
});

describe('writes through the API', () => {
  // An Ingress: it has generation and a status subresource but no controller in the
  // sandbox (a Deployment's controller writes its status at once).
  it('cannot set status on create or change it on update; the controllers (the store) can', async () => {
    const ns = await freshNamespace();
    const path = `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`;
    const lb = { loadBalancer: { ingress: [{ ip: '203.0.113.9' }] } };
    const created = await call('POST', path, {
      body: {
        metadata: { name: 'web', generation: 7 },
        spec: {
          defaultBackend: { service: { name: 'web', port: { number: 80 } } },
        },
        status: lb,
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.status).toEqual({});
    expect(created.body.metadata.generation).toBe(1);

    const put = await call('PUT', `${path}/web`, {
      body: {
        ...created.body,
        metadata: { ...created.body.metadata, generation: 9 },
        status: lb,
      },
    });
    expect(put.status).toBe(200);
    expect(put.body.status).toEqual({});
    expect(put.body.metadata.generation).toBe(1);
    expect(put.body.metadata.resourceVersion).toBe(
      created.body.metadata.resourceVersion,
    ); // nothing changed

    const store = server.clusters.get('aks-dev')!.store;
    const byController = store.patch(
      resourceTypeOfKind('Ingress'),
      ns,
      'web',
      d => ({ ...d, status: lb }),
    );
    expect(byController.status).toEqual(lb);
    expect((await call('GET', `${path}/web`)).body.status).toEqual(lb);
  });

  it('keeps namespace finalizers and status on update, and re-adds the name label', async () => {
    const ns = await freshNamespace();
    const res = await call('PATCH', `/api/v1/namespaces/${ns}`, {
      contentType: 'application/merge-patch+json',
      body: {
        metadata: {
          labels: { 'kubernetes.io/metadata.name': null, team: 'a' },
        },
        spec: { finalizers: [] },
        status: { phase: 'Terminating' },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.metadata.labels).toEqual({
      'kubernetes.io/metadata.name': ns,
      team: 'a',
    });
    expect(res.body.spec).toEqual({ finalizers: ['kubernetes'] });
    expect(res.body.status).toEqual({ phase: 'Active' });
  });

  it('rejects a PUT with another uid with 409 Conflict', async () => {
    const ns = await freshNamespace();
    await call('POST', `/api/v1/namespaces/${ns}/configmaps`, {
      body: { metadata: { name: 'cm' } },
    });
    const res = await call('PUT', `/api/v1/namespaces/${ns}/configmaps/cm`, {
      body: { metadata: { name: 'cm', uid: 'someone-else' } },
    });
    expect(res.status).toBe(409);
    expect(res.body.reason).toBe('Conflict');
    expect(res.body.message).toMatch(
      /Precondition failed: UID in precondition: .*, UID in object meta: someone-else$/,
    );
  });

  it('rejects a PUT into another namespace with 400', async () => {
    const ns = await freshNamespace();
    await call('POST', `/api/v1/namespaces/${ns}/configmaps`, {
      body: { metadata: { name: 'cm' } },
    });
    const res = await call('PUT', `/api/v1/namespaces/${ns}/configmaps/cm`, {
      body: { metadata: { name: 'cm', namespace: 'default' } },
    });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe(
      'the namespace of the provided object does not match the namespace sent on the request',
    );
  });

  it('rejects merge and strategic merge patches that are not JSON objects with 400', async () => {
    for (const contentType of [
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
    ]) {
      const res = await call('PATCH', '/api/v1/namespaces/default', {
        contentType,
        body: '["not", "an", "object"]',
      });
      expect([contentType, res.status, res.body.reason]).toEqual([
        contentType,
        400,
        'BadRequest',
      ]);
    }
    const invalidJson = await call('PATCH', '/api/v1/namespaces/default', {
      contentType: 'application/merge-patch+json',
      body: '{nope',
    });
    expect(invalidJson.status).toBe(400);
  });

  it('answers a delete with a Success Status naming the object', async () => {
    const ns = await freshNamespace();
    const created = await call(
      'POST',
      `/apis/apps/v1/namespaces/${ns}/deployments`,
      { body: { metadata: { name: 'gone' }, spec: {} } },
    );
    const res = await call(
      'DELETE',
      `/apis/apps/v1/namespaces/${ns}/deployments/gone`,
    );
    expect(res).toEqual({
      status: 200,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: {
          name: 'gone',
          group: 'apps',
          kind: 'deployments',
          uid: created.body.metadata.uid,
        },
      },
    });
  });

  it('deletes the objects of a deleted namespace', async () => {
    const ns = await freshNamespace();
    await call('POST', `/api/v1/namespaces/${ns}/configmaps`, {
      body: { metadata: { name: 'cm' } },
    });
    expect((await call('DELETE', `/api/v1/namespaces/${ns}`)).status).toBe(200);
    expect(
      (await call('GET', `/api/v1/namespaces/${ns}/configmaps/cm`)).status,
    ).toBe(404);
    const all = await call('GET', '/api/v1/configmaps');
    expect(
      all.body.items.filter((i: any) => i.metadata.namespace === ns),
    ).toEqual([]);
  });

  it('rejects a body over 3 MiB with 413', async () => {
    const res = await call('POST', '/api/v1/namespaces/default/configmaps', {
      body: {
        metadata: { name: 'huge' },
        data: { blob: 'x'.repeat(3 * 1024 * 1024 + 1) },
      },
    });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({
      kind: 'Status',
      reason: 'RequestEntityTooLarge',
      code: 413,
    });
    expect(
      (await call('GET', '/api/v1/namespaces/default/configmaps/huge')).status,
    ).toBe(404);
  });
});
