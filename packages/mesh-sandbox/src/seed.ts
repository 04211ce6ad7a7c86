import { createHash } from 'node:crypto';
import { ClusterStore, KubeObject } from './store';
import { resourceTypeOfKind } from './resources';
import { injectSidecar, sidecarProfile } from './istio/injection';

/**
 * Building blocks that put objects into a store the way a cluster's controllers would
 * have left them (Running pods, settled statuses): used by the demo fleet and by the
 * control-plane controller when a revision is installed.
 */

const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A deterministic name fragment in the alphabet Kubernetes uses for generated names. */
export function hash(input: string, length: number): string {
  // Pod names are deterministic so docs, screenshots and tests can name them.
  const digest = createHash('sha256').update(input).digest();
  let out = '';
  for (let i = 0; i < length; i++) out += NAME_ALPHABET[digest[i] % NAME_ALPHABET.length];
  return out;
}

/** The cluster's (imaginary) nodes: AKS VMSS instances, or plain names elsewhere. */
export function nodeNames(store: ClusterStore): string[] {
  if (store.name.startsWith('aks')) {
    return [0, 1, 2].map(i => `aks-nodepool1-${hash(store.name, 8)}-vmss00000${i}`);
  }
  return [0, 1, 2].map(i => `${store.name}-worker-${i}`);
}

/** The pod template hash the Deployment controller labels a template's ReplicaSet and pods with. */
export function podTemplateHash(template: unknown): string {
  return hash(JSON.stringify(sortKeys(template)), 10);
}

function sortKeys(value: any): any {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map(k => [k, sortKeys(value[k])]),
    );
  }
  return value;
}

export function addNamespace(store: ClusterStore, name: string, labels: Record<string, string> = {}) {
  return store.add({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  });
}

export interface WorkloadSpec {
  namespace: string;
  name: string;
  replicas: number;
  image: string;
  /** Revision that injected the running pods; undefined for pods without a sidecar. */
  sidecarRevision?: string;
  /** Extra labels on the workload and its pods (e.g. the Backstage id). */
  labels?: Record<string, string>;
  /** Where the injecting istiod runs; by default the add-on's `aks-istio-system` (`istio-system` for upstream revisions). */
  controlPlaneNamespace?: string;
  createdAt?: string;
  /** Pod-template volumes, and their mounts in the main container (e.g. istiod's `cacerts`). */
  volumes?: any[];
  volumeMounts?: any[];
}

/** A Running pod as the kubelet reports it once every container is up. */
export function runningPodStatus(pod: KubeObject, startedAt: string, podIP: string, hostIP = '10.224.0.4'): any {
  const running = (c: any) => ({ name: c.name, ready: true, restartCount: 0, started: true, image: c.image, imageID: '', state: { running: { startedAt } } });
  const initStatus = (c: any) =>
    c.restartPolicy === 'Always'
      ? running(c)
      : { name: c.name, ready: true, restartCount: 0, started: false, image: c.image, imageID: '', state: { terminated: { exitCode: 0, reason: 'Completed', startedAt, finishedAt: startedAt } } };
  const conditions = ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(type => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: startedAt }));
  return {
    phase: 'Running',
    conditions,
    hostIP,
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: startedAt,
    qosClass: 'BestEffort',
    containerStatuses: (pod.spec?.containers ?? []).map(running),
    ...(pod.spec?.initContainers?.length ? { initContainerStatuses: pod.spec.initContainers.map(initStatus) } : {}),
  };
}

/** A Deployment with its ReplicaSet and Running pods, as the controllers leave them. */
export function addDeployment(store: ClusterStore, w: WorkloadSpec) {
  // One batch: running controllers see the Deployment only with its ReplicaSet and pods.
  return store.batch(() => seedDeployment(store, w));
}

function seedDeployment(store: ClusterStore, w: WorkloadSpec) {
  const labels = { app: w.name, ...w.labels };
  const template = {
    metadata: { labels: { ...labels } },
    spec: {
      containers: [{ name: w.name, image: w.image, ports: [{ containerPort: 8080, protocol: 'TCP' }], ...(w.volumeMounts ? { volumeMounts: w.volumeMounts } : {}) }],
      ...(w.volumes ? { volumes: w.volumes } : {}),
    },
  };
  const templateHash = hash(`${store.name}/${w.namespace}/${w.name}/${w.sidecarRevision ?? 'none'}`, 10);
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
  const rsName = `${w.name}-${templateHash}`;
  const rs = store.add({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: rsName,
      namespace: w.namespace,
      labels: { ...labels, 'pod-template-hash': templateHash },
      annotations: { 'deployment.kubernetes.io/revision': '1' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: w.name, uid: deployment.metadata.uid, controller: true, blockOwnerDeletion: true }],
      creationTimestamp: started,
    },
    // As the Deployment controller does, the ReplicaSet's template carries the hash label,
    // so pods it creates later (scale-up, replacement) carry it too.
    spec: {
      replicas: w.replicas,
      selector: { matchLabels: { app: w.name, 'pod-template-hash': templateHash } },
      template: { ...template, metadata: { labels: { ...labels, 'pod-template-hash': templateHash } } },
    },
    status: { replicas: w.replicas, readyReplicas: w.replicas, availableReplicas: w.replicas, fullyLabeledReplicas: w.replicas, observedGeneration: 1 },
  });
  const nodes = nodeNames(store);
  for (let i = 0; i < w.replicas; i++) {
    const podName = `${rsName}-${hash(`${rsName}/${i}`, 5)}`;
    const pod: any = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: podName,
        namespace: w.namespace,
        labels: { ...labels, 'pod-template-hash': templateHash },
        annotations: {},
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }],
        creationTimestamp: started,
      },
      spec: { ...structuredClone(template.spec), nodeName: nodes[i % nodes.length], serviceAccountName: 'default' },
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
    if (w.sidecarRevision) injectSidecar(pod, sidecarProfile(w.sidecarRevision, w.controlPlaneNamespace));
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
  return { deployment: store.get(resourceTypeOfKind('Deployment'), w.namespace, w.name), replicaSet: rs };
}
