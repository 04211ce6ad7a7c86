import {
  classifyMeshConfigField,
  DEFAULT_MESH_CONFIG_POLICY,
  formatPath,
  meshConfigPolicyFor,
  MeshConfigPolicyOverride,
  policyFieldOf,
} from './policy';

describe('MeshConfig policy', () => {
  const policy = meshConfigPolicyFor('asm-1-29');

  it.each([
    ['defaultConfig', 'supported'],
    ['outboundTrafficPolicy', 'supported'],
    ['outboundTrafficPolicy.mode', 'supported'],
    ['accessLogFile', 'supported'],
    ['accessLogFormat', 'supported'],
    ['accessLogEncoding', 'supported'],
    ['enableEnvoyAccessLogService', 'supported'],
    ['disableEnvoyListenerLog', 'supported'],
    ['discoverySelectors', 'supported'],
    ['defaultConfig.drainDuration', 'supported'],
    ['defaultConfig.concurrency', 'supported'],
    ['defaultConfig.terminationDrainDuration', 'supported'],
    ['defaultConfig.holdApplicationUntilProxyStarts', 'supported'],
    ['proxyListenPort', 'allowed'],
    ['extensionProviders', 'allowed'],
    ['trustDomain', 'allowed'],
    ['meshMTLS', 'allowed'],
    ['ingressSelector', 'allowed'],
    ['enablePrometheusMerge', 'allowed'],
    ['defaultConfig.tracing', 'allowed'],
    ['defaultConfig.tracing.zipkin.address', 'allowed'],
    ['defaultConfig.proxyMetadata', 'allowed'],
    ['defaultConfig.gatewayTopology', 'allowed'],
    ['defaultConfig.proxyHeaders', 'allowed'],
    ['configSources', 'blocked'],
    ['rootNamespace', 'blocked'],
    ['defaultConfig.discoveryAddress', 'blocked'],
    ['defaultConfig.image', 'blocked'],
    ['accesslogfile', 'blocked'],
    ['concurrency', 'blocked'],
    ['', 'blocked'],
  ])('%s is %s', (path, cls) => {
    expect(classifyMeshConfigField(policy, path)).toBe(cls);
  });

  it('lists every field of §5 exactly once', () => {
    const all = [
      ...DEFAULT_MESH_CONFIG_POLICY.meshConfig.supported,
      ...DEFAULT_MESH_CONFIG_POLICY.meshConfig.allowed,
    ];
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(8 + 25);
    const proxy = [...DEFAULT_MESH_CONFIG_POLICY.proxyConfig.supported, ...DEFAULT_MESH_CONFIG_POLICY.proxyConfig.allowed];
    expect(new Set(proxy).size).toBe(proxy.length);
    expect(proxy).toHaveLength(4 + 15);
    expect(policy.fields.size).toBe(8 + 25 + 4 + 15);
  });

  it('applies overrides to the revisions in their range only', () => {
    const overrides: MeshConfigPolicyOverride[] = [
      { since: 'asm-1-30', fields: { 'defaultConfig.meshId': 'blocked', rootNamespace: 'allowed' }, source: 'test' },
      { until: 'asm-1-29', fields: { enableTracing: 'blocked' }, source: 'test' },
      { since: 'asm-1-29', until: 'asm-1-31', fields: { trustDomain: 'supported' }, source: 'test' },
    ];
    const at = (rev: string) => meshConfigPolicyFor(rev, DEFAULT_MESH_CONFIG_POLICY, overrides);
    expect(classifyMeshConfigField(at('asm-1-28'), 'enableTracing')).toBe('blocked');
    expect(classifyMeshConfigField(at('asm-1-29'), 'enableTracing')).toBe('allowed');
    expect(classifyMeshConfigField(at('asm-1-28'), 'trustDomain')).toBe('allowed');
    expect(classifyMeshConfigField(at('asm-1-29'), 'trustDomain')).toBe('supported');
    expect(classifyMeshConfigField(at('asm-1-30'), 'trustDomain')).toBe('supported');
    expect(classifyMeshConfigField(at('asm-1-31'), 'trustDomain')).toBe('allowed');
    expect(classifyMeshConfigField(at('asm-1-29'), 'defaultConfig.meshId')).toBe('allowed');
    expect(classifyMeshConfigField(at('asm-1-30'), 'defaultConfig.meshId')).toBe('blocked');
    expect(classifyMeshConfigField(at('asm-1-31'), 'rootNamespace')).toBe('allowed');
    expect(classifyMeshConfigField(at('asm-1-29'), 'rootNamespace')).toBe('blocked');
    // Only AKS revisions follow the add-on's per-revision list.
    expect(classifyMeshConfigField(at('1-30-1'), 'rootNamespace')).toBe('blocked');
    expect(classifyMeshConfigField(at('1-28-0'), 'enableTracing')).toBe('allowed');
  });

  it('finds the policy field of a path', () => {
    expect(policyFieldOf(['defaultConfig'])).toBe('defaultConfig');
    expect(policyFieldOf(['defaultConfig', 'tracing', 'zipkin'])).toBe('defaultConfig.tracing');
    expect(policyFieldOf(['discoverySelectors', 0, 'matchLabels'])).toBe('discoverySelectors');
    expect(policyFieldOf([])).toBeUndefined();
    expect(policyFieldOf([0])).toBeUndefined();
  });

  it('formats paths with brackets for indexes and keys that are not identifiers', () => {
    expect(formatPath(['defaultConfig', 'concurrency'])).toBe('defaultConfig.concurrency');
    expect(formatPath(['discoverySelectors', 0, 'matchLabels', 'app.kubernetes.io/name'])).toBe(
      'discoverySelectors[0].matchLabels["app.kubernetes.io/name"]',
    );
    expect(formatPath(['a b'])).toBe('["a b"]');
    expect(formatPath([])).toBe('');
  });
});
