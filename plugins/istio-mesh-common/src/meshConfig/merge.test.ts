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

describe('mergeMeshConfig: the fields istiod merges instead of replacing', () => {
  const policy = meshConfigPolicyFor('asm-1-29');

  it('merges defaultConfig.proxyMetadata key by key, the default winning per key', () => {
    const merged = mergeMeshConfig(
      { defaultConfig: { proxyMetadata: { ISTIO_META_DNS_CAPTURE: 'false', AKS_MANAGED: 'true' } } },
      { defaultConfig: { proxyMetadata: { ISTIO_META_DNS_CAPTURE: 'true', ISTIO_META_DNS_AUTO_ALLOCATE: 'true' } } },
      policy,
    );
    expect(merged.effective).toEqual({
      defaultConfig: { proxyMetadata: { ISTIO_META_DNS_CAPTURE: 'false', AKS_MANAGED: 'true', ISTIO_META_DNS_AUTO_ALLOCATE: 'true' } },
    });
    expect(merged.overridden).toEqual([{ path: 'defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE', sharedValue: 'true', effectiveValue: 'false' }]);
    expect(merged.fields).toEqual([
      { path: 'defaultConfig.proxyMetadata.AKS_MANAGED', value: 'true', source: 'default', class: 'allowed', overridden: false },
      { path: 'defaultConfig.proxyMetadata.ISTIO_META_DNS_AUTO_ALLOCATE', value: 'true', source: 'shared', class: 'allowed', overridden: false },
      { path: 'defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE', value: 'false', source: 'default', class: 'allowed', overridden: true, sharedValue: 'true' },
    ]);
  });

  it('merges defaultProviders field by field', () => {
    const merged = mergeMeshConfig({ defaultProviders: { metrics: ['prometheus'] } }, { defaultProviders: { metrics: ['otel-metrics'], tracing: ['otel'] } }, policy);
    expect(merged.effective).toEqual({ defaultProviders: { metrics: ['prometheus'], tracing: ['otel'] } });
    expect(merged.overridden).toEqual([{ path: 'defaultProviders.metrics', sharedValue: ['otel-metrics'], effectiveValue: ['prometheus'] }]);
    expect(merged.fields.map(f => [f.path, f.source, f.class])).toEqual([
      ['defaultProviders.metrics', 'default', 'allowed'],
      ['defaultProviders.tracing', 'shared', 'allowed'],
    ]);
  });

  it('merges extensionProviders by name: the default’s replaces the shared one in place, new ones are appended', () => {
    const otelShared = { name: 'otel', opentelemetry: { service: 'otel.team-a.svc.cluster.local', port: 4317 } };
    const otelDefault = { name: 'otel', opentelemetry: { service: 'otel.aks-istio-system.svc.cluster.local', port: 4317 } };
    const zipkin = { name: 'zipkin', zipkin: { service: 'zipkin.tracing.svc.cluster.local', port: 9411 } };
    const als = { name: 'envoy-als', envoyHttpAls: { service: 'als.aks-istio-system.svc.cluster.local', port: 9000 } };
    const prometheus = { name: 'prometheus', prometheus: {} };
    const merged = mergeMeshConfig({ extensionProviders: [otelDefault, als, prometheus] }, { extensionProviders: [prometheus, otelShared, zipkin] }, policy);
    expect(merged.effective).toEqual({ extensionProviders: [prometheus, otelDefault, zipkin, als] });
    expect(merged.overridden).toEqual([{ path: 'extensionProviders[name="otel"]', sharedValue: otelShared, effectiveValue: otelDefault }]);
    expect(merged.fields).toEqual([
      { path: 'extensionProviders[name="envoy-als"]', value: als, source: 'default', class: 'allowed', overridden: false },
      { path: 'extensionProviders[name="otel"]', value: otelDefault, source: 'default', class: 'allowed', overridden: true, sharedValue: otelShared },
      { path: 'extensionProviders[name="prometheus"]', value: prometheus, source: 'both', class: 'allowed', overridden: false },
      { path: 'extensionProviders[name="zipkin"]', value: zipkin, source: 'shared', class: 'allowed', overridden: false },
    ]);
  });

  it('takes the union of trustDomainAliases, sorted, overriding nothing', () => {
    const merged = mergeMeshConfig({ trustDomainAliases: ['old.example', 'cluster.local'] }, { trustDomainAliases: ['team-a.example', 'old.example'] }, policy);
    expect(merged.effective).toEqual({ trustDomainAliases: ['cluster.local', 'old.example', 'team-a.example'] });
    expect(merged.overridden).toEqual([]);
    expect(merged.fields).toEqual([
      { path: 'trustDomainAliases', value: ['cluster.local', 'old.example', 'team-a.example'], source: 'both', class: 'allowed', overridden: false },
    ]);
  });

  it('keeps a list that one side alone sets as it is', () => {
    const merged = mergeMeshConfig({}, { trustDomainAliases: ['b', 'a'], extensionProviders: [{ name: 'otel', opentelemetry: {} }] });
    expect(merged.effective).toEqual({ trustDomainAliases: ['b', 'a'], extensionProviders: [{ name: 'otel', opentelemetry: {} }] });
    expect(merged.fields.map(f => f.path)).toEqual(['extensionProviders', 'trustDomainAliases']);
  });

  it('replaces whole what it cannot merge (unnamed or duplicate providers, aliases that are not strings): the default wins', () => {
    const duplicate = mergeMeshConfig(
      { extensionProviders: [{ name: 'otel', opentelemetry: {} }] },
      { extensionProviders: [{ name: 'zipkin', zipkin: {} }, { name: 'zipkin', zipkin: { port: 1 } }] },
    );
    expect(duplicate.effective).toEqual({ extensionProviders: [{ name: 'otel', opentelemetry: {} }] });
    expect(duplicate.overridden.map(o => o.path)).toEqual(['extensionProviders']);

    const unnamed = mergeMeshConfig({ extensionProviders: [{ name: 'otel' }] }, { extensionProviders: [{ zipkin: {} }] });
    expect(unnamed.effective).toEqual({ extensionProviders: [{ name: 'otel' }] });
    expect(unnamed.overridden.map(o => o.path)).toEqual(['extensionProviders']);

    const aliases = mergeMeshConfig({ trustDomainAliases: ['a'] }, { trustDomainAliases: 'b' });
    expect(aliases.effective).toEqual({ trustDomainAliases: ['a'] });
    expect(aliases.overridden.map(o => o.path)).toEqual(['trustDomainAliases']);

    const metadata = mergeMeshConfig({ defaultConfig: { proxyMetadata: { A: '1' } } }, { defaultConfig: { proxyMetadata: 'A=2' } });
    expect(metadata.effective).toEqual({ defaultConfig: { proxyMetadata: { A: '1' } } });
    expect(metadata.overridden.map(o => o.path)).toEqual(['defaultConfig.proxyMetadata']);
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
