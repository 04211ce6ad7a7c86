import { clusterHealth, injectionProblem } from './health';

const rev = (revision: string, replicas: number, readyReplicas: number) => ({
  revision,
  replicas,
  readyReplicas,
  ready: readyReplicas > 0 && readyReplicas >= replicas,
});

describe('clusterHealth', () => {
  it('is healthy with a ready control plane, no drift and no problems', () => {
    expect(clusterHealth({ phase: 'Stable', revisions: [rev('asm-1-29', 2, 2)], driftedPods: 0, problems: [] })).toEqual({
      health: 'healthy',
      reasons: [],
    });
  });
  it('is critical without a control plane or without any ready istiod', () => {
    expect(clusterHealth({ phase: 'NoControlPlane', revisions: [], driftedPods: 0, problems: [] }).health).toBe('critical');
    expect(clusterHealth({ phase: 'Stable', revisions: [rev('asm-1-29', 2, 0)], driftedPods: 0, problems: [] })).toEqual({
      health: 'critical',
      reasons: ['No istiod replica is ready.'],
    });
  });
  it('warns with every reason that applies', () => {
    expect(
      clusterHealth({
        phase: 'Unsupported',
        revisions: [rev('asm-1-28', 2, 2), rev('asm-1-29', 2, 1), rev('asm-1-30', 2, 2)],
        driftedPods: 1,
        problems: ['Namespace legacy uses istio-injection=enabled'],
      }),
    ).toEqual({
      health: 'warning',
      reasons: [
        'istiod asm-1-29 has 1/2 replicas ready.',
        '3 control-plane revisions are installed; at most two are supported.',
        "1 pod drifted from their namespace's revision and need a restart.",
        'Namespace legacy uses istio-injection=enabled',
      ],
    });
  });
});

describe('clusterHealth with certificates and gateways', () => {
  const base = { phase: 'Stable' as const, revisions: [rev('asm-1-29', 2, 2)], driftedPods: 0, problems: [] };
  it('warns about lagging gateways and certificate warnings, after the other reasons', () => {
    expect(
      clusterHealth({
        ...base,
        driftedPods: 2,
        gatewayProblems: ['Gateway payments-egress has no Deployment for asm-1-30.'],
        trustWarnings: [{ severity: 'warning', message: 'Root certificate Old expires in 21 days (2026-12-22).' }],
      }),
    ).toEqual({
      health: 'warning',
      reasons: [
        "2 pods drifted from their namespace's revision and need a restart.",
        'Gateway payments-egress has no Deployment for asm-1-30.',
        'Root certificate Old expires in 21 days (2026-12-22).',
      ],
    });
  });
  it('is critical with a critical certificate warning', () => {
    expect(clusterHealth({ ...base, trustWarnings: [{ severity: 'critical', message: 'Root certificate R expired on 2026-11-28.' }] })).toEqual({
      health: 'critical',
      reasons: ['Root certificate R expired on 2026-11-28.'],
    });
  });
  it('stays healthy with empty lists', () => {
    expect(clusterHealth({ ...base, trustWarnings: [], gatewayProblems: [] })).toEqual({ health: 'healthy', reasons: [] });
  });
});

describe('injectionProblem', () => {
  it('explains misconfigured namespaces and stays quiet otherwise', () => {
    expect(injectionProblem('legacy', { mode: 'ignored-injection-label', reason: 'uses istio-injection=enabled, which the AKS add-on ignores' })).toBe(
      'Namespace legacy uses istio-injection=enabled, which the AKS add-on ignores',
    );
    expect(injectionProblem('payments', { mode: 'revision', label: 'asm-1-29', revision: 'asm-1-29' })).toBeUndefined();
    expect(injectionProblem('tools', { mode: 'none' })).toBeUndefined();
  });
});
