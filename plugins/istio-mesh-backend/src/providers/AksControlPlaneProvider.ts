import { Config } from '@backstage/config';
import { ContainerServiceClient, ManagedCluster, restorePoller } from '@azure/arm-containerservice';
import { AccessToken, TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import { ConflictError, InputError, ServiceUnavailableError } from '@backstage/errors';
import {
  ControlPlaneProvider,
  ControlPlaneRevisionChange,
  ControlPlaneRevisionChangeStatus,
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

  /**
   * Sets `serviceMeshProfile.istio.revisions` with a PUT of the managed cluster as read
   * (what `az aks mesh upgrade start|complete|rollback` do), and returns once ARM has
   * accepted it, without waiting for the long-running operation: the caller follows it
   * with {@link AksControlPlaneProvider.getRevisionChangeStatus}, from the serialized
   * poller, so a restarted backend can follow an operation another process started.
   * Asking for the revisions ARM already runs or is moving to sends no PUT (a second PUT
   * during an operation would be refused); after a failed operation it sends the PUT
   * again, which is how ARM retries.
   */
  async setRevisions(cluster: string, revisions: string[]): Promise<ControlPlaneRevisionChange> {
    const { coordinates, client } = this.target(cluster);
    const armError = (action: string, error: unknown) => this.armError(cluster, action, error);
    let managed;
    try {
      managed = await client.managedClusters.get(coordinates.resourceGroup, coordinates.resourceName);
    } catch (error) {
      throw armError('read the managed cluster', error);
    }
    const profile = managed.serviceMeshProfile;
    if (!profile || profile.mode !== 'Istio' || !profile.istio) {
      throw new ConflictError(`The Istio add-on is not enabled on AKS cluster '${cluster}'.`);
    }
    const goal = profile.istio.revisions ?? [];
    if (sameRevisions(goal, revisions) && managed.provisioningState !== 'Failed') {
      return { revisions: [...revisions] };
    }
    profile.istio.revisions = [...revisions];
    try {
      const poller = await client.managedClusters.beginCreateOrUpdate(
        coordinates.resourceGroup,
        coordinates.resourceName,
        managed,
        { updateIntervalInMs: 1000 },
      );
      await poller.submitted();
      return { revisions: [...revisions], token: await poller.serialize() };
    } catch (error) {
      throw armError(`set the mesh revisions to [${revisions.join(', ')}]`, error);
    }
  }

  async getRevisionChangeStatus(
    cluster: string,
    change: ControlPlaneRevisionChange,
  ): Promise<ControlPlaneRevisionChangeStatus> {
    const { coordinates, client } = this.target(cluster);
    if (change.token) {
      // The sourceOperation only names the operation in errors; the token says what to poll.
      const poller = restorePoller<any, ManagedCluster>(client, change.token, client.managedClusters.createOrUpdate);
      try {
        await poller.poll();
      } catch (error) {
        if (poller.operationState?.status !== 'failed' && poller.operationState?.status !== 'canceled') {
          throw this.armError(cluster, 'report the operation that changes the mesh revisions', error);
        }
      }
      const state = poller.operationState;
      if (state?.status === 'failed' || state?.status === 'canceled') {
        return {
          state: 'failed',
          revisions: change.revisions,
          message: state.error?.message ?? `The Azure operation ended ${state.status}.`,
        };
      }
      if (state?.status !== 'succeeded') return { state: 'running', revisions: change.revisions };
    }
    let managed;
    try {
      managed = await client.managedClusters.get(coordinates.resourceGroup, coordinates.resourceName);
    } catch (error) {
      throw this.armError(cluster, 'read the managed cluster', error);
    }
    const goal = managed.serviceMeshProfile?.istio?.revisions ?? [];
    switch (managed.provisioningState) {
      case 'Succeeded':
        return sameRevisions(goal, change.revisions)
          ? { state: 'succeeded', revisions: goal }
          : {
              state: 'failed',
              revisions: goal,
              message: `Azure runs revisions [${goal.join(', ')}], not the [${change.revisions.join(', ')}] asked for: someone changed the cluster meanwhile.`,
            };
      case 'Failed':
        return {
          state: 'failed',
          revisions: goal,
          message: `Azure reports provisioning state Failed for AKS cluster '${cluster}'.`,
        };
      default:
        return { state: 'running', revisions: goal };
    }
  }

  private target(cluster: string) {
    const coordinates = this.clusters.find(c => c.name === cluster);
    if (!coordinates) {
      throw new InputError(`Cluster '${cluster}' is not configured under istioMesh.aks.clusters.`);
    }
    return { coordinates, client: this.client(coordinates.subscriptionId) };
  }

  /** ARM's refusals (4xx) are conflicts with the cluster's state; anything else is ARM being unavailable. */
  private armError(cluster: string, action: string, error: unknown): Error {
    const e = error as { statusCode?: number; message?: string };
    const message = `Azure Resource Manager could not ${action} for AKS cluster '${cluster}': ${e?.message ?? String(error)}`;
    if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500 && e.statusCode !== 401 && e.statusCode !== 403 && e.statusCode !== 429) {
      return new ConflictError(message);
    }
    return new ServiceUnavailableError(message);
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

function sameRevisions(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every(r => b.includes(r));
}
