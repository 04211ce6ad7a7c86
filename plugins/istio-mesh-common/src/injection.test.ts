import { namespaceInjection, injectedRevision, podMeshState, needsRestart } from './injection';
import { sidecarOf, PodLike } from './sidecar';

const aks = { provider: 'aks' as const, revisions: ['asm-1-29', 'asm-1-30'] };
const upstream = {
  provider: 'istio' as const,
  revisions: ['1-26-3', '1-27-1'],
  tags: { 'prod-stable': '1-26-3', default: '1-27-1' },
};

describe('namespaceInjection on the AKS add-on', () => {
  it('injects by istio.io/rev', () => {
    const ns = namespaceInjection({ 'istio.io/rev': 'asm-1-30' }, aks);
    expect(ns).toEqual({ mode: 'revision', label: 'asm-1-30', revision: 'asm-1-30' });
    expect(injectedRevision(ns)).toBe('asm-1-30');
  });
  it('ignores istio-injection=enabled and says so', () => {
    const ns = namespaceInjection({ 'istio-injection': 'enabled' }, aks);
    expect(ns.mode).toBe('ignored-injection-label');
    expect(injectedRevision(ns)).toBeUndefined();
  });
  it('prefers istio.io/rev when both labels are present (istio-injection is ignored)', () => {
    const ns = namespaceInjection({ 'istio-injection': 'enabled', 'istio.io/rev': 'asm-1-29' }, aks);
    expect(injectedRevision(ns)).toBe('asm-1-29');
  });
  it('flags a label for a revision that is not installed', () => {
    const ns = namespaceInjection({ 'istio.io/rev': 'asm-1-25' }, aks);
    expect(ns.mode).toBe('unknown-revision');
    expect(injectedRevision(ns)).toBeUndefined();
  });
  it('treats an unlabelled namespace as outside the mesh', () => {
    expect(namespaceInjection({}, aks)).toEqual({ mode: 'none' });
    expect(namespaceInjection(undefined, aks)).toEqual({ mode: 'none' });
  });
});

describe('namespaceInjection on upstream Istio', () => {
  it('resolves a revision tag', () => {
    expect(namespaceInjection({ 'istio.io/rev': 'prod-stable' }, upstream)).toEqual({
      mode: 'revision',
      label: 'prod-stable',
      revision: '1-26-3',
      viaTag: 'prod-stable',
    });
  });
  it('serves istio-injection=enabled from the default tag', () => {
    expect(namespaceInjection({ 'istio-injection': 'enabled' }, upstream)).toEqual({
      mode: 'injection-label',
      revision: '1-27-1',
    });
  });
  it('reports istio-injection plus istio.io/rev as a conflict', () => {
    const ns = namespaceInjection({ 'istio-injection': 'enabled', 'istio.io/rev': '1-26-3' }, upstream);
    expect(ns.mode).toBe('conflict');
  });
  it('honours istio-injection=disabled', () => {
    expect(namespaceInjection({ 'istio-injection': 'disabled', 'istio.io/rev': '1-26-3' }, upstream)).toEqual({
      mode: 'none',
    });
  });
  it('reports istio-injection=enabled without a default as unresolvable', () => {
    const ns = namespaceInjection({ 'istio-injection': 'enabled' }, { provider: 'istio', revisions: ['1-26-3'] });
    expect(ns.mode).toBe('unknown-revision');
  });
});

function statusAnnotation(raw?: string, revision?: string): Record<string, string> {
  if (raw) return { 'sidecar.istio.io/status': raw };
  if (revision) {
    return { 'sidecar.istio.io/status': JSON.stringify({ containers: ['istio-proxy'], revision }) };
  }
  return {};
}

function pod(opts: {
  statusRevision?: string;
  labelRevision?: string;
  ca?: string;
  native?: boolean;
  noProxy?: boolean;
  optOut?: boolean;
  status?: string;
}): PodLike {
  const proxy = {
    name: 'istio-proxy',
    image: 'mcr.microsoft.com/oss/istio/proxyv2:1.29.2-distroless',
    ...(opts.native ? { restartPolicy: 'Always' } : {}),
    env: opts.ca ? [{ name: 'CA_ADDR', value: opts.ca }] : [],
  };
  return {
    metadata: {
      labels: {
        ...(opts.labelRevision ? { 'istio.io/rev': opts.labelRevision } : {}),
        ...(opts.optOut ? { 'sidecar.istio.io/inject': 'false' } : {}),
      },
      annotations: statusAnnotation(opts.status, opts.statusRevision),
    },
    spec: {
      containers: [{ name: 'app', image: 'app:1' }, ...(!opts.noProxy && !opts.native ? [proxy] : [])],
      initContainers: !opts.noProxy && opts.native ? [proxy] : [],
    },
  };
}

describe('sidecarOf', () => {
  it('reads the revision from the injector status annotation first', () => {
    expect(sidecarOf(pod({ statusRevision: 'asm-1-29', labelRevision: 'asm-1-30' }))).toEqual({
      injected: true,
      revision: 'asm-1-29',
      revisionSource: 'status-annotation',
      proxyVersion: '1.29.2',
      native: false,
      optedOut: false,
    });
  });
  it('finds a native sidecar among the init containers', () => {
    const s = sidecarOf(pod({ statusRevision: 'asm-1-30', native: true }));
    expect(s.injected).toBe(true);
    expect(s.native).toBe(true);
    expect(s.revision).toBe('asm-1-30');
  });
  it('falls back to the pod label, then the CA address', () => {
    expect(sidecarOf(pod({ labelRevision: 'asm-1-30' })).revisionSource).toBe('pod-label');
    const ca = sidecarOf(pod({ ca: 'istiod-asm-1-29.aks-istio-system.svc:15012' }));
    expect(ca.revision).toBe('asm-1-29');
    expect(ca.revisionSource).toBe('ca-address');
  });
  it('survives a malformed status annotation', () => {
    const s = sidecarOf(pod({ status: '{not json', labelRevision: 'asm-1-29' }));
    expect(s.revision).toBe('asm-1-29');
  });
  it('reports a pod without istio-proxy as not injected, noting an opt-out', () => {
    expect(sidecarOf(pod({ noProxy: true }))).toEqual({ injected: false, native: false, optedOut: false });
    expect(sidecarOf(pod({ noProxy: true, optOut: true })).optedOut).toBe(true);
  });
  it('leaves the revision unknown when nothing tells it', () => {
    const s = sidecarOf(pod({}));
    expect(s.injected).toBe(true);
    expect(s.revision).toBeUndefined();
  });
});

describe('podMeshState (drift rules)', () => {
  const on = (rev?: string) => sidecarOf(pod({ statusRevision: rev }));
  it.each([
    ['asm-1-30', on('asm-1-30'), 'in-sync'],
    ['asm-1-30', on('asm-1-29'), 'drifted'],
    [undefined, on('asm-1-29'), 'drifted'],
    ['asm-1-30', on(undefined), 'unknown'],
    ['asm-1-30', sidecarOf(pod({ noProxy: true })), 'not-injected'],
    ['asm-1-30', sidecarOf(pod({ noProxy: true, optOut: true })), 'opted-out'],
    [undefined, sidecarOf(pod({ noProxy: true })), 'unmeshed'],
  ] as const)('namespace %s with sidecar %j is %s', (nsRev, sidecar, state) => {
    expect(podMeshState(nsRev, sidecar)).toBe(state);
  });
  it('asks for a restart exactly when drifted or not injected', () => {
    expect(['in-sync', 'drifted', 'not-injected', 'opted-out', 'unknown', 'unmeshed'].filter(s => needsRestart(s as any))).toEqual([
      'drifted',
      'not-injected',
    ]);
  });
});
