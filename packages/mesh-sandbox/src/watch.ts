import http from 'node:http';
import { ClockTimer, SandboxClock } from './clock';
import { badRequest, StatusError } from './errors';
import { matchesLabels, parseLabelSelector, SelectorParseError } from './labelSelector';
import { apiVersionOf, ResourceType } from './resources';
import { ClusterStore, KubeObject, parseFieldSelector, StoreEvent } from './store';

/**
 * `?watch=true` on a collection, as kube-apiserver serves it: a chunked `application/json`
 * response with one `{"type":…,"object":…}` line per event.
 *
 * - `resourceVersion` unset: the current objects as ADDED events, then every change (as
 *   with `0`, the "any" semantics). Set: the changes after it, from a bounded history;
 *   when it is older than the history, one ERROR event carrying a 410 `Expired` Status
 *   ("too old resource version"), then the end of the stream, as the watch cache does.
 * - `labelSelector`, `fieldSelector` (metadata.name/namespace) and the namespace of the
 *   path filter events; an object that stops (starts) matching is sent as DELETED (ADDED).
 * - `timeoutSeconds` ends the stream cleanly after that long (of the cluster's clock).
 * - `allowWatchBookmarks=true` adds BOOKMARK events (the object carries only its kind,
 *   apiVersion and `metadata.resourceVersion`) every `bookmarkIntervalMs`; with
 *   `sendInitialEvents=true` the initial ADDED events end with a bookmark annotated
 *   `k8s.io/initial-events-end: "true"`.
 */

export interface WatchContext {
  store: ClusterStore;
  type: ResourceType;
  namespace?: string;
  params: URLSearchParams;
  clock: SandboxClock;
  bookmarkIntervalMs: number;
  /** Registers a stream so that the server can end it on close; returns the unregister function. */
  track(end: () => void): () => void;
}

const RV = /^(0|[1-9]\d*)$/;

export function serveWatch(res: http.ServerResponse, ctx: WatchContext): void {
  const { store, type, namespace, params, clock } = ctx;
  let requirements;
  try {
    requirements = parseLabelSelector(params.get('labelSelector'));
  } catch (e) {
    if (e instanceof SelectorParseError) throw badRequest(`unable to parse requirement: ${e.message}`);
    throw e;
  }
  const fieldFilter = parseFieldSelector(params.get('fieldSelector'));
  const rvParam = params.get('resourceVersion') ?? '';
  if (rvParam && !RV.test(rvParam)) throw badRequest(`invalid resource version "${rvParam}"`);
  const timeoutParam = params.get('timeoutSeconds');
  const timeoutSeconds = timeoutParam === null ? undefined : Number(timeoutParam);
  if (timeoutSeconds !== undefined && (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 0)) {
    throw badRequest(`invalid timeoutSeconds "${timeoutParam}"`);
  }
  const bookmarks = params.get('allowWatchBookmarks') === 'true';
  const sendInitialEvents = params.get('sendInitialEvents') === 'true';

  const matches = (o: KubeObject) =>
    (namespace === undefined || o.metadata.namespace === namespace) && matchesLabels(requirements, o.metadata.labels) && fieldFilter(o);

  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  const write = (eventType: string, object: unknown) => {
    if (!res.writableEnded) res.write(`${JSON.stringify({ type: eventType, object })}\n`);
  };
  const bookmark = (annotations?: Record<string, string>) =>
    write('BOOKMARK', {
      kind: type.kind,
      apiVersion: apiVersionOf(type),
      metadata: { resourceVersion: store.resourceVersion, ...(annotations ? { annotations } : {}) },
    });

  let backlog: StoreEvent[] = [];
  if (!rvParam || rvParam === '0' || sendInitialEvents) {
    const initial = store.list(type, { namespace }).items.filter(matches);
    for (const o of initial) write('ADDED', { apiVersion: apiVersionOf(type), kind: type.kind, ...o });
    if (sendInitialEvents && bookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });
  } else {
    const since = store.eventsSince(Number(rvParam));
    if (!since) {
      const expired = new StatusError(410, 'Expired', `too old resource version: ${rvParam} (${store.oldestWatchableRevision})`);
      write('ERROR', expired.toStatus());
      res.end();
      return;
    }
    backlog = since;
  }

  const onEvent = (e: StoreEvent) => {
    if (e.resource.plural !== type.plural || e.resource.group !== type.group) return;
    const now = matches(e.object);
    if (e.type === 'MODIFIED') {
      const before = e.previous ? matches(e.previous) : now;
      if (now && before) write('MODIFIED', e.object);
      else if (now) write('ADDED', e.object);
      else if (before) write('DELETED', e.object);
    } else if (now) {
      write(e.type, e.object);
    }
  };
  backlog.forEach(onEvent);

  const timers: Array<ClockTimer | undefined> = [];
  let unsubscribe = () => {};
  let untrack = () => {};
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    unsubscribe();
    untrack();
    for (const timer of timers) if (timer) clock.clearTimeout(timer);
    if (!res.writableEnded) res.end();
  };
  unsubscribe = store.subscribe(onEvent);
  untrack = ctx.track(end);
  // The client going away closes the response (a GET's request stream closes early by itself).
  res.on('close', end);
  if (timeoutSeconds !== undefined && timeoutSeconds > 0) timers[0] = clock.setTimeout(end, timeoutSeconds * 1000);
  if (bookmarks && ctx.bookmarkIntervalMs > 0) {
    const every = () => {
      if (ended) return;
      bookmark();
      timers[1] = clock.setTimeout(every, ctx.bookmarkIntervalMs);
    };
    timers[1] = clock.setTimeout(every, ctx.bookmarkIntervalMs);
  }
}
