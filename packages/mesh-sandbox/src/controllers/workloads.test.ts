import { ManualClock } from '../clock';
import { createDemoFleet } from '../fleet';
import { SandboxServer, startSandboxServer } from '../server';
import { callCluster } from '../__testUtils__/sandboxHttp';

/**
 * The workload controllers step by step (sandbox-only: a real cluster cannot be stepped).
 * A ManualClock with 1000 ms steps: a new pod is Running and Ready one step after it was
 * created; everything else reacts at once.
 */

let clock: ManualClock;
let server: SandboxServer;
let ns: string;
let counter = 0;

const call = (
  method: string,
  path: string,
  body?: unknown,
  contentType?: string,
) => callCluster(server, 'aks-dev', method, path, { body, contentType });
const get = async (path: string) => {
  const res = await call('GET', path);
  expect(res.status).toBe(200);
  return res.body;
};
const apps = (plural: string, name = '') =>
  `/apis/apps/v1/namespaces/${ns}/${plural}${name ? `/${name}` : ''}`;

beforeEach(async () => {
  clock = new ManualClock('2026-11-25T10:00:00Z');
  server = await startSandboxServer({
    clusters: createDemoFleet({ clock, stepMs: 1000 }),
    port: 0,
  });
  ns = `workloads-${++counter}`;
  const created = await call('POST', '/api/v1/namespaces', {
    metadata: { name: ns },
  });
  if (created.status !== 201)
    throw new Error(`cannot create namespace ${ns}: ${created.status}`);
});

afterEach(async () => {
  await server.close();
});

function template(app: string) {
  return {
    metadata: { labels: { app } },
    spec: { containers: [{ name: app, image: `example.com/${app}:1` }] },
  };
}

async function createDeployment(
  name: string,
  replicas: number,
  strategy?: unknown,
) {
  const res = await call('POST', apps('deployments'), {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: template(name),
      ...(strategy ? { strategy } : {}),
    },
  });
  expect(res.status).toBe(201);
  return res.body;
}

const restart = (plural: string, name: string, at = '2026-11-25T11:00:00Z') =>
  call(
    'PATCH',
    apps(plural, name),
    {
      spec: {
        template: {
          metadata: {
            annotations: { 'kubectl.kubernetes.io/restartedAt': at },
          },
        },
      },
    },
    'application/strategic-merge-patch+json',
  );

/** [revision, spec.replicas, ready pods] per ReplicaSet, oldest revision first. */
async function replicaSets(app: string) {
  const list = await get(`${apps('replicasets')}?labelSelector=app=${app}`);
  return list.items
    .map((rs: any) => [
      Number(rs.metadata.annotations['deployment.kubernetes.io/revision']),
      rs.spec.replicas,
      rs.status.readyReplicas ?? 0,
    ])
    .sort((a: number[], b: number[]) => a[0] - b[0]);
}

async function pods(selector: string) {
  return (await get(`/api/v1/namespaces/${ns}/pods?labelSelector=${selector}`))
    .items;
}

describe('Deployment', () => {
  it('creates the ReplicaSet and pods of a new Deployment; they are ready one step later', async () => {
    const created = await createDeployment('web', 3);
    expect(created.status).toEqual({});

    const deployment = await get(apps('deployments', 'web'));
    expect(deployment.metadata.annotations).toEqual({
      'deployment.kubernetes.io/revision': '1',
    });
    const [rs] = (await get(apps('replicasets'))).items;
    const hash = rs.metadata.labels['pod-template-hash'];
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{10}$/);
    expect(rs.metadata).toMatchObject({
      name: `web-${hash}`,
      labels: { app: 'web', 'pod-template-hash': hash },
      annotations: {
        'deployment.kubernetes.io/desired-replicas': '3',
        'deployment.kubernetes.io/max-replicas': '4',
        'deployment.kubernetes.io/revision': '1',
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'web',
          uid: created.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    expect(rs.spec.selector).toEqual({
      matchLabels: { app: 'web', 'pod-template-hash': hash },
    });
    expect(rs.status).toEqual({
      replicas: 3,
      fullyLabeledReplicas: 3,
      observedGeneration: 1,
    });

    const pending = await pods('app=web');
    expect(pending).toHaveLength(3);
    for (const pod of pending) {
      expect(pod.metadata.name).toMatch(
        new RegExp(`^web-${hash}-[a-z0-9]{5}$`),
      );
      expect(pod.metadata.generateName).toBe(`web-${hash}-`);
      expect(pod.metadata.ownerReferences[0]).toMatchObject({
        kind: 'ReplicaSet',
        name: `web-${hash}`,
        uid: rs.metadata.uid,
      });
      expect(pod.spec.nodeName).toMatch(
        /^aks-nodepool1-[a-z0-9]{8}-vmss00000[0-2]$/,
      );
      expect(pod.status).toEqual({
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'True',
            lastProbeTime: null,
            lastTransitionTime: '2026-11-25T10:00:00Z',
          },
        ],
        qosClass: 'BestEffort',
        containerStatuses: [
          {
            name: 'web',
            ready: false,
            restartCount: 0,
            started: false,
            image: 'example.com/web:1',
            imageID: '',
            state: { waiting: { reason: 'ContainerCreating' } },
          },
        ],
      });
    }
    expect(deployment.status).toEqual({
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 3,
      unavailableReplicas: 3,
      conditions: [
        {
          type: 'Available',
          status: 'False',
          lastUpdateTime: '2026-11-25T10:00:00Z',
          lastTransitionTime: '2026-11-25T10:00:00Z',
          reason: 'MinimumReplicasUnavailable',
          message: 'Deployment does not have minimum availability.',
        },
        {
          type: 'Progressing',
          status: 'True',
          lastUpdateTime: '2026-11-25T10:00:00Z',
          lastTransitionTime: '2026-11-25T10:00:00Z',
          reason: 'ReplicaSetUpdated',
          message: `ReplicaSet "web-${hash}" is progressing.`,
        },
      ],
    });

    clock.advance(1000);
    const running = await pods('app=web');
    expect(running.map((p: any) => p.status.phase)).toEqual([
      'Running',
      'Running',
      'Running',
    ]);
    expect(
      running[0].status.conditions.map((c: any) => [c.type, c.status]),
    ).toEqual([
      ['Initialized', 'True'],
      ['Ready', 'True'],
      ['ContainersReady', 'True'],
      ['PodScheduled', 'True'],
    ]);
    expect(running[0].status.startTime).toBe('2026-11-25T10:00:01Z');
    expect(running[0].status.podIP).toMatch(/^10\.244\.\d+\.\d+$/);
    expect((await get(apps('deployments', 'web'))).status).toEqual({
      observedGeneration: 1,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      conditions: [
        {
          type: 'Available',
          status: 'True',
          lastUpdateTime: '2026-11-25T10:00:01Z',
          lastTransitionTime: '2026-11-25T10:00:01Z',
          reason: 'MinimumReplicasAvailable',
          message: 'Deployment has minimum availability.',
        },
        {
          type: 'Progressing',
          status: 'True',
          lastUpdateTime: '2026-11-25T10:00:01Z',
          lastTransitionTime: '2026-11-25T10:00:00Z',
          reason: 'NewReplicaSetAvailable',
          message: `ReplicaSet "web-${hash}" has successfully progressed.`,
        },
      ],
    });
  });

  it('rolls a new template out within maxSurge and maxUnavailable (25% of 4: one each)', async () => {
    await createDeployment('web', 4);
    clock.advance(1000);
    const restarted = await restart('deployments', 'web');
    expect(restarted.body.metadata.generation).toBe(2);

    // New RS up by 1 (surge), old down by 1 (unavailable), then new up to 2 (5 pods in all).
    expect(await replicaSets('web')).toEqual([
      [1, 3, 3],
      [2, 2, 0],
    ]);
    clock.advance(1000);
    expect(await replicaSets('web')).toEqual([
      [1, 1, 1],
      [2, 4, 2],
    ]);
    const midway = await get(apps('deployments', 'web'));
    expect(midway.status).toMatchObject({
      observedGeneration: 2,
      replicas: 5,
      updatedReplicas: 4,
      readyReplicas: 3,
      availableReplicas: 3,
      unavailableReplicas: 2,
    });
    clock.advance(1000);
    expect(await replicaSets('web')).toEqual([
      [1, 0, 0],
      [2, 4, 4],
    ]);
    const done = await get(apps('deployments', 'web'));
    expect(done.metadata.annotations['deployment.kubernetes.io/revision']).toBe(
      '2',
    );
    expect(done.status).toMatchObject({
      observedGeneration: 2,
      replicas: 4,
      updatedReplicas: 4,
      readyReplicas: 4,
      availableReplicas: 4,
    });
    expect(done.status.unavailableReplicas).toBeUndefined();
    expect(
      done.status.conditions.map((c: any) => [
        c.type,
        c.reason,
        c.lastTransitionTime,
      ]),
    ).toEqual([
      ['Available', 'MinimumReplicasAvailable', '2026-11-25T10:00:01Z'],
      ['Progressing', 'NewReplicaSetAvailable', '2026-11-25T10:00:00Z'],
    ]);
    const final = await pods('app=web');
    expect(
      final.map(
        (p: any) => p.metadata.annotations['kubectl.kubernetes.io/restartedAt'],
      ),
    ).toEqual(Array(4).fill('2026-11-25T11:00:00Z'));
    const oldRS = (await get(apps('replicasets'))).items.find(
      (rs: any) =>
        rs.metadata.annotations['deployment.kubernetes.io/revision'] === '1',
    );
    // 4 → 3 at the restart; 3 → 2 → 1 as the two new pods turned ready; 1 → 0.
    expect(oldRS.metadata.generation).toBe(5);
    expect(oldRS.status).toEqual({ replicas: 0, observedGeneration: 5 });
  });

  it('honours maxSurge 0: old pods go first, one at a time', async () => {
    await createDeployment('web', 2, {
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 0, maxUnavailable: 1 },
    });
    clock.advance(1000);
    await restart('deployments', 'web');
    expect(await replicaSets('web')).toEqual([
      [1, 1, 1],
      [2, 1, 0],
    ]);
    clock.advance(1000);
    expect(await replicaSets('web')).toEqual([
      [1, 0, 0],
      [2, 2, 1],
    ]);
    clock.advance(1000);
    expect(await replicaSets('web')).toEqual([
      [1, 0, 0],
      [2, 2, 2],
    ]);
  });

  it('recreates: every old pod goes before the new ones are created', async () => {
    await createDeployment('web', 2, { type: 'Recreate' });
    clock.advance(1000);
    await restart('deployments', 'web');
    expect(await replicaSets('web')).toEqual([
      [1, 0, 0],
      [2, 2, 0],
    ]);
    expect((await pods('app=web')).map((p: any) => p.status.phase)).toEqual([
      'Pending',
      'Pending',
    ]);
    clock.advance(1000);
    expect(await replicaSets('web')).toEqual([
      [1, 0, 0],
      [2, 2, 2],
    ]);
  });

  it('scales up and down, removing not-ready pods first', async () => {
    await createDeployment('web', 2);
    clock.advance(1000);
    await call(
      'PATCH',
      apps('deployments', 'web'),
      { spec: { replicas: 4 } },
      'application/merge-patch+json',
    );
    expect(await replicaSets('web')).toEqual([[1, 4, 2]]);
    await call(
      'PATCH',
      apps('deployments', 'web'),
      { spec: { replicas: 2 } },
      'application/merge-patch+json',
    );
    expect(await replicaSets('web')).toEqual([[1, 2, 2]]);
    expect((await pods('app=web')).map((p: any) => p.status.phase)).toEqual([
      'Running',
      'Running',
    ]);
  });

  it('replaces a deleted pod, and deletes ReplicaSets and pods with their Deployment', async () => {
    await createDeployment('web', 2);
    clock.advance(1000);
    const [first] = await pods('app=web');
    await call(
      'DELETE',
      `/api/v1/namespaces/${ns}/pods/${first.metadata.name}`,
    );
    const after = await pods('app=web');
    expect(after.map((p: any) => p.status.phase).sort()).toEqual([
      'Pending',
      'Running',
    ]);
    expect(after.map((p: any) => p.metadata.name)).not.toContain(
      first.metadata.name,
    );

    await call('DELETE', apps('deployments', 'web'));
    expect((await get(apps('replicasets'))).items).toEqual([]);
    expect(await pods('app=web')).toEqual([]);
  });

  it('rolls back to an earlier template by reusing its ReplicaSet with a new revision', async () => {
    await createDeployment('web', 1);
    clock.advance(1000);
    const [original] = (await get(apps('replicasets'))).items;
    await restart('deployments', 'web');
    clock.advance(1000);
    await call(
      'PATCH',
      apps('deployments', 'web'),
      [{ op: 'remove', path: '/spec/template/metadata/annotations' }],
      'application/json-patch+json',
    );
    clock.advance(1000);
    const sets = (await get(apps('replicasets'))).items;
    expect(sets).toHaveLength(2);
    const reused = sets.find(
      (rs: any) => rs.metadata.uid === original.metadata.uid,
    );
    expect(
      reused.metadata.annotations['deployment.kubernetes.io/revision'],
    ).toBe('3');
    expect(reused.spec.replicas).toBe(1);
    expect(await replicaSets('web')).toEqual([
      [2, 0, 0],
      [3, 1, 1],
    ]);
    expect(
      (await get(apps('deployments', 'web'))).metadata.annotations[
        'deployment.kubernetes.io/revision'
      ],
    ).toBe('3');
  });

  it('keeps at most revisionHistoryLimit old ReplicaSets', async () => {
    const res = await call('POST', apps('deployments'), {
      metadata: { name: 'web' },
      spec: {
        replicas: 1,
        revisionHistoryLimit: 1,
        selector: { matchLabels: { app: 'web' } },
        template: template('web'),
      },
    });
    expect(res.status).toBe(201);
    for (const at of [
      '2026-11-25T11:00:00Z',
      '2026-11-25T12:00:00Z',
      '2026-11-25T13:00:00Z',
    ]) {
      clock.advance(1000);
      await restart('deployments', 'web', at);
    }
    clock.advance(1000);
    expect(await replicaSets('web')).toEqual([
      [3, 0, 0],
      [4, 1, 1],
    ]);
  });
});

describe('a pod created through the API', () => {
  it('is scheduled and started one step later', async () => {
    const created = await call('POST', `/api/v1/namespaces/${ns}/pods`, {
      metadata: { name: 'bare' },
      spec: { containers: [{ name: 'bare', image: 'example.com/bare:1' }] },
    });
    expect(created.body.status).toEqual({
      phase: 'Pending',
      qosClass: 'BestEffort',
    });
    clock.advance(1000);
    const pod = await get(`/api/v1/namespaces/${ns}/pods/bare`);
    expect(pod.spec.nodeName).toMatch(
      /^aks-nodepool1-[a-z0-9]{8}-vmss00000[0-2]$/,
    );
    expect(pod.status.phase).toBe('Running');
    expect(pod.status.containerStatuses).toEqual([
      {
        name: 'bare',
        ready: true,
        restartCount: 0,
        started: true,
        image: 'example.com/bare:1',
        imageID: '',
        state: { running: { startedAt: '2026-11-25T10:00:01Z' } },
      },
    ]);
  });
});

describe('StatefulSet', () => {
  it('starts ordinals in order and updates them from the highest down', async () => {
    const created = await call('POST', apps('statefulsets'), {
      metadata: { name: 'db' },
      spec: {
        replicas: 3,
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: template('db'),
      },
    });
    expect(created.status).toBe(201);
    const snapshot = async () =>
      (await pods('app=db'))
        .map((p: any) => [
          p.metadata.name,
          p.status.phase,
          p.metadata.labels['controller-revision-hash'],
        ])
        .sort();
    const v1 = (await get(apps('statefulsets', 'db'))).status.updateRevision;
    expect(v1).toMatch(/^db-[a-z0-9]{10}$/);
    expect(await snapshot()).toEqual([['db-0', 'Pending', v1]]);
    clock.advance(1000);
    expect(await snapshot()).toEqual([
      ['db-0', 'Running', v1],
      ['db-1', 'Pending', v1],
    ]);
    clock.advance(2000);
    expect(await snapshot()).toEqual([
      ['db-0', 'Running', v1],
      ['db-1', 'Running', v1],
      ['db-2', 'Running', v1],
    ]);
    const pod = (await pods('app=db'))[2];
    expect(pod.metadata.labels).toEqual({
      app: 'db',
      'controller-revision-hash': v1,
      'statefulset.kubernetes.io/pod-name': 'db-2',
      'apps.kubernetes.io/pod-index': '2',
    });
    expect([pod.spec.hostname, pod.spec.subdomain]).toEqual(['db-2', 'db']);
    expect((await get(apps('statefulsets', 'db'))).status).toEqual({
      observedGeneration: 1,
      replicas: 3,
      readyReplicas: 3,
      currentReplicas: 3,
      updatedReplicas: 3,
      availableReplicas: 3,
      currentRevision: v1,
      updateRevision: v1,
      collisionCount: 0,
    });

    await restart('statefulsets', 'db');
    const v2 = (await get(apps('statefulsets', 'db'))).status.updateRevision;
    expect(v2).not.toBe(v1);
    expect(await snapshot()).toEqual([
      ['db-0', 'Running', v1],
      ['db-1', 'Running', v1],
      ['db-2', 'Pending', v2],
    ]);
    clock.advance(1000);
    expect(await snapshot()).toEqual([
      ['db-0', 'Running', v1],
      ['db-1', 'Pending', v2],
      ['db-2', 'Running', v2],
    ]);
    clock.advance(2000);
    expect(await snapshot()).toEqual([
      ['db-0', 'Running', v2],
      ['db-1', 'Running', v2],
      ['db-2', 'Running', v2],
    ]);
    expect((await get(apps('statefulsets', 'db'))).status).toMatchObject({
      observedGeneration: 2,
      currentRevision: v2,
      updateRevision: v2,
      updatedReplicas: 3,
      currentReplicas: 3,
    });
  });
});

describe('DaemonSet', () => {
  it('runs one pod per node and updates them one node at a time', async () => {
    const created = await call('POST', apps('daemonsets'), {
      metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: template('agent'),
      },
    });
    expect(created.status).toBe(201);
    const nodes = async () =>
      (await pods('app=agent'))
        .map((p: any) => [
          p.spec.nodeName.slice(-1),
          p.status.phase,
          p.metadata.labels['controller-revision-hash'],
        ])
        .sort();
    const before = await nodes();
    const h1 = before[0][2];
    expect(before).toEqual([
      ['0', 'Pending', h1],
      ['1', 'Pending', h1],
      ['2', 'Pending', h1],
    ]);
    clock.advance(1000);
    expect((await get(apps('daemonsets', 'agent'))).status).toEqual({
      currentNumberScheduled: 3,
      desiredNumberScheduled: 3,
      numberMisscheduled: 0,
      numberReady: 3,
      numberAvailable: 3,
      updatedNumberScheduled: 3,
      observedGeneration: 1,
    });
    await restart('daemonsets', 'agent');
    const during = await nodes();
    const h2 = during.find((n: string[]) => n[2] !== h1)![2];
    expect(during).toEqual([
      ['0', 'Pending', h2],
      ['1', 'Running', h1],
      ['2', 'Running', h1],
    ]);
    clock.advance(1000);
    expect(await nodes()).toEqual([
      ['0', 'Running', h2],
      ['1', 'Pending', h2],
      ['2', 'Running', h1],
    ]);
    clock.advance(2000);
    expect(await nodes()).toEqual([
      ['0', 'Running', h2],
      ['1', 'Running', h2],
      ['2', 'Running', h2],
    ]);
  });
});
