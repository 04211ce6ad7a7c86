import { clockOf, isoSeconds } from '../clock';
import { syncSidecarConnectivity } from '../istio/connectivity';
import {
  EGRESS_NAMESPACE,
  IngressGatewayMode,
  installControlPlaneRevision,
  installedRevisions,
  layoutOf,
  MeshLayout,
  removeControlPlaneRevision,
} from '../istio/install';
import { resourceTypeOfKind } from '../resources';
import type { SandboxCluster } from '../server';
import { ClusterStore } from '../store';

/**
 * The control-plane side of the add-on: making a cluster run exactly a set of revisions,
 * as AKS does after `serviceMeshProfile.istio.revisions` changes (upgrade start, complete,
 * rollback).
 */

/** How long the add-on takes to install or remove revisions when no delay is given. */
export const DEFAULT_CONTROL_PLANE_DELAY_MS = 2000;

export interface ApplyMeshRevisionsOptions {
  /** Clock time (of the cluster's clock) before the change shows; 0 applies it at once. Default 2000. */
  delayMs?: number;
  /**
   * The add-on ingress gateways to run for new revisions. By default the modes whose
   * Service (`aks-istio-ingressgateway-<mode>`) exists in `aks-istio-ingress`.
   */
  ingressGateways?: IngressGatewayMode[];
}

/**
 * After `delayMs` of the cluster's clock, installs the revisions the cluster lacks and
 * removes those not listed: per revision, the `istiod-<rev>` Deployment (with its
 * ReplicaSet and Running pods), Service and HPA, the `istio-<rev>` ConfigMap, the injector
 * and validator webhooks and the per-revision ingress gateway Deployments. Users'
 * `istio-shared-configmap-<rev>` ConfigMaps are left alone. Sidecars of a removed revision
 * show as disconnected (see ../istio/connectivity.ts); they reconnect if it comes back.
 *
 * Works on the add-on's layout (`aks-istio-system`) and on upstream Istio's
 * (`istio-system`; revision tags are left as they are). Resolves once applied.
 */
export function applyMeshRevisions(cluster: SandboxCluster, revisions: string[], options: ApplyMeshRevisionsOptions = {}): Promise<void> {
  const clock = clockOf(cluster);
  const delay = options.delayMs ?? DEFAULT_CONTROL_PLANE_DELAY_MS;
  return new Promise((resolve, reject) => {
    const run = () => {
      try {
        applyMeshRevisionsNow(cluster.store, revisions, { ...options, now: clock.now() });
        resolve();
      } catch (e) {
        reject(e);
      }
    };
    if (delay <= 0) run();
    else clock.setTimeout(run, delay);
  });
}

/** The synchronous core of {@link applyMeshRevisions}. */
export function applyMeshRevisionsNow(
  store: ClusterStore,
  revisions: string[],
  options: { ingressGateways?: IngressGatewayMode[]; now?: Date; layout?: MeshLayout } = {},
): { installed: string[]; removed: string[] } {
  const layout = options.layout ?? layoutOf(store);
  const now = options.now ?? new Date();
  const wanted = [...new Set(revisions)];
  const current = installedRevisions(store, layout);
  const installed = wanted.filter(r => !current.includes(r));
  const removed = current.filter(r => !wanted.includes(r));
  const ingressGateways = options.ingressGateways ?? enabledIngressGateways(store, layout);
  const egressGateways = enabledEgressGateways(store, layout);
  store.batch(() => {
    for (const rev of installed) installControlPlaneRevision(store, rev, { layout, createdAt: isoSeconds(now), ingressGateways, egressGateways });
    for (const rev of removed) removeControlPlaneRevision(store, rev, layout);
  });
  syncSidecarConnectivity(store, now);
  return { installed, removed };
}

function enabledIngressGateways(store: ClusterStore, layout: MeshLayout): IngressGatewayMode[] {
  if (layout.flavor !== 'aks' || !layout.ingressNamespace) return [];
  const services = resourceTypeOfKind('Service');
  return (['external', 'internal'] as const).filter(mode => store.peek(services, layout.ingressNamespace, `aks-istio-ingressgateway-${mode}`));
}

/** The add-on's egress gateways: its Services in `aks-istio-egress` (each gets a Deployment per revision). */
function enabledEgressGateways(store: ClusterStore, layout: MeshLayout): string[] {
  if (layout.flavor !== 'aks') return [];
  return [...store.scan(resourceTypeOfKind('Service'), EGRESS_NAMESPACE)]
    .filter(s => s.metadata.labels?.['kubernetes.azure.com/managedby'] === 'aks')
    .map(s => s.metadata.name);
}
