import { canaryPair, istiodReady, observedUpgradePhase } from './controlPlane';
import { isValidClusterName, isValidEntityNamePart, isValidNamespaceName, isValidObjectName } from './names';

describe('observedUpgradePhase', () => {
  it.each([
    [[], 'NoControlPlane'],
    [['asm-1-29'], 'Stable'],
    [['asm-1-29', 'asm-1-30'], 'Canary'],
    [['asm-1-28', 'asm-1-29', 'asm-1-30'], 'Unsupported'],
  ])('%j → %s', (revs, phase) => expect(observedUpgradePhase(revs)).toBe(phase));

  it('finds the stable and canary revision by version, whatever the order', () => {
    expect(canaryPair(['asm-1-30', 'asm-1-29'])).toEqual({ stable: 'asm-1-29', canary: 'asm-1-30' });
    expect(canaryPair(['asm-1-9', 'asm-1-10'])).toEqual({ stable: 'asm-1-9', canary: 'asm-1-10' });
    expect(canaryPair(['asm-1-29'])).toBeUndefined();
  });

  it('calls istiod ready only when every desired replica is ready', () => {
    expect(istiodReady(2, 2)).toBe(true);
    expect(istiodReady(2, 1)).toBe(false);
    expect(istiodReady(0, 0)).toBe(false);
  });
});

describe('name validation', () => {
  it('accepts DNS-1123 labels as namespaces and rejects the rest', () => {
    expect(isValidNamespaceName('payments')).toBe(true);
    expect(isValidNamespaceName('aks-istio-system')).toBe(true);
    for (const bad of ['', 'Payments', 'pay.ments', '-x', 'x-', 'a'.repeat(64), '../etc', 'a b']) {
      expect(isValidNamespaceName(bad)).toBe(false);
    }
  });
  it('accepts dotted object names', () => {
    expect(isValidObjectName('istio-ca-root-cert')).toBe(true);
    expect(isValidObjectName('a.b.c')).toBe(true);
    expect(isValidObjectName('a..b')).toBe(false);
  });
  it('validates cluster names and entity name parts', () => {
    expect(isValidClusterName('aks-prod')).toBe(true);
    expect(isValidClusterName('aks prod')).toBe(false);
    expect(isValidClusterName('x/../y')).toBe(false);
    expect(isValidEntityNamePart('payments-api')).toBe(true);
    expect(isValidEntityNamePart('Component')).toBe(true);
    expect(isValidEntityNamePart('bad/name')).toBe(false);
    expect(isValidEntityNamePart('')).toBe(false);
  });
});
