import { ClusterStore } from './store';
import { SandboxCluster } from './server';
import { SandboxClock } from './clock';
import { addDeployment, addNamespace } from './seed';
import { addSharedMeshConfig, AKS_LAYOUT, installControlPlaneRevision, setRevisionTag, UPSTREAM_LAYOUT } from './istio/install';

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
export function addControlPlaneRevision(store: ClusterStore, revision: string) {
  installControlPlaneRevision(store, revision, { layout: AKS_LAYOUT });
  addSharedMeshConfig(store, revision, AKS_LAYOUT);
}

function addIngressService(store: ClusterStore, ip: string) {
  store.add({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'aks-istio-ingressgateway-external', namespace: INGRESS_NS, labels: { app: 'aks-istio-ingressgateway-external', 'kubernetes.azure.com/managedby': 'aks' } },
    spec: {
      type: 'LoadBalancer',
      selector: { app: 'aks-istio-ingressgateway-external' },
      ports: [{ name: 'status-port', port: 15021, protocol: 'TCP' }, { name: 'http2', port: 80, protocol: 'TCP', targetPort: 8080 }, { name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 }],
    },
    status: { loadBalancer: { ingress: [{ ip }] } },
  });
}

function addCaBundle(store: ClusterStore, namespace: string) {
  store.add({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'istio-ca-root-cert', namespace, labels: { 'istio.io/config': 'true' } }, data: { 'root-cert.pem': '' } });
}

const app = (id: string) => ({ 'backstage.io/kubernetes-id': id });
const IMAGE = (name: string) => `example.com/mesh-demo/${name}:1.8.0`;

function aksCluster(name: string, revisions: string[]): ClusterStore {
  const store = new ClusterStore(name);
  addNamespace(store, 'kube-system');
  addNamespace(store, 'default');
  addNamespace(store, CONTROL_PLANE_NS, { 'kubernetes.azure.com/managedby': 'aks' });
  addNamespace(store, INGRESS_NS, { 'kubernetes.azure.com/managedby': 'aks' });
  for (const rev of revisions) addControlPlaneRevision(store, rev);
  addIngressService(store, name === 'aks-prod' ? '20.61.14.7' : '20.61.9.3');
  return store;
}

function buildAksDev(): ClusterStore {
  const store = aksCluster('aks-dev', ['asm-1-29']);
  addNamespace(store, 'payments', { 'istio.io/rev': 'asm-1-29' });
  addNamespace(store, 'storefront', { 'istio.io/rev': 'asm-1-29' });
  addNamespace(store, 'legacy', { 'istio-injection': 'enabled' });
  addNamespace(store, 'tools');
  ['payments', 'storefront', 'legacy'].forEach(ns => addCaBundle(store, ns));
  addDeployment(store, { namespace: 'payments', name: 'payments-api', replicas: 2, image: IMAGE('payments-api'), sidecarRevision: 'asm-1-29', labels: app('payments-api') });
  addDeployment(store, { namespace: 'payments', name: 'payments-worker', replicas: 1, image: IMAGE('payments-worker'), sidecarRevision: 'asm-1-29', labels: app('payments-worker') });
  addDeployment(store, { namespace: 'storefront', name: 'checkout', replicas: 2, image: IMAGE('checkout'), sidecarRevision: 'asm-1-29', labels: app('checkout') });
  addDeployment(store, { namespace: 'storefront', name: 'cart', replicas: 2, image: IMAGE('cart'), sidecarRevision: 'asm-1-29', labels: app('cart') });
  // The add-on ignores istio-injection=enabled, so these pods run without a sidecar.
  addDeployment(store, { namespace: 'legacy', name: 'legacy-billing', replicas: 1, image: IMAGE('legacy-billing'), labels: app('legacy-billing') });
  addDeployment(store, { namespace: 'tools', name: 'ops-toolbox', replicas: 1, image: IMAGE('ops-toolbox'), labels: app('ops-toolbox') });
  return store;
}

function buildAksProd(): ClusterStore {
  const store = aksCluster('aks-prod', ['asm-1-29', 'asm-1-30']);
  // Mid-canary: payments was relabelled to the canary; only payments-worker was restarted.
  addNamespace(store, 'payments', { 'istio.io/rev': 'asm-1-30' });
  addNamespace(store, 'storefront', { 'istio.io/rev': 'asm-1-29' });
  ['payments', 'storefront'].forEach(ns => addCaBundle(store, ns));
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
function buildIstioLab(): ClusterStore {
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
  ['payments', 'storefront'].forEach(ns => addCaBundle(store, ns));
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
  return new Map<string, SandboxCluster>([
    cluster('aks-dev', buildAksDev()),
    cluster('aks-prod', buildAksProd()),
    cluster('istio-lab', buildIstioLab()),
  ]);
}
