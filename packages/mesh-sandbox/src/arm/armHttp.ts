import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { BodyError, readJson, requestBaseUrl, sendJson } from '../httpJson';
import { ArmError, armErrors } from './armErrors';
import { ArmSimulator, WriteContext } from './managedClusters';

/**
 * Routes Azure Resource Manager paths (`/subscriptions/...`) to the simulator, with ARM's
 * auth, api-version and error conventions. Path segments of ARM are case-insensitive.
 *
 *   GET      /subscriptions/{sub}/providers/Microsoft.ContainerService/managedClusters
 *   GET      /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters
 *   GET, PUT /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}
 *   GET      .../managedClusters/{name}/meshUpgradeProfiles[/{mode}]
 *   GET      /subscriptions/{sub}/providers/Microsoft.ContainerService/locations/{loc}/meshRevisionProfiles[/{mode}]
 *   GET      /subscriptions/{sub}/providers/Microsoft.ContainerService/locations/{loc}/operations/{id}
 *   GET      /subscriptions/{sub}/providers/Microsoft.ContainerService/locations/{loc}/operationresults/{id}
 */

/** Whether a path is ARM's (the sandbox's Kubernetes paths start with `/clusters/`). */
export function isArmPath(pathname: string): boolean {
  return /^\/subscriptions(\/|$)/i.test(pathname);
}

interface ArmRoute {
  sub: string;
  rg?: string;
  cluster?: string;
  /** What follows the managed cluster or the location, lower-cased, e.g. `meshupgradeprofiles`. */
  child?: string;
  childName?: string;
  location?: string;
  kind: 'clusters' | 'cluster' | 'locationChild';
}

export function parseArmPath(pathname: string): ArmRoute | undefined {
  const seg = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const lc = seg.map(s => s.toLowerCase());
  if (lc[0] !== 'subscriptions' || !seg[1]) return undefined;
  const sub = seg[1];
  const isProvider = (i: number) => lc[i] === 'providers' && lc[i + 1] === 'microsoft.containerservice';
  if (isProvider(2) && lc[4] === 'managedclusters' && seg.length === 5) return { kind: 'clusters', sub };
  if (isProvider(2) && lc[4] === 'locations' && seg[5] && seg[6] && seg.length <= 8) {
    return { kind: 'locationChild', sub, location: seg[5], child: lc[6], childName: seg[7] };
  }
  if (lc[2] === 'resourcegroups' && seg[3] && isProvider(4) && lc[6] === 'managedclusters') {
    const rg = seg[3];
    if (seg.length === 7) return { kind: 'clusters', sub, rg };
    if (seg.length >= 8 && seg.length <= 10) {
      return { kind: 'cluster', sub, rg, cluster: seg[7], child: lc[8], childName: seg[9] };
    }
  }
  return undefined;
}

/** The fleet cluster an ARM request concerns (for fault rules), if it names one. */
export function armClusterOf(arm: ArmSimulator, pathname: string): string | undefined {
  const r = parseArmPath(pathname);
  if (r?.cluster) return arm.clusterOfManagedCluster(r.cluster);
  if (r?.kind === 'locationChild' && (r.child === 'operations' || r.child === 'operationresults') && r.childName) {
    return arm.clusterOfOperation(r.childName);
  }
  return undefined;
}

export function sendArmError(res: http.ServerResponse, error: ArmError) {
  sendJson(res, error.status, error.toBody(), { ...armHeaders(), ...error.headers });
}

function armHeaders(): Record<string, string> {
  const id = randomUUID();
  return { 'x-ms-request-id': id, 'x-ms-correlation-request-id': id };
}

export async function handleArm(arm: ArmSimulator, req: http.IncomingMessage, res: http.ServerResponse, ctx: WriteContext = {}) {
  try {
    await route(arm, req, res, ctx);
  } catch (e) {
    if (e instanceof ArmError) sendArmError(res, e);
    else if (e instanceof BodyError) sendArmError(res, e.status === 413 ? new ArmError(413, 'RequestEntityTooLarge', e.message) : armErrors.badBody(e.message));
    else sendArmError(res, new ArmError(500, 'InternalServerError', `Encountered internal server error: ${(e as Error).message}`));
  }
}

async function route(arm: ArmSimulator, req: http.IncomingMessage, res: http.ServerResponse, ctx: WriteContext) {
  const url = new URL(req.url ?? '/', 'http://sandbox');
  const method = req.method ?? 'GET';
  const auth = req.headers.authorization;
  if (auth === undefined) throw armErrors.missingAuthorization();
  if (!/^Bearer\s+\S+/i.test(auth)) throw armErrors.invalidAuthorization();
  if (!url.searchParams.get('api-version')) throw armErrors.missingApiVersion();

  const r = parseArmPath(url.pathname);
  if (!r) throw armErrors.noRoute(url.pathname);
  const ok = (body: unknown, headers: Record<string, string> = {}) => sendJson(res, 200, body, { ...armHeaders(), ...headers });
  const onlyGet = () => {
    if (method !== 'GET') throw armErrors.methodNotAllowed(method);
  };

  if (r.kind === 'clusters') {
    onlyGet();
    return ok(arm.listManagedClusters(r.sub, r.rg));
  }

  if (r.kind === 'locationChild') {
    onlyGet();
    if (r.child === 'meshrevisionprofiles') {
      return ok(r.childName ? arm.getMeshRevisionProfile(r.sub, r.location!, r.childName) : arm.listMeshRevisionProfiles(r.sub, r.location!));
    }
    if ((r.child === 'operations' || r.child === 'operationresults') && r.childName) {
      const status = arm.operationStatus(r.sub, r.childName);
      if (r.child === 'operations') return ok(status, retryAfter(arm, status.status));
      // The Location protocol: 202 while running, then the outcome.
      const op = arm.operation(r.childName)!;
      if (op.status === 'InProgress') {
        const urls = arm.operationUrls(requestBaseUrl(req), op);
        return sendJson(res, 202, undefined, { ...armHeaders(), Location: urls.location, ...retryAfter(arm, op.status) });
      }
      if (op.status === 'Failed') throw new ArmError(400, op.error!.code, op.error!.message);
      return sendJson(res, 204, undefined, armHeaders());
    }
    throw armErrors.noRoute(url.pathname);
  }

  // One managed cluster, or a child of it.
  const { sub, rg, cluster, child, childName } = r;
  if (child === undefined) {
    if (method === 'GET') return ok(arm.getManagedCluster(sub, rg!, cluster!));
    if (method === 'PUT') {
      const body = await readJson(req);
      const { body: accepted, operation } = arm.putManagedCluster(sub, rg!, cluster!, body, ctx);
      const urls = arm.operationUrls(requestBaseUrl(req), operation);
      return ok(accepted, {
        'Azure-AsyncOperation': urls.asyncOperation,
        Location: urls.location,
        ...retryAfter(arm, operation.status),
      });
    }
    throw armErrors.methodNotAllowed(method);
  }
  if (child === 'meshupgradeprofiles') {
    onlyGet();
    return ok(childName ? arm.getMeshUpgradeProfile(sub, rg!, cluster!, childName) : arm.listMeshUpgradeProfiles(sub, rg!, cluster!));
  }
  throw armErrors.noRoute(url.pathname);
}

function retryAfter(arm: ArmSimulator, status: string): Record<string, string> {
  const s = arm.lroRetryAfterSeconds;
  return s !== undefined && status === 'InProgress' ? { 'Retry-After': String(s) } : {};
}
