/**
 * Types of the backend's HTTP API (`/api/istio-mesh/v1`), shared by the backend, the
 * frontend client and tests. Kept in sync with `istio-mesh-backend/src/schema/openapi.yaml`.
 */
import type { ControlPlaneRevisionStatus, ObservedUpgradePhase } from './controlPlane';
import type { MeshProvider, NamespaceInjection, PodMeshState } from './injection';
import type { MeshHealth } from './health';

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

export interface ClusterSummary {
  cluster: string;
  provider: MeshProvider;
  fetchedAt: string;
  controlPlane: ClusterControlPlaneStatus;
  meshedNamespaces: number;
  workloads: number;
  pods: number;
  podsWithSidecar: number;
  driftedPods: number;
  health: MeshHealth;
  /** Why the health is not `healthy`, in plain words. */
  healthReasons: string[];
  /** Kubernetes API requests the snapshot behind this summary cost (one LIST page each). */
  snapshotApiRequests: number;
}

export interface ClustersResponse {
  clusters: ClusterSummary[];
  errors: ClusterError[];
}

export interface NamespaceMeshSummary {
  name: string;
  revisionLabel?: string;
  injection: NamespaceInjection;
  targetRevision?: string;
  workloads: number;
  pods: number;
  /** Pods per sidecar revision (`none` for pods without a sidecar). */
  podsByRevision: Record<string, number>;
  driftedPods: number;
  problem?: string;
}

export interface GatewayStatus {
  name: string;
  namespace: string;
  type: string;
  addresses: string[];
  ports: number[];
  /** The gateway's per-revision Deployments. */
  deployments: Array<{ name: string; revision?: string; replicas: number; readyReplicas: number }>;
}

/** Upgrades the platform offers a cluster, from its control-plane provider. */
export interface ClusterUpgradeInfo {
  /** The provider that answered (`aks`, `istio`, a module's id), or `none`. */
  provider: string;
  /** Where the answer came from (`arm`, `cluster`). */
  source?: string;
  availableUpgrades: string[];
  upgradeInProgress: boolean;
  message?: string;
  /** Set when the provider failed; the rest of the cluster page still works. */
  error?: { name: string; message: string };
}

export interface ClusterDetail extends ClusterSummary {
  namespaces: NamespaceMeshSummary[];
  gateways: GatewayStatus[];
  upgrades: ClusterUpgradeInfo;
}

export interface OverviewRow {
  entityRef: string;
  kind: string;
  namespace: string;
  name: string;
  title?: string;
  owner?: string;
  cluster: string;
  provider: MeshProvider;
  kubernetesNamespace: string;
  /** The revision the namespace injects, if it is in the mesh. */
  revision?: string;
  sidecarRevisions: string[];
  pods: number;
  driftedPods: number;
  phase: ObservedUpgradePhase;
}

export interface OverviewResponse {
  rows: OverviewRow[];
  clusters: ClusterSummary[];
  errors: ClusterError[];
}
