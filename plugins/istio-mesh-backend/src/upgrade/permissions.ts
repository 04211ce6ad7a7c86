import {
  AuthService,
  BackstageCredentials,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AuthorizeResult, BasicPermission } from '@backstage/plugin-permission-common';
import {
  istioMeshNamespaceMigratePermission,
  istioMeshUpgradeStartPermission,
  matchesLabelSelector,
  parseLabelSelector,
} from '@mesh-portal/plugin-istio-mesh-common';
import { ClusterSnapshots } from '../service/ClusterSnapshots';
import { KUBERNETES_ANNOTATIONS, entityWorkloadSelector } from '../service/entitySelector';

/**
 * Who may act on upgrades, always decided with the caller's credentials:
 *
 * - start, complete, rollback: the basic permissions `istio-mesh.upgrade.start`,
 *   `.complete`, `.rollback` (the platform team);
 * - migrate a namespace: holders of `istio-mesh.upgrade.start`, or a caller granted the
 *   resource permission `istio-mesh.namespace.migrate` on **every** catalog entity whose
 *   workloads run in that namespace of that cluster (a migration restarts them all, so
 *   owning one service of a shared namespace is not enough). A namespace without any
 *   catalog entity is the platform team's.
 */
export class UpgradePermissions {
  constructor(
    private readonly permissions: PermissionsService,
    private readonly catalog: CatalogService,
    private readonly snapshots: ClusterSnapshots,
    private readonly auth: AuthService,
  ) {}

  async authorize(permission: BasicPermission, credentials: BackstageCredentials, what: string): Promise<void> {
    const [decision] = await this.permissions.authorize([{ permission }], { credentials });
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(`You are not allowed to ${what} (permission ${permission.name}).`);
    }
  }

  async authorizeMigrate(cluster: string, namespace: string, credentials: BackstageCredentials): Promise<void> {
    const [platform] = await this.permissions.authorize([{ permission: istioMeshUpgradeStartPermission }], { credentials });
    if (platform.result === AuthorizeResult.ALLOW) return;
    if (!(await this.snapshots.listClusters(credentials)).includes(cluster)) {
      throw new NotFoundError(`No cluster named '${cluster}' is configured`);
    }
    const refs = await this.entitiesInNamespace(cluster, namespace, credentials);
    if (refs.length === 0) {
      throw new NotAllowedError(
        `No catalog entity runs workloads in namespace ${namespace} of ${cluster}, so only holders of ${istioMeshUpgradeStartPermission.name} may migrate it.`,
      );
    }
    const decisions = await this.permissions.authorize(
      refs.map(resourceRef => ({ permission: istioMeshNamespaceMigratePermission, resourceRef })),
      { credentials },
    );
    const denied = refs.filter((_, i) => decisions[i].result !== AuthorizeResult.ALLOW);
    if (denied.length > 0) {
      throw new NotAllowedError(
        `You may not migrate namespace ${namespace} of ${cluster}: it runs workloads of ${denied.join(', ')}, and ${istioMeshNamespaceMigratePermission.name} is not granted to you on ${denied.length === 1 ? 'it' : 'them'}.`,
      );
    }
  }

  /**
   * Catalog entities whose workloads (by the Kubernetes plugin's annotations) have pods
   * in the namespace. Looked up with the plugin's own credentials, so that entities the
   * caller cannot see still count: their workloads get restarted too.
   */
  private async entitiesInNamespace(cluster: string, namespace: string, credentials: BackstageCredentials): Promise<string[]> {
    const snapshot = await this.snapshots.get(cluster, credentials);
    const pods = snapshot.pods.filter(p => p.namespace === namespace);
    if (pods.length === 0) return [];
    const { items } = await this.catalog.getEntities(
      {
        filter: [
          { [`metadata.annotations.${KUBERNETES_ANNOTATIONS.id}`]: CATALOG_FILTER_EXISTS },
          { [`metadata.annotations.${KUBERNETES_ANNOTATIONS.labelSelector}`]: CATALOG_FILTER_EXISTS },
        ],
        fields: ['kind', 'metadata.name', 'metadata.namespace', 'metadata.annotations'],
      },
      { credentials: await this.auth.getOwnServiceCredentials() },
    );
    const refs = new Set<string>();
    for (const entity of items) {
      const selector = entityWorkloadSelector(entity);
      if (!selector) continue;
      if (selector.cluster && selector.cluster !== cluster) continue;
      if (selector.namespace && selector.namespace !== namespace) continue;
      let requirements;
      try {
        requirements = parseLabelSelector(selector.labelSelector);
      } catch {
        continue;
      }
      if (pods.some(p => matchesLabelSelector(requirements, p.labels))) refs.add(stringifyEntityRef(entity));
    }
    return [...refs].sort();
  }
}
