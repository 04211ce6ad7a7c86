import {
  JsonPatchError,
  jsonMergePatch,
  jsonPatch,
  PatchFormatError,
  strategicMergePatch,
} from './patch';

/** The error `fn` throws (toThrow(error) would compare messages only, not classes). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

const podSpec = () => ({
  containers: [
    {
      name: 'app',
      image: 'app:1',
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: '2' },
      ],
      ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
      args: ['--verbose', '--port=8080'],
    },
    { name: 'istio-proxy', image: 'proxyv2:1.29.2' },
  ],
  tolerations: [{ key: 'a', operator: 'Exists' }],
});

describe('jsonMergePatch', () => {
  it('merges maps, deletes null members and replaces lists and scalars', () => {
    const target = {
      metadata: { labels: { a: '1', b: '2' } },
      spec: { list: [1, 2, 3], n: 1 },
    };
    const result = jsonMergePatch(target, {
      metadata: { labels: { b: null, c: '3' } },
      spec: { list: [9], n: 2 },
    });
    expect(result).toEqual({
      metadata: { labels: { a: '1', c: '3' } },
      spec: { list: [9], n: 2 },
    });
  });

  it('replaces the whole target with a patch that is not an object', () => {
    expect(jsonMergePatch({ a: 1 }, [1, 2])).toEqual([1, 2]);
    expect(jsonMergePatch({ a: 1 }, 'x')).toBe('x');
  });

  it('creates missing parents and leaves the target untouched', () => {
    const target = { a: { keep: true } };
    expect(jsonMergePatch(target, { b: { c: { d: 1 } } })).toEqual({
      a: { keep: true },
      b: { c: { d: 1 } },
    });
    expect(jsonMergePatch(target, { a: { keep: null } })).toEqual({ a: {} });
    expect(target).toEqual({ a: { keep: true } });
  });
});

describe('strategicMergePatch', () => {
  it('merges containers by name, keeping the ones the patch does not mention', () => {
    const result = strategicMergePatch(
      { spec: podSpec() },
      {
        spec: {
          containers: [{ name: 'istio-proxy', image: 'proxyv2:1.30.1' }],
        },
      },
    );
    expect(result.spec.containers).toEqual([
      podSpec().containers[0],
      { name: 'istio-proxy', image: 'proxyv2:1.30.1' },
    ]);
    expect(result.spec.tolerations).toEqual(podSpec().tolerations);
  });

  it('appends list elements with a new merge key', () => {
    const result = strategicMergePatch(podSpec(), {
      containers: [{ name: 'debug', image: 'busybox' }],
    });
    expect(result.containers.map((c: any) => c.name)).toEqual([
      'app',
      'istio-proxy',
      'debug',
    ]);
  });

  it('merges nested lists by their own merge keys: env by name, container ports by containerPort', () => {
    const result = strategicMergePatch(podSpec(), {
      containers: [
        {
          name: 'app',
          env: [
            { name: 'B', value: 'two' },
            { name: 'C', value: '3' },
          ],
          ports: [{ containerPort: 9090, name: 'metrics' }],
        },
      ],
    });
    expect(result.containers[0].env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: 'two' },
      { name: 'C', value: '3' },
    ]);
    expect(result.containers[0].ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { containerPort: 9090, name: 'metrics' },
    ]);
    expect(result.containers[0].image).toBe('app:1');
  });

  it('merges Service ports by port', () => {
    const service = {
      spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    };
    const result = strategicMergePatch(service, {
      spec: {
        ports: [
          { port: 80, targetPort: 9090 },
          { name: 'https', port: 443 },
        ],
      },
    });
    expect(result.spec.ports).toEqual([
      { name: 'http', port: 80, targetPort: 9090 },
      { name: 'https', port: 443 },
    ]);
  });

  it('replaces lists without a patch strategy (args, tolerations)', () => {
    const result = strategicMergePatch(podSpec(), {
      containers: [{ name: 'app', args: ['--quiet'] }],
      tolerations: [{ key: 'b', operator: 'Exists' }],
    });
    expect(result.containers[0].args).toEqual(['--quiet']);
    expect(result.tolerations).toEqual([{ key: 'b', operator: 'Exists' }]);
  });

  it('deletes a list element with $patch: delete', () => {
    const result = strategicMergePatch(podSpec(), {
      containers: [{ name: 'istio-proxy', $patch: 'delete' }],
    });
    expect(result.containers.map((c: any) => c.name)).toEqual(['app']);
    const env = strategicMergePatch(podSpec(), {
      containers: [{ name: 'app', env: [{ name: 'A', $patch: 'delete' }] }],
    });
    expect(env.containers[0].env).toEqual([{ name: 'B', value: '2' }]);
  });

  it('ignores $patch: delete for an element that is not there', () => {
    expect(
      strategicMergePatch(podSpec(), {
        containers: [{ name: 'nope', $patch: 'delete' }],
      }),
    ).toEqual(podSpec());
  });

  it('deletes a map with $patch: delete and replaces one with $patch: replace', () => {
    const target = {
      metadata: { labels: { a: '1' }, annotations: { x: 'y', z: 'w' } },
    };
    expect(
      strategicMergePatch(target, {
        metadata: { labels: { $patch: 'delete' } },
      }),
    ).toEqual({
      metadata: { annotations: { x: 'y', z: 'w' } },
    });
    expect(
      strategicMergePatch(target, {
        metadata: { annotations: { $patch: 'replace', only: 'this' } },
      }),
    ).toEqual({
      metadata: { labels: { a: '1' }, annotations: { only: 'this' } },
    });
  });

  it('replaces a merging list with a $patch: replace element', () => {
    const result = strategicMergePatch(podSpec(), {
      containers: [{ $patch: 'replace' }, { name: 'solo', image: 'solo:1' }],
    });
    expect(result.containers).toEqual([{ name: 'solo', image: 'solo:1' }]);
  });

  it('removes map keys set to null', () => {
    const result = strategicMergePatch(
      { metadata: { labels: { a: '1', b: '2' } } },
      { metadata: { labels: { a: null } } },
    );
    expect(result).toEqual({ metadata: { labels: { b: '2' } } });
  });

  it('adds the rollout-restart annotation to the pod template', () => {
    const deployment = {
      spec: {
        replicas: 2,
        template: { metadata: { labels: { app: 'web' } }, spec: podSpec() },
      },
    };
    const result = strategicMergePatch(deployment, {
      spec: {
        template: {
          metadata: {
            annotations: {
              'kubectl.kubernetes.io/restartedAt': '2026-11-25T10:00:00Z',
            },
          },
        },
      },
    });
    expect(result).toEqual({
      spec: {
        replicas: 2,
        template: {
          metadata: {
            labels: { app: 'web' },
            annotations: {
              'kubectl.kubernetes.io/restartedAt': '2026-11-25T10:00:00Z',
            },
          },
          spec: podSpec(),
        },
      },
    });
  });

  it('applies the directives kubectl sends instead of storing them', () => {
    const result = strategicMergePatch(
      { metadata: { finalizers: ['a', 'b'] }, spec: podSpec() },
      {
        metadata: {
          '$deleteFromPrimitiveList/finalizers': ['a'],
          finalizers: ['c'],
        },
        spec: {
          '$setElementOrder/containers': [
            { name: 'istio-proxy' },
            { name: 'app' },
          ],
          containers: [{ name: 'app', image: 'app:2' }],
        },
      },
    );
    expect(result.metadata).toEqual({ finalizers: ['b', 'c'] });
    expect(result.spec.containers.map((c: any) => [c.name, c.image])).toEqual([
      ['istio-proxy', 'proxyv2:1.29.2'],
      ['app', 'app:2'],
    ]);
    expect(JSON.stringify(result)).not.toContain('$');
  });

  it('keeps only $retainKeys in a map', () => {
    const volume = { volumes: [{ name: 'data', emptyDir: {} }] };
    const result = strategicMergePatch(volume, {
      volumes: [
        {
          name: 'data',
          $retainKeys: ['name', 'configMap'],
          configMap: { name: 'cfg' },
        },
      ],
    });
    expect(result.volumes).toEqual([
      { name: 'data', configMap: { name: 'cfg' } },
    ]);
  });

  it('merges metadata.finalizers as a set', () => {
    const result = strategicMergePatch(
      { metadata: { finalizers: ['a'] } },
      { metadata: { finalizers: ['a', 'b'] } },
    );
    expect(result.metadata.finalizers).toEqual(['a', 'b']);
  });

  it('rejects a merging list element without its merge key', () => {
    const error = thrown(() =>
      strategicMergePatch(podSpec(), { containers: [{ image: 'nameless' }] }),
    );
    expect(error).toBeInstanceOf(JsonPatchError);
    expect(error.message).toBe(
      'map: {"image":"nameless"} does not contain declared merge key: name',
    );
  });

  it('does not modify its inputs', () => {
    const target = podSpec();
    const patch = { containers: [{ name: 'app', image: 'app:2' }] };
    strategicMergePatch(target, patch);
    expect(target).toEqual(podSpec());
    expect(patch).toEqual({ containers: [{ name: 'app', image: 'app:2' }] });
  });
});

describe('jsonPatch', () => {
  const doc = () => ({
    metadata: { labels: { 'app.kubernetes.io/name': 'web', tier: 'front' } },
    spec: { list: ['a', 'b'] },
  });

  it('adds, replaces and removes members and elements', () => {
    const result = jsonPatch(doc(), [
      { op: 'add', path: '/metadata/labels/team', value: 'payments' },
      { op: 'replace', path: '/metadata/labels/tier', value: 'back' },
      { op: 'remove', path: '/metadata/labels/app.kubernetes.io~1name' },
      { op: 'add', path: '/spec/list/1', value: 'x' },
      { op: 'add', path: '/spec/list/-', value: 'z' },
      { op: 'remove', path: '/spec/list/0' },
    ]);
    expect(result).toEqual({
      metadata: { labels: { tier: 'back', team: 'payments' } },
      spec: { list: ['x', 'b', 'z'] },
    });
  });

  it('decodes ~1 and ~0 in paths', () => {
    const result = jsonPatch({ a: {} }, [
      { op: 'add', path: '/a/x~1y', value: 1 },
      { op: 'add', path: '/a/m~0n', value: 2 },
    ]);
    expect(result).toEqual({ a: { 'x/y': 1, 'm~n': 2 } });
  });

  it('copies and moves', () => {
    const result = jsonPatch(doc(), [
      {
        op: 'copy',
        from: '/metadata/labels/tier',
        path: '/metadata/labels/copied',
      },
      { op: 'move', from: '/spec/list', path: '/spec/moved' },
    ]);
    expect(result).toEqual({
      metadata: {
        labels: {
          'app.kubernetes.io/name': 'web',
          tier: 'front',
          copied: 'front',
        },
      },
      spec: { moved: ['a', 'b'] },
    });
  });

  it('passes a test of equal values regardless of key order', () => {
    expect(
      jsonPatch(doc(), [
        {
          op: 'test',
          path: '/metadata/labels',
          value: { tier: 'front', 'app.kubernetes.io/name': 'web' },
        },
      ]),
    ).toEqual(doc());
  });

  it('fails a test of different values, applying nothing', () => {
    const target = doc();
    const error = thrown(() =>
      jsonPatch(target, [
        { op: 'replace', path: '/metadata/labels/tier', value: 'back' },
        { op: 'test', path: '/spec/list', value: ['b', 'a'] },
      ]),
    );
    expect(error).toBeInstanceOf(JsonPatchError);
    expect(error.message).toBe('testing value /spec/list failed: test failed');
    expect(target).toEqual(doc());
  });

  it.each([
    [
      [{ op: 'remove', path: '/metadata/annotations' }],
      'no value at "/metadata/annotations"',
    ],
    [
      [{ op: 'replace', path: '/spec/missing', value: 1 }],
      'no value at "/spec/missing"',
    ],
    [[{ op: 'add', path: '/nope/deeper', value: 1 }], 'no value at "/nope"'],
    [[{ op: 'remove', path: '/spec/list/5' }], 'no element at "/spec/list/5"'],
    [
      [{ op: 'remove', path: '/spec/list/01' }],
      'no element at "/spec/list/01"',
    ],
    [
      [{ op: 'add', path: '/spec/list/3', value: 'x' }],
      'bad array index "3" at "/spec/list/3"',
    ],
    [
      [{ op: 'add', path: 'metadata', value: 1 }],
      'invalid JSON pointer "metadata"',
    ],
    [
      [{ op: 'add', path: '/metadata/labels/x' }],
      'operation "add" at "/metadata/labels/x" is missing "value"',
    ],
    [[{ op: 'copy', path: '/x' }], 'operation "copy" is missing "from"'],
    [
      [{ op: 'move', from: '/spec', path: '/spec/inner' }],
      'cannot move "/spec" into its own child "/spec/inner"',
    ],
    [[{ op: 'frobnicate', path: '/spec' }], 'Unexpected kind: frobnicate'],
    [[{ path: '/spec' }], 'Unexpected kind: unknown'],
    [[{ op: 'remove' }], 'operation "remove" is missing "path"'],
  ])('rejects %j with a JsonPatchError (422)', (operations, message) => {
    const error = thrown(() => jsonPatch(doc(), operations));
    expect(error).toBeInstanceOf(JsonPatchError);
    expect(error.message).toBe(message);
  });

  it.each([
    [
      { op: 'add', path: '/a', value: 1 },
      'a JSON patch must be an array of operations',
    ],
    ['add', 'a JSON patch must be an array of operations'],
    [['add'], 'each operation of a JSON patch must be an object'],
  ])(
    'rejects the malformed patch %j with a PatchFormatError (400)',
    (operations, message) => {
      const error = thrown(() => jsonPatch(doc(), operations));
      expect(error).toBeInstanceOf(PatchFormatError);
      expect(error.message).toBe(message);
    },
  );

  it('replaces the whole document at the empty path', () => {
    expect(
      jsonPatch(doc(), [{ op: 'replace', path: '', value: { fresh: true } }]),
    ).toEqual({ fresh: true });
  });
});
