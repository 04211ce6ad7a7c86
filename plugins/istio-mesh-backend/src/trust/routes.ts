import { HttpAuthService, PermissionsService } from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { istioMeshReadPermission, isValidClusterName } from '@mesh-portal/plugin-istio-mesh-common';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { TrustService } from './TrustService';

const clusterParams = z
  .object({
    cluster: z.string().refine(isValidClusterName, {
      message: 'must be 1-128 characters of [A-Za-z0-9-_.], starting and ending with a letter or digit',
    }),
  })
  .strict();

export interface TrustRouterOptions {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  trust: TrustService;
}

/** `GET /v1/clusters/:cluster/trust`: read-only, behind `istio-mesh.read`. */
export function createTrustRouter(options: TrustRouterOptions): express.Router {
  const router = Router();
  router.get('/v1/clusters/:cluster/trust', async (req, res) => {
    const parsed = clusterParams.safeParse(req.params);
    if (!parsed.success) {
      throw new InputError(`Invalid cluster: ${parsed.error.issues.map(i => `${i.path.join('.') || 'cluster'}: ${i.message}`).join('; ')}`);
    }
    const credentials = await options.httpAuth.credentials(req);
    const [decision] = await options.permissions.authorize([{ permission: istioMeshReadPermission }], { credentials });
    if (decision.result !== AuthorizeResult.ALLOW) throw new NotAllowedError('You are not allowed to read mesh status');
    res.json(await options.trust.getClusterTrust(parsed.data.cluster, credentials));
  });
  return router;
}
