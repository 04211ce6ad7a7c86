import {
  AuditorService,
  AuditorServiceEventSeverityLevel,
  HttpAuthService,
} from '@backstage/backend-plugin-api';
import {
  istioMeshReadPermission,
  istioMeshUpgradeCompletePermission,
  istioMeshUpgradeRollbackPermission,
  istioMeshUpgradeStartPermission,
  UpgradeActionResponse,
} from '@mesh-portal/plugin-istio-mesh-common';
import express from 'express';
import Router from 'express-promise-router';
import { z } from 'zod';
import { clusterName, clusterParams, namespaceName, parseInput, revisionName } from '../http/input';
import { UpgradePermissions } from './permissions';
import { UpgradeService } from './UpgradeService';

const namespaceParams = z.object({ cluster: clusterName, namespace: namespaceName });
const targetBody = z.object({ targetRevision: revisionName }).strict();
/** complete and rollback take no input; an empty object (or no body) is fine. */
const emptyBody = z.object({}).strict();
/** complete may acknowledge health-gate regressions (healthGate.ts). */
const completeBody = z.object({ acknowledgeRegressions: z.boolean().optional() }).strict();

/** What the audit event names before the input is validated: short strings only. */
function rawMeta(req: express.Request): Record<string, string> {
  const meta: Record<string, string> = {};
  const short = (v: unknown) => (typeof v === 'string' ? v.slice(0, 128) : undefined);
  const c = short(req.params.cluster);
  const ns = short(req.params.namespace);
  const to = short(req.body?.targetRevision);
  if (c) meta.cluster = c;
  if (ns) meta.namespace = ns;
  if (to) meta.to = to;
  return meta;
}

export interface UpgradeRouterOptions {
  httpAuth: HttpAuthService;
  auditor: AuditorService;
  permissions: UpgradePermissions;
  upgrades: UpgradeService;
}

/**
 * The upgrade endpoints (see docs/upgrades.md). Thin: validate, authorize with the
 * caller's credentials, audit, and hand over to the UpgradeService. Actions answer 202
 * with the run and the step they recorded; what is left runs in the background.
 */
export function createUpgradeRouter(options: UpgradeRouterOptions): express.Router {
  const { httpAuth, auditor, permissions, upgrades } = options;
  const router = Router();
  router.use(express.json({ limit: '16kb' }));

  /** One audit event per action: created first (so refused and invalid attempts are audited too), then success or fail. */
  const audited = async (
    req: express.Request,
    res: express.Response,
    eventId: string,
    severityLevel: AuditorServiceEventSeverityLevel,
    action: () => Promise<UpgradeActionResponse>,
  ) => {
    const event = await auditor.createEvent({ eventId, severityLevel, request: req, meta: rawMeta(req) });
    try {
      const result = await action();
      await event.success({
        meta: {
          cluster: result.run.cluster,
          from: result.run.from,
          to: result.run.to,
          ...(result.step.namespace ? { namespace: result.step.namespace, targetRevision: result.step.targetRevision ?? null } : {}),
          runId: result.run.id,
          stepId: result.step.id,
          action: result.step.action,
          outcome: result.step.outcome,
          ...(result.acknowledgedRegressions ? { acknowledgedRegressions: result.acknowledgedRegressions } : {}),
        },
      });
      res.status(202).json(result);
    } catch (error) {
      await event.fail({ error: error as Error });
      throw error;
    }
  };

  router.get('/v1/clusters/:cluster/upgrade', async (req, res) => {
    const params = parseInput(clusterParams, req.params, 'cluster');
    const credentials = await httpAuth.credentials(req);
    await permissions.authorize(istioMeshReadPermission, credentials, 'read mesh status');
    res.json(await upgrades.getUpgrade(params.cluster, credentials));
  });

  router.post('/v1/clusters/:cluster/upgrade', async (req, res) => {
    await audited(req, res, 'upgrade-start', 'high', async () => {
      const params = parseInput(clusterParams, req.params, 'cluster');
      const body = parseInput(targetBody, req.body, 'request body');
      const credentials = await httpAuth.credentials(req);
      await permissions.authorize(istioMeshUpgradeStartPermission, credentials, 'start a control-plane upgrade');
      return upgrades.start(params.cluster, body.targetRevision, credentials);
    });
  });

  router.post('/v1/clusters/:cluster/upgrade/complete', async (req, res) => {
    await audited(req, res, 'upgrade-complete', 'high', async () => {
      const params = parseInput(clusterParams, req.params, 'cluster');
      const body = parseInput(completeBody, req.body, 'request body');
      const credentials = await httpAuth.credentials(req);
      await permissions.authorize(istioMeshUpgradeCompletePermission, credentials, 'complete a control-plane upgrade');
      return upgrades.complete(params.cluster, credentials, { acknowledgeRegressions: body.acknowledgeRegressions });
    });
  });

  router.post('/v1/clusters/:cluster/upgrade/rollback', async (req, res) => {
    await audited(req, res, 'upgrade-rollback', 'high', async () => {
      const params = parseInput(clusterParams, req.params, 'cluster');
      parseInput(emptyBody, req.body, 'request body');
      const credentials = await httpAuth.credentials(req);
      await permissions.authorize(istioMeshUpgradeRollbackPermission, credentials, 'roll back a control-plane upgrade');
      return upgrades.rollback(params.cluster, credentials);
    });
  });

  router.post('/v1/clusters/:cluster/namespaces/:namespace/migrate', async (req, res) => {
    await audited(req, res, 'namespace-migrate', 'medium', async () => {
      const params = parseInput(namespaceParams, req.params, 'namespace');
      const body = parseInput(targetBody, req.body, 'request body');
      const credentials = await httpAuth.credentials(req);
      await permissions.authorizeMigrate(params.cluster, params.namespace, credentials);
      return upgrades.migrate(params.cluster, params.namespace, body.targetRevision, credentials);
    });
  });

  return router;
}
