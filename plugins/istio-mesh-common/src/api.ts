/**
 * Types of the backend's HTTP API (`/api/istio-mesh/v1`), shared by the backend, the
 * frontend client and tests. Kept in sync with `istio-mesh-backend/src/schema/openapi.yaml`.
 */
import type { ControlPlaneRevisionStatus, ObservedUpgradePhase } from './controlPlane';
import type { MeshProvider, NamespaceInjection, PodMeshState } from './injection';
import type { MeshHealth } from './health';
import type { UpgradePhase } from './upgrade';
import type { HealthGateResult, HealthGateVerdict, MetricsStatus, OverviewSignals } from './metrics';
import type { GatewayView } from './gateways';
import type { TrustSummary } from './trust';

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
  /** CA mode, rotation, stale bundles and expiry warnings (details: `/v1/clusters/:cluster/trust`). */
  trust?: TrustSummary;
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

/**
 * A gateway Service with its per-revision Deployments (ready replicas, HPA bounds) and
 * where it lags the control plane (see `gateways.ts`).
 */
export interface GatewayStatus extends GatewayView {
  /** Port numbers (details with names in `portDetails`). */
  ports: number[];
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
  /** Names of the row's workloads as Istio reports them (`destination_workload`), e.g. `payments-api`. */
  workloads?: string[];
  pods: number;
  driftedPods: number;
  phase: ObservedUpgradePhase;
  /** Golden signals of the row's workloads, when its cluster's Prometheus answered. */
  signals?: OverviewSignals;
}

export interface OverviewResponse {
  rows: OverviewRow[];
  clusters: ClusterSummary[];
  errors: ClusterError[];
  /** Whether the rows' golden signals could be read (always set by the backend). */
  metrics?: MetricsStatus;
}

/** What an upgrade step did: the actions of the canary upgrade flow. */
export type UpgradeAction =
  /** Ask the platform for `[from, to]` (AKS: ARM). */
  | 'start'
  /** Take over a canary that was started outside the portal (or, upstream, installed with helm/istioctl). */
  | 'adopt'
  /** Relabel one namespace and restart its workloads. */
  | 'migrate'
  /** Remove `from` (AKS: ARM `[to]`); upstream: verify and record. */
  | 'complete'
  /** Move namespaces back to `from`, then remove `to` (AKS: ARM `[from]`). */
  | 'rollback';

export type UpgradeStepOutcome = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** One entry of an upgrade's step log. */
export interface UpgradeStep {
  id: number;
  action: UpgradeAction;
  /** The namespace, for `migrate`. */
  namespace?: string;
  /** The revision the step moves to (`migrate`, `rollback`). */
  targetRevision?: string;
  /** Who asked for it: a user entity ref, or the service that acted. */
  actor: string;
  outcome: UpgradeStepOutcome;
  /** What happened, in plain words; the error when it failed. */
  message?: string;
  /** Workloads this step restarted, e.g. `Deployment/payments-api`. */
  restartedWorkloads?: string[];
  /** Cluster calls this step retried (after 409, 429, 5xx or a timeout); the message names the causes. */
  retries?: number;
  /** Migrate steps, when metrics are configured: golden signals before vs after the restart. */
  healthGate?: HealthGateResult;
  startedAt: string;
  finishedAt?: string;
}

/** A namespace's place in an upgrade, derived from the cluster and the step log. */
export type NamespaceMigrationState =
  /** Still labelled for, or running pods of, the old revision. */
  | 'pending'
  /** A migrate (or rollback) step is moving it now. */
  | 'migrating'
  /** Labelled for the new revision and no pod runs the old one. */
  | 'migrated'
  /** Its last migrate step failed; migrate it again to retry. */
  | 'failed';

export interface UpgradeNamespaceStatus {
  name: string;
  /** The revision the namespace's label injects now (after tags). */
  revision?: string;
  /** Running pods per sidecar revision. */
  podsByRevision: Record<string, number>;
  state: NamespaceMigrationState;
  /** The id of the last step that touched it. */
  lastStepId?: number;
  /** The health gate of its last migrate step, if one ran (`pending` while measuring). */
  healthGate?: HealthGateVerdict | 'pending';
}

/**
 * The run's lifecycle: `in-progress` while a step runs, `waiting` for the next action,
 * `failed` when the last step failed (retry it, or roll back), and the two ends.
 */
export type UpgradeRunStatus = 'in-progress' | 'waiting' | 'failed' | 'completed' | 'rolled-back';

/** Whether an action is allowed now, and if not why (the state machine's verdict). */
export interface UpgradeGuard {
  allowed: boolean;
  reason?: string;
  blockers?: string[];
  /**
   * Namespaces whose health gate regressed (present, maybe empty, when the cluster's
   * migrations are health-gated; a gate still measuring is not listed): the action is allowed
   * only with `{ acknowledgeRegressions: true }`.
   */
  requiresAcknowledgement?: string[];
}

/** `GET /v1/clusters/:cluster/upgrade`: the current or last upgrade of a cluster. */
export interface UpgradeRun {
  id: string;
  cluster: string;
  /** The control-plane provider (`aks`, `istio`, a module's id). */
  provider: string;
  from: string;
  to: string;
  /** Derived now from the cluster (and the run's from/to), never stored. */
  phase: UpgradePhase;
  status: UpgradeRunStatus;
  /** Control-plane revisions the cluster runs now. */
  installedRevisions: string[];
  /** What the platform reports about the last revision change, where it manages them (AKS). */
  platform?: {
    revisions: string[];
    state: 'running' | 'succeeded' | 'failed';
    message?: string;
    error?: { name: string; message: string };
  };
  pendingNamespaces: string[];
  migratedNamespaces: string[];
  namespaces: UpgradeNamespaceStatus[];
  /** Whether complete and rollback would be accepted now. */
  guards: { complete: UpgradeGuard; rollback: UpgradeGuard };
  /** The step log, oldest first. */
  steps: UpgradeStep[];
  startedBy: string;
  startedAt: string;
  finishedAt?: string;
}

/** The answer to an upgrade action (202): the run as it stands and the step it recorded. */
export interface UpgradeActionResponse {
  run: UpgradeRun;
  step: UpgradeStep;
  /** Complete: the namespaces whose regressed health gate the caller acknowledged. */
  acknowledgedRegressions?: string[];
}
