import { HttpAuthService, PermissionsService } from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import {
  METRICS_WINDOWS,
  MetricsWindow,
} from '@mesh-portal/plugin-istio-mesh-common';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { MeshInspector } from '../service/MeshInspector';
import { authorizeRead } from '../http/authorize';
import { entityParams, parseInput } from '../http/input';
import { MetricsService } from './MetricsService';

export interface MetricsRouterOptions {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  catalog: CatalogService;
  inspector: MeshInspector;
  metrics: MetricsService;
}

const windowQuery = z
  .object({
    window: z
      .enum(METRICS_WINDOWS as [MetricsWindow, ...MetricsWindow[]], {
        errorMap: () => ({ message: `must be one of ${METRICS_WINDOWS.join(', ')}` }),
      })
      .default('1h'),
  })
  .strict();

/** `GET /v1/entities/:kind/:namespace/:name/metrics` and `/topology` (read permission). */
export function createMetricsRouter(options: MetricsRouterOptions): express.Router {
  const { httpAuth, permissions, catalog, inspector, metrics } = options;
  const router = Router();

  const entityStatus = async (req: express.Request) => {
    const ref = parseInput(entityParams, req.params, 'entity reference');
    const { window } = parseInput(windowQuery, req.query, 'query');
    const credentials = await authorizeRead({ httpAuth, permissions }, req);
    const entity = await catalog.getEntityByRef({ kind: ref.kind, namespace: ref.namespace, name: ref.name }, { credentials });
    if (!entity) throw new NotFoundError(`No entity ${ref.kind}:${ref.namespace}/${ref.name} in the catalog`);
    return { window, status: await inspector.getEntityMeshStatus(entity, credentials) };
  };

  router.get('/v1/entities/:kind/:namespace/:name/metrics', async (req, res) => {
    const { window, status } = await entityStatus(req);
    res.json(await metrics.getEntityMetrics(status, window));
  });

  router.get('/v1/entities/:kind/:namespace/:name/topology', async (req, res) => {
    const { window, status } = await entityStatus(req);
    res.json(await metrics.getEntityTopology(status, window));
  });

  return router;
}
