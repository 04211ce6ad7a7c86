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
}

/** Lets modules add control-plane providers to the istio-mesh backend plugin. */
export interface IstioMeshControlPlaneExtensionPoint {
  addControlPlaneProvider(provider: ControlPlaneProvider): void;
}

export const istioMeshControlPlaneExtensionPoint =
  createExtensionPoint<IstioMeshControlPlaneExtensionPoint>({
    id: 'istio-mesh.control-plane-providers',
  });
