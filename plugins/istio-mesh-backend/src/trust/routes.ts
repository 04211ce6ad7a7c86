import { HttpAuthService, PermissionsService } from '@backstage/backend-plugin-api';
import express from 'express';
import Router from 'express-promise-router';
import { authorizeRead } from '../http/authorize';
import { clusterParams, parseInput } from '../http/input';
import { TrustService } from './TrustService';

export interface TrustRouterOptions {
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  trust: TrustService;
}

/** `GET /v1/clusters/:cluster/trust`: read-only, behind `istio-mesh.read`. */
export function createTrustRouter(options: TrustRouterOptions): express.Router {
  const router = Router();
  router.get('/v1/clusters/:cluster/trust', async (req, res) => {
    const { cluster } = parseInput(clusterParams, req.params, 'cluster');
    const credentials = await authorizeRead(options, req);
    res.json(await options.trust.getClusterTrust(cluster, credentials));
  });
  return router;
}
