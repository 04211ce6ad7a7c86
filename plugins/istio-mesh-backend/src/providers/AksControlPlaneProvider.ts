import { Config } from '@backstage/config';
import { ContainerServiceClient } from '@azure/arm-containerservice';
import { AccessToken, TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import { ServiceUnavailableError } from '@backstage/errors';
import {
  ControlPlaneProvider,
  ControlPlaneUpgradeInfo,
} from '@mesh-portal/plugin-istio-mesh-node';
import { readFileSync } from 'node:fs';

/** Where one Kubernetes cluster (named as under `kubernetes:`) lives in Azure. */
export interface AksClusterCoordinates {
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  resourceName: string;
}

/** The text ARM answers get-upgrades with while a canary is running. */
const UPGRADE_IN_PROGRESS = /mesh upgrade is in progress/i;

/**
 * A fixed bearer token, for ARM endpoints that take one (the demo sandbox, or a token
 * minted outside Backstage). Real clusters use `DefaultAzureCredential`.
 */
class StaticTokenCredential implements TokenCredential {
  constructor(private readonly token: string) {}

  async getToken(): Promise<AccessToken> {
    return { token: this.token, expiresOnTimestamp: Date.now() + 60 * 60 * 1000 };
  }
}

/**
 * The AKS Istio add-on's control plane, as Azure Resource Manager reports it, through the
 * official SDK. One client per subscription; the endpoint and extra CA are configurable,
 * which is how the demo points it at the sandbox's ARM.
 */
export class AksControlPlaneProvider implements ControlPlaneProvider {
  readonly id = 'aks';
  private readonly clients = new Map<string, ContainerServiceClient>();

  static fromConfig(config: Config): AksControlPlaneProvider | undefined {
    const aks = config.getOptionalConfig('istioMesh.aks');
    if (!aks) return undefined;
    const clusters = (aks.getOptionalConfigArray('clusters') ?? []).map(c => ({
      name: c.getString('name'),
      subscriptionId: c.getString('subscriptionId'),
      resourceGroup: c.getString('resourceGroup'),
      resourceName: c.getOptionalString('resourceName') ?? c.getString('name'),
    }));
    const staticToken = aks.getOptionalString('credential.staticToken');
    const credential: TokenCredential = staticToken
      ? new StaticTokenCredential(staticToken)
      : new DefaultAzureCredential();
    const caFile = aks.getOptionalString('caFile');
    return new AksControlPlaneProvider(clusters, credential, {
      endpoint: aks.getOptionalString('endpoint'),
      ca: caFile ? readFileSync(caFile, 'utf8') : undefined,
    });
  }

  constructor(
    private readonly clusters: AksClusterCoordinates[],
    private readonly credential: TokenCredential,
    private readonly options: { endpoint?: string; ca?: string } = {},
  ) {}

  handles(cluster: string): boolean {
    return this.clusters.some(c => c.name === cluster);
  }

  async getUpgradeInfo(cluster: string): Promise<ControlPlaneUpgradeInfo> {
    const coordinates = this.clusters.find(c => c.name === cluster)!;
    const client = this.client(coordinates.subscriptionId);
    try {
      const profile = await client.managedClusters.getMeshUpgradeProfile(
        coordinates.resourceGroup,
        coordinates.resourceName,
        'istio',
      );
      const upgrades = profile.properties?.upgrades ?? [];
      return {
        source: 'arm',
        availableUpgrades: upgrades,
        upgradeInProgress: false,
        message:
          upgrades.length === 0
            ? 'Azure offers no mesh upgrade for this cluster; its Kubernetes version may need upgrading first.'
            : undefined,
      };
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      if (UPGRADE_IN_PROGRESS.test(message)) {
        return {
          source: 'arm',
          availableUpgrades: [],
          upgradeInProgress: true,
          message: 'A mesh upgrade is in progress: complete or roll it back before the next one.',
        };
      }
      throw new ServiceUnavailableError(
        `Azure Resource Manager could not report upgrades for cluster '${cluster}': ${message}`,
      );
    }
  }

  private client(subscriptionId: string): ContainerServiceClient {
    let client = this.clients.get(subscriptionId);
    if (!client) {
      client = new ContainerServiceClient(this.credential, subscriptionId, {
        ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
        ...(this.options.ca ? { tlsOptions: { ca: this.options.ca } } : {}),
        retryOptions: { maxRetries: 2 },
      });
      this.clients.set(subscriptionId, client);
    }
    return client;
  }
}
