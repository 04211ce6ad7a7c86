import { randomUUID } from 'node:crypto';
import { demoToken } from './fleet';
import { mulberry32 } from './faults';
import { injectSidecar, sidecarProfile } from './istio/injection';
import { addSharedMeshConfig, AKS_LAYOUT, installControlPlaneRevision } from './istio/install';
import { makeRoot, setCaRootBundle } from './istio/trust';
import { resourceTypeOfKind } from './resources';
import { addNamespace } from './seed';
import type { SandboxCluster } from './server';
import { ClusterStore, KubeObject } from './store';

/**
 * A large generated fleet of AKS clusters with the Istio add-on, for load and UI tests:
 * namespaces labelled with revisions, Deployments with their ReplicaSet, Running
 * (injected) pods and a Service, the add-on's control planes, a share of drifted pods
 * (sidecar revision ≠ namespace label) and a few clusters in the middle of a canary upgrade.
 *
 * Generation is deterministic for a seed and cheap: pods of one Deployment share their
 * immutable parts (containers, statuses, labels, owner references), and objects go into
 * the store without copies (`ClusterStore.seedTrusted`).
 */
export interface ScaleFleetOptions {
  /** Number of clusters (`aks-scale-01`, ...). Default 20. */
  clusters?: number;
  /** Application namespaces per cluster (besides kube-system, default and the add-on's). Default 200. */
  namespacesPerCluster?: number;
  /** Application pods per cluster (besides the add-on's istiod and gateway pods). Default 2000. */
  podsPerCluster?: number;
  /** Share of application pods whose sidecar revision differs from their namespace's label. Default 0.05. */
  driftRatio?: number;
  /** Every how many clusters one is mid-canary (revisions [asm-1-29, asm-1-30]). Default 5. */
  canaryEvery?: number;
  /** PRNG seed: the same seed gives the same fleet. Default 1. */
  seed?: number;
  /** Cluster name prefix. Default `aks-scale`. */
  namePrefix?: string;
}

export interface ScaleClusterSummary {
  name: string;
  kubernetesVersion: string;
  revisions: string[];
  namespaces: number;
  deployments: number;
  pods: number;
  injectedPods: number;
  driftedPods: number;
}

export interface ScaleFleetSummary {
  clusters: ScaleClusterSummary[];
  totals: { namespaces: number; deployments: number; pods: number; injectedPods: number; driftedPods: number; objects: number };
}

export interface ScaleFleet {
  clusters: Map<string, SandboxCluster>;
  summary: ScaleFleetSummary;
}

const KUBERNETES_VERSIONS = [
  { major: '1', minor: '32', gitVersion: 'v1.32.7' },
  { major: '1', minor: '33', gitVersion: 'v1.33.3' },
  { major: '1', minor: '34', gitVersion: 'v1.34.2' },
];
const TEAMS = ['payments', 'checkout', 'catalog', 'identity', 'search', 'shipping', 'ledger', 'notifications', 'pricing', 'reviews'];
const COMPONENTS = ['api', 'worker', 'web', 'gateway', 'scheduler', 'indexer', 'cache', 'consumer'];
const PODS_PER_NODE = 30;
const CREATED = '2026-11-02T08:00:00Z';
const STARTED = '2026-11-23T06:00:00Z';

const T = {
  deployment: resourceTypeOfKind('Deployment'),
  replicaSet: resourceTypeOfKind('ReplicaSet'),
  pod: resourceTypeOfKind('Pod'),
  service: resourceTypeOfKind('Service'),
  configMap: resourceTypeOfKind('ConfigMap'),
};

const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A deterministic name fragment in Kubernetes' alphabet (FNV-1a: cheaper than the demo fleet's sha256 at this scale). */
function hash(input: string, length: number): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < input.length; i++) h = Math.imul(h ^ input.charCodeAt(i), 0x01000193) >>> 0;
  let out = '';
  for (let i = 0; i < length; i++) {
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    out += NAME_ALPHABET[h % NAME_ALPHABET.length];
  }
  return out;
}

const CA_LABELS = Object.freeze({ 'istio.io/config': 'true' });
const POD_CONDITIONS = ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(type => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: STARTED }));
const OWNER = { apiVersion: 'apps/v1', controller: true, blockOwnerDeletion: true };

/** The revision a cluster on `stable` was on before (what not-restarted pods still run). */
const PREVIOUS: Record<string, string> = { 'asm-1-30': 'asm-1-29', 'asm-1-29': 'asm-1-28', 'asm-1-28': 'asm-1-28' };

export function createScaleFleet(options: ScaleFleetOptions = {}): ScaleFleet {
  const count = options.clusters ?? 20;
  const prefix = options.namePrefix ?? 'aks-scale';
  const clusters = new Map<string, SandboxCluster>();
  const summaries: ScaleClusterSummary[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${prefix}-${String(i + 1).padStart(2, '0')}`;
    const { cluster, summary } = buildCluster(name, i, options);
    clusters.set(name, cluster);
    summaries.push(summary);
  }
  const sum = (k: keyof Omit<ScaleClusterSummary, 'name' | 'kubernetesVersion' | 'revisions'>) => summaries.reduce((n, s) => n + s[k], 0);
  let objects = 0;
  for (const c of clusters.values()) objects += countObjects(c.store);
  return {
    clusters,
    summary: {
      clusters: summaries,
      totals: {
        namespaces: sum('namespaces'),
        deployments: sum('deployments'),
        pods: sum('pods'),
        injectedPods: sum('injectedPods'),
        driftedPods: sum('driftedPods'),
        objects,
      },
    },
  };
}

function countObjects(store: ClusterStore): number {
  let n = 0;
  for (const kind of ['Namespace', 'Deployment', 'ReplicaSet', 'Pod', 'Service', 'ConfigMap', 'HorizontalPodAutoscaler', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
    for (const _ of store.scan(resourceTypeOfKind(kind))) n++;
  }
  return n;
}

function buildCluster(name: string, index: number, options: ScaleFleetOptions): { cluster: SandboxCluster; summary: ScaleClusterSummary } {
  const namespaces = options.namespacesPerCluster ?? 200;
  const pods = options.podsPerCluster ?? 2000;
  const driftRatio = options.driftRatio ?? 0.05;
  const canaryEvery = options.canaryEvery ?? 5;
  const random = mulberry32(((options.seed ?? 1) * 7919 + index * 104729) >>> 0);
  const kubernetesVersion = KUBERNETES_VERSIONS[index % KUBERNETES_VERSIONS.length];
  const canary = canaryEvery > 0 && index % canaryEvery === canaryEvery - 1;
  // Most clusters run asm-1-29; every third (not mid-canary) finished the upgrade to asm-1-30 already.
  const stable = !canary && index % 3 === 2 ? 'asm-1-30' : 'asm-1-29';
  const revisions = canary ? ['asm-1-29', 'asm-1-30'] : [stable];

  const store = new ClusterStore(name);
  addNamespace(store, 'kube-system');
  addNamespace(store, 'default');
  addNamespace(store, AKS_LAYOUT.controlPlaneNamespace, { 'kubernetes.azure.com/managedby': 'aks' });
  addNamespace(store, AKS_LAYOUT.ingressNamespace!, { 'kubernetes.azure.com/managedby': 'aks' });
  for (const rev of revisions) {
    installControlPlaneRevision(store, rev, { layout: AKS_LAYOUT, createdAt: CREATED });
    addSharedMeshConfig(store, rev, AKS_LAYOUT);
  }
  addIngressService(store, `20.61.${100 + index}.${10 + (index % 200)}`);
  // istiod's self-signed root, published in the control-plane and every meshed namespace
  // (one frozen data object shared by the ConfigMaps, as for the rest of the fleet's bulk).
  const root = makeRoot('istiod-scale-fleet', [['O', 'cluster.local']], { type: 'rsa', bits: 2048 }, new Date(Date.parse(CREATED)), new Date(Date.parse(CREATED) + 3650 * 86_400_000));
  setCaRootBundle(store, AKS_LAYOUT.controlPlaneNamespace, [root]);
  const caData = Object.freeze({ 'root-cert.pem': root.pem });

  // The namespaces and how many pods each runs (exactly `pods` in all).
  const nodes = Array.from({ length: Math.max(1, Math.ceil(pods / PODS_PER_NODE)) }, (_, n) => `aks-nodepool1-${hash(name, 8)}-vmss${String(n).padStart(6, '0')}`);
  const plans: Array<{ ns: string; label?: string; injection?: boolean; pods: number }> = [];
  for (let n = 0; n < namespaces; n++) {
    const team = TEAMS[n % TEAMS.length];
    const ns = `${team}-${String(Math.floor(n / TEAMS.length) + 1).padStart(3, '0')}`;
    const r = random();
    // 80% in the mesh, 5% with the label the add-on ignores (istio-injection=enabled), 15% outside.
    let label: string | undefined;
    if (r < 0.8) label = canary && random() < 0.4 ? 'asm-1-30' : stable;
    const injection = r >= 0.8 && r < 0.85;
    plans.push({ ns, label, injection, pods: Math.floor(pods / namespaces) + (n < pods % namespaces ? 1 : 0) });
  }

  // Which Deployments run drifted pods: chosen in meshed namespaces until the target is met.
  const meshedPods = plans.filter(p => p.label).reduce((s, p) => s + p.pods, 0);
  const driftTarget = Math.round(driftRatio * pods);
  const driftChance = meshedPods > 0 ? Math.min(1, (1.5 * driftTarget) / meshedPods) : 0;
  let drifted = 0;
  let injected = 0;
  let deployments = 0;
  let podIndex = 0;
  for (const plan of plans) {
    const labels: Record<string, string> = { team: plan.ns.replace(/-\d+$/, '') };
    if (plan.label) labels['istio.io/rev'] = plan.label;
    if (plan.injection) labels['istio-injection'] = 'enabled';
    store.seedTrusted(resourceTypeOfKind('Namespace'), {
      metadata: { name: plan.ns, labels: { 'kubernetes.io/metadata.name': plan.ns, ...labels }, creationTimestamp: CREATED },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
    if (plan.label) {
      store.seedTrusted(T.configMap, {
        metadata: { name: 'istio-ca-root-cert', namespace: plan.ns, labels: CA_LABELS, creationTimestamp: CREATED },
        data: caData,
      });
    }
    let left = plan.pods;
    let d = 0;
    while (left > 0) {
      const replicas = Math.min(left, 1 + Math.floor(random() * 4));
      left -= replicas;
      const workload = `${plan.ns.replace(/-\d+$/, '')}-${COMPONENTS[d % COMPONENTS.length]}${d >= COMPONENTS.length ? `-${Math.floor(d / COMPONENTS.length) + 1}` : ''}`;
      d++;
      let sidecar: string | undefined;
      if (plan.label) {
        sidecar = plan.label;
        if (drifted < driftTarget && random() < driftChance) {
          // Not restarted since the namespace was relabelled (canary) or since the last upgrade.
          sidecar = plan.label === 'asm-1-30' && canary ? 'asm-1-29' : PREVIOUS[plan.label];
          if (sidecar !== plan.label) drifted += replicas;
        }
      }
      if (sidecar) injected += replicas;
      seedWorkload(store, { namespace: plan.ns, name: workload, replicas, sidecar, nodes, firstPod: podIndex });
      podIndex += replicas;
      deployments++;
    }
  }

  return {
    cluster: { store, token: demoToken(name), kubernetesVersion },
    summary: {
      name,
      kubernetesVersion: kubernetesVersion.gitVersion.slice(1),
      revisions,
      namespaces,
      deployments,
      pods,
      injectedPods: injected,
      driftedPods: drifted,
    },
  };
}

function addIngressService(store: ClusterStore, ip: string) {
  store.add({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'aks-istio-ingressgateway-external', namespace: AKS_LAYOUT.ingressNamespace, labels: { app: 'aks-istio-ingressgateway-external', 'kubernetes.azure.com/managedby': 'aks' } },
    spec: {
      type: 'LoadBalancer',
      selector: { app: 'aks-istio-ingressgateway-external' },
      ports: [{ name: 'status-port', port: 15021, protocol: 'TCP' }, { name: 'http2', port: 80, protocol: 'TCP', targetPort: 8080 }, { name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 }],
    },
    status: { loadBalancer: { ingress: [{ ip }] } },
  });
}

/**
 * A Deployment with its ReplicaSet, Service and Running pods, seeded without copies:
 * the pods share one set of containers, statuses, labels and annotations.
 */
function seedWorkload(store: ClusterStore, w: { namespace: string; name: string; replicas: number; sidecar?: string; nodes: string[]; firstPod: number }) {
  const { namespace, name, replicas } = w;
  const image = `example.com/scale/${name.replace(/-\d+$/, '')}:2.${(name.length % 9) + 1}.0`;
  const labels = { app: name, 'backstage.io/kubernetes-id': name };
  const templateHash = hash(`${store.name}/${namespace}/${name}/${w.sidecar ?? 'none'}`, 10);
  const podLabels = { ...labels, 'pod-template-hash': templateHash };
  const container = { name, image, ports: [{ containerPort: 8080, protocol: 'TCP' }], resources: { requests: { cpu: '50m', memory: '64Mi' } } };
  const template = { metadata: { labels }, spec: { containers: [container] } };
  const deploymentUid = randomUUID();
  const rsName = `${name}-${templateHash}`;
  const rsUid = randomUUID();

  store.seedTrusted(T.deployment, {
    metadata: { name, namespace, uid: deploymentUid, labels, annotations: { 'deployment.kubernetes.io/revision': '1' }, creationTimestamp: CREATED },
    spec: { replicas, selector: { matchLabels: { app: name } }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } }, template },
    status: {
      observedGeneration: 1,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
      conditions: [
        { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
        { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` },
      ],
    },
  });
  store.seedTrusted(T.replicaSet, {
    metadata: {
      name: rsName,
      namespace,
      uid: rsUid,
      labels: podLabels,
      annotations: { 'deployment.kubernetes.io/revision': '1' },
      ownerReferences: [{ ...OWNER, kind: 'Deployment', name, uid: deploymentUid }],
      creationTimestamp: CREATED,
    },
    spec: { replicas, selector: { matchLabels: { app: name, 'pod-template-hash': templateHash } }, template },
    status: { replicas, readyReplicas: replicas, availableReplicas: replicas, fullyLabeledReplicas: replicas, observedGeneration: 1 },
  });
  store.seedTrusted(T.service, {
    metadata: { name, namespace, labels, creationTimestamp: CREATED },
    spec: { type: 'ClusterIP', selector: { app: name }, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], clusterIP: serviceIp(w.firstPod) },
    status: { loadBalancer: {} },
  });

  // One prototype pod, injected as the revision's injector would; replicas share its parts.
  const proto: KubeObject = {
    metadata: { labels: podLabels, annotations: {} },
    spec: { containers: [container], serviceAccountName: 'default', restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' },
    status: { phase: 'Running', conditions: POD_CONDITIONS, startTime: STARTED, qosClass: 'Burstable', containerStatuses: [] },
  };
  proto.status.containerStatuses = [{ name, ready: true, restartCount: 0, started: true, image, state: { running: { startedAt: STARTED } } }];
  if (w.sidecar) injectSidecar(proto, sidecarProfile(w.sidecar));
  const ownerReferences = [{ ...OWNER, kind: 'ReplicaSet', name: rsName, uid: rsUid }];
  for (let i = 0; i < replicas; i++) {
    const n = w.firstPod + i;
    const podIP = `10.244.${(n >> 8) & 255}.${n & 255}`;
    store.seedTrusted(T.pod, {
      metadata: {
        name: `${rsName}-${hash(`${rsName}/${i}`, 5)}`,
        namespace,
        labels: proto.metadata.labels,
        annotations: proto.metadata.annotations,
        ownerReferences,
        creationTimestamp: STARTED,
      },
      spec: { ...proto.spec, nodeName: w.nodes[n % w.nodes.length] },
      status: { ...proto.status, hostIP: `10.224.0.${4 + (n % w.nodes.length)}`, podIP, podIPs: [{ ip: podIP }] },
    });
  }
}

/** A ClusterIP in the default service CIDR (10.0.0.0/16), past the cluster's own (10.0.0.1, 10.0.0.10). */
function serviceIp(n: number): string {
  const i = n + 16;
  return `10.0.${(i >> 8) & 255}.${i & 255}`;
}
