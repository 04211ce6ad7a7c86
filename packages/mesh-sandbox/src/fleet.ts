import { createHash } from 'node:crypto';
import { ClusterStore } from './store';
import { SandboxCluster } from './server';

/**
 * The demo fleet: two AKS clusters with the Istio add-on. Docs and e2e tests rely on
 * these names (see the README's "Demo fleet").
 */

/** Istio version each add-on revision currently runs (patches roll out in place). */
export const REVISION_VERSIONS: Record<string, string> = {
  'asm-1-28': '1.28.4',
  'asm-1-29': '1.29.2',
  'asm-1-30': '1.30.1',
};

const CONTROL_PLANE_NS = 'aks-istio-system';
const INGRESS_NS = 'aks-istio-ingress';
const MCR = 'mcr.microsoft.com/oss/istio';
/** Native sidecars (istio-proxy as an init container) are the default from asm-1-29 on. */
const NATIVE_SIDECAR_FROM_MINOR = 29;

function hash(input: string, length: number): string {
  // Pod names are deterministic so docs, screenshots and tests can name them.
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const digest = createHash('sha256').update(input).digest();
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[digest[i] % alphabet.length];
  return out;
}

function nativeSidecar(revision: string): boolean {
  const m = /^asm-1-(\d+)$/.exec(revision);
  return !!m && Number(m[1]) >= NATIVE_SIDECAR_FROM_MINOR;
}

/** The containers and metadata the revision's injector adds to a pod. */
export function injectSidecar(pod: any, revision: string, controlPlaneNamespace = CONTROL_PLANE_NS) {
  const version = REVISION_VERSIONS[revision] ?? '1.29.2';
  const native = nativeSidecar(revision);
  const proxy = {
    name: 'istio-proxy',
    image: `${MCR}/proxyv2:${version}-distroless`,
    args: ['proxy', 'sidecar', '--domain', '$(POD_NAMESPACE).svc.cluster.local'],
    ports: [{ name: 'http-envoy-prom', containerPort: 15090, protocol: 'TCP' }],
    env: [
      { name: 'CA_ADDR', value: `istiod-${revision}.${controlPlaneNamespace}.svc:15012` },
      { name: 'ISTIO_META_CLUSTER_ID', value: 'Kubernetes' },
    ],
    readinessProbe: { httpGet: { path: '/healthz/ready', port: 15021 } },
    ...(native ? { restartPolicy: 'Always' } : {}),
  };
  const init = { name: 'istio-init', image: `${MCR}/proxyv2:${version}-distroless`, args: ['istio-iptables'] };
  pod.metadata.labels = {
    ...pod.metadata.labels,
    'istio.io/rev': revision,
    'security.istio.io/tlsMode': 'istio',
    'service.istio.io/canonical-name': pod.metadata.labels?.app ?? pod.metadata.name,
    'service.istio.io/canonical-revision': 'latest',
  };
  pod.metadata.annotations = {
    ...pod.metadata.annotations,
    'istio.io/rev': revision,
    'prometheus.io/path': '/stats/prometheus',
    'prometheus.io/port': '15020',
    'prometheus.io/scrape': 'true',
    'sidecar.istio.io/status': JSON.stringify({
      initContainers: native ? ['istio-init', 'istio-proxy'] : ['istio-init'],
      containers: native ? null : ['istio-proxy'],
      volumes: ['workload-socket', 'credential-socket', 'workload-certs', 'istio-envoy', 'istio-data', 'istio-podinfo', 'istio-token', 'istiod-ca-cert'],
      imagePullSecrets: null,
      revision,
    }),
  };
  pod.spec.initContainers = native ? [init, proxy] : [init];
  if (!native) pod.spec.containers = [...pod.spec.containers, proxy];
  const statuses = (cs: any[]) => cs.map(c => ({ name: c.name, ready: true, restartCount: 0, started: true, image: c.image, state: { running: { startedAt: pod.status.startTime } } }));
  pod.status.containerStatuses = statuses(pod.spec.containers);
  pod.status.initContainerStatuses = statuses(pod.spec.initContainers);
}

interface WorkloadSpec {
  namespace: string;
  name: string;
  replicas: number;
  image: string;
  /** Revision that injected the running pods; undefined for pods without a sidecar. */
  sidecarRevision?: string;
  /** Extra labels on the workload and its pods (e.g. the Backstage id). */
  labels?: Record<string, string>;
  controlPlaneNamespace?: string;
  createdAt?: string;
}

/** A Deployment with its ReplicaSet and Running pods, as the controllers leave them. */
export function addDeployment(store: ClusterStore, w: WorkloadSpec) {
  const labels = { app: w.name, ...w.labels };
  const template = {
    metadata: { labels: { ...labels } },
    spec: { containers: [{ name: w.name, image: w.image, ports: [{ containerPort: 8080, protocol: 'TCP' }] }] },
  };
  const podTemplateHash = hash(`${store.name}/${w.namespace}/${w.name}/${w.sidecarRevision ?? 'none'}`, 10);
  const started = w.createdAt ?? '2026-11-20T09:00:00Z';
  const deployment = store.add({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: w.name, namespace: w.namespace, labels, annotations: { 'deployment.kubernetes.io/revision': '1' }, creationTimestamp: started },
    spec: {
      replicas: w.replicas,
      selector: { matchLabels: { app: w.name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template,
    },
    status: {},
  });
  const rsName = `${w.name}-${podTemplateHash}`;
  const rs = store.add({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: rsName,
      namespace: w.namespace,
      labels: { ...labels, 'pod-template-hash': podTemplateHash },
      annotations: { 'deployment.kubernetes.io/revision': '1' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: w.name, uid: deployment.metadata.uid, controller: true, blockOwnerDeletion: true }],
      creationTimestamp: started,
    },
    spec: { replicas: w.replicas, selector: { matchLabels: { app: w.name, 'pod-template-hash': podTemplateHash } }, template },
    status: { replicas: w.replicas, readyReplicas: w.replicas, availableReplicas: w.replicas, fullyLabeledReplicas: w.replicas, observedGeneration: 1 },
  });
  for (let i = 0; i < w.replicas; i++) {
    const podName = `${rsName}-${hash(`${rsName}/${i}`, 5)}`;
    const pod: any = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace: w.namespace,
        labels: { ...labels, 'pod-template-hash': podTemplateHash },
        annotations: {},
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }],
        creationTimestamp: started,
      },
      spec: { ...structuredClone(template.spec), nodeName: `aks-nodepool1-${hash(store.name, 8)}-vmss00000${i % 3}`, serviceAccountName: 'default' },
      status: {
        phase: 'Running',
        conditions: [
          { type: 'Initialized', status: 'True' },
          { type: 'Ready', status: 'True' },
          { type: 'ContainersReady', status: 'True' },
          { type: 'PodScheduled', status: 'True' },
        ],
        podIP: `10.244.${i}.${10 + i}`,
        startTime: started,
        containerStatuses: [],
      },
    };
    pod.status.containerStatuses = [{ name: w.name, ready: true, restartCount: 0, started: true, image: w.image, state: { running: { startedAt: started } } }];
    if (w.sidecarRevision) injectSidecar(pod, w.sidecarRevision, w.controlPlaneNamespace);
    store.add(pod);
  }
  store.patch(
    { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
    w.namespace,
    w.name,
    d => ({
      ...d,
      status: {
        observedGeneration: 1,
        replicas: w.replicas,
        updatedReplicas: w.replicas,
        readyReplicas: w.replicas,
        availableReplicas: w.replicas,
        conditions: [
          { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
          { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` },
        ],
      },
    }),
  );
}

function addNamespace(store: ClusterStore, name: string, labels: Record<string, string> = {}) {
  store.add({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
}

/** What the add-on installs for one revision: istiod, its config, webhooks and gateways. */
export function addControlPlaneRevision(store: ClusterStore, revision: string) {
  const version = REVISION_VERSIONS[revision];
  const managed = { 'kubernetes.azure.com/managedby': 'aks' };
  addDeployment(store, {
    namespace: CONTROL_PLANE_NS,
    name: `istiod-${revision}`,
    replicas: 2,
    image: `${MCR}/pilot:${version}-distroless`,
    labels: { app: 'istiod', istio: 'pilot', 'istio.io/rev': revision, ...managed },
  });
  store.add({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `istiod-${revision}`, namespace: CONTROL_PLANE_NS, labels: { app: 'istiod', 'istio.io/rev': revision, ...managed } },
    spec: { type: 'ClusterIP', selector: { app: 'istiod', 'istio.io/rev': revision }, ports: [{ name: 'grpc-xds', port: 15010 }, { name: 'https-dns', port: 15012 }, { name: 'https-webhook', port: 443, targetPort: 15017 }] },
  });
  store.add({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: `istiod-${revision}`, namespace: CONTROL_PLANE_NS, labels: { app: 'istiod', 'istio.io/rev': revision, ...managed } },
    spec: { minReplicas: 2, maxReplicas: 5, scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: `istiod-${revision}` }, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }] },
  });
  store.add({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `istio-${revision}`, namespace: CONTROL_PLANE_NS, labels: { 'istio.io/rev': revision, ...managed } },
    data: { mesh: `defaultConfig:\n  discoveryAddress: istiod-${revision}.aks-istio-system.svc:15012\n  gatewayTopology:\n    numTrustedProxies: 1\nenablePrometheusMerge: true\nrootNamespace: aks-istio-system\ntrustDomain: cluster.local\n` },
  });
  store.add({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `istio-shared-configmap-${revision}`, namespace: CONTROL_PLANE_NS },
    data: { mesh: 'accessLogFile: /dev/stdout\ndefaultConfig:\n  holdApplicationUntilProxyStarts: true\n' },
  });
  const webhookName = `istio-sidecar-injector-${revision}-${CONTROL_PLANE_NS}`;
  store.add({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: webhookName, labels: { app: 'sidecar-injector', 'istio.io/rev': revision, ...managed } },
    webhooks: [
      {
        name: 'rev.namespace.sidecar-injector.istio.io',
        admissionReviewVersions: ['v1'],
        clientConfig: { service: { name: `istiod-${revision}`, namespace: CONTROL_PLANE_NS, path: '/inject', port: 443 } },
        namespaceSelector: { matchExpressions: [{ key: 'istio.io/rev', operator: 'In', values: [revision] }, { key: 'istio-injection', operator: 'DoesNotExist' }] },
        objectSelector: { matchExpressions: [{ key: 'sidecar.istio.io/inject', operator: 'NotIn', values: ['false'] }] },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: '*' }],
        sideEffects: 'None',
        failurePolicy: 'Fail',
      },
    ],
  });
  store.add({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: `istio-validator-${revision}-${CONTROL_PLANE_NS}`, labels: { app: 'istiod', 'istio.io/rev': revision, ...managed } },
    webhooks: [],
  });
  addDeployment(store, {
    namespace: INGRESS_NS,
    name: `aks-istio-ingressgateway-external-${revision}`,
    replicas: 2,
    image: `${MCR}/proxyv2:${version}-distroless`,
    labels: { app: 'aks-istio-ingressgateway-external', istio: 'aks-istio-ingressgateway-external', 'istio.io/rev': revision, ...managed },
  });
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

export const DEMO_CLUSTER_NAMES = ['aks-dev', 'aks-prod'] as const;

/** The token each demo cluster accepts; app-config.yaml carries the same values. */
export function demoToken(cluster: string): string {
  return `sandbox-token-${cluster}`;
}

/** Builds a fresh demo fleet (every call returns independent state). */
export function createDemoFleet(): Map<string, SandboxCluster> {
  const version = { major: '1', minor: '34', gitVersion: 'v1.34.2' };
  return new Map<string, SandboxCluster>([
    ['aks-dev', { store: buildAksDev(), token: demoToken('aks-dev'), kubernetesVersion: version }],
    ['aks-prod', { store: buildAksProd(), token: demoToken('aks-prod'), kubernetesVersion: version }],
  ]);
}
