import { ClockTimer, isoSeconds, SandboxClock } from '../clock';
import { admitPod } from '../istio/injection';
import { sidecarConnected, syncSidecarConnectivity, withSidecarReadiness } from '../istio/connectivity';
import { canonicalJson } from '../json';
import { matchesLabelSelectorObject } from '../labelSelector';
import { resourceTypeOfKind } from '../resources';
import { hash, nodeNames, podTemplateHash, runningPodStatus } from '../seed';
import { ClusterStore, KubeObject, StoreEvent } from '../store';

/**
 * The controllers of one sandbox cluster: what kube-controller-manager, the scheduler and
 * the kubelets do to workloads, reduced to what clients can see.
 *
 * - Deployment: one ReplicaSet per pod template (named `<deployment>-<pod-template-hash>`),
 *   rolling updates within `maxSurge`/`maxUnavailable` (defaults 25%/25%) or Recreate,
 *   the `deployment.kubernetes.io/revision` annotations, `revisionHistoryLimit`, and the
 *   status (observedGeneration, replicas, updatedReplicas, readyReplicas,
 *   availableReplicas, unavailableReplicas, Available/Progressing conditions).
 * - ReplicaSet: creates and deletes pods to match `spec.replicas`; new pods go through
 *   mutating admission (sidecar injection by the installed webhooks).
 * - StatefulSet: ordinal pods `<name>-<i>`, OrderedReady or Parallel, rolling updates
 *   from the highest ordinal down (respecting `partition`), `OnDelete`.
 * - DaemonSet: one pod per node, rolling updates one node at a time (`maxUnavailable`).
 * - Scheduler + kubelet: a new pod is bound to a node at once and is Running and Ready one
 *   step (`stepMs` of clock time) later; a sidecar whose istiod is gone starts unready.
 * - Garbage collector: deleting an owner deletes its dependents (ReplicaSets, pods).
 * - Sidecar connectivity: when an istiod Deployment comes or goes, sidecars that point at it
 *   turn ready or unready (see ../istio/connectivity.ts).
 *
 * Everything reacts synchronously to store events (in resourceVersion order, never
 * re-entrantly) except pod start-up, which waits on the cluster's clock: with a
 * ManualClock a test decides when pods become ready; with the RealClock timers are unref'd.
 * Simplifications: no minReadySeconds, progress deadlines, graceful termination (pods go
 * at once), proportional scaling mid-rollout, or node pressure.
 */

const T = {
  Pod: resourceTypeOfKind('Pod'),
  ReplicaSet: resourceTypeOfKind('ReplicaSet'),
  Deployment: resourceTypeOfKind('Deployment'),
  StatefulSet: resourceTypeOfKind('StatefulSet'),
  DaemonSet: resourceTypeOfKind('DaemonSet'),
};

const OWNER_KINDS = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);

export interface ControllerOptions {
  clock: SandboxClock;
  /** Clock time from a pod's creation to Running and Ready. */
  stepMs: number;
}

type Key = string;

const controllerOf = (o: KubeObject) => (o.metadata.ownerReferences ?? []).find((r: any) => r.controller);
const ownedBy = (o: KubeObject, uid: string) => (o.metadata.ownerReferences ?? []).some((r: any) => r.uid === uid && r.controller);
const isReady = (pod: KubeObject) =>
  pod.status?.phase === 'Running' && (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
const revisionOf = (o: KubeObject) => Number(o.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0);

/** Resolves an int-or-percent of `total` (maxSurge rounds up, maxUnavailable down). */
function resolveIntOrPercent(value: unknown, fallback: string, total: number, roundUp: boolean): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(String(v));
  if (m) {
    const exact = (Number(m[1]) * total) / 100;
    return roundUp ? Math.ceil(exact) : Math.floor(exact);
  }
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

/** A template compared as the Deployment controller does: ignoring the pod-template-hash label. */
function templateKey(template: any): string {
  const copy = structuredClone(template ?? {});
  if (copy.metadata?.labels) delete copy.metadata.labels['pod-template-hash'];
  if (copy.metadata?.labels && Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
  return canonicalJson(copy);
}

/** Drops zero counts, as Go's `omitempty` does on the status fields that have it. */
function omitZero<T extends Record<string, any>>(status: T, keep: string[] = []): T {
  return Object.fromEntries(Object.entries(status).filter(([k, v]) => keep.includes(k) || (v !== 0 && v !== undefined))) as T;
}

/** Deployment condition bookkeeping as `deploymentutil.SetDeploymentCondition` does it. */
function setCondition(conditions: any[], next: any, force = false): any[] {
  const current = conditions.find(c => c.type === next.type);
  if (current && !force && current.status === next.status && current.reason === next.reason) return conditions;
  const condition = { ...next };
  if (current && current.status === next.status && current.lastTransitionTime) condition.lastTransitionTime = current.lastTransitionTime;
  return [...conditions.filter(c => c.type !== next.type), condition];
}

export class WorkloadControllers {
  private readonly queue = new Set<Key>();
  private draining = false;
  private readonly podTimers = new Map<Key, ClockTimer>();
  private readonly unsubscribe: () => void;
  private podSeq = 0;
  private ipSeq = 0;
  private stopped = false;

  constructor(
    private readonly store: ClusterStore,
    private readonly options: ControllerOptions,
  ) {
    this.unsubscribe = store.subscribe(e => this.onEvent(e));
    // What changed before the controllers started (seeded objects are already settled).
    for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet'] as const) {
      for (const o of store.scan(T[kind])) {
        if (o.status?.observedGeneration !== o.metadata.generation) this.queue.add(`${kind}/${o.metadata.namespace}/${o.metadata.name}`);
      }
    }
    for (const p of store.scan(T.Pod)) if (p.status?.phase === 'Pending' || !p.status?.phase) this.schedulePodStart(p);
    this.drain();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    for (const timer of this.podTimers.values()) this.options.clock.clearTimeout(timer);
    this.podTimers.clear();
  }

  private now(): Date {
    return this.options.clock.now();
  }

  private onEvent(e: StoreEvent): void {
    if (this.stopped) return;
    const o = e.object;
    const ns = o.metadata.namespace;
    const kind = e.resource.kind;
    if (e.type === 'DELETED' && OWNER_KINDS.has(kind)) this.queue.add(`gc/${ns}/${o.metadata.uid}`);
    switch (kind) {
      case 'Deployment':
      case 'StatefulSet':
      case 'DaemonSet':
        if (e.type !== 'DELETED') this.queue.add(`${kind}/${ns}/${o.metadata.name}`);
        if (kind === 'Deployment' && e.type !== 'MODIFIED' && /^istiod(-|$)/.test(o.metadata.name)) this.queue.add('sidecars');
        break;
      case 'ReplicaSet': {
        if (e.type !== 'DELETED') this.queue.add(`ReplicaSet/${ns}/${o.metadata.name}`);
        const owner = controllerOf(o);
        if (owner?.kind === 'Deployment') this.queue.add(`Deployment/${ns}/${owner.name}`);
        break;
      }
      case 'Pod': {
        const owner = controllerOf(o);
        if (owner && ['ReplicaSet', 'StatefulSet', 'DaemonSet'].includes(owner.kind)) this.queue.add(`${owner.kind}/${ns}/${owner.name}`);
        if (e.type === 'ADDED' && (o.status?.phase === 'Pending' || !o.status?.phase)) this.schedulePodStart(o);
        if (e.type === 'DELETED') {
          const key = `${ns}/${o.metadata.name}`;
          const timer = this.podTimers.get(key);
          if (timer) this.options.clock.clearTimeout(timer);
          this.podTimers.delete(key);
        }
        break;
      }
      case 'MutatingWebhookConfiguration':
      case 'Service':
        // Pods that admission refused may be creatable now (a tag was fixed, an istiod came back).
        if (e.type !== 'DELETED') {
          for (const rs of this.store.scan(T.ReplicaSet)) {
            if ((rs.status?.conditions ?? []).some((c: any) => c.type === 'ReplicaFailure')) this.queue.add(`ReplicaSet/${rs.metadata.namespace}/${rs.metadata.name}`);
          }
        }
        break;
      default:
    }
    this.drain();
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.size > 0 && !this.stopped) {
        const key = this.queue.values().next().value!;
        this.queue.delete(key);
        try {
          this.sync(key);
        } catch {
          // A malformed object (the sandbox validates less than kube-apiserver) must not stop the others.
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private sync(key: Key): void {
    if (key === 'sidecars') {
      syncSidecarConnectivity(this.store, this.now());
      return;
    }
    const [kind, ns, name] = key.split('/');
    switch (kind) {
      case 'gc':
        this.collectGarbage(ns, name);
        return;
      case 'Deployment':
        this.syncDeployment(ns, name);
        return;
      case 'ReplicaSet':
        this.syncReplicaSet(ns, name);
        return;
      case 'StatefulSet':
        this.syncStatefulSet(ns, name);
        return;
      case 'DaemonSet':
        this.syncDaemonSet(ns, name);
        return;
      default:
    }
  }

  // ---- garbage collector -------------------------------------------------------------

  private collectGarbage(namespace: string, uid: string): void {
    for (const type of [T.ReplicaSet, T.Pod]) {
      const dependents = [...this.store.scan(type, namespace)].filter(o => (o.metadata.ownerReferences ?? []).some((r: any) => r.uid === uid));
      for (const d of dependents) {
        if (this.store.peek(type, namespace, d.metadata.name)) this.store.delete(type, namespace, d.metadata.name);
      }
    }
  }

  // ---- scheduler and kubelet ---------------------------------------------------------

  private schedulePodStart(pod: KubeObject): void {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    if (this.podTimers.has(key)) return;
    const timer = this.options.clock.setTimeout(() => {
      this.podTimers.delete(key);
      if (this.stopped) return;
      this.startPod(pod.metadata.namespace, pod.metadata.name);
    }, this.options.stepMs);
    this.podTimers.set(key, timer);
  }

  private startPod(namespace: string, name: string): void {
    const current = this.store.peek(T.Pod, namespace, name);
    if (!current || (current.status?.phase && current.status.phase !== 'Pending')) return;
    const n = this.ipSeq++;
    const nodes = nodeNames(this.store);
    const nodeName = current.spec?.nodeName ?? nodes[n % nodes.length];
    const started = { ...current, spec: { ...current.spec, nodeName } };
    let status = runningPodStatus(started, isoSeconds(this.now()), `10.244.${(n >> 8) % 256}.${(n % 250) + 2}`, `10.224.0.${4 + (nodes.indexOf(nodeName) + nodes.length) % nodes.length}`);
    status.qosClass = current.status?.qosClass ?? status.qosClass;
    const scheduled = (current.status?.conditions ?? []).find((c: any) => c.type === 'PodScheduled');
    if (scheduled) status.conditions = status.conditions.map((c: any) => (c.type === 'PodScheduled' ? scheduled : c));
    const connected = sidecarConnected(this.store, started);
    if (connected === false) status = withSidecarReadiness({ ...started, status }, false, this.now());
    this.store.patch(T.Pod, namespace, name, p => ({ ...p, spec: { ...p.spec, nodeName }, status }));
  }

  // ---- ReplicaSet --------------------------------------------------------------------

  private podsOf(namespace: string, uid: string): KubeObject[] {
    return [...this.store.scan(T.Pod, namespace)].filter(p => ownedBy(p, uid) && !p.metadata.deletionTimestamp);
  }

  /** A pod from a template, through mutating admission, bound to a node and starting. */
  private createPod(owner: KubeObject, template: any, extra: { name?: string; labels?: Record<string, string>; nodeName?: string; spec?: any }): void {
    const ns = owner.metadata.namespace;
    const now = isoSeconds(this.now());
    const nodes = nodeNames(this.store);
    const nodeName = extra.nodeName ?? nodes[this.podSeq % nodes.length];
    let name = extra.name;
    while (!name || (!extra.name && this.store.peek(T.Pod, ns, name))) {
      name = `${owner.metadata.name}-${hash(`${owner.metadata.name}#${this.podSeq++}`, 5)}`;
    }
    const annotations = template.metadata?.annotations;
    const created: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        ...(extra.name ? {} : { generateName: `${owner.metadata.name}-` }),
        namespace: ns,
        labels: { ...template.metadata?.labels, ...extra.labels },
        ...(annotations && Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
        ownerReferences: [{ apiVersion: 'apps/v1', kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true }],
        creationTimestamp: now,
      },
      spec: { ...structuredClone(template.spec), ...extra.spec },
    };
    const pod = admitPod(this.store, ns, created);
    pod.spec.nodeName = nodeName;
    pod.status = {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now }],
      qosClass: 'BestEffort',
      containerStatuses: (pod.spec.containers ?? []).map((c: any) => ({
        name: c.name,
        ready: false,
        restartCount: 0,
        started: false,
        image: c.image,
        imageID: '',
        state: { waiting: { reason: 'ContainerCreating' } },
      })),
    };
    this.store.create(T.Pod, ns, pod, 'system');
  }

  private syncReplicaSet(namespace: string, name: string): void {
    const rs = this.store.peek(T.ReplicaSet, namespace, name);
    if (!rs?.spec?.template) return;
    const desired = rs.spec.replicas ?? 1;
    let pods = this.podsOf(namespace, rs.metadata.uid);
    let failure: string | undefined;
    if (pods.length < desired) {
      try {
        for (let i = pods.length; i < desired; i++) this.createPod(rs, rs.spec.template, {});
      } catch (e) {
        // E.g. an injector webhook whose istiod is gone: the pods cannot be created.
        failure = `${(e as Error).message}`;
      }
    } else if (pods.length > desired) {
      // Who goes first, as the ReplicaSet controller ranks them: unscheduled, pending, not ready, newest.
      const rank = (p: KubeObject) => [p.spec?.nodeName ? 1 : 0, p.status?.phase === 'Running' ? 1 : 0, isReady(p) ? 1 : 0];
      const victims = [...pods]
        .sort((a, b) => {
          const ra = rank(a);
          const rb = rank(b);
          for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i] - rb[i];
          return String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)) || (a.metadata.name < b.metadata.name ? 1 : -1);
        })
        .slice(0, pods.length - desired);
      for (const v of victims) this.store.delete(T.Pod, namespace, v.metadata.name);
    }
    pods = this.podsOf(namespace, rs.metadata.uid);
    const ready = pods.filter(isReady).length;
    const labelled = pods.filter(p => matchesLabelSelectorObject({ matchLabels: rs.spec.template.metadata?.labels ?? {} }, p.metadata.labels)).length;
    const status: any = omitZero(
      {
        replicas: pods.length,
        fullyLabeledReplicas: labelled,
        readyReplicas: ready,
        availableReplicas: ready,
        observedGeneration: rs.metadata.generation,
      },
      ['replicas'],
    );
    const previousFailure = (rs.status?.conditions ?? []).find((c: any) => c.type === 'ReplicaFailure');
    if (failure) {
      status.conditions = [
        previousFailure?.message === failure
          ? previousFailure
          : { type: 'ReplicaFailure', status: 'True', lastTransitionTime: isoSeconds(this.now()), reason: 'FailedCreate', message: failure },
      ];
    }
    this.writeStatus(T.ReplicaSet, rs, status);
  }

  private writeStatus(type: typeof T.Pod, obj: KubeObject, status: any): void {
    if (canonicalJson(status) === canonicalJson(obj.status ?? {})) return;
    this.store.patch(type, obj.metadata.namespace, obj.metadata.name, o => ({ ...o, status }));
  }

  // ---- Deployment --------------------------------------------------------------------

  private scaleReplicaSet(rs: KubeObject, replicas: number, deployment: KubeObject, maxSurge: number): KubeObject {
    const desired = deployment.spec.replicas ?? 1;
    return this.store.patch(T.ReplicaSet, rs.metadata.namespace, rs.metadata.name, r => ({
      ...r,
      metadata: {
        ...r.metadata,
        annotations: {
          ...r.metadata.annotations,
          'deployment.kubernetes.io/desired-replicas': String(desired),
          'deployment.kubernetes.io/max-replicas': String(desired + maxSurge),
        },
      },
      spec: { ...r.spec, replicas },
    }));
  }

  private syncDeployment(namespace: string, name: string): void {
    const d = this.store.peek(T.Deployment, namespace, name);
    if (!d?.spec?.template || !d.spec.selector) return;
    const replicas = d.spec.replicas ?? 1;
    const strategy = d.spec.strategy?.type ?? 'RollingUpdate';
    const rolling = d.spec.strategy?.rollingUpdate ?? {};
    const maxSurge = strategy === 'RollingUpdate' ? resolveIntOrPercent(rolling.maxSurge, '25%', replicas, true) : 0;
    let maxUnavailable = strategy === 'RollingUpdate' ? Math.min(resolveIntOrPercent(rolling.maxUnavailable, '25%', replicas, false), replicas) : 0;
    if (strategy === 'RollingUpdate' && maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    const byAge = (a: KubeObject, b: KubeObject) =>
      String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)) || (a.metadata.name < b.metadata.name ? -1 : 1);
    const owned = () => [...this.store.scan(T.ReplicaSet, namespace)].filter(rs => ownedBy(rs, d.metadata.uid)).sort(byAge);

    let all = owned();
    const wanted = templateKey(d.spec.template);
    let newRS = all.find(rs => templateKey(rs.spec?.template) === wanted);
    const maxRevision = Math.max(0, ...all.map(revisionOf));
    let conditions: any[] = structuredClone(d.status?.conditions ?? []);
    const now = isoSeconds(this.now());
    const condition = (type: string, status: string, reason: string, message: string) => ({ type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message });

    if (!newRS && !d.spec.paused) {
      let collision = d.status?.collisionCount ?? 0;
      let templateHash = podTemplateHash({ template: d.spec.template, collision });
      while (this.store.peek(T.ReplicaSet, namespace, `${name}-${templateHash}`)) {
        collision++;
        templateHash = podTemplateHash({ template: d.spec.template, collision });
      }
      const template = structuredClone(d.spec.template);
      template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, 'pod-template-hash': templateHash } };
      const rsName = `${name}-${templateHash}`;
      const current = all.reduce((sum, rs) => sum + (rs.spec.replicas ?? 0), 0);
      const initial = strategy === 'Recreate' ? 0 : Math.max(0, Math.min(replicas + maxSurge - current, replicas));
      newRS = this.store.create(
        T.ReplicaSet,
        namespace,
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: {
            name: rsName,
            namespace,
            labels: { ...template.metadata.labels },
            annotations: {
              'deployment.kubernetes.io/desired-replicas': String(replicas),
              'deployment.kubernetes.io/max-replicas': String(replicas + maxSurge),
              'deployment.kubernetes.io/revision': String(maxRevision + 1),
            },
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }],
            creationTimestamp: now,
          },
          spec: {
            replicas: initial,
            minReadySeconds: d.spec.minReadySeconds ?? 0,
            selector: { ...d.spec.selector, matchLabels: { ...d.spec.selector.matchLabels, 'pod-template-hash': templateHash } },
            template,
          },
          status: { replicas: 0 },
        },
        'system',
      );
      conditions = setCondition(conditions, condition('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${rsName}"`));
      all = owned();
    } else if (newRS && revisionOf(newRS) < maxRevision) {
      // Back to an older template (a rollback): its ReplicaSet becomes the newest revision.
      newRS = this.store.patch(T.ReplicaSet, namespace, newRS.metadata.name, r => ({
        ...r,
        metadata: { ...r.metadata, annotations: { ...r.metadata.annotations, 'deployment.kubernetes.io/revision': String(maxRevision + 1) } },
      }));
      all = owned();
    }
    if (newRS && !conditions.some(c => c.type === 'Progressing')) {
      conditions = setCondition(conditions, condition('Progressing', 'True', 'FoundNewReplicaSet', `Found new replica set "${newRS.metadata.name}"`));
    }
    if (newRS && d.metadata.annotations?.['deployment.kubernetes.io/revision'] !== String(revisionOf(newRS))) {
      const revision = String(revisionOf(newRS));
      this.store.patch(T.Deployment, namespace, name, x => ({
        ...x,
        metadata: { ...x.metadata, annotations: { ...x.metadata.annotations, 'deployment.kubernetes.io/revision': revision } },
      }));
    }

    if (newRS && !d.spec.paused) {
      newRS = all.find(rs => rs.metadata.uid === newRS!.metadata.uid)!;
      const old = () => all.filter(rs => rs.metadata.uid !== newRS!.metadata.uid);
      const specReplicas = (rs: KubeObject) => rs.spec?.replicas ?? 0;
      if (strategy === 'Recreate') {
        for (const rs of old()) if (specReplicas(rs) > 0) this.scaleReplicaSet(rs, 0, d, maxSurge);
        const oldPods = old().some(rs => this.podsOf(namespace, rs.metadata.uid).length > 0);
        if (!oldPods && specReplicas(newRS) !== replicas) this.scaleReplicaSet(newRS, replicas, d, maxSurge);
      } else {
        // reconcileNewReplicaSet
        const total = all.reduce((s, rs) => s + specReplicas(rs), 0);
        let target = specReplicas(newRS);
        if (target > replicas) target = replicas;
        else if (target < replicas && total < replicas + maxSurge) target = Math.min(replicas, target + (replicas + maxSurge - total));
        if (target !== specReplicas(newRS)) this.scaleReplicaSet(newRS, target, d, maxSurge);
        all = owned();
        newRS = all.find(rs => rs.metadata.uid === newRS!.metadata.uid)!;
        // reconcileOldReplicaSets
        const oldSets = old();
        if (oldSets.some(rs => specReplicas(rs) > 0)) {
          const allPods = all.reduce((s, rs) => s + specReplicas(rs), 0);
          const minAvailable = replicas - maxUnavailable;
          const newUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
          const maxScaledDown = allPods - minAvailable - newUnavailable;
          if (maxScaledDown > 0) {
            const scaled = new Map<string, number>(oldSets.map(rs => [rs.metadata.uid, specReplicas(rs)]));
            // cleanupUnhealthyReplicas: old pods that are not available go first.
            let cleaned = 0;
            for (const rs of oldSets) {
              if (cleaned >= maxScaledDown) break;
              const available = rs.status?.availableReplicas ?? 0;
              const current = scaled.get(rs.metadata.uid)!;
              if (current === 0 || current <= available) continue;
              const down = Math.min(maxScaledDown - cleaned, current - available);
              scaled.set(rs.metadata.uid, current - down);
              cleaned += down;
            }
            // scaleDownOldReplicaSetsForRollingUpdate: keep minAvailable available pods.
            const availableNow = all.reduce((s, rs) => s + (rs.status?.availableReplicas ?? 0), 0);
            let budget = availableNow - minAvailable;
            for (const rs of oldSets) {
              if (budget <= 0) break;
              const current = scaled.get(rs.metadata.uid)!;
              if (current === 0) continue;
              const down = Math.min(current, budget);
              scaled.set(rs.metadata.uid, current - down);
              budget -= down;
            }
            for (const rs of oldSets) {
              if (scaled.get(rs.metadata.uid) !== specReplicas(rs)) this.scaleReplicaSet(rs, scaled.get(rs.metadata.uid)!, d, maxSurge);
            }
          }
        }
      }
      all = owned();
      // revisionHistoryLimit: drop the oldest empty ReplicaSets beyond the limit.
      const limit = d.spec.revisionHistoryLimit ?? 10;
      const empty = all
        .filter(rs => rs.metadata.uid !== newRS!.metadata.uid && specReplicas(rs) === 0 && (rs.status?.replicas ?? 0) === 0)
        .sort((a, b) => revisionOf(a) - revisionOf(b));
      for (const rs of empty.slice(0, Math.max(0, empty.length - limit))) this.store.delete(T.ReplicaSet, namespace, rs.metadata.name);
      all = owned();
      newRS = all.find(rs => rs.metadata.uid === newRS!.metadata.uid)!;
    }

    // Status, as calculateStatus and syncRolloutStatus compute it.
    const current = this.store.peek(T.Deployment, namespace, name)!;
    const sum = (f: (rs: KubeObject) => number) => all.reduce((s, rs) => s + f(rs), 0);
    const totalReplicas = sum(rs => rs.status?.replicas ?? 0);
    const available = sum(rs => rs.status?.availableReplicas ?? 0);
    const updated = newRS?.status?.replicas ?? 0;
    const previous = current.status ?? {};
    const status: any = omitZero({
      observedGeneration: current.metadata.generation,
      replicas: totalReplicas,
      updatedReplicas: updated,
      readyReplicas: sum(rs => rs.status?.readyReplicas ?? 0),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, totalReplicas - available),
    });
    conditions =
      available >= replicas - maxUnavailable
        ? setCondition(conditions, condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'))
        : setCondition(conditions, condition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'));
    if (newRS) {
      const complete = updated === replicas && totalReplicas === replicas && available === replicas && (newRS.spec?.replicas ?? 0) === replicas;
      if (complete) {
        conditions = setCondition(conditions, condition('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${newRS.metadata.name}" has successfully progressed.`));
      } else {
        const progressed =
          updated > (previous.updatedReplicas ?? 0) ||
          (status.readyReplicas ?? 0) > (previous.readyReplicas ?? 0) ||
          available > (previous.availableReplicas ?? 0) ||
          totalReplicas - updated < (previous.replicas ?? 0) - (previous.updatedReplicas ?? 0);
        // Pods turning unready is no progress: the condition then stays as it was.
        if (progressed) {
          conditions = setCondition(conditions, condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${newRS.metadata.name}" is progressing.`), true);
        }
      }
    }
    if (conditions.length > 0) status.conditions = conditions;
    if (d.status?.collisionCount) status.collisionCount = d.status.collisionCount;
    this.writeStatus(T.Deployment, current, status);
  }

  // ---- StatefulSet -------------------------------------------------------------------

  private syncStatefulSet(namespace: string, name: string): void {
    const sts = this.store.peek(T.StatefulSet, namespace, name);
    if (!sts?.spec?.template) return;
    const replicas = sts.spec.replicas ?? 1;
    const updateRevision = `${name}-${podTemplateHash(sts.spec.template)}`;
    const parallel = sts.spec.podManagementPolicy === 'Parallel';
    const strategy = sts.spec.updateStrategy?.type ?? 'RollingUpdate';
    const partition = sts.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
    const podsByOrdinal = () => {
      const map = new Map<number, KubeObject>();
      for (const p of this.podsOf(namespace, sts.metadata.uid)) {
        const m = new RegExp(`^${name.replace(/[.]/g, '\\.')}-(\\d+)$`).exec(p.metadata.name);
        if (m) map.set(Number(m[1]), p);
      }
      return map;
    };
    const createOrdinal = (i: number) =>
      this.createPod(sts, sts.spec.template, {
        name: `${name}-${i}`,
        labels: {
          'controller-revision-hash': updateRevision,
          'statefulset.kubernetes.io/pod-name': `${name}-${i}`,
          'apps.kubernetes.io/pod-index': String(i),
        },
        spec: { hostname: `${name}-${i}`, ...(sts.spec.serviceName ? { subdomain: sts.spec.serviceName } : {}) },
      });

    let pods = podsByOrdinal();
    let blocked = false;
    for (let i = 0; i < replicas; i++) {
      const pod = pods.get(i);
      if (!pod) {
        if (blocked) break;
        createOrdinal(i);
        if (!parallel) {
          blocked = true;
          break;
        }
        continue;
      }
      if (!parallel && !isReady(pod)) blocked = true;
    }
    pods = podsByOrdinal();
    // Scale down: highest ordinal first, one at a time unless Parallel.
    const condemned = [...pods.keys()].filter(i => i >= replicas).sort((a, b) => b - a);
    for (const i of parallel ? condemned : condemned.slice(0, 1)) {
      if (!parallel && [...pods.entries()].some(([j, p]) => j < replicas && !isReady(p))) break;
      this.store.delete(T.Pod, namespace, `${name}-${i}`);
    }
    pods = podsByOrdinal();
    // Rolling update: when every pod is Running and Ready, replace the highest outdated ordinal.
    if (strategy === 'RollingUpdate' && !blocked && pods.size === replicas && [...pods.values()].every(isReady)) {
      const outdated = [...pods.entries()]
        .filter(([i, p]) => i >= partition && p.metadata.labels?.['controller-revision-hash'] !== updateRevision)
        .sort((a, b) => b[0] - a[0]);
      if (outdated.length > 0) {
        const [i] = outdated[0];
        this.store.delete(T.Pod, namespace, `${name}-${i}`);
        createOrdinal(i);
      }
    }
    pods = podsByOrdinal();
    const list = [...pods.values()];
    const updated = list.filter(p => p.metadata.labels?.['controller-revision-hash'] === updateRevision).length;
    const ready = list.filter(isReady).length;
    const previousCurrent = sts.status?.currentRevision ?? updateRevision;
    const done = updated === replicas && ready === replicas && list.length === replicas;
    const currentRevision = done ? updateRevision : previousCurrent;
    const status = {
      ...omitZero(
        {
          observedGeneration: sts.metadata.generation,
          replicas: list.length,
          readyReplicas: ready,
          currentReplicas: list.filter(p => p.metadata.labels?.['controller-revision-hash'] === currentRevision).length,
          updatedReplicas: updated,
          availableReplicas: ready,
        },
        ['replicas', 'availableReplicas'],
      ),
      currentRevision,
      updateRevision,
      collisionCount: 0,
    };
    this.writeStatus(T.StatefulSet, sts, status);
  }

  // ---- DaemonSet ---------------------------------------------------------------------

  private syncDaemonSet(namespace: string, name: string): void {
    const ds = this.store.peek(T.DaemonSet, namespace, name);
    if (!ds?.spec?.template) return;
    const nodes = nodeNames(this.store);
    const templateHash = podTemplateHash(ds.spec.template);
    const labels = { 'controller-revision-hash': templateHash, 'pod-template-generation': String(ds.metadata.generation ?? 1) };
    const byNode = () => {
      const map = new Map<string, KubeObject[]>();
      for (const p of this.podsOf(namespace, ds.metadata.uid)) {
        const node = p.spec?.nodeName ?? '';
        map.set(node, [...(map.get(node) ?? []), p]);
      }
      return map;
    };
    let pods = byNode();
    for (const node of nodes) {
      const onNode = pods.get(node) ?? [];
      if (onNode.length === 0) this.createPod(ds, ds.spec.template, { labels, nodeName: node });
      for (const extra of onNode.slice(1)) this.store.delete(T.Pod, namespace, extra.metadata.name);
    }
    for (const [node, list] of pods) if (!nodes.includes(node)) for (const p of list) this.store.delete(T.Pod, namespace, p.metadata.name);
    pods = byNode();
    if ((ds.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
      const maxUnavailable = Math.max(1, resolveIntOrPercent(ds.spec.updateStrategy?.rollingUpdate?.maxUnavailable, '1', nodes.length, false));
      const all = [...pods.values()].flat();
      let budget = maxUnavailable - all.filter(p => !isReady(p)).length;
      for (const node of nodes) {
        if (budget <= 0) break;
        const pod = pods.get(node)?.[0];
        if (pod && isReady(pod) && pod.metadata.labels?.['controller-revision-hash'] !== templateHash) {
          this.store.delete(T.Pod, namespace, pod.metadata.name);
          this.createPod(ds, ds.spec.template, { labels, nodeName: node });
          budget--;
        }
      }
      pods = byNode();
    }
    const all = [...pods.values()].flat();
    const ready = all.filter(isReady).length;
    const status = omitZero(
      {
        currentNumberScheduled: nodes.filter(n => (pods.get(n) ?? []).length > 0).length,
        desiredNumberScheduled: nodes.length,
        numberMisscheduled: 0,
        numberReady: ready,
        numberAvailable: ready,
        numberUnavailable: Math.max(0, nodes.length - ready),
        updatedNumberScheduled: all.filter(p => p.metadata.labels?.['controller-revision-hash'] === templateHash).length,
        observedGeneration: ds.metadata.generation,
      },
      ['currentNumberScheduled', 'desiredNumberScheduled', 'numberMisscheduled', 'numberReady'],
    );
    this.writeStatus(T.DaemonSet, ds, status);
  }
}

