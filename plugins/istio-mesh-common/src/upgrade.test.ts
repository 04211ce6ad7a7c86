import {
  UpgradeNamespace,
  UpgradeObservation,
  canComplete,
  canMigrateNamespace,
  canRollback,
  canStartUpgrade,
  deriveUpgradeState,
} from './upgrade';

const run = { from: 'asm-1-29', to: 'asm-1-30' };
const ns = (name: string, revision: string | undefined, pods: Record<string, number>): UpgradeNamespace => ({
  name,
  revision,
  podsByRevision: pods,
});
const observe = (installed: string[], namespaces: UpgradeNamespace[], offered: string[] = []): UpgradeObservation => ({
  installedRevisions: installed,
  offeredUpgrades: offered,
  namespaces,
});

describe('deriveUpgradeState', () => {
  const both = ['asm-1-29', 'asm-1-30'];
  it('is Stable without a run', () => {
    expect(deriveUpgradeState(observe(['asm-1-29'], []))).toEqual({ phase: 'Stable', pendingNamespaces: [], migratedNamespaces: [] });
  });
  it('is CanaryDeployed when both control planes run and nothing moved yet', () => {
    const obs = observe(both, [ns('payments', 'asm-1-29', { 'asm-1-29': 3 }), ns('tools', undefined, { none: 1 })]);
    expect(deriveUpgradeState(obs, run)).toEqual({ phase: 'CanaryDeployed', pendingNamespaces: ['payments'], migratedNamespaces: [] });
  });
  it('is Migrating when a namespace is relabelled but its pods are not restarted (drift)', () => {
    const obs = observe(both, [ns('payments', 'asm-1-30', { 'asm-1-29': 3 }), ns('storefront', 'asm-1-29', { 'asm-1-29': 2 })]);
    expect(deriveUpgradeState(obs, run)).toEqual({ phase: 'Migrating', pendingNamespaces: ['payments', 'storefront'], migratedNamespaces: [] });
  });
  it('counts a namespace as migrated once its label and every pod are on the canary', () => {
    const obs = observe(both, [ns('payments', 'asm-1-30', { 'asm-1-30': 3 }), ns('storefront', 'asm-1-29', { 'asm-1-29': 2 })]);
    expect(deriveUpgradeState(obs, run)).toEqual({ phase: 'Migrating', pendingNamespaces: ['storefront'], migratedNamespaces: ['payments'] });
  });
  it('is ReadyToComplete when every meshed namespace is on the canary', () => {
    const obs = observe(both, [ns('payments', 'asm-1-30', { 'asm-1-30': 3 }), ns('storefront', 'asm-1-30', { 'asm-1-30': 2, none: 1 })]);
    expect(deriveUpgradeState(obs, run).phase).toBe('ReadyToComplete');
  });
  it('is Completed when only the canary remains and RolledBack when only the old one does', () => {
    expect(deriveUpgradeState(observe(['asm-1-30'], []), run).phase).toBe('Completed');
    expect(deriveUpgradeState(observe(['asm-1-29'], []), run).phase).toBe('RolledBack');
    expect(deriveUpgradeState(observe([], []), run).phase).toBe('RolledBack');
  });
  it('ignores namespaces outside the mesh', () => {
    const obs = observe(both, [ns('tools', undefined, { none: 2 }), ns('payments', 'asm-1-30', { 'asm-1-30': 1 })]);
    expect(deriveUpgradeState(obs, run)).toEqual({ phase: 'ReadyToComplete', pendingNamespaces: [], migratedNamespaces: ['payments'] });
  });
});

describe('canStartUpgrade', () => {
  const stable = observe(['asm-1-29'], [], ['asm-1-30', 'asm-1-31']);
  it('allows an offered n+1 or n+2', () => {
    expect(canStartUpgrade(stable, 'asm-1-30')).toEqual({ allowed: true });
    expect(canStartUpgrade(stable, 'asm-1-31')).toEqual({ allowed: true });
  });
  it.each([
    ['asm-1-32', 'invalid', 'asm-1-32 is not offered for this cluster (offered: asm-1-30, asm-1-31).'],
    ['asm-1-28', 'invalid', 'asm-1-28 is older than asm-1-29: downgrades are not supported (only rollback during a canary).'],
    ['asm-1-29', 'conflict', 'The cluster already runs asm-1-29.'],
    ['ASM 1 30', 'invalid', '"ASM 1 30" is not a valid revision name'],
    ['', 'invalid', '"" is not a valid revision name'],
  ])('refuses %j (%s)', (target, kind, reason) => {
    expect(canStartUpgrade(stable, target)).toEqual({ allowed: false, kind, reason });
  });
  it('refuses while an upgrade is in progress (at most two revisions)', () => {
    expect(canStartUpgrade(observe(['asm-1-30', 'asm-1-29'], [], []), 'asm-1-31')).toEqual({
      allowed: false,
      kind: 'conflict',
      reason: 'An upgrade is already in progress (revisions asm-1-29, asm-1-30): complete or roll it back first.',
    });
  });
  it('refuses without a control plane', () => {
    expect(canStartUpgrade(observe([], [], ['asm-1-30']), 'asm-1-30')).toMatchObject({ allowed: false, kind: 'conflict' });
  });
});

describe('canMigrateNamespace', () => {
  const obs = observe(['asm-1-29', 'asm-1-30'], [ns('payments', 'asm-1-29', { 'asm-1-29': 1 })]);
  it('allows moving to either revision of the run', () => {
    expect(canMigrateNamespace(obs, run, 'payments', 'asm-1-30')).toEqual({ allowed: true });
    expect(canMigrateNamespace(obs, run, 'payments', 'asm-1-29')).toEqual({ allowed: true });
  });
  it('refuses other revisions, missing namespaces and uninstalled revisions', () => {
    expect(canMigrateNamespace(obs, run, 'payments', 'asm-1-31')).toMatchObject({ allowed: false, kind: 'invalid' });
    expect(canMigrateNamespace(obs, run, 'nope', 'asm-1-30')).toEqual({
      allowed: false,
      kind: 'invalid',
      reason: 'Namespace nope does not exist in this cluster.',
    });
    const completed = observe(['asm-1-30'], obs.namespaces);
    expect(canMigrateNamespace(completed, run, 'payments', 'asm-1-29')).toMatchObject({ allowed: false, kind: 'conflict' });
  });
});

describe('canComplete', () => {
  it('refuses while a label or a running sidecar still uses the old revision, listing them', () => {
    const obs = observe(['asm-1-29', 'asm-1-30'], [
      ns('payments', 'asm-1-30', { 'asm-1-29': 3 }),
      ns('storefront', 'asm-1-29', { 'asm-1-29': 2 }),
      ns('cart', 'asm-1-30', { 'asm-1-29': 1, 'asm-1-30': 1 }),
      ns('done', 'asm-1-30', { 'asm-1-30': 2 }),
    ]);
    expect(canComplete(obs, run)).toEqual({
      allowed: false,
      kind: 'conflict',
      reason: 'Completing would remove asm-1-29 while workloads still use it; migrate these namespaces first.',
      blockers: ['cart has 1 pod still on asm-1-29', 'payments has 3 pods still on asm-1-29', 'storefront is labelled for asm-1-29'],
    });
  });
  it('allows completing once nothing uses the old revision', () => {
    const obs = observe(['asm-1-29', 'asm-1-30'], [ns('payments', 'asm-1-30', { 'asm-1-30': 3 }), ns('tools', undefined, { none: 1 })]);
    expect(canComplete(obs, run)).toEqual({ allowed: true });
  });
  it('refuses twice-completed and rolled-back runs', () => {
    expect(canComplete(observe(['asm-1-30'], []), run)).toEqual({ allowed: false, kind: 'conflict', reason: 'The upgrade is already complete.' });
    expect(canComplete(observe(['asm-1-29'], []), run)).toEqual({ allowed: false, kind: 'conflict', reason: 'The upgrade was rolled back.' });
  });
});

describe('canRollback', () => {
  it('refuses while anything runs on the canary, listing it', () => {
    const obs = observe(['asm-1-29', 'asm-1-30'], [ns('payments', 'asm-1-30', { 'asm-1-30': 2 }), ns('storefront', 'asm-1-29', { 'asm-1-30': 1 })]);
    expect(canRollback(obs, run)).toEqual({
      allowed: false,
      kind: 'conflict',
      reason: 'Rolling back would remove asm-1-30 while workloads still use it; move these namespaces back to asm-1-29 first.',
      blockers: ['payments is labelled for asm-1-30', 'storefront has 1 pod still on asm-1-30'],
    });
  });
  it('allows rolling back once everything is on the old revision', () => {
    const obs = observe(['asm-1-29', 'asm-1-30'], [ns('payments', 'asm-1-29', { 'asm-1-29': 2 })]);
    expect(canRollback(obs, run)).toEqual({ allowed: true });
  });
  it('refuses after completion', () => {
    expect(canRollback(observe(['asm-1-30'], []), run)).toMatchObject({ allowed: false, kind: 'conflict' });
  });
});
