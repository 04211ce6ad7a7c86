/**
 * Node-side building blocks for modules of the Istio mesh backend plugin.
 *
 * @packageDocumentation
 */
import { createExtensionPoint } from '@backstage/backend-plugin-api';

export type {
  MeshProvider,
  EntityMeshStatus,
} from '@mesh-portal/plugin-istio-mesh-common';

/** What a control-plane provider knows about a cluster's upgrades. */
export interface ControlPlaneUpgradeInfo {
  /** Where the answer came from, e.g. `arm` (Azure Resource Manager) or `cluster`. */
  source: string;
  /** Revisions the platform will let this cluster upgrade to next. */
  availableUpgrades: string[];
  /** True while the platform reports an upgrade in progress. */
  upgradeInProgress: boolean;
  /** A plain-words note, e.g. why no upgrade is offered. */
  message?: string;
}

/**
 * A change of a cluster's control-plane revisions that the platform has accepted and runs
 * on its own (on AKS: an ARM long-running operation).
 */
export interface ControlPlaneRevisionChange {
  /** The revisions asked for, e.g. `['asm-1-29', 'asm-1-30']` to start a canary. */
  revisions: string[];
  /**
   * Opaque state to follow the change with, even from another process after a restart
   * (on AKS: the serialized ARM poller). The caller stores it and hands it back.
   */
  token?: string;
}

/** Where a revision change stands, as the platform reports it. */
export interface ControlPlaneRevisionChangeStatus {
  state: 'running' | 'succeeded' | 'failed';
  /** The revisions the platform is set to run (its goal). */
  revisions: string[];
  /** Why it failed, in the platform's words. */
  message?: string;
}

/**
 * Knows how a cluster's control plane is managed: the AKS add-on through Azure Resource
 * Manager, or upstream Istio installed by the platform team.
 */
export interface ControlPlaneProvider {
  /** A short id for logs and responses, e.g. `aks` or `istio`. */
  readonly id: string;
  /** Whether this provider manages the named cluster (as named under `kubernetes:`). */
  handles(cluster: string): boolean;
  getUpgradeInfo(
    cluster: string,
    context: { installedRevisions: string[] },
  ): Promise<ControlPlaneUpgradeInfo>;
  /**
   * Asks the platform to run exactly `revisions` (`[old, new]` starts a canary, `[new]`
   * completes it, `[old]` rolls it back). Resolves once the platform has accepted the
   * change, which then runs on; rejects when it refuses. Idempotent: asking again for the
   * revisions the platform already runs or is moving to starts nothing new, and asking
   * again after a failed change retries it. Absent when the provider cannot install or
   * remove control planes (upstream Istio, where helm or istioctl do that).
   */
  setRevisions?(cluster: string, revisions: string[]): Promise<ControlPlaneRevisionChange>;
  /** Where a change started by {@link ControlPlaneProvider.setRevisions} stands. */
  getRevisionChangeStatus?(
    cluster: string,
    change: ControlPlaneRevisionChange,
  ): Promise<ControlPlaneRevisionChangeStatus>;
}

/** Lets modules add control-plane providers to the istio-mesh backend plugin. */
export interface IstioMeshControlPlaneExtensionPoint {
  addControlPlaneProvider(provider: ControlPlaneProvider): void;
}

export const istioMeshControlPlaneExtensionPoint =
  createExtensionPoint<IstioMeshControlPlaneExtensionPoint>({
    id: 'istio-mesh.control-plane-providers',
  });
export * from './metrics';
