import { ClusterStore } from './store';
import { resourceTypeOfKind } from './resources';
import { SandboxCluster } from './server';
import { SandboxClock } from './clock';
import { addDeployment, addNamespace } from './seed';
import { addSharedMeshConfig, AKS_LAYOUT, EGRESS_NAMESPACE, IngressGatewayMode, installControlPlaneRevision, setRevisionTag, UPSTREAM_LAYOUT } from './istio/install';
import { CaRoot, istiodSelfSignedRoot, makeRoot, secretProviderClass, setCaRootBundle } from './istio/trust';

export { REVISION_VERSIONS } from './istio/revisions';
export { injectSidecar, sidecarProfile } from './istio/injection';
export type { SidecarProfile } from './istio/injection';
export { addDeployment, addNamespace } from './seed';
export type { WorkloadSpec } from './seed';

/**
 * The demo fleet: two AKS clusters with the Istio add-on and one cluster running
 * upstream Istio. Docs and e2e tests rely on these names (see the README's "Demo fleet").
 */

const CONTROL_PLANE_NS = 'aks-istio-system';
const INGRESS_NS = 'aks-istio-ingress';

/**
 * What the add-on installs for one revision (istiod, its config, webhooks and gateways),
 * plus the `istio-shared-configmap-<rev>` the demo fleet's users created for it.
 */
export function addControlPlaneRevision(
  store: ClusterStore,
  revision: string,
  gateways: { ingress?: IngressGatewayMode[]; egress?: string[] } = {},
) {
  installControlPlaneRevision(store, revision, { layout: AKS_LAYOUT, ingressGateways: gateways.ingress, egressGateways: gateways.egress });
  addSharedMeshConfig(store, revision, AKS_LAYOUT);
}

/** The add-on's ingress gateway Service of a mode: a LoadBalancer spanning the revisions' Deployments. */
function addIngressService(store: ClusterStore, mode: IngressGatewayMode, clusterIP: string, ip: string) {
  const name = `aks-istio-ingressgateway-${mode}`;
  store.add({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: INGRESS_NS,
      labels: { app: name, 'kubernetes.azure.com/managedby': 'aks' },
      ...(mode === 'internal' ? { annotations: { 'service.beta.kubernetes.io/azure-load-balancer-internal': 'true' } } : {}),
    },
    spec: {
      type: 'LoadBalancer',
      clusterIP,
      clusterIPs: [clusterIP],
      selector: { app: name },
      ports: [{ name: 'status-port', port: 15021, protocol: 'TCP' }, { name: 'http2', port: 80, protocol: 'TCP', targetPort: 8080 }, { name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 }],
    },
    status: { loadBalancer: { ingress: [{ ip }] } },
  });
}

/** An add-on egress gateway's Service (`<name>`, ClusterIP) in aks-istio-egress; its Deployments are `<name>-<rev>`. */
function addEgressService(store: ClusterStore, name: string, clusterIP: string) {
  if (!store.peek(resourceTypeOfKind('Namespace'), undefined, EGRESS_NAMESPACE)) addNamespace(store, EGRESS_NAMESPACE, { 'kubernetes.azure.com/managedby': 'aks' });
  store.add({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: EGRESS_NAMESPACE, labels: { app: name, 'kubernetes.azure.com/managedby': 'aks' } },
    spec: {
      type: 'ClusterIP',
      clusterIP,
      clusterIPs: [clusterIP],
      selector: { app: name },
      ports: [{ name: 'http2', port: 80, protocol: 'TCP', targetPort: 8080 }, { name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 }],
    },
    status: { loadBalancer: {} },
  });
}

/** istiod's published trust bundle (`istio-ca-root-cert`) in each of these namespaces. */
function addCaBundles(store: ClusterStore, namespaces: string[], roots: CaRoot[]) {
  for (const ns of namespaces) setCaRootBundle(store, ns, roots);
}

const app = (id: string) => ({ 'backstage.io/kubernetes-id': id });
const IMAGE = (name: string) => `example.com/mesh-demo/${name}:1.8.0`;

function aksCluster(name: string): ClusterStore {
  const store = new ClusterStore(name);
  addNamespace(store, 'kube-system');
  addNamespace(store, 'default');
  addNamespace(store, CONTROL_PLANE_NS, { 'kubernetes.azure.com/managedby': 'aks' });
  addNamespace(store, INGRESS_NS, { 'kubernetes.azure.com/managedby': 'aks' });
  return store;
}

const DAY = 86_400_000;

/** aks-dev: one revision, istiod's self-signed CA, the external ingress gateway. */
function buildAksDev(now: Date): ClusterStore {
  const store = aksCluster('aks-dev');
  addControlPlaneRevision(store, 'asm-1-29', { ingress: ['external'] });
  addIngressService(store, 'external', '10.0.118.41', '20.61.9.3');
  addNamespace(store, 'payments', { 'istio.io/rev': 'asm-1-29' });
  addNamespace(store, 'storefront', { 'istio.io/rev': 'asm-1-29' });
  addNamespace(store, 'legacy', { 'istio-injection': 'enabled' });
  addNamespace(store, 'tools');
  // istiod generated its root when the mesh was enabled, half a year ago.
  const root = istiodSelfSignedRoot('aks-dev', new Date(now.getTime() - 180 * DAY));
  addCaBundles(store, [CONTROL_PLANE_NS, INGRESS_NS, 'payments', 'storefront', 'legacy'], [root]);
  addDeployment(store, { namespace: 'payments', name: 'payments-api', replicas: 2, image: IMAGE('payments-api'), sidecarRevision: 'asm-1-29', labels: app('payments-api') });
  addDeployment(store, { namespace: 'payments', name: 'payments-worker', replicas: 1, image: IMAGE('payments-worker'), sidecarRevision: 'asm-1-29', labels: app('payments-worker') });
  addDeployment(store, { namespace: 'storefront', name: 'checkout', replicas: 2, image: IMAGE('checkout'), sidecarRevision: 'asm-1-29', labels: app('checkout') });
  addDeployment(store, { namespace: 'storefront', name: 'cart', replicas: 2, image: IMAGE('cart'), sidecarRevision: 'asm-1-29', labels: app('cart') });
  // The add-on ignores istio-injection=enabled, so these pods run without a sidecar.
  addDeployment(store, { namespace: 'legacy', name: 'legacy-billing', replicas: 1, image: IMAGE('legacy-billing'), labels: app('legacy-billing') });
  addDeployment(store, { namespace: 'tools', name: 'ops-toolbox', replicas: 1, image: IMAGE('ops-toolbox'), labels: app('ops-toolbox') });
  return store;
}

/** The roots of aks-prod's plug-in CA: the old one expires in 21 days, the new one was made two days ago. */
export function aksProdRoots(now: Date): { oldRoot: CaRoot; newRoot: CaRoot } {
  return {
    oldRoot: makeRoot(
      'contoso-root-2023',
      [['C', 'NL'], ['O', 'Contoso'], ['CN', 'Contoso Mesh Root CA 2023']],
      { type: 'rsa', bits: 2048 },
      // Half a day more, so that "21 days left" holds for the whole demo session.
      new Date(now.getTime() - (3 * 365 - 21) * DAY),
      new Date(now.getTime() + 21.5 * DAY),
    ),
    newRoot: makeRoot(
      'contoso-root-2026',
      [['C', 'NL'], ['O', 'Contoso'], ['CN', 'Contoso Mesh Root CA 2026']],
      { type: 'ec', curve: 'P-384' },
      new Date(now.getTime() - 2 * DAY),
      new Date(now.getTime() + (10 * 365 - 2) * DAY),
    ),
  };
}

/**
 * aks-prod: mid-canary (asm-1-29 → asm-1-30) on a plug-in CA from Key Vault, mid root
 * rotation: the new root was published next to the old one, but storefront's bundle still
 * holds only the old root. Ingress external and internal; the egress gateway
 * `payments-egress` still runs only on asm-1-29 (it lags the canary).
 */
function buildAksProd(now: Date): ClusterStore {
  const store = aksCluster('aks-prod');
  store.add(
    secretProviderClass('asm-1-29', CONTROL_PLANE_NS, {
      keyVaultName: 'kv-mesh-prod',
      tenantId: '3f6c1a52-8d0e-4b7a-9c21-6e5d4f3a2b10',
      identityClientId: '9a4e2c71-5b3d-4f8e-a1c6-2d7b8e9f0a34',
      rootCertObjectName: 'root-cert',
      certObjectName: 'ca-cert',
      keyObjectName: 'ca-key',
      certChainObjectName: 'cert-chain',
    }),
  );
  addEgressService(store, 'payments-egress', '10.0.201.17');
  addControlPlaneRevision(store, 'asm-1-29', { ingress: ['external', 'internal'], egress: ['payments-egress'] });
  addControlPlaneRevision(store, 'asm-1-30', { ingress: ['external', 'internal'] });
  addIngressService(store, 'external', '10.0.97.12', '20.61.14.7');
  addIngressService(store, 'internal', '10.0.97.13', '10.224.0.250');
  // Mid-canary: payments was relabelled to the canary; only payments-worker was restarted.
  addNamespace(store, 'payments', { 'istio.io/rev': 'asm-1-30' });
  addNamespace(store, 'storefront', { 'istio.io/rev': 'asm-1-29' });
  const { oldRoot, newRoot } = aksProdRoots(now);
  addCaBundles(store, [CONTROL_PLANE_NS, INGRESS_NS, EGRESS_NAMESPACE, 'payments'], [oldRoot, newRoot]);
  addCaBundles(store, ['storefront'], [oldRoot]);
  addDeployment(store, { namespace: 'payments', name: 'payments-api', replicas: 3, image: IMAGE('payments-api'), sidecarRevision: 'asm-1-29', labels: app('payments-api') });
  addDeployment(store, { namespace: 'payments', name: 'payments-worker', replicas: 2, image: IMAGE('payments-worker'), sidecarRevision: 'asm-1-30', labels: app('payments-worker'), createdAt: '2026-11-24T14:30:00Z' });
  addDeployment(store, { namespace: 'storefront', name: 'checkout', replicas: 3, image: IMAGE('checkout'), sidecarRevision: 'asm-1-29', labels: app('checkout') });
  addDeployment(store, { namespace: 'storefront', name: 'cart', replicas: 2, image: IMAGE('cart'), sidecarRevision: 'asm-1-29', labels: app('cart') });
  return store;
}

/**
 * A cluster running upstream Istio (no add-on): two revisions in `istio-system`, the
 * revision tag `prod-stable` on the older one and `default` on the newer one. Its
 * namespaces follow `prod-stable`, so every workload runs 1-26-3's classic sidecars.
 */
function buildIstioLab(now: Date): ClusterStore {
  const store = new ClusterStore('istio-lab');
  addNamespace(store, 'kube-system');
  addNamespace(store, 'default');
  addNamespace(store, UPSTREAM_LAYOUT.controlPlaneNamespace);
  for (const rev of ['1-26-3', '1-27-1']) {
    installControlPlaneRevision(store, rev, { layout: UPSTREAM_LAYOUT, createdAt: '2026-10-02T08:00:00Z' });
  }
  setRevisionTag(store, 'prod-stable', '1-26-3');
  setRevisionTag(store, 'default', '1-27-1');
  addNamespace(store, 'payments', { 'istio.io/rev': 'prod-stable' });
  addNamespace(store, 'storefront', { 'istio.io/rev': 'prod-stable' });
  const root = istiodSelfSignedRoot('istio-lab', new Date(now.getTime() - 60 * DAY));
  addCaBundles(store, [UPSTREAM_LAYOUT.controlPlaneNamespace, 'payments', 'storefront'], [root]);
  const upstream = { sidecarRevision: '1-26-3', controlPlaneNamespace: UPSTREAM_LAYOUT.controlPlaneNamespace, createdAt: '2026-10-02T09:00:00Z' };
  addDeployment(store, { namespace: 'payments', name: 'payments-api', replicas: 2, image: IMAGE('payments-api'), labels: app('payments-api'), ...upstream });
  addDeployment(store, { namespace: 'payments', name: 'payments-worker', replicas: 1, image: IMAGE('payments-worker'), labels: app('payments-worker'), ...upstream });
  addDeployment(store, { namespace: 'storefront', name: 'checkout', replicas: 2, image: IMAGE('checkout'), labels: app('checkout'), ...upstream });
  addDeployment(store, { namespace: 'storefront', name: 'cart', replicas: 2, image: IMAGE('cart'), labels: app('cart'), ...upstream });
  return store;
}

export const DEMO_CLUSTER_NAMES = ['aks-dev', 'aks-prod', 'istio-lab'] as const;

/** The token each demo cluster accepts; app-config.yaml carries the same values. */
export function demoToken(cluster: string): string {
  return `sandbox-token-${cluster}`;
}

export interface DemoFleetOptions {
  /** Time for every cluster's controllers; tests pass a ManualClock. By default each served cluster gets real time. */
  clock?: SandboxClock;
  /** Clock time of one controller step (a new pod from created to Ready), in ms. Default 1000. */
  stepMs?: number;
}

/** Builds a fresh demo fleet (every call returns independent state). */
export function createDemoFleet(options: DemoFleetOptions = {}): Map<string, SandboxCluster> {
  const version = { major: '1', minor: '34', gitVersion: 'v1.34.2' };
  const cluster = (name: string, store: ClusterStore): [string, SandboxCluster] => {
    if (options.clock) {
      const clock = options.clock;
      store.now = () => clock.now();
    }
    return [
      name,
      {
        store,
        token: demoToken(name),
        kubernetesVersion: version,
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.stepMs !== undefined ? { stepMs: options.stepMs } : {}),
      },
    ];
  };
  // Certificates are made at fleet creation, relative to the fleet's clock, so the
  // "expires in 21 days" root stays 21 days from expiry whenever the demo runs.
  const now = options.clock?.now() ?? new Date();
  return new Map<string, SandboxCluster>([
    cluster('aks-dev', buildAksDev(now)),
    cluster('aks-prod', buildAksProd(now)),
    cluster('istio-lab', buildIstioLab(now)),
  ]);
}
