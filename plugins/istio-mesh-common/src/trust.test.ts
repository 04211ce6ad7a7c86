import {
  analyzeTrust,
  caModeOf,
  caSources,
  CertificateFacts,
  certificateRole,
  certificateValidity,
  condenseTrustWarnings,
  daysLeft,
  DEFAULT_TRUST_THRESHOLDS,
  displayName,
  istiodCaSource,
  referenceBundle,
  summarizeTrust,
  TrustBundleInput,
  TrustInput,
  trustThresholdsProblem,
} from './trust';

const NOW = new Date('2026-12-01T06:00:00Z');
const DAY = 86_400_000;
const inDays = (d: number) => new Date(NOW.getTime() + d * DAY).toISOString();

function cert(name: string, overrides: Partial<CertificateFacts> = {}): CertificateFacts {
  return {
    subject: `O=Contoso, CN=${name}`,
    issuer: `O=Contoso, CN=${name}`,
    serialNumber: `${name.length}ABC`,
    notBefore: inDays(-100),
    notAfter: inDays(3000),
    fingerprintSha256: `FP:${name}`,
    keyType: 'RSA 2048',
    isCA: true,
    selfIssued: true,
    ...overrides,
  };
}

const OLD = cert('Old Root', { notAfter: inDays(21.5), notBefore: inDays(-1000) });
const NEW = cert('New Root', { notBefore: inDays(-2), keyType: 'EC P-384' });
const ISTIOD = cert('ignored', { subject: 'O=cluster.local', issuer: 'O=cluster.local', fingerprintSha256: 'FP:istiod' });

const bundle = (namespace: string, certificates: CertificateFacts[], error?: string): TrustBundleInput => ({ namespace, certificates, ...(error ? { error } : {}) });

function input(overrides: Partial<TrustInput> = {}): TrustInput {
  return {
    controlPlaneNamespace: 'aks-istio-system',
    istiod: [{ revision: 'asm-1-29', type: 'self-signed' }],
    secretProviderClasses: [],
    bundles: [bundle('aks-istio-system', [ISTIOD]), bundle('payments', [ISTIOD])],
    now: NOW,
    ...overrides,
  };
}

describe('small rules', () => {
  it('counts whole days left, rounding down, negative once expired', () => {
    expect(daysLeft(inDays(21.9), NOW)).toBe(21);
    expect(daysLeft(inDays(0.5), NOW)).toBe(0);
    expect(daysLeft(inDays(-0.5), NOW)).toBe(-1);
    expect(daysLeft(NOW.toISOString(), NOW)).toBe(0);
  });

  it('tells roots, intermediates and leaves apart', () => {
    expect(certificateRole({ isCA: true, selfIssued: true })).toBe('root');
    expect(certificateRole({ isCA: true, selfIssued: false })).toBe('intermediate');
    expect(certificateRole({ isCA: false, selfIssued: false })).toBe('leaf');
    expect(certificateRole({ isCA: false, selfIssued: true })).toBe('leaf');
  });

  it.each([
    [inDays(-10), inDays(100), 'valid'],
    [inDays(-10), inDays(30), 'valid'],
    [inDays(-10), inDays(29.99), 'expiring'],
    [inDays(-10), inDays(7), 'expiring'],
    [inDays(-10), inDays(6.99), 'critical'],
    [inDays(-10), inDays(0.01), 'critical'],
    [inDays(-10), NOW.toISOString(), 'expired'],
    [inDays(-10), inDays(-1), 'expired'],
    [inDays(1), inDays(100), 'not-yet-valid'],
  ] as const)('validity from %s to %s is %s', (notBefore, notAfter, expected) => {
    expect(certificateValidity({ notBefore, notAfter }, NOW)).toBe(expected);
  });

  it('uses configured thresholds', () => {
    const c = { notBefore: inDays(-1), notAfter: inDays(50) };
    expect(certificateValidity(c, NOW, { warningDays: 60, criticalDays: 10 })).toBe('expiring');
    expect(certificateValidity(c, NOW, { warningDays: 90, criticalDays: 60 })).toBe('critical');
    expect(certificateValidity(c, NOW, { warningDays: 0, criticalDays: 0 })).toBe('valid');
  });

  it('checks thresholds', () => {
    expect(trustThresholdsProblem(DEFAULT_TRUST_THRESHOLDS)).toBeUndefined();
    expect(trustThresholdsProblem({ warningDays: 30, criticalDays: 30 })).toBeUndefined();
    expect(trustThresholdsProblem({ warningDays: 7, criticalDays: 30 })).toBe('istioMesh.trust.criticalDays (30) must not exceed istioMesh.trust.warningDays (7)');
    expect(trustThresholdsProblem({ warningDays: -1, criticalDays: 0 })).toContain('istioMesh.trust.warningDays must be a whole number');
    expect(trustThresholdsProblem({ warningDays: 30, criticalDays: 1.5 })).toContain('istioMesh.trust.criticalDays must be a whole number');
    expect(trustThresholdsProblem({ warningDays: NaN, criticalDays: 1 })).toContain('warningDays');
  });

  it('names a certificate by its CN, else its whole subject', () => {
    expect(displayName('C=NL, O=Contoso, CN=Contoso Mesh Root CA 2026')).toBe('Contoso Mesh Root CA 2026');
    expect(displayName('CN=only')).toBe('only');
    expect(displayName('O=cluster.local')).toBe('O=cluster.local');
  });
});

describe('CA mode', () => {
  it('reads istiod’s cacerts volume: CSI SecretProviderClass, Secret, or none', () => {
    const withVolumes = (volumes: any[]) => ({ spec: { template: { spec: { volumes } } } });
    expect(
      istiodCaSource('asm-1-29', withVolumes([{ name: 'config-volume' }, { name: 'cacerts', csi: { driver: 'secrets-store.csi.k8s.io', volumeAttributes: { secretProviderClass: 'istio-spc-asm-1-29' } } }])),
    ).toEqual({ revision: 'asm-1-29', type: 'csi', secretProviderClass: 'istio-spc-asm-1-29' });
    expect(istiodCaSource('r', withVolumes([{ name: 'cacerts', csi: { driver: 'secrets-store.csi.k8s.io' } }]))).toEqual({ revision: 'r', type: 'csi' });
    expect(istiodCaSource('r', withVolumes([{ name: 'cacerts', secret: { secretName: 'cacerts', optional: true } }]))).toEqual({ revision: 'r', type: 'secret', secretName: 'cacerts' });
    expect(istiodCaSource('r', withVolumes([{ name: 'other', csi: { driver: 'x' } }]))).toEqual({ revision: 'r', type: 'self-signed' });
    expect(istiodCaSource('r', {})).toEqual({ revision: 'r', type: 'self-signed' });
  });

  it('is self-signed without a cacerts volume, plug-in with one, mixed when revisions disagree, unknown without istiod', () => {
    expect(caModeOf(caSources([{ revision: 'a', type: 'self-signed' }], []))).toBe('self-signed');
    expect(caModeOf(caSources([{ revision: 'a', type: 'csi', secretProviderClass: 'istio-spc-a' }], ['istio-spc-a']))).toBe('plug-in');
    expect(caModeOf(caSources([{ revision: 'a', type: 'secret', secretName: 'cacerts' }], undefined))).toBe('plug-in');
    expect(caModeOf(caSources([{ revision: 'a', type: 'self-signed' }, { revision: 'b', type: 'csi' }], []))).toBe('mixed');
    expect(caModeOf(caSources([], []))).toBe('unknown');
  });

  it('says whether the SecretProviderClass exists, or nothing when the kind is not served', () => {
    expect(caSources([{ revision: 'asm-1-29', type: 'csi', secretProviderClass: 'istio-spc-asm-1-29' }], ['istio-spc-asm-1-29'])).toEqual([
      { revision: 'asm-1-29', mode: 'plug-in', via: 'csi', secretProviderClass: 'istio-spc-asm-1-29', secretProviderClassFound: true },
    ]);
    expect(caSources([{ revision: 'asm-1-29', type: 'csi', secretProviderClass: 'istio-spc-asm-1-29' }], [])[0].secretProviderClassFound).toBe(false);
    expect(caSources([{ revision: 'asm-1-29', type: 'csi', secretProviderClass: 'istio-spc-asm-1-29' }], undefined)[0]).not.toHaveProperty('secretProviderClassFound');
    expect(caSources([{ revision: 'r', type: 'secret', secretName: 'cacerts' }], [])).toEqual([{ revision: 'r', mode: 'plug-in', via: 'secret', secretName: 'cacerts' }]);
  });

  it('warns critically about a missing SecretProviderClass, and about mixed modes', () => {
    const a = analyzeTrust(input({ istiod: [{ revision: 'asm-1-30', type: 'csi', secretProviderClass: 'istio-spc-asm-1-30' }], secretProviderClasses: ['istio-spc-asm-1-29'] }));
    expect(a.warnings).toEqual([
      { severity: 'critical', kind: 'ca-source', message: 'istiod asm-1-30 mounts cacerts from SecretProviderClass istio-spc-asm-1-30, which does not exist: its pods cannot start.' },
    ]);
    const mixed = analyzeTrust(input({ istiod: [{ revision: 'asm-1-29', type: 'self-signed' }, { revision: 'asm-1-30', type: 'csi', secretProviderClass: 'x' }], secretProviderClasses: undefined }));
    expect(mixed.caMode).toBe('mixed');
    expect(mixed.warnings.map(w => w.message)).toEqual([
      "Revisions disagree on the CA: asm-1-29 self-signed, asm-1-30 plug-in. Workloads of one revision may not trust the other's.",
    ]);
  });
});

describe('reference bundle', () => {
  it('is the control-plane namespace’s bundle', () => {
    const r = referenceBundle('aks-istio-system', [bundle('a', [OLD]), bundle('b', [OLD]), bundle('aks-istio-system', [OLD, NEW])]);
    expect([r.namespace, r.source]).toEqual(['aks-istio-system', 'control-plane-namespace']);
  });

  it('falls back to the majority when the control plane’s is missing, empty or unreadable', () => {
    for (const own of [[], [bundle('aks-istio-system', [])], [bundle('aks-istio-system', [NEW], 'not PEM')]]) {
      const r = referenceBundle('aks-istio-system', [...own, bundle('a', [OLD]), bundle('b', [NEW, OLD]), bundle('c', [OLD, NEW])]);
      expect([r.namespace, r.source]).toEqual(['b', 'majority']);
    }
  });

  it('breaks a tie by the larger bundle, then by name', () => {
    expect(referenceBundle('cp', [bundle('a', [OLD]), bundle('b', [OLD, NEW])]).namespace).toBe('b');
    expect(referenceBundle('cp', [bundle('z', [OLD]), bundle('y', [NEW])]).namespace).toBe('y');
  });

  it('is none when no bundle is usable', () => {
    expect(referenceBundle('cp', [bundle('a', [], 'bad')])).toEqual({ source: 'none' });
    const a = analyzeTrust(input({ bundles: [bundle('a', [], 'bad')] }));
    expect(a.reference).toEqual({ source: 'none' });
    expect(a.namespaces).toEqual([{ namespace: 'a', state: 'invalid', fingerprints: [], missing: [], extra: [], error: 'bad' }]);
    expect(a.earliestExpiry).toBeUndefined();
  });
});

describe('analyzeTrust', () => {
  it('a healthy self-signed mesh: one root everywhere, no warnings', () => {
    const a = analyzeTrust(input());
    expect(a.caMode).toBe('self-signed');
    expect(a.reference).toEqual({ namespace: 'aks-istio-system', source: 'control-plane-namespace' });
    expect(a.roots.map(r => [r.subject, r.role, r.validity, r.daysLeft, r.namespaces])).toEqual([['O=cluster.local', 'root', 'valid', 3000, ['aks-istio-system', 'payments']]]);
    expect(a.intermediates).toEqual([]);
    expect(a.rotation).toEqual({ inProgress: false, roots: 1 });
    expect(a.namespaces.map(n => [n.namespace, n.state])).toEqual([['aks-istio-system', 'current'], ['payments', 'current']]);
    expect(a.staleNamespaces).toEqual([]);
    expect(a.warnings).toEqual([]);
    expect(a.earliestExpiry).toEqual({ subject: 'O=cluster.local', fingerprintSha256: 'FP:istiod', notAfter: ISTIOD.notAfter, daysLeft: 3000 });
  });

  it('a plug-in CA mid rotation: two roots, a stale namespace, the old root’s expiry', () => {
    const a = analyzeTrust(
      input({
        istiod: [
          { revision: 'asm-1-29', type: 'csi', secretProviderClass: 'istio-spc-asm-1-29' },
          { revision: 'asm-1-30', type: 'csi', secretProviderClass: 'istio-spc-asm-1-30' },
        ],
        secretProviderClasses: ['istio-spc-asm-1-29', 'istio-spc-asm-1-30'],
        bundles: [bundle('aks-istio-system', [OLD, NEW]), bundle('payments', [OLD, NEW]), bundle('storefront', [OLD])],
        meshedNamespaces: ['payments', 'storefront'],
      }),
    );
    expect(a.caMode).toBe('plug-in');
    expect(a.rotation.inProgress).toBe(true);
    expect(a.rotation.roots).toBe(2);
    expect(a.rotation.message).toBe(
      'Root rotation in progress: 2 roots are trusted. Restart workloads (or wait 24 h) so every proxy holds a certificate from New Root, then remove Old Root (expires 2026-12-22) from the bundle.',
    );
    expect(a.roots.map(r => [displayName(r.subject), r.daysLeft, r.validity])).toEqual([
      ['Old Root', 21, 'expiring'],
      ['New Root', 3000, 'valid'],
    ]);
    expect(a.staleNamespaces).toEqual(['storefront']);
    expect(a.namespaces.find(n => n.namespace === 'storefront')).toEqual({ namespace: 'storefront', state: 'stale', fingerprints: ['FP:Old Root'], missing: ['FP:New Root'], extra: [] });
    expect(a.warnings).toEqual([
      { severity: 'warning', kind: 'expiry', fingerprint: 'FP:Old Root', message: 'Root certificate Old Root expires in 21 days (2026-12-22); finish the root rotation before then.' },
      { severity: 'warning', kind: 'stale-bundle', namespace: 'storefront', message: 'Namespace storefront has a stale trust bundle: it lacks New Root compared with aks-istio-system.' },
    ]);
    expect(a.earliestExpiry?.daysLeft).toBe(21);
    expect(summarizeTrust(a)).toEqual({ caMode: 'plug-in', rotationInProgress: true, roots: 2, staleNamespaces: 1, earliestExpiry: a.earliestExpiry, warnings: a.warnings });
  });

  it('after the rotation, a namespace that still trusts the old root is stale too', () => {
    const a = analyzeTrust(input({ bundles: [bundle('aks-istio-system', [NEW]), bundle('payments', [OLD, NEW])] }));
    expect(a.rotation).toEqual({ inProgress: false, roots: 1 });
    expect(a.staleNamespaces).toEqual(['payments']);
    expect(a.warnings.map(w => w.message)).toEqual([
      // The old root is only in payments now; its expiry still matters there.
      'Root certificate Old Root (only in payments) expires in 21 days (2026-12-22).',
      'Namespace payments has a stale trust bundle: it still trusts Old Root compared with aks-istio-system.',
    ]);
    expect(a.earliestExpiry?.subject).toBe(NEW.subject);
  });

  it('a namespace with a different single root lacks one and trusts another', () => {
    const a = analyzeTrust(input({ bundles: [bundle('aks-istio-system', [NEW]), bundle('payments', [OLD])] }));
    expect(a.warnings.find(w => w.kind === 'stale-bundle')?.message).toBe(
      'Namespace payments has a stale trust bundle: it lacks New Root and still trusts Old Root compared with aks-istio-system.',
    );
  });

  it('order and duplicates in a bundle do not make it stale', () => {
    const a = analyzeTrust(input({ bundles: [bundle('aks-istio-system', [OLD, NEW]), bundle('payments', [NEW, OLD, NEW])] }));
    expect(a.staleNamespaces).toEqual([]);
    expect(a.namespaces[1].fingerprints).toEqual(['FP:New Root', 'FP:Old Root', 'FP:New Root']);
  });

  it.each([
    [6, 'critical', 'expiry', 'expires in 6 days'],
    [1, 'critical', 'expiry', 'expires in 1 day '],
    [0.2, 'critical', 'expiry', 'expires in 0 days'],
    [-3, 'critical', 'expired', 'expired on 2026-11-28: mTLS with certificates it signed fails.'],
  ] as const)('a root %s days from expiry is %s', (days, severity, kind, text) => {
    const root = cert('Root', { notAfter: inDays(days) });
    const a = analyzeTrust(input({ bundles: [bundle('aks-istio-system', [root])] }));
    expect(a.warnings).toHaveLength(1);
    expect(a.warnings[0]).toMatchObject({ severity, kind, fingerprint: 'FP:Root' });
    expect(a.warnings[0].message).toContain(text);
  });

  it('honours configured thresholds', () => {
    const root = cert('Root', { notAfter: inDays(45) });
    const i = input({ bundles: [bundle('aks-istio-system', [root])] });
    expect(analyzeTrust(i).warnings).toEqual([]);
    expect(analyzeTrust({ ...i, thresholds: { warningDays: 60, criticalDays: 7 } }).warnings[0]).toMatchObject({ severity: 'warning', kind: 'expiry' });
    expect(analyzeTrust({ ...i, thresholds: { warningDays: 90, criticalDays: 50 } }).warnings[0]).toMatchObject({ severity: 'critical', kind: 'expiry' });
  });

  it('reports intermediates, their expiry, and leaves that do not belong in a bundle', () => {
    const intermediate = cert('Cluster CA', { issuer: 'O=Contoso, CN=New Root', selfIssued: false, notAfter: inDays(10) });
    const leaf = cert('spiffe workload', { isCA: false, selfIssued: false });
    const a = analyzeTrust(input({ bundles: [bundle('aks-istio-system', [NEW, intermediate, leaf])] }));
    expect(a.roots.map(r => r.fingerprintSha256)).toEqual(['FP:New Root']);
    expect(a.intermediates.map(r => [r.fingerprintSha256, r.role, r.validity])).toEqual([['FP:Cluster CA', 'intermediate', 'expiring']]);
    expect(a.leaves.map(r => r.fingerprintSha256)).toEqual(['FP:spiffe workload']);
    expect(a.rotation.inProgress).toBe(false);
    expect(a.warnings.map(w => w.message)).toEqual([
      'Intermediate certificate Cluster CA expires in 10 days (2026-12-11).',
      'A non-CA certificate (spiffe workload) is in the trust bundle of aks-istio-system.',
    ]);
    expect(a.earliestExpiry?.fingerprintSha256).toBe('FP:Cluster CA');
  });

  it('a root not yet valid is a warning', () => {
    const a = analyzeTrust(input({ bundles: [bundle('aks-istio-system', [cert('Future', { notBefore: inDays(3) })])] }));
    expect(a.warnings).toEqual([{ severity: 'warning', kind: 'not-yet-valid', fingerprint: 'FP:Future', message: 'Root certificate Future is not valid before 2026-12-04.' }]);
  });

  it('reports unreadable bundles per namespace and meshed namespaces without one', () => {
    const a = analyzeTrust(
      input({
        bundles: [bundle('aks-istio-system', [ISTIOD]), bundle('payments', [], 'root-cert.pem holds no PEM certificate'), bundle('legacy', [ISTIOD])],
        meshedNamespaces: ['payments', 'storefront'],
      }),
    );
    expect(a.namespaces.map(n => [n.namespace, n.state])).toEqual([
      ['aks-istio-system', 'current'],
      ['legacy', 'current'],
      ['payments', 'invalid'],
      ['storefront', 'missing'],
    ]);
    expect(a.namespaces.find(n => n.namespace === 'storefront')?.missing).toEqual(['FP:istiod']);
    expect(a.warnings.map(w => [w.kind, w.namespace, w.message])).toEqual([
      ['invalid-bundle', 'payments', 'The trust bundle of payments is unreadable: root-cert.pem holds no PEM certificate'],
      ['missing-bundle', 'storefront', 'Meshed namespace storefront has no istio-ca-root-cert ConfigMap: its proxies cannot verify peers.'],
    ]);
    expect(a.staleNamespaces).toEqual([]);
  });

  it('keeps what parsed of a partly broken bundle, and lists criticals first', () => {
    const expired = cert('Gone', { notAfter: inDays(-1) });
    const a = analyzeTrust(input({ bundles: [bundle('aks-istio-system', [ISTIOD]), bundle('payments', [expired], 'certificate 2 of 2 is not valid X.509')] }));
    expect(a.roots.map(r => r.fingerprintSha256)).toEqual(['FP:istiod', 'FP:Gone']);
    expect(a.warnings.map(w => w.severity)).toEqual(['critical', 'warning']);
    expect(a.warnings[0].message).toBe('Root certificate Gone (only in payments) expired on 2026-11-30: mTLS with certificates it signed fails.');
  });

  it('with no istiod and no bundles there is nothing to say', () => {
    const a = analyzeTrust(input({ istiod: [], bundles: [] }));
    expect(a).toEqual({
      caMode: 'unknown',
      caSources: [],
      reference: { source: 'none' },
      roots: [],
      intermediates: [],
      leaves: [],
      rotation: { inProgress: false, roots: 0 },
      namespaces: [],
      staleNamespaces: [],
      warnings: [],
    });
  });
});

describe('condenseTrustWarnings', () => {
  const ns = (kind: 'stale-bundle' | 'missing-bundle', n: number) =>
    Array.from({ length: n }, (_, i) => ({ severity: 'warning' as const, kind, namespace: `ns-${i}`, message: `${kind} ns-${i}` }));
  const expiry = { severity: 'warning' as const, kind: 'expiry' as const, fingerprint: 'FP', message: 'expires' };

  it('keeps up to three namespace warnings of a kind as they are', () => {
    const w = [expiry, ...ns('stale-bundle', 3)];
    expect(condenseTrustWarnings(w)).toEqual(w);
  });

  it('folds more into one line per kind, in place of the first, naming three', () => {
    const w = [expiry, ...ns('stale-bundle', 5), ...ns('missing-bundle', 2)];
    expect(condenseTrustWarnings(w).map(x => x.message)).toEqual([
      'expires',
      '5 namespaces have a stale trust bundle: ns-0, ns-1, ns-2, …',
      'missing-bundle ns-0',
      'missing-bundle ns-1',
    ]);
    expect(condenseTrustWarnings(ns('missing-bundle', 4), 1)).toEqual([
      { severity: 'warning', kind: 'missing-bundle', message: '4 namespaces have no istio-ca-root-cert ConfigMap: ns-0, …' },
    ]);
  });
});
