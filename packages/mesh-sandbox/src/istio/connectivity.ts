import { isoSeconds } from '../clock';
import { canonicalJson } from '../json';
import { resourceTypeOfKind } from '../resources';
import { ClusterStore, KubeObject } from '../store';
import { sidecarIstiodOf } from './injection';

/**
 * Sidecars whose control plane is gone.
 *
 * A sidecar talks to the istiod named in its CA_ADDR (`istiod-<rev>.<ns>.svc:15012`).
 * When that istiod's Deployment is gone (its revision was removed while the namespace
 * still pointed at it), the sandbox shows the sidecar as disconnected the way a failing
 * readiness probe would: the `istio-proxy` container status turns `ready: false` (it
 * keeps running), and the pod's `ContainersReady` and `Ready` conditions turn False with
 * reason `ContainersNotReady` and message `containers with unready status: [istio-proxy]`
 * (the kubelet's wording; native sidecars count since Kubernetes 1.29). The pod then stops
 * counting as ready for its ReplicaSet and Deployment.
 *
 * This is a deliberate simplification: a real Envoy keeps serving with its last
 * configuration and certificate (for up to 24 h) and drops out of `istioctl proxy-status`;
 * whether its readiness probe fails depends on the Istio version. Making it visible in pod
 * status lets a portal (and its tests) see "out of the mesh" without Istio's own APIs.
 * When the revision comes back, the sidecar reconnects and the pod is Ready again.
 */

export const SIDECAR_DISCONNECTED_MESSAGE = 'containers with unready status: [istio-proxy]';

/** Whether the istiod a pod's sidecar points at is installed; undefined for a pod without a sidecar. */
export function sidecarConnected(store: ClusterStore, pod: KubeObject): boolean | undefined {
  const istiod = sidecarIstiodOf(pod);
  if (!istiod) return undefined;
  return store.peek(resourceTypeOfKind('Deployment'), istiod.namespace, istiod.name) !== undefined;
}

/**
 * The status of a Running pod with its istio-proxy container ready or not, and the
 * pod's readiness conditions recomputed from its container statuses.
 */
export function withSidecarReadiness(pod: KubeObject, connected: boolean, now: Date): any {
  const status = structuredClone(pod.status ?? {});
  const setReady = (list: any[] | undefined) =>
    (list ?? []).map((c: any) => (c.name === 'istio-proxy' ? { ...c, ready: connected } : c));
  if (status.containerStatuses) status.containerStatuses = setReady(status.containerStatuses);
  if (status.initContainerStatuses) status.initContainerStatuses = setReady(status.initContainerStatuses);
  return withReadinessConditions(pod, status, now);
}

/** Recomputes ContainersReady and Ready from the container statuses, as the kubelet does. */
export function withReadinessConditions(pod: KubeObject, status: any, now: Date): any {
  if (status.phase !== 'Running') return status;
  const restartable = new Set((pod.spec?.initContainers ?? []).filter((c: any) => c.restartPolicy === 'Always').map((c: any) => c.name));
  const unready = [
    ...(status.initContainerStatuses ?? []).filter((c: any) => restartable.has(c.name) && !c.ready),
    ...(status.containerStatuses ?? []).filter((c: any) => !c.ready),
  ].map((c: any) => c.name);
  const ready = unready.length === 0;
  const at = isoSeconds(now);
  status.conditions = (status.conditions ?? []).map((c: any) => {
    if (c.type !== 'Ready' && c.type !== 'ContainersReady') return c;
    const next: any = { type: c.type, status: ready ? 'True' : 'False' };
    if (c.lastProbeTime !== undefined) next.lastProbeTime = c.lastProbeTime;
    next.lastTransitionTime = c.status === next.status ? c.lastTransitionTime : at;
    if (next.lastTransitionTime === undefined) delete next.lastTransitionTime;
    if (!ready) {
      next.reason = 'ContainersNotReady';
      next.message = `containers with unready status: [${unready.join(' ')}]`;
    }
    return next;
  });
  return status;
}

/**
 * Brings every Running pod's sidecar readiness in line with the installed control planes.
 * Returns the names (`<ns>/<pod>`) of the pods it changed.
 */
export function syncSidecarConnectivity(store: ClusterStore, now: Date): string[] {
  const pods = resourceTypeOfKind('Pod');
  const changed: string[] = [];
  const candidates = [...store.scan(pods)].filter(p => p.status?.phase === 'Running');
  for (const pod of candidates) {
    const connected = sidecarConnected(store, pod);
    if (connected === undefined) continue;
    const status = withSidecarReadiness(pod, connected, now);
    if (canonicalJson(status) === canonicalJson(pod.status)) continue;
    store.patch(pods, pod.metadata.namespace, pod.metadata.name, p => ({ ...p, status }));
    changed.push(`${pod.metadata.namespace}/${pod.metadata.name}`);
  }
  return changed;
}
