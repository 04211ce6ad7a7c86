import { BackstageCredentials, HttpAuthService, PermissionsService } from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import { AuthorizeResult, BasicPermission } from '@backstage/plugin-permission-common';
import { istioMeshReadPermission } from '@mesh-portal/plugin-istio-mesh-common';
import express from 'express';

/**
 * Decides a basic permission with the caller's own credentials (never the plugin's) and
 * returns them for the service call; 403 `You are not allowed to <what>` when denied.
 */
export async function authorizeCaller(
  deps: { httpAuth: HttpAuthService; permissions: PermissionsService },
  req: express.Request,
  permission: BasicPermission,
  what: string,
): Promise<BackstageCredentials> {
  const credentials = await deps.httpAuth.credentials(req);
  const [decision] = await deps.permissions.authorize([{ permission }], { credentials });
  if (decision.result !== AuthorizeResult.ALLOW) {
    throw new NotAllowedError(`You are not allowed to ${what}`);
  }
  return credentials;
}

/** The read permission every GET endpoint checks. */
export function authorizeRead(
  deps: { httpAuth: HttpAuthService; permissions: PermissionsService },
  req: express.Request,
): Promise<BackstageCredentials> {
  return authorizeCaller(deps, req, istioMeshReadPermission, 'read mesh status');
}
