import {
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import express from 'express';
import Router from 'express-promise-router';
import { MeshInspector } from './service/MeshInspector';
import { MeshReadModel } from './service/MeshReadModel';
import { createUpgradeRouter, UpgradeRouterOptions } from './upgrade/routes';
import { createMeshConfigRouter, MeshConfigRouterOptions } from './meshconfig/routes';
import { MetricsService } from './metrics/MetricsService';
import { createMetricsRouter } from './metrics/routes';
import { createTrustRouter } from './trust/routes';
import { authorizeRead as authorizeReadFor } from './http/authorize';
import { clusterParams, entityParams, parseInput } from './http/input';
import { TrustService } from './trust/TrustService';

export interface RouterOptions {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  catalog: CatalogService;
  inspector: MeshInspector;
  readModel: MeshReadModel;
  /** The upgrade endpoints, when the plugin has a database (see docs/upgrades.md). */
  upgrades?: Omit<UpgradeRouterOptions, 'httpAuth'>;
  /** The shared MeshConfig endpoints (docs/meshconfig.md). */
  meshConfig?: Omit<MeshConfigRouterOptions, 'httpAuth' | 'permissions'>;
  /** Golden signals from the clusters' Prometheus (docs/metrics.md); without it the overview says metrics are unconfigured. */
  metrics?: MetricsService;
  /** The mesh's certificates (docs/trust-and-gateways.md). */
  trust?: TrustService;
}

export async function createRouter(options: RouterOptions): Promise<express.Router> {
  const { httpAuth, permissions, catalog, inspector, readModel, upgrades } = options;
  const metrics = options.metrics ?? new MetricsService({ providers: [] });
  const router = Router();
  router.use(express.json({ limit: '256kb' }));

  const authorizeRead = (req: express.Request) => authorizeReadFor({ httpAuth, permissions }, req);

  router.get('/v1/entities/:kind/:namespace/:name', async (req, res) => {
    const ref = parseInput(entityParams, req.params, 'entity reference');
    const credentials = await authorizeRead(req);
    const entity = await catalog.getEntityByRef(
      { kind: ref.kind, namespace: ref.namespace, name: ref.name },
      { credentials },
    );
    if (!entity) {
      throw new NotFoundError(
        `No entity ${ref.kind}:${ref.namespace}/${ref.name} in the catalog`,
      );
    }
    res.json(await inspector.getEntityMeshStatus(entity, credentials));
  });

  router.get('/v1/clusters', async (req, res) => {
    const credentials = await authorizeRead(req);
    res.json(await readModel.listClusters(credentials));
  });

  router.get('/v1/clusters/:cluster', async (req, res) => {
    const { cluster } = parseInput(clusterParams, req.params, 'cluster');
    const credentials = await authorizeRead(req);
    res.json(await readModel.getCluster(cluster, credentials));
  });

  router.get('/v1/overview', async (req, res) => {
    const credentials = await authorizeRead(req);
    res.json(await metrics.addOverviewSignals(await readModel.getOverview(credentials)));
  });

  router.use(createMetricsRouter({ httpAuth, permissions, catalog, inspector, metrics }));

  if (upgrades) {
    router.use(createUpgradeRouter({ httpAuth, ...upgrades }));
  }
  if (options.meshConfig) router.use(createMeshConfigRouter({ httpAuth, permissions, ...options.meshConfig }));
  if (options.trust) router.use(createTrustRouter({ httpAuth, permissions, trust: options.trust }));

  return router;
}
