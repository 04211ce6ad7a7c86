import { randomUUID } from 'node:crypto';
import { StatusError, badRequest, notFound } from './errors';
import { canonicalJson } from './json';
import { matchesLabels, parseLabelSelector, SelectorParseError } from './labelSelector';
import { apiVersionOf, ResourceType, RESOURCE_TYPES, resourceTypeOfKind } from './resources';

export type KubeObject = { apiVersion?: string; kind?: string; metadata: any; [k: string]: any };

const NAME_RULES = {
  label: {
    regex: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    max: 63,
    message:
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  },
  dns1035: {
    regex: /^[a-z]([-a-z0-9]*[a-z0-9])?$/,
    max: 63,
    message:
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
  },
  subdomain: {
    regex: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    max: 253,
    message:
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  },
};

/** Which rule kube-apiserver validates a kind's names with. */
function nameRuleOf(kind: string) {
  if (kind === 'Namespace') return NAME_RULES.label;
  if (kind === 'Service') return NAME_RULES.dns1035;
  return NAME_RULES.subdomain;
}

/** Kinds whose `metadata.generation` kube-apiserver maintains: 1 on create, +1 per spec change. */
const GENERATION_KINDS = new Set(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Ingress']);

/**
 * Kinds with a `status` subresource. Through the API, a create starts with an empty
 * status and writes to the main resource leave the status as it was; only the
 * controllers (here: the fleet builder, writing to the store directly) change it.
 */
const STATUS_SUBRESOURCE_KINDS = new Set([
  'Namespace',
  'Pod',
  'Service',
  'ResourceQuota',
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'Ingress',
  'HorizontalPodAutoscaler',
]);

const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
const GENERATED_NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** How many paginated list snapshots a store keeps before their continue tokens expire (410). */
const MAX_LIST_SNAPSHOTS = 32;

/**
 * Where a write comes from. `api` is a client of the REST API and gets kube-apiserver's
 * rules for system fields (uid, creationTimestamp, status); `system` stands for the
 * controllers and the fleet builder, which seed objects as the cluster would have them.
 */
export type WriteOrigin = 'api' | 'system';

export interface ListOptions {
  namespace?: string;
  labelSelector?: string | null;
  fieldSelector?: string | null;
  limit?: number;
  continueToken?: string | null;
}

/** One change to the store, in the order of resourceVersions (what a watch streams). */
export interface StoreEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: ResourceType;
  /** The object after the change (for DELETED: its last state, at the deletion's resourceVersion). Never mutate it. */
  object: KubeObject;
  /** The object before a MODIFIED change. Never mutate it. */
  previous?: KubeObject;
  resourceVersion: number;
}

export type StoreListener = (event: StoreEvent) => void;

/** How many events a store keeps for watches that resume from a resourceVersion. */
export const DEFAULT_EVENT_HISTORY = 10_000;

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

/**
 * The objects of one simulated cluster. Semantics follow kube-apiserver where clients
 * can tell: a cluster-wide monotonically increasing resourceVersion, optimistic
 * concurrency on writes, generation bumps on spec changes, name validation, and
 * key-ordered pagination with opaque continue tokens.
 */
export class ClusterStore {
  private revision = 1;
  /** Stored objects are never mutated in place (writes store new objects), so snapshots can share them. */
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  /** Sorted entries of one resource at one revision, kept for the continue tokens of paginated lists. */
  private readonly listSnapshots = new Map<string, Array<[string, KubeObject]>>();
  /** The latest events, oldest first; a bounded window like the watch cache of kube-apiserver. */
  private readonly history: StoreEvent[] = [];
  private historyStart = 0;
  /** The resourceVersion before the oldest event still kept: watches from older versions get 410 Expired. */
  private compactedRevision = 1;
  private readonly listeners = new Set<StoreListener>();
  private readonly undelivered: StoreEvent[] = [];
  private delivering = false;

  /** Where creationTimestamps come from; a cluster with a test clock points it there. */
  now: () => Date = () => new Date();

  constructor(
    readonly name: string,
    private readonly eventHistoryLimit = DEFAULT_EVENT_HISTORY,
  ) {
    for (const t of RESOURCE_TYPES) this.objects.set(t.plural, new Map());
  }

  /**
   * Calls `listener` with every later change, in resourceVersion order. Listeners run one
   * event at a time: writes they make are delivered after the current event, never
   * re-entrantly. Returns the unsubscribe function.
   */
  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * The kept events after `resourceVersion`, or undefined when events after it were
   * already dropped from the bounded history (the watch is then too old: 410 Expired).
   */
  eventsSince(resourceVersion: number): StoreEvent[] | undefined {
    if (resourceVersion < this.compactedRevision) return undefined;
    const out: StoreEvent[] = [];
    for (let i = this.historyStart; i < this.history.length; i++) {
      if (this.history[i].resourceVersion > resourceVersion) out.push(this.history[i]);
    }
    return out;
  }

  /** The oldest resourceVersion a watch can still resume from. */
  get oldestWatchableRevision(): number {
    return this.compactedRevision;
  }

  /**
   * The stored objects of one resource, unsorted and not copied: for controllers that scan
   * many objects cheaply. Never mutate what it yields.
   */
  *scan(t: ResourceType, namespace?: string): IterableIterator<KubeObject> {
    for (const o of this.bucket(t).values()) {
      if (namespace === undefined || o.metadata.namespace === namespace) yield o;
    }
  }

  /** The stored object or undefined, not copied. Never mutate it. */
  peek(t: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.bucket(t).get(this.key(t, namespace, name));
  }

  private emit(event: StoreEvent) {
    this.history.push(event);
    if (this.history.length - this.historyStart > this.eventHistoryLimit) {
      this.compactedRevision = this.history[this.historyStart].resourceVersion;
      this.historyStart++;
      if (this.historyStart > 4096) {
        this.history.splice(0, this.historyStart);
        this.historyStart = 0;
      }
    }
    if (this.listeners.size === 0) return;
    this.undelivered.push(event);
    if (this.delivering) return;
    this.deliver();
  }

  private deliver() {
    this.delivering = true;
    try {
      while (this.undelivered.length > 0) {
        const next = this.undelivered.shift()!;
        for (const listener of [...this.listeners]) {
          try {
            listener(next);
          } catch {
            // A failing listener (a controller bug, a closed stream) must not fail the write.
          }
        }
      }
    } finally {
      this.delivering = false;
    }
  }

  /**
   * Runs `fn` (a group of writes, e.g. seeding a Deployment with its ReplicaSet and pods)
   * and delivers its events to listeners only afterwards, so that controllers see the
   * group's end state, as informers often do. Events keep their order.
   */
  batch<R>(fn: () => R): R {
    if (this.delivering) return fn();
    this.delivering = true;
    try {
      return fn();
    } finally {
      this.delivering = false;
      if (this.undelivered.length > 0) this.deliver();
    }
  }

  get resourceVersion(): string {
    return String(this.revision);
  }

  private bucket(t: ResourceType) {
    return this.objects.get(t.plural)!;
  }

  private key(t: ResourceType, namespace: string | undefined, name: string) {
    return t.namespaced ? `${namespace}/${name}` : name;
  }

  /** Seeds or creates an object; used by the fleet builder (`system`) and by POST (`api`). */
  create(t: ResourceType, namespace: string | undefined, obj: KubeObject, origin: WriteOrigin = 'system'): KubeObject {
    if (origin === 'api' && obj.metadata?.resourceVersion) {
      // A plain storage error on kube-apiserver: 500 without a reason.
      throw new StatusError(500, '', 'resourceVersion should not be set on objects to be created');
    }
    let name = obj?.metadata?.name;
    if (!name && typeof obj.metadata?.generateName === 'string' && obj.metadata.generateName) {
      name = `${obj.metadata.generateName.slice(0, 58)}${randomSuffix()}`;
    }
    this.validateName(t, name);
    validateLabels(t, name, obj.metadata.labels);
    if (t.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      if (!this.bucket(resourceTypeOfKind('Namespace')).has(namespace!)) {
        throw notFound('namespaces', '', namespace!);
      }
    }
    const key = this.key(t, namespace, name);
    if (this.bucket(t).has(key)) {
      throw new StatusError(409, 'AlreadyExists', `${t.plural}${t.group ? `.${t.group}` : ''} "${name}" already exists`, {
        name,
        group: t.group,
        kind: t.plural,
      });
    }
    const stored: KubeObject = structuredClone(obj);
    stored.apiVersion = apiVersionOf(t);
    stored.kind = t.kind;
    const fromApi = origin === 'api';
    stored.metadata = {
      ...stored.metadata,
      name,
      ...(t.namespaced ? { namespace } : {}),
      // Through the API these are always the server's; the fleet builder backdates objects.
      uid: (!fromApi && stored.metadata.uid) || randomUUID(),
      creationTimestamp: (!fromApi && stored.metadata.creationTimestamp) || this.now().toISOString().replace(/\.\d+Z$/, 'Z'),
      resourceVersion: this.nextRevision(),
    };
    if (GENERATION_KINDS.has(t.kind)) stored.metadata.generation = 1;
    else if (fromApi) delete stored.metadata.generation;
    delete stored.metadata.deletionTimestamp;
    if (fromApi && STATUS_SUBRESOURCE_KINDS.has(t.kind)) stored.status = initialStatus(t.kind, stored);
    if (t.kind === 'Namespace') applyNamespaceRules(stored, undefined);
    this.bucket(t).set(key, stored);
    const result = structuredClone(stored);
    this.emit({ type: 'ADDED', resource: t, object: stored, resourceVersion: Number(stored.metadata.resourceVersion) });
    return result;
  }

  /** Convenience for seeding: the type comes from the object's kind. */
  add(obj: KubeObject): KubeObject {
    return this.create(resourceTypeOfKind(obj.kind!), obj.metadata?.namespace, obj);
  }

  // --- bulk seeding (src/scaleFleet.ts) ---
  /**
   * Stores a generated object as given, for fleets of many thousand objects: no
   * validation, no copy and no watch event; only a new resourceVersion (and a uid and
   * generation 1 when missing). The caller hands `obj` over: neither it nor the
   * sub-objects it may share with other seeded objects may be mutated afterwards (the
   * store never mutates stored objects). Watches can resume only from after it.
   */
  seedTrusted(t: ResourceType, obj: KubeObject): void {
    const meta = obj.metadata;
    meta.resourceVersion = this.nextRevision();
    if (!meta.uid) meta.uid = randomUUID();
    if (GENERATION_KINDS.has(t.kind) && meta.generation === undefined) meta.generation = 1;
    obj.apiVersion = apiVersionOf(t);
    obj.kind = t.kind;
    this.bucket(t).set(this.key(t, meta.namespace, meta.name), obj);
    this.compactedRevision = this.revision;
  }
  // --- end of bulk seeding ---

  get(t: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const obj = this.bucket(t).get(this.key(t, namespace, name));
    if (!obj) throw notFound(t.plural, t.group, name);
    return structuredClone(obj);
  }

  /**
   * Lists objects in key order. A paginated list reads from a snapshot of the revision
   * its first page saw, as kube-apiserver serves pages from one etcd revision: later
   * pages neither show writes made in between nor skip objects, and carry the first
   * page's resourceVersion. Old snapshots are dropped like compacted etcd revisions,
   * and their tokens then get 410 Expired.
   */
  list(t: ResourceType, opts: ListOptions): ListResult {
    let requirements;
    try {
      requirements = parseLabelSelector(opts.labelSelector);
    } catch (e) {
      if (e instanceof SelectorParseError) throw badRequest(`unable to parse requirement: ${e.message}`);
      throw e;
    }
    const fieldFilter = parseFieldSelector(opts.fieldSelector);
    const scope = `${t.plural}/${opts.namespace ?? ''}`;

    let entries: Array<[string, KubeObject]>;
    let resourceVersion: string;
    let after: string | undefined;
    if (opts.continueToken) {
      const token = decodeContinue(opts.continueToken);
      if (token.scope !== scope) {
        throw badRequest(`invalid continue token: continue key is not valid: key does not match the request (${token.scope} != ${scope})`);
      }
      after = token.start;
      if (token.rv === '-1') {
        // The "inconsistent" token a 410 hands out: continue from the latest state.
        entries = this.sortedEntries(t);
        resourceVersion = this.resourceVersion;
      } else {
        const snapshot = this.listSnapshots.get(`${t.plural}@${token.rv}`);
        if (!snapshot) {
          throw new StatusError(
            410,
            'Expired',
            'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
            undefined,
            { continue: encodeContinue({ rv: '-1', start: token.start, scope }) },
          );
        }
        entries = snapshot;
        resourceVersion = token.rv;
      }
    } else {
      entries = this.sortedEntries(t);
      resourceVersion = this.resourceVersion;
    }

    const all = entries
      .filter(([, o]) => !opts.namespace || o.metadata.namespace === opts.namespace)
      .filter(([, o]) => matchesLabels(requirements, o.metadata.labels))
      .filter(([, o]) => fieldFilter(o));
    const start = after === undefined ? 0 : all.filter(([k]) => k <= after!).length;
    const limit = opts.limit && opts.limit > 0 ? opts.limit : undefined;
    const page = limit ? all.slice(start, start + limit) : all.slice(start);
    const remaining = all.length - start - page.length;
    const items = page.map(([, o]) => {
      // Items in a typed list carry no kind/apiVersion, as on a real API server.
      const { kind, apiVersion, ...rest } = structuredClone(o);
      return rest as KubeObject;
    });
    if (remaining > 0) this.keepSnapshot(t, resourceVersion, entries);
    // With a selector the server cannot count what is left without reading it all (ListMeta docs).
    const countable = requirements.length === 0 && !opts.fieldSelector;
    return {
      items,
      resourceVersion,
      ...(remaining > 0
        ? {
            continueToken: encodeContinue({ rv: resourceVersion, start: page[page.length - 1][0], scope }),
            ...(countable ? { remainingItemCount: remaining } : {}),
          }
        : {}),
    };
  }

  private sortedEntries(t: ResourceType): Array<[string, KubeObject]> {
    return [...this.bucket(t).entries()].sort(([a], [b]) => compareKeys(a, b));
  }

  private keepSnapshot(t: ResourceType, rv: string, entries: Array<[string, KubeObject]>) {
    const key = `${t.plural}@${rv}`;
    if (this.listSnapshots.has(key)) return;
    this.listSnapshots.set(key, entries);
    while (this.listSnapshots.size > MAX_LIST_SNAPSHOTS) {
      this.listSnapshots.delete(this.listSnapshots.keys().next().value!);
    }
  }

  /**
   * Replaces an object. A stale `metadata.resourceVersion` is a 409 Conflict; an empty one
   * is an unconditional update, as on the real API server.
   */
  replace(t: ResourceType, namespace: string | undefined, name: string, obj: KubeObject, origin: WriteOrigin = 'system'): KubeObject {
    const key = this.key(t, namespace, name);
    const current = this.bucket(t).get(key);
    if (!current) throw notFound(t.plural, t.group, name);
    if (!obj || typeof obj !== 'object' || typeof obj.metadata !== 'object' || obj.metadata === null) {
      throw badRequest('the body must be an object with metadata');
    }
    if (obj.metadata.name !== name) {
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (t.namespaced && obj.metadata.namespace && obj.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (obj.metadata.uid && obj.metadata.uid !== current.metadata.uid) {
      throw new StatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${t.plural}${t.group ? `.${t.group}` : ''} "${name}": Precondition failed: UID in precondition: ${current.metadata.uid}, UID in object meta: ${obj.metadata.uid}`,
        { name, group: t.group, kind: t.plural },
      );
    }
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw new StatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${t.plural}${t.group ? `.${t.group}` : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, group: t.group, kind: t.plural },
      );
    }
    validateLabels(t, name, obj.metadata.labels);
    const next: KubeObject = structuredClone(obj);
    next.apiVersion = apiVersionOf(t);
    next.kind = t.kind;
    next.metadata = {
      ...next.metadata,
      ...(t.namespaced ? { namespace } : {}),
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
    };
    if (origin === 'api' && STATUS_SUBRESOURCE_KINDS.has(t.kind)) {
      // The main resource ignores status; only the status subresource (the controllers) writes it.
      if (current.status === undefined) delete next.status;
      else next.status = structuredClone(current.status);
    }
    if (t.kind === 'Namespace') applyNamespaceRules(next, current);
    // The server owns generation: clients cannot set it, spec changes bump it.
    if (current.metadata.generation !== undefined) {
      const specChanged = canonicalJson(current.spec) !== canonicalJson(next.spec);
      next.metadata.generation = current.metadata.generation + (specChanged ? 1 : 0);
    } else {
      delete next.metadata.generation;
    }
    // Compared with key order ignored, as kube-apiserver compares decoded objects.
    if (canonicalJson(current) === canonicalJson({ ...next, metadata: { ...next.metadata, resourceVersion: current.metadata.resourceVersion } })) {
      // A no-op write keeps the resourceVersion, as the real API server does.
      return structuredClone(current);
    }
    next.metadata.resourceVersion = this.nextRevision();
    this.bucket(t).set(key, next);
    const result = structuredClone(next);
    this.emit({ type: 'MODIFIED', resource: t, object: next, previous: current, resourceVersion: Number(next.metadata.resourceVersion) });
    return result;
  }

  /** Applies `mutate` to the current object and writes the result with concurrency checks. */
  patch(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    mutate: (current: KubeObject) => KubeObject,
    origin: WriteOrigin = 'system',
  ): KubeObject {
    const current = this.get(t, namespace, name);
    const patched = mutate(structuredClone(current));
    if (!patched || typeof patched !== 'object' || Array.isArray(patched) || typeof patched.metadata !== 'object' || patched.metadata === null) {
      throw new StatusError(422, 'Invalid', `${t.kind} "${name}" is invalid: the patched object has no metadata`, {
        name,
        group: t.group,
        kind: t.kind,
      });
    }
    if (patched.metadata.name !== name || (t.namespaced && patched.metadata.namespace !== namespace)) {
      throw new StatusError(422, 'Invalid', `${t.kind} "${name}" is invalid: metadata.name: Invalid value: field is immutable`, {
        name,
        group: t.group,
        kind: t.kind,
        causes: [{ reason: 'FieldValueInvalid', message: 'field is immutable', field: 'metadata.name' }],
      });
    }
    // A resourceVersion in the patch is a precondition; otherwise the patch applies to the latest.
    if (!patched.metadata.resourceVersion) patched.metadata.resourceVersion = current.metadata.resourceVersion;
    return this.replace(t, namespace, name, patched, origin);
  }

  delete(t: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const key = this.key(t, namespace, name);
    const current = this.bucket(t).get(key);
    if (!current) throw notFound(t.plural, t.group, name);
    if (t.kind === 'Namespace') {
      // The namespace controller deletes what is inside before the namespace goes.
      for (const other of RESOURCE_TYPES.filter(r => r.namespaced)) {
        for (const [k, o] of [...this.bucket(other)]) {
          if (o.metadata.namespace === name) this.remove(other, k, o);
        }
      }
    }
    this.remove(t, key, current);
    return structuredClone(current);
  }

  private remove(t: ResourceType, key: string, current: KubeObject) {
    this.bucket(t).delete(key);
    const revision = this.nextRevision();
    // A DELETED event carries the object's last state at the revision of the deletion.
    const last = { ...current, metadata: { ...current.metadata, resourceVersion: revision } };
    this.emit({ type: 'DELETED', resource: t, object: last, resourceVersion: Number(revision) });
  }

  private nextRevision(): string {
    this.revision += 1;
    return String(this.revision);
  }

  private validateName(t: ResourceType, name: unknown) {
    if (typeof name !== 'string' || !name) {
      throw new StatusError(422, 'Invalid', `${t.kind} "" is invalid: metadata.name: Required value: name or generateName is required`, {
        name: '',
        group: t.group,
        kind: t.kind,
        causes: [{ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' }],
      });
    }
    const rule = nameRuleOf(t.kind);
    let problem: string | undefined;
    if (name.length > rule.max) problem = `must be no more than ${rule.max} characters`;
    else if (!rule.regex.test(name)) problem = rule.message;
    if (problem) {
      throw new StatusError(422, 'Invalid', `${t.kind} "${name}" is invalid: metadata.name: Invalid value: "${name}": ${problem}`, {
        name,
        group: t.group,
        kind: t.kind,
        causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: "${name}": ${problem}`, field: 'metadata.name' }],
      });
    }
  }
}

/** Byte order of keys, as etcd orders them. */
function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

function randomSuffix(): string {
  let out = '';
  for (let i = 0; i < 5; i++) out += GENERATED_NAME_ALPHABET[Math.floor(Math.random() * GENERATED_NAME_ALPHABET.length)];
  return out;
}

/** The status kube-apiserver gives a new object of a kind with a status subresource. */
function initialStatus(kind: string, obj: KubeObject): any {
  switch (kind) {
    case 'Namespace':
      return { phase: 'Active' };
    case 'Pod':
      return { phase: 'Pending', qosClass: qosClassOf(obj.spec) };
    case 'Service':
      return { loadBalancer: {} };
    default:
      return {};
  }
}

function qosClassOf(spec: any): string {
  const containers = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
  const resources = containers.map(c => ({ requests: c?.resources?.requests ?? {}, limits: c?.resources?.limits ?? {} }));
  if (resources.every(r => Object.keys(r.requests).length === 0 && Object.keys(r.limits).length === 0)) return 'BestEffort';
  const guaranteed = resources.every(r =>
    ['cpu', 'memory'].every(res => r.limits[res] !== undefined && (r.requests[res] === undefined || String(r.requests[res]) === String(r.limits[res]))),
  );
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/**
 * Namespaces always carry `kubernetes.io/metadata.name=<name>`; a new one gets the
 * `kubernetes` finalizer; updates cannot change `spec.finalizers` (that is the
 * finalize subresource's job) or status.
 */
function applyNamespaceRules(ns: KubeObject, current: KubeObject | undefined) {
  ns.metadata.labels = { ...ns.metadata.labels, [NAMESPACE_NAME_LABEL]: ns.metadata.name };
  if (!current) {
    const finalizers: string[] = Array.isArray(ns.spec?.finalizers) ? ns.spec.finalizers : [];
    ns.spec = { ...ns.spec, finalizers: finalizers.includes('kubernetes') ? finalizers : [...finalizers, 'kubernetes'] };
    ns.status = { ...ns.status, phase: ns.status?.phase ?? 'Active' };
  } else {
    if (current.spec === undefined) delete ns.spec;
    else ns.spec = { ...ns.spec, finalizers: structuredClone(current.spec.finalizers) };
    if (current.status === undefined) delete ns.status;
    else ns.status = structuredClone(current.status);
  }
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** kube-apiserver validates label keys (qualified names) and values on every write. */
function validateLabels(t: ResourceType, name: string, labels: unknown) {
  if (labels === undefined || labels === null) return;
  const invalid = (value: string, problem: string) =>
    new StatusError(422, 'Invalid', `${t.kind} "${name}" is invalid: metadata.labels: Invalid value: "${value}": ${problem}`, {
      name,
      group: t.group,
      kind: t.kind,
      causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: "${value}": ${problem}`, field: 'metadata.labels' }],
    });
  if (typeof labels !== 'object' || Array.isArray(labels)) throw invalid(String(labels), 'labels must be a map of strings');
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    const prefix = k.includes('/') ? k.slice(0, k.indexOf('/')) : '';
    if (!LABEL_KEY.test(k) || prefix.length > 253) {
      throw invalid(k, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and '/'");
    }
    if (typeof v !== 'string') throw invalid(String(v), 'label values must be strings');
    if (v.length > 63) throw invalid(v, 'must be no more than 63 characters');
    if (!LABEL_VALUE.test(v)) {
      throw invalid(v, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
    }
  }
}

interface ContinueToken {
  /** The revision of the snapshot the list reads from; '-1' for the latest state. */
  rv: string;
  /** The key of the last object returned. */
  start: string;
  /** The resource and namespace the list is for. */
  scope: string;
}

function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', ...token })).toString('base64url');
}

function decodeContinue(token: string): ContinueToken {
  let parsed: any;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badRequest('invalid continue token: continue key is not valid: illegal base64 data or JSON');
  }
  if (parsed?.v !== 'meta.k8s.io/v1') {
    throw badRequest('invalid continue token: continue key is not valid: server does not recognize this encoded version');
  }
  if (typeof parsed.start !== 'string' || typeof parsed.scope !== 'string' || typeof parsed.rv !== 'string' || !/^(-1|[1-9]\d*)$/.test(parsed.rv)) {
    throw badRequest('invalid continue token: continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  return { rv: parsed.rv, start: parsed.start, scope: parsed.scope };
}

export function parseFieldSelector(selector: string | null | undefined): (o: KubeObject) => boolean {
  if (!selector) return () => true;
  const parts = selector.split(',').map(p => {
    const m = /^(metadata\.name|metadata\.namespace)\s*(==|=|!=)\s*(.*)$/.exec(p.trim());
    if (!m) throw badRequest(`field label not supported: ${p.split(/[=!]/)[0]}`);
    const field = m[1] === 'metadata.name' ? 'name' : 'namespace';
    const negate = m[2] === '!=';
    return (o: KubeObject) => (o.metadata[field] === m[3]) !== negate;
  });
  return o => parts.every(p => p(o));
}
