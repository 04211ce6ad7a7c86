/**
 * Types of the backend's HTTP API (`/api/istio-mesh/v1`), shared by the backend, the
 * frontend client and tests. Kept in sync with `istio-mesh-backend/src/schema/openapi.yaml`.
 */
import type { ControlPlaneRevisionStatus, ObservedUpgradePhase } from './controlPlane';
import type { MeshProvider, NamespaceInjection, PodMeshState } from './injection';

export interface PodMeshStatus {
  name: string;
  /** Owning workload, e.g. `Deployment/payments-api`. */
  workload?: string;
  phase: string;
  ready: boolean;
  sidecar: {
    injected: boolean;
    revision?: string;
    proxyVersion?: string;
    native: boolean;
  };
  state: PodMeshState;
}

export interface WorkloadMeshStatus {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  name: string;
  replicas: number;
  readyReplicas: number;
  /** Pods per sidecar revision (`none` for pods without a sidecar). */
  podsByRevision: Record<string, number>;
}

export interface NamespaceEntityMeshStatus {
  name: string;
  /** The raw `istio.io/rev` label, if any. */
  revisionLabel?: string;
  injection: NamespaceInjection;
  /** The revision new pods get (after resolving tags), if any. */
  targetRevision?: string;
  workloads: WorkloadMeshStatus[];
  pods: PodMeshStatus[];
  driftedPods: number;
}

export interface ClusterControlPlaneStatus {
  namespace: string;
  revisions: ControlPlaneRevisionStatus[];
  tags: Record<string, string>;
  phase: ObservedUpgradePhase;
}

export interface ClusterEntityMeshStatus {
  cluster: string;
  provider: MeshProvider;
  controlPlane: ClusterControlPlaneStatus;
  namespaces: NamespaceEntityMeshStatus[];
  meshed: boolean;
  driftedPods: number;
}

export interface ClusterError {
  cluster: string;
  error: { name: string; message: string };
}

export interface EntityMeshStatus {
  entityRef: string;
  clusters: ClusterEntityMeshStatus[];
  /** Clusters that could not be read; never fatal for the others. */
  errors: ClusterError[];
}
