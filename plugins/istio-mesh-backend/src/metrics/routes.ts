import { HttpAuthService, PermissionsService } from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import { CatalogService } from '@backstage/plugin-catalog-node';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  METRICS_WINDOWS,
  MetricsWindow,
  isValidEntityNamePart,
  istioMeshReadPermission,
} from '@mesh-portal/plugin-istio-mesh-common';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { MeshInspector } from '../service/MeshInspector';
import { MetricsService } from './MetricsService';

export interface MetricsRouterOptions {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  catalog: CatalogService;
  inspector: MeshInspector;
  metrics: MetricsService;
}

const entityNamePart = z.string().refine(isValidEntityNamePart, {
  message: 'must be 1-63 characters of [a-zA-Z0-9-_.], starting and ending with a letter or digit',
});

const entityParams = z.object({ kind: entityNamePart, namespace: entityNamePart, name: entityNamePart }).strict();

const windowQuery = z
  .object({
    window: z
      .enum(METRICS_WINDOWS as [MetricsWindow, ...MetricsWindow[]], {
        errorMap: () => ({ message: `must be one of ${METRICS_WINDOWS.join(', ')}` }),
      })
      .default('1h'),
  })
  .strict();

function parse<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const details = result.error.issues
      .map(i => `${i.code === 'unrecognized_keys' ? `${what}: ${i.message}` : `${i.path.join('.') || what}: ${i.message}`}`)
      .join('; ');
    throw new InputError(`Invalid ${what}: ${details}`);
  }
  return result.data;
}

/** `GET /v1/entities/:kind/:namespace/:name/metrics` and `/topology` (read permission). */
export function createMetricsRouter(options: MetricsRouterOptions): express.Router {
  const { httpAuth, permissions, catalog, inspector, metrics } = options;
  const router = Router();

  const entityStatus = async (req: express.Request) => {
    const ref = parse(entityParams, req.params, 'entity reference');
    const { window } = parse(windowQuery, req.query, 'query');
    const credentials = await httpAuth.credentials(req);
    const [decision] = await permissions.authorize([{ permission: istioMeshReadPermission }], { credentials });
    if (decision.result !== AuthorizeResult.ALLOW) throw new NotAllowedError('You are not allowed to read mesh status');
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
