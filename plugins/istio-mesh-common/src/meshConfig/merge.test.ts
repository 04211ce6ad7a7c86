import { deepEqual, diffMeshConfig, mergeMeshConfig } from './merge';
import { meshConfigPolicyFor } from './policy';

const addonDefault = {
  defaultConfig: { discoveryAddress: 'istiod-asm-1-29.aks-istio-system.svc:15012', gatewayTopology: { numTrustedProxies: 1 } },
  enablePrometheusMerge: true,
  rootNamespace: 'aks-istio-system',
  trustDomain: 'cluster.local',
};

describe('mergeMeshConfig', () => {
  it('lets the add-on default win and reports what it overrides', () => {
    const shared = {
      accessLogFile: '/dev/stdout',
      enablePrometheusMerge: false,
      trustDomain: 'cluster.local',
      defaultConfig: { holdApplicationUntilProxyStarts: true, gatewayTopology: { numTrustedProxies: 2 } },
    };
    const merged = mergeMeshConfig(addonDefault, shared, meshConfigPolicyFor('asm-1-29'));
    expect(merged.effective).toEqual({
      defaultConfig: {
        discoveryAddress: 'istiod-asm-1-29.aks-istio-system.svc:15012',
        gatewayTopology: { numTrustedProxies: 1 },
        holdApplicationUntilProxyStarts: true,
      },
      enablePrometheusMerge: true,
      rootNamespace: 'aks-istio-system',
      trustDomain: 'cluster.local',
      accessLogFile: '/dev/stdout',
    });
    expect(merged.overridden).toEqual([
      { path: 'defaultConfig.gatewayTopology', sharedValue: { numTrustedProxies: 2 }, effectiveValue: { numTrustedProxies: 1 } },
      { path: 'enablePrometheusMerge', sharedValue: false, effectiveValue: true },
    ]);
    expect(merged.fields).toEqual([
      { path: 'accessLogFile', value: '/dev/stdout', source: 'shared', class: 'supported', overridden: false },
      { path: 'defaultConfig.discoveryAddress', value: 'istiod-asm-1-29.aks-istio-system.svc:15012', source: 'default', class: 'blocked', overridden: false },
      { path: 'defaultConfig.gatewayTopology', value: { numTrustedProxies: 1 }, source: 'default', class: 'allowed', overridden: true, sharedValue: { numTrustedProxies: 2 } },
      { path: 'defaultConfig.holdApplicationUntilProxyStarts', value: true, source: 'shared', class: 'supported', overridden: false },
      { path: 'enablePrometheusMerge', value: true, source: 'default', class: 'allowed', overridden: true, sharedValue: false },
      { path: 'rootNamespace', value: 'aks-istio-system', source: 'default', class: 'blocked', overridden: false },
      { path: 'trustDomain', value: 'cluster.local', source: 'both', class: 'allowed', overridden: false },
    ]);
  });

  it('takes the shared document alone when there is no default, without classes when no policy applies', () => {
    const merged = mergeMeshConfig({}, { accessLogFile: '/dev/stdout', defaultConfig: { concurrency: 2 } });
    expect(merged.effective).toEqual({ accessLogFile: '/dev/stdout', defaultConfig: { concurrency: 2 } });
    expect(merged.overridden).toEqual([]);
    expect(merged.fields).toEqual([
      { path: 'accessLogFile', value: '/dev/stdout', source: 'shared', overridden: false },
      { path: 'defaultConfig.concurrency', value: 2, source: 'shared', overridden: false },
    ]);
  });

  it('replaces a non-mapping defaultConfig whole (the default still wins)', () => {
    const merged = mergeMeshConfig({ defaultConfig: { concurrency: 2 } }, { defaultConfig: 'oops' });
    expect(merged.effective).toEqual({ defaultConfig: { concurrency: 2 } });
    expect(merged.overridden).toEqual([{ path: 'defaultConfig', sharedValue: 'oops', effectiveValue: { concurrency: 2 } }]);
  });

  it('keeps an explicit null of the default over a shared value', () => {
    const merged = mergeMeshConfig({ accessLogFile: null }, { accessLogFile: '/dev/stdout' });
    expect(merged.effective).toEqual({ accessLogFile: null });
    expect(merged.overridden).toHaveLength(1);
  });
});

describe('diffMeshConfig', () => {
  it('lists added, removed and changed fields by path, mapping by mapping', () => {
    const before = { accessLogFile: '/dev/stdout', enableTracing: true, defaultConfig: { concurrency: 2, drainDuration: '45s' }, discoverySelectors: [{ matchLabels: { a: 'b' } }] };
    const after = { accessLogFile: '/dev/stderr', defaultConfig: { concurrency: 2, holdApplicationUntilProxyStarts: true }, discoverySelectors: [{ matchLabels: { a: 'c' } }], outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } };
    expect(diffMeshConfig(before, after)).toEqual([
      { path: 'accessLogFile', change: 'changed', before: '/dev/stdout', after: '/dev/stderr' },
      { path: 'defaultConfig.drainDuration', change: 'removed', before: '45s' },
      { path: 'defaultConfig.holdApplicationUntilProxyStarts', change: 'added', after: true },
      { path: 'discoverySelectors', change: 'changed', before: [{ matchLabels: { a: 'b' } }], after: [{ matchLabels: { a: 'c' } }] },
      { path: 'enableTracing', change: 'removed', before: true },
      { path: 'outboundTrafficPolicy', change: 'added', after: { mode: 'REGISTRY_ONLY' } },
    ]);
  });

  it('is empty for equal documents regardless of key order', () => {
    expect(diffMeshConfig({ a: { x: 1, y: [1, { z: 2 }] }, b: 2 }, { b: 2, a: { y: [1, { z: 2 }], x: 1 } })).toEqual([]);
  });

  it('reports a mapping replaced by a scalar as one change', () => {
    expect(diffMeshConfig({ defaultConfig: { concurrency: 2 } }, { defaultConfig: null })).toEqual([
      { path: 'defaultConfig', change: 'changed', before: { concurrency: 2 }, after: null },
    ]);
  });

  it('compares values structurally', () => {
    expect(deepEqual([1, 2], [1, 2])).toBe(true);
    expect(deepEqual([1, 2], [2, 1])).toBe(false);
    expect(deepEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(deepEqual({ a: [] }, { a: {} })).toBe(false);
    expect(deepEqual(NaN, NaN)).toBe(true);
    expect(deepEqual(null, {})).toBe(false);
  });
});
