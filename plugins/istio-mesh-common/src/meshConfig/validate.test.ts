import { checkMeshConfigDocument } from './check';
import { describeFinding } from './findings';
import { meshConfigPolicyFor } from './policy';
import { isGoDuration, validateMeshConfig } from './validate';

const policy = meshConfigPolicyFor('asm-1-29');
const check = (yaml: string) => checkMeshConfigDocument(yaml, policy);
const only = (yaml: string) => {
  const r = check(yaml);
  expect(r.findings).toHaveLength(1);
  return r.findings[0];
};

describe('validateMeshConfig', () => {
  it('accepts supported fields silently', () => {
    const r = check([
      'accessLogFile: /dev/stdout',
      'accessLogEncoding: JSON',
      'accessLogFormat: "[%START_TIME%] %REQ(:METHOD)%"',
      'enableEnvoyAccessLogService: false',
      'disableEnvoyListenerLog: true',
      'outboundTrafficPolicy:',
      '  mode: REGISTRY_ONLY',
      'discoverySelectors:',
      '  - matchLabels: { istio-discovery: enabled }',
      '  - matchExpressions:',
      '      - { key: kubernetes.io/metadata.name, operator: In, values: [payments, storefront] }',
      '      - { key: legacy, operator: DoesNotExist }',
      'defaultConfig:',
      '  concurrency: 2',
      '  drainDuration: 45s',
      '  terminationDrainDuration: 1m30s',
      '  holdApplicationUntilProxyStarts: true',
      '',
    ].join('\n'));
    expect(r).toEqual({ value: expect.any(Object), findings: [], valid: true });
  });

  it('blocks unknown and unlisted top-level fields with their path and position', () => {
    expect(only('accessLogFile: /dev/stdout\nrootNamespace: payments\n')).toEqual({
      severity: 'error',
      path: 'rootNamespace',
      message: 'is blocked on asm-1-29: not a supported or allowed MeshConfig field of the AKS Istio add-on, so its admission webhook would reject the ConfigMap',
      line: 2,
      column: 1,
    });
    expect(only('configSources:\n  - address: xds://example:15010\n').path).toBe('configSources');
    expect(only('accesLogFile: /dev/stdout\n').message).toBe(
      'is blocked on asm-1-29: not a supported or allowed MeshConfig field of the AKS Istio add-on, so its admission webhook would reject the ConfigMap (did you mean accessLogFile?)',
    );
    expect(only('AccessLogEncoding: JSON\n').message).toMatch(/\(did you mean accessLogEncoding\?\)$/);
    expect(only('somethingElseEntirely: 1\n').message).not.toMatch(/did you mean/);
  });

  it('blocks unlisted ProxyConfig fields under defaultConfig', () => {
    expect(only('defaultConfig:\n  discoveryAddress: istiod.example:15012\n')).toEqual({
      severity: 'error',
      path: 'defaultConfig.discoveryAddress',
      message: 'is blocked on asm-1-29: not a supported or allowed ProxyConfig field of the AKS Istio add-on, so its admission webhook would reject the ConfigMap',
      line: 2,
      column: 3,
    });
    expect(only('defaultConfig:\n  concurency: 2\n').message).toMatch(/\(did you mean defaultConfig\.concurrency\?\)$/);
  });

  it('warns about allowed but unsupported fields', () => {
    expect(only('enableTracing: true\n')).toEqual({
      severity: 'warning',
      path: 'enableTracing',
      message: 'is allowed but not supported on asm-1-29: the add-on accepts it, Azure support does not cover it',
      line: 1,
      column: 1,
    });
    expect(only('defaultConfig:\n  proxyMetadata:\n    ISTIO_META_DNS_CAPTURE: "true"\n')).toMatchObject({ severity: 'warning', path: 'defaultConfig.proxyMetadata', line: 2, column: 3 });
    expect(check('enableTracing: true\n').valid).toBe(true);
  });

  describe('value checks', () => {
    it.each([
      ['defaultConfig:\n  concurrency: -1\n', 'defaultConfig.concurrency', 'must be a non-negative integer, the number of worker threads per proxy (found the number -1)'],
      ['defaultConfig:\n  concurrency: 1.5\n', 'defaultConfig.concurrency', 'must be a non-negative integer, the number of worker threads per proxy (found the number 1.5)'],
      ['defaultConfig:\n  concurrency: "2"\n', 'defaultConfig.concurrency', 'must be a non-negative integer, the number of worker threads per proxy (found the string "2")'],
      ['defaultConfig:\n  drainDuration: 45\n', 'defaultConfig.drainDuration', 'must be a duration such as 45s, 1m30s or 500ms (units ns, us, ms, s, m, h; found the number 45)'],
      ['defaultConfig:\n  drainDuration: 45 seconds\n', 'defaultConfig.drainDuration', 'must be a duration such as 45s, 1m30s or 500ms (units ns, us, ms, s, m, h; found the string "45 seconds")'],
      ['defaultConfig:\n  terminationDrainDuration: -5s\n', 'defaultConfig.terminationDrainDuration', 'must be a duration such as 45s, 1m30s or 500ms (units ns, us, ms, s, m, h; found the string "-5s")'],
      ['defaultConfig:\n  holdApplicationUntilProxyStarts: "yes"\n', 'defaultConfig.holdApplicationUntilProxyStarts', 'must be true or false (found the string "yes")'],
      ['defaultConfig: [concurrency]\n', 'defaultConfig', 'must be a mapping (found a sequence)'],
      ['outboundTrafficPolicy:\n  mode: DENY\n', 'outboundTrafficPolicy.mode', 'must be one of ALLOW_ANY, REGISTRY_ONLY (found the string "DENY")'],
      ['outboundTrafficPolicy: REGISTRY_ONLY\n', 'outboundTrafficPolicy', 'must be a mapping such as {mode: REGISTRY_ONLY} (found the string "REGISTRY_ONLY")'],
      ['accessLogEncoding: json\n', 'accessLogEncoding', 'must be one of TEXT, JSON (found the string "json")'],
      ['accessLogFile: 42\n', 'accessLogFile', 'must be a string (found the number 42)'],
      ['disableEnvoyListenerLog: 1\n', 'disableEnvoyListenerLog', 'must be true or false (found the number 1)'],
      ['discoverySelectors:\n  matchLabels: {a: b}\n', 'discoverySelectors', 'must be a sequence (found a mapping)'],
      ['discoverySelectors:\n  - app=shop\n', 'discoverySelectors[0]', 'must be a label selector, a mapping with matchLabels and/or matchExpressions (found the string "app=shop")'],
      ['discoverySelectors:\n  - matchLabel: {a: b}\n', 'discoverySelectors[0].matchLabel', 'is not a label selector field (only matchLabels and matchExpressions)'],
      ['discoverySelectors:\n  - matchLabels: {tier: 1}\n', 'discoverySelectors[0].matchLabels.tier', 'must be a string label value (found the number 1; quote it)'],
      ['discoverySelectors:\n  - matchLabels: {"bad key!": x}\n', 'discoverySelectors[0].matchLabels["bad key!"]', 'label key is not a valid label key (at most 63 characters of [A-Za-z0-9-_.], starting and ending with a letter or digit)'],
      ['discoverySelectors:\n  - matchLabels: {"Example.com/x": y}\n', 'discoverySelectors[0].matchLabels["Example.com/x"]', 'label key has an invalid prefix (must be a DNS subdomain such as example.com)'],
      ['discoverySelectors:\n  - matchLabels: {app: "-x"}\n', 'discoverySelectors[0].matchLabels.app', 'is not a valid label value (at most 63 characters of [A-Za-z0-9-_.], starting and ending with a letter or digit)'],
      ['discoverySelectors:\n  - matchExpressions:\n      - {key: app, operator: Equals, values: [x]}\n', 'discoverySelectors[0].matchExpressions[0].operator', 'must be one of In, NotIn, Exists, DoesNotExist (found the string "Equals")'],
      ['discoverySelectors:\n  - matchExpressions:\n      - {key: app, operator: In}\n', 'discoverySelectors[0].matchExpressions[0].values', 'must be a non-empty sequence of label values for operator In'],
      ['discoverySelectors:\n  - matchExpressions:\n      - {key: app, operator: Exists, values: [x]}\n', 'discoverySelectors[0].matchExpressions[0].values', 'must be empty for operator Exists'],
      ['discoverySelectors:\n  - matchExpressions:\n      - {operator: Exists}\n', 'discoverySelectors[0].matchExpressions[0].key', 'must be a label key (found nothing)'],
      ['discoverySelectors:\n  - matchExpressions: {key: app}\n', 'discoverySelectors[0].matchExpressions', 'must be a sequence of {key, operator, values} (found a mapping)'],
    ])('%j → %s', (yaml, path, message) => {
      const f = only(yaml);
      expect(f).toMatchObject({ severity: 'error', path, message });
      expect(f.line).toBeGreaterThan(0);
    });

    it.each([
      ['proxyListenPort: 0\n', 'proxyListenPort', 'must be a port number, an integer from 1 to 65535 (found the number 0)'],
      ['connectTimeout: 10\n', 'connectTimeout', 'must be a duration such as 45s, 1m30s or 500ms (units ns, us, ms, s, m, h; found the number 10)'],
      ['h2UpgradePolicy: ALWAYS\n', 'h2UpgradePolicy', 'must be one of DO_NOT_UPGRADE, UPGRADE (found the string "ALWAYS")'],
      ['trustDomainAliases: cluster.local\n', 'trustDomainAliases', 'must be a sequence (found the string "cluster.local")'],
      ['extensionProviders:\n  - envoyOtelAls: {service: x, port: 4317}\n', 'extensionProviders[0].name', 'every extension provider needs a name (a non-empty string)'],
      ['extensionProviders:\n  - {name: otel, opentelemetry: {port: 4317}}\n  - {name: otel, zipkin: {port: 9411}}\n', 'extensionProviders[1].name', 'duplicate extension provider name "otel" (item 0 has it too)'],
    ])('checks allowed fields too: %j', (yaml, path, message) => {
      const findings = check(yaml).findings;
      expect(findings).toContainEqual(expect.objectContaining({ severity: 'error', path, message }));
      expect(findings).toContainEqual(expect.objectContaining({ severity: 'warning', path: path.split(/[.[]/)[0] }));
    });

    it('warns on concurrency 0 (every core)', () => {
      const r = check('defaultConfig:\n  concurrency: 0\n');
      expect(r.valid).toBe(true);
      expect(r.findings).toEqual([
        {
          severity: 'warning',
          path: 'defaultConfig.concurrency',
          message: 'is 0, which makes every proxy start one worker thread per CPU core of its node; set a number unless that is intended',
          line: 2,
          column: 3,
        },
      ]);
    });

    it('warns on fields without a value', () => {
      expect(only('accessLogFile:\n')).toMatchObject({ severity: 'warning', path: 'accessLogFile', message: 'has no value (null), so it is left unset; remove the line or give it a value' });
    });

    it('points at the nearest key for nested findings', () => {
      const f = only('discoverySelectors:\n  - matchExpressions:\n      - key: app\n        operator: Nope\n        values: [a]\n');
      expect(f).toMatchObject({ path: 'discoverySelectors[0].matchExpressions[0].operator', line: 4, column: 9 });
    });
  });

  it('accepts Go durations and refuses everything else', () => {
    for (const ok of ['0', '45s', '1m30s', '500ms', '1.5h', '.5s', '100us', '10µs', '2h45m0.5s']) expect(isGoDuration(ok)).toBe(true);
    for (const bad of ['', '45', 's', '1d', '-1s', '1 s', '1m 30s', 'PT45S', '45S']) expect(isGoDuration(bad)).toBe(false);
  });

  it('orders errors before warnings and by line, and says it is invalid', () => {
    const r = check('enableTracing: true\ndefaultConfig:\n  concurrency: -2\nrootNamespace: x\n');
    expect(r.valid).toBe(false);
    expect(r.findings.map(f => `${f.severity} ${f.path}`)).toEqual([
      'error defaultConfig.concurrency',
      'error rootNamespace',
      'warning enableTracing',
    ]);
    expect(describeFinding(r.findings[0])).toBe('3:3 defaultConfig.concurrency: must be a non-negative integer, the number of worker threads per proxy (found the number -2)');
  });

  it('stops after 100 findings and says how much was not checked', () => {
    const yaml = Array.from({ length: 150 }, (_, i) => `unknownField${i}: x`).join('\n');
    const findings = check(yaml).findings;
    expect(findings).toHaveLength(101);
    expect(findings[100]).toEqual({ severity: 'error', path: '', message: 'Too many problems: 100 are listed, the other 50 top-level fields were not checked.' });
  });

  it('returns parse errors without validating', () => {
    expect(check('- rootNamespace\n')).toEqual({ findings: [expect.objectContaining({ path: '' })], valid: false });
  });

  it('validates plain data without positions', () => {
    expect(validateMeshConfig({ rootNamespace: 'x' }, policy)).toEqual([
      expect.objectContaining({ path: 'rootNamespace', severity: 'error' }),
    ]);
    expect(validateMeshConfig({ rootNamespace: 'x' }, policy)[0].line).toBeUndefined();
  });
});
