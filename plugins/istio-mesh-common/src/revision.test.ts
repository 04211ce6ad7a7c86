import {
  compareRevisions,
  isValidRevisionName,
  minorDistance,
  nextMinorRevision,
  parseRevision,
  proxyVersionFromImage,
  revisionFromCaAddress,
  revisionFromIstiodName,
  sortRevisions,
} from './revision';

describe('parseRevision', () => {
  it.each([
    ['asm-1-29', { kind: 'aks', name: 'asm-1-29', major: 1, minor: 29 }],
    ['1-27-1', { kind: 'upstream', name: '1-27-1', major: 1, minor: 27, patch: 1 }],
    ['1-27', { kind: 'upstream', name: '1-27', major: 1, minor: 27 }],
    ['default', { kind: 'custom', name: 'default' }],
    ['prod-stable', { kind: 'custom', name: 'prod-stable' }],
  ])('parses %s', (name, expected) => {
    expect(parseRevision(name)).toEqual(expected);
  });

  it.each(['', 'ASM-1-29', 'asm_1_29', '-asm', 'asm-', 'a'.repeat(64), 'asm 1 29', 'asm-1-29\n'])(
    'rejects %j',
    name => {
      expect(parseRevision(name)).toBeUndefined();
      expect(isValidRevisionName(name)).toBe(false);
    },
  );
});

describe('compareRevisions', () => {
  it('orders by minor numerically, not lexically', () => {
    expect(compareRevisions('asm-1-9', 'asm-1-10')).toBeLessThan(0);
    expect(compareRevisions('asm-1-30', 'asm-1-29')).toBeGreaterThan(0);
    expect(compareRevisions('asm-1-29', 'asm-1-29')).toBe(0);
  });
  it('orders upstream revisions by patch', () => {
    expect(compareRevisions('1-26-3', '1-26-10')).toBeLessThan(0);
    expect(compareRevisions('1-27-1', '1-26-3')).toBeGreaterThan(0);
  });
  it('sorts custom names after versioned ones', () => {
    expect(sortRevisions(['default', 'asm-1-30', 'canary', 'asm-1-29', 'asm-1-30'])).toEqual([
      'asm-1-29',
      'asm-1-30',
      'canary',
      'default',
    ]);
  });
});

describe('revision arithmetic', () => {
  it('computes the next minor in the same scheme', () => {
    expect(nextMinorRevision('asm-1-29')).toBe('asm-1-30');
    expect(nextMinorRevision('1-26-3')).toBe('1-27-0');
    expect(nextMinorRevision('default')).toBeUndefined();
  });
  it('measures minor distance', () => {
    expect(minorDistance('asm-1-28', 'asm-1-30')).toBe(2);
    expect(minorDistance('asm-1-30', 'asm-1-29')).toBe(-1);
    expect(minorDistance('asm-1-30', 'default')).toBeUndefined();
  });
});

describe('proxyVersionFromImage', () => {
  it.each([
    ['mcr.microsoft.com/oss/istio/proxyv2:1.29.1-distroless', '1.29.1'],
    ['docker.io/istio/proxyv2:1.27.1', '1.27.1'],
    ['localhost:5000/istio/proxyv2:1.30.0-rc.1', '1.30.0-rc.1'],
    ['gcr.io/istio-release/proxyv2:1.26.3@sha256:abc', '1.26.3'],
    ['localhost:5000/istio/proxyv2', undefined],
    ['istio/proxyv2:latest', undefined],
    [undefined, undefined],
  ])('%s → %s', (image, version) => {
    expect(proxyVersionFromImage(image)).toBe(version);
  });
});

describe('revision from istiod names and CA addresses', () => {
  it('reads the revision from the CA address', () => {
    expect(revisionFromCaAddress('istiod-asm-1-29.aks-istio-system.svc:15012')).toBe('asm-1-29');
    expect(revisionFromCaAddress('istiod.istio-system.svc:15012')).toBe('default');
    expect(revisionFromCaAddress('ca.example.com:443')).toBeUndefined();
    expect(revisionFromCaAddress(undefined)).toBeUndefined();
  });
  it('reads the revision from the istiod Deployment name', () => {
    expect(revisionFromIstiodName('istiod-asm-1-30')).toBe('asm-1-30');
    expect(revisionFromIstiodName('istiod')).toBe('default');
    expect(revisionFromIstiodName('istio-ingressgateway')).toBeUndefined();
  });
});
