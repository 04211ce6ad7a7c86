import {
  analyzeGateways,
  deploymentsOfGateway,
  GatewayAnalysisInput,
  GatewayDeploymentInput,
  gatewayKind,
  gatewayLag,
} from './gateways';

const dep = (name: string, namespace: string, revision: string | undefined, ready = 2, replicas = 2): GatewayDeploymentInput => ({
  name,
  namespace,
  labels: revision ? { 'istio.io/rev': revision } : {},
  replicas,
  readyReplicas: ready,
});

const external = { name: 'aks-istio-ingressgateway-external', namespace: 'aks-istio-ingress', type: 'LoadBalancer', clusterIP: '10.0.97.12', addresses: ['20.61.14.7'], ports: [{ name: 'status-port', port: 15021 }, { name: 'http2', port: 80 }, { name: 'https', port: 443 }] };
const internal = { ...external, name: 'aks-istio-ingressgateway-internal', addresses: ['10.224.0.250'] };
const egress = { name: 'payments-egress', namespace: 'aks-istio-egress', type: 'ClusterIP', clusterIP: '10.0.201.17', addresses: [], ports: [{ port: 80 }, { port: 443 }] };

function canary(overrides: Partial<GatewayAnalysisInput> = {}): GatewayAnalysisInput {
  return {
    provider: 'aks',
    revisions: ['asm-1-29', 'asm-1-30'],
    services: [egress, internal, external],
    deployments: [
      dep('aks-istio-ingressgateway-external-asm-1-29', 'aks-istio-ingress', 'asm-1-29'),
      dep('aks-istio-ingressgateway-external-asm-1-30', 'aks-istio-ingress', 'asm-1-30'),
      dep('aks-istio-ingressgateway-internal-asm-1-29', 'aks-istio-ingress', 'asm-1-29'),
      dep('aks-istio-ingressgateway-internal-asm-1-30', 'aks-istio-ingress', 'asm-1-30', 0),
      dep('payments-egress-asm-1-29', 'aks-istio-egress', 'asm-1-29'),
      // Not a gateway of these Services: another namespace, another name.
      dep('aks-istio-ingressgateway-external-asm-1-30', 'elsewhere', 'asm-1-30'),
      dep('aks-istio-ingressgateway-externally-asm-1-30', 'aks-istio-ingress', 'asm-1-30'),
    ],
    autoscalers: [
      { name: 'aks-istio-ingressgateway-external-asm-1-29', namespace: 'aks-istio-ingress', targetName: 'aks-istio-ingressgateway-external-asm-1-29', minReplicas: 3, maxReplicas: 10, currentReplicas: 3 },
      { name: 'hpa-with-another-name', namespace: 'aks-istio-ingress', targetName: 'aks-istio-ingressgateway-external-asm-1-30', maxReplicas: 10 },
      { name: 'payments-egress-asm-1-29', namespace: 'elsewhere', targetName: 'payments-egress-asm-1-29', minReplicas: 2, maxReplicas: 5 },
    ],
    ...overrides,
  };
}

describe('gatewayKind', () => {
  it.each([
    ['aks-istio-ingressgateway-external', 'aks-istio-ingress', 'ingress-external'],
    ['aks-istio-ingressgateway-internal', 'aks-istio-ingress', 'ingress-internal'],
    ['payments-egress', 'aks-istio-egress', 'egress'],
    ['istio-egressgateway', 'istio-system', 'egress'],
    ['istio-ingressgateway', 'istio-system', 'ingress'],
  ] as const)('%s in %s is %s', (name, namespace, kind) => {
    expect(gatewayKind({ name, namespace })).toBe(kind);
  });
});

describe('deploymentsOfGateway', () => {
  it('takes <service>-<rev> in the Service’s namespace, and a Deployment named like the Service', () => {
    const deployments = [
      dep('istio-ingressgateway', 'istio-system', undefined),
      dep('istio-ingressgateway-1-27-1', 'istio-system', '1-27-1'),
      dep('istio-ingressgateway-canary', 'istio-system', '1-27-1'),
      dep('istio-ingressgateway', 'other', undefined),
    ];
    expect(deploymentsOfGateway({ name: 'istio-ingressgateway', namespace: 'istio-system' }, deployments).map(d => d.name)).toEqual([
      'istio-ingressgateway',
      'istio-ingressgateway-1-27-1',
    ]);
  });
});

describe('analyzeGateways', () => {
  it('orders ingress external, internal, then egress, with Deployments, HPAs and lag', () => {
    const [ext, int, eg] = analyzeGateways(canary());
    expect(ext).toEqual({
      name: 'aks-istio-ingressgateway-external',
      namespace: 'aks-istio-ingress',
      kind: 'ingress-external',
      type: 'LoadBalancer',
      clusterIP: '10.0.97.12',
      addresses: ['20.61.14.7'],
      portDetails: external.ports,
      deployments: [
        { name: 'aks-istio-ingressgateway-external-asm-1-29', revision: 'asm-1-29', replicas: 2, readyReplicas: 2, ready: true, hpa: { name: 'aks-istio-ingressgateway-external-asm-1-29', minReplicas: 3, maxReplicas: 10, currentReplicas: 3 } },
        // An HPA is found by its target, whatever its name; minReplicas defaults to 1 as in the API.
        { name: 'aks-istio-ingressgateway-external-asm-1-30', revision: 'asm-1-30', replicas: 2, readyReplicas: 2, ready: true, hpa: { name: 'hpa-with-another-name', minReplicas: 1, maxReplicas: 10 } },
      ],
      revisions: ['asm-1-29', 'asm-1-30'],
      lag: { lagging: false, missingRevisions: [], orphanedRevisions: [], notReadyRevisions: [], messages: [] },
    });
    expect(int.kind).toBe('ingress-internal');
    expect(int.lag).toEqual({
      lagging: true,
      missingRevisions: [],
      orphanedRevisions: [],
      notReadyRevisions: ['asm-1-30'],
      messages: ['Gateway aks-istio-ingressgateway-internal: its asm-1-30 Deployment has 0/2 replicas ready.'],
    });
    expect(eg.kind).toBe('egress');
    expect(eg.deployments.map(d => [d.name, d.hpa])).toEqual([['payments-egress-asm-1-29', undefined]]);
    expect(eg.lag).toEqual({
      lagging: true,
      missingRevisions: ['asm-1-30'],
      orphanedRevisions: [],
      notReadyRevisions: [],
      messages: ['Gateway payments-egress has no Deployment for asm-1-30: it still runs only asm-1-29, so it lags the control plane.'],
    });
  });

  it('after complete: a gateway left on the removed revision is orphaned and lags', () => {
    const [ext] = analyzeGateways(
      canary({ revisions: ['asm-1-30'], services: [external], deployments: [dep('aks-istio-ingressgateway-external-asm-1-29', 'aks-istio-ingress', 'asm-1-29')] }),
    );
    expect(ext.lag).toEqual({
      lagging: true,
      missingRevisions: ['asm-1-30'],
      orphanedRevisions: ['asm-1-29'],
      notReadyRevisions: [],
      messages: [
        'Gateway aks-istio-ingressgateway-external has no Deployment for asm-1-30: it still runs only asm-1-29, so it lags the control plane.',
        'Gateway aks-istio-ingressgateway-external runs asm-1-29, whose control plane is not installed: its proxies get no configuration.',
      ],
    });
  });

  it('a gateway Service with no Deployment at all says nothing serves it', () => {
    const [eg] = analyzeGateways(canary({ revisions: ['asm-1-30'], services: [egress], deployments: [] }));
    expect(eg.lag.messages).toEqual(['Gateway payments-egress has no Deployment for asm-1-30: nothing serves its traffic.']);
    expect(eg.revisions).toEqual([]);
  });

  it('a Deployment scaled to zero on purpose is not unready', () => {
    const [ext] = analyzeGateways(canary({ revisions: ['asm-1-29'], services: [external], deployments: [dep('aks-istio-ingressgateway-external-asm-1-29', 'aks-istio-ingress', 'asm-1-29', 0, 0)] }));
    expect(ext.deployments[0].ready).toBe(true);
    expect(ext.lag.lagging).toBe(false);
  });

  it('upstream: gateways upgraded in place are not missing a revision; a tag resolves to its revision', () => {
    const svc = { name: 'istio-ingressgateway', namespace: 'istio-system', type: 'LoadBalancer', addresses: [], ports: [{ port: 80 }] };
    const base = { provider: 'istio' as const, revisions: ['1-26-3', '1-27-1'], tags: { 'prod-stable': '1-26-3' }, services: [svc], autoscalers: [] };
    const [onTag] = analyzeGateways({ ...base, deployments: [dep('istio-ingressgateway', 'istio-system', 'prod-stable')] });
    expect(onTag.lag.lagging).toBe(false);
    expect(onTag.revisions).toEqual(['prod-stable']);
    const [gone] = analyzeGateways({ ...base, deployments: [dep('istio-ingressgateway', 'istio-system', '1-25-0')] });
    expect(gone.lag.orphanedRevisions).toEqual(['1-25-0']);
    expect(gone.lag.missingRevisions).toEqual([]);
    const [unlabelled] = analyzeGateways({ ...base, deployments: [dep('istio-ingressgateway', 'istio-system', undefined, 1, 2)] });
    expect(unlabelled.lag).toMatchObject({ lagging: true, notReadyRevisions: ['istio-ingressgateway'], messages: ['Gateway istio-ingressgateway: Deployment istio-ingressgateway has 1/2 replicas ready.'] });
  });

  it('no services, no gateways', () => {
    expect(analyzeGateways(canary({ services: [] }))).toEqual([]);
  });
});

describe('gatewayLag', () => {
  it('is quiet when every installed revision has a ready Deployment', () => {
    expect(
      gatewayLag({ provider: 'aks', revisions: ['asm-1-29'] }, { name: 'g' }, [{ name: 'g-asm-1-29', revision: 'asm-1-29', replicas: 2, readyReplicas: 2, ready: true }]),
    ).toEqual({ lagging: false, missingRevisions: [], orphanedRevisions: [], notReadyRevisions: [], messages: [] });
  });
});
