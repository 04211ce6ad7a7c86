import {
  AuditorService,
  HttpAuthService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { BasicPermission } from '@backstage/plugin-permission-common';
import {
  istioMeshMeshConfigUpdatePermission,
  istioMeshReadPermission,
} from '@mesh-portal/plugin-istio-mesh-common';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { authorizeCaller } from '../http/authorize';
import { clusterParams, parseInput, revisionName } from '../http/input';
import { MeshConfigService } from './MeshConfigService';

const revision = revisionName;
/** The document's own limits (64 KiB, …) are checked by the parser with line and column. */
const yaml = z.string({ required_error: 'is required (the MeshConfig document as YAML text)', invalid_type_error: 'must be a string of YAML' });
const resourceVersion = z
  .string()
  .max(64)
  .regex(/^[A-Za-z0-9._:-]*$/, { message: 'must be the resourceVersion the ConfigMap was loaded with' });

const revisionQuery = z.object({ revision }).strict();
const validateBody = z.object({ revision, yaml }).strict();
const updateBody = z.object({ revision, yaml, resourceVersion: resourceVersion.optional() }).strict();

export interface MeshConfigRouterOptions {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  auditor: AuditorService;
  meshConfig: MeshConfigService;
}

/**
 * The MeshConfig endpoints (docs/meshconfig.md). Thin: validate input, authorize with the
 * caller's credentials, audit the save, hand over to the MeshConfigService.
 */
export function createMeshConfigRouter(options: MeshConfigRouterOptions): express.Router {
  const { httpAuth, permissions, auditor, meshConfig } = options;
  const router = Router();
  // Room for a 64 KiB document even when JSON escaping doubles it; the parser has the real limit.
  router.use(express.json({ limit: '256kb' }));

  const authorize = (req: express.Request, permission: BasicPermission, what: string) =>
    authorizeCaller({ httpAuth, permissions }, req, permission, what);

  router.get('/v1/clusters/:cluster/meshconfig', async (req, res) => {
    const params = parseInput(clusterParams, req.params, 'cluster');
    const query = parseInput(revisionQuery, req.query, 'query');
    const credentials = await authorize(req, istioMeshReadPermission, 'read mesh status');
    res.json(await meshConfig.get(params.cluster, query.revision, credentials));
  });

  router.post('/v1/clusters/:cluster/meshconfig/validate', async (req, res) => {
    const params = parseInput(clusterParams, req.params, 'cluster');
    const body = parseInput(validateBody, req.body, 'request body');
    const credentials = await authorize(req, istioMeshReadPermission, 'read mesh status');
    res.json(await meshConfig.validate(params.cluster, body.revision, body.yaml, credentials));
  });

  router.put('/v1/clusters/:cluster/meshconfig', async (req, res) => {
    const short = (v: unknown) => (typeof v === 'string' ? v.slice(0, 128) : undefined);
    // Created first, so refused and invalid attempts are audited too.
    const event = await auditor.createEvent({
      eventId: 'meshconfig-update',
      // Reaches every proxy of the revision.
      severityLevel: 'high',
      request: req,
      meta: { cluster: short(req.params.cluster), revision: short(req.body?.revision) },
    });
    try {
      const params = parseInput(clusterParams, req.params, 'cluster');
      const body = parseInput(updateBody, req.body, 'request body');
      const credentials = await authorize(req, istioMeshMeshConfigUpdatePermission, 'change the shared MeshConfig');
      const result = await meshConfig.update(params.cluster, body, credentials);
      await event.success({
        meta: {
          cluster: params.cluster,
          revision: body.revision,
          configMap: result.view.shared.configMap,
          resourceVersionBefore: body.resourceVersion || null,
          resourceVersionAfter: result.view.shared.resourceVersion ?? null,
          // Parsed YAML is JSON data; the round trip gives it the type the auditor asks for.
          diff: JSON.parse(JSON.stringify(result.diff)),
        },
      });
      res.json(result);
    } catch (error) {
      await event.fail({ error: error as Error });
      throw error;
    }
  });

  return router;
}
