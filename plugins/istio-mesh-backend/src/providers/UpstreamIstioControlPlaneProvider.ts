import { compareRevisions } from '@mesh-portal/plugin-istio-mesh-common';
import {
  ControlPlaneProvider,
  ControlPlaneUpgradeInfo,
} from '@mesh-portal/plugin-istio-mesh-node';

/**
 * Upstream Istio installs control planes itself (helm, istioctl): the portal can only
 * migrate data planes between revisions that are already installed. So the "upgrades"
 * on offer are the installed revisions newer than the oldest one.
 */
export class UpstreamIstioControlPlaneProvider implements ControlPlaneProvider {
  readonly id = 'istio';

  handles(): boolean {
    return true;
  }

  async getUpgradeInfo(
    _cluster: string,
    context: { installedRevisions: string[] },
  ): Promise<ControlPlaneUpgradeInfo> {
    const [oldest, ...newer] = [...context.installedRevisions].sort(compareRevisions);
    return {
      source: 'cluster',
      availableUpgrades: oldest ? newer : [],
      upgradeInProgress: false,
      message:
        newer.length === 0
          ? 'Install a newer revision (helm or istioctl) to migrate namespaces to it.'
          : undefined,
    };
  }
}
