import { randomUUID } from 'node:crypto';
import { StatusError, badRequest, notFound } from './errors';
import { matchesLabels, parseLabelSelector, SelectorParseError } from './labelSelector';
import { apiVersionOf, ResourceType, RESOURCE_TYPES, resourceTypeOfKind } from './resources';

type KubeObject = { apiVersion?: string; kind?: string; metadata: any; [k: string]: any };

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface ListOptions {
  namespace?: string;
  labelSelector?: string | null;
  fieldSelector?: string | null;
  limit?: number;
  continueToken?: string | null;
}

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
  private readonly objects = new Map<string, Map<string, KubeObject>>();

  constructor(readonly name: string) {
    for (const t of RESOURCE_TYPES) this.objects.set(t.plural, new Map());
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

  /** Seeds or creates an object; used by the fleet builder and by POST. */
  create(t: ResourceType, namespace: string | undefined, obj: KubeObject): KubeObject {
    const name = obj?.metadata?.name;
    this.validateName(t, name);
    if (t.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      if (!this.bucket(resourceTypeOfKind('Namespace')).has(namespace!)) {
        throw notFound('Namespace', '', namespace!);
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
    stored.metadata = {
      ...stored.metadata,
      ...(t.namespaced ? { namespace } : {}),
      uid: stored.metadata.uid ?? randomUUID(),
      creationTimestamp: stored.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      resourceVersion: this.nextRevision(),
    };
    if (stored.spec !== undefined && ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(t.kind)) {
      stored.metadata.generation = 1;
    }
    delete stored.metadata.deletionTimestamp;
    this.bucket(t).set(key, stored);
    return structuredClone(stored);
  }

  /** Convenience for seeding: the type comes from the object's kind. */
  add(obj: KubeObject): KubeObject {
    return this.create(resourceTypeOfKind(obj.kind!), obj.metadata?.namespace, obj);
  }

  get(t: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const obj = this.bucket(t).get(this.key(t, namespace, name));
    if (!obj) throw notFound(t.kind, t.group, name);
    return structuredClone(obj);
  }

  list(t: ResourceType, opts: ListOptions): ListResult {
    let requirements;
    try {
      requirements = parseLabelSelector(opts.labelSelector);
    } catch (e) {
      if (e instanceof SelectorParseError) throw badRequest(`unable to parse requirement: ${e.message}`);
      throw e;
    }
    const fieldFilter = parseFieldSelector(opts.fieldSelector);
    const all = [...this.bucket(t).entries()]
      .filter(([, o]) => !opts.namespace || o.metadata.namespace === opts.namespace)
      .filter(([, o]) => matchesLabels(requirements, o.metadata.labels))
      .filter(([, o]) => fieldFilter(o))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

    let start = 0;
    if (opts.continueToken) {
      const after = decodeContinue(opts.continueToken);
      start = all.findIndex(([k]) => k > after);
      if (start < 0) start = all.length;
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : undefined;
    const page = limit ? all.slice(start, start + limit) : all.slice(start);
    const remaining = all.length - start - page.length;
    const items = page.map(([, o]) => {
      // Items in a typed list carry no kind/apiVersion, as on a real API server.
      const { kind, apiVersion, ...rest } = structuredClone(o);
      return rest as KubeObject;
    });
    return {
      items,
      resourceVersion: this.resourceVersion,
      ...(remaining > 0
        ? { continueToken: encodeContinue(page[page.length - 1][0]), remainingItemCount: remaining }
        : {}),
    };
  }

  /**
   * Replaces an object. A stale `metadata.resourceVersion` is a 409 Conflict; an empty one
   * is an unconditional update, as on the real API server.
   */
  replace(t: ResourceType, namespace: string | undefined, name: string, obj: KubeObject): KubeObject {
    const key = this.key(t, namespace, name);
    const current = this.bucket(t).get(key);
    if (!current) throw notFound(t.kind, t.group, name);
    if (!obj || typeof obj !== 'object' || typeof obj.metadata !== 'object' || obj.metadata === null) {
      throw badRequest('the body must be an object with metadata');
    }
    if (obj.metadata.name !== name) {
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw new StatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${t.plural}${t.group ? `.${t.group}` : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name, group: t.group, kind: t.plural },
      );
    }
    const next: KubeObject = structuredClone(obj);
    next.apiVersion = apiVersionOf(t);
    next.kind = t.kind;
    next.metadata = {
      ...next.metadata,
      ...(t.namespaced ? { namespace } : {}),
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
    };
    if (current.metadata.generation !== undefined) {
      const specChanged = JSON.stringify(current.spec) !== JSON.stringify(next.spec);
      next.metadata.generation = current.metadata.generation + (specChanged ? 1 : 0);
    }
    if (JSON.stringify(current) === JSON.stringify({ ...next, metadata: { ...next.metadata, resourceVersion: current.metadata.resourceVersion } })) {
      // A no-op write keeps the resourceVersion, as the real API server does.
      return structuredClone(current);
    }
    next.metadata.resourceVersion = this.nextRevision();
    this.bucket(t).set(key, next);
    return structuredClone(next);
  }

  /** Applies `mutate` to the current object and writes the result with concurrency checks. */
  patch(t: ResourceType, namespace: string | undefined, name: string, mutate: (current: KubeObject) => KubeObject): KubeObject {
    const current = this.get(t, namespace, name);
    const patched = mutate(structuredClone(current));
    if (patched?.metadata?.name !== name || (t.namespaced && patched.metadata.namespace !== namespace)) {
      throw new StatusError(422, 'Invalid', `${t.kind} "${name}" is invalid: metadata.name: Invalid value: field is immutable`, {
        name,
        group: t.group,
        kind: t.kind,
        causes: [{ reason: 'FieldValueInvalid', message: 'field is immutable', field: 'metadata.name' }],
      });
    }
    // A resourceVersion in the patch is a precondition; otherwise the patch applies to the latest.
    if (!patched.metadata.resourceVersion) patched.metadata.resourceVersion = current.metadata.resourceVersion;
    validateLabels(t, name, patched.metadata.labels);
    return this.replace(t, namespace, name, patched);
  }

  delete(t: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const key = this.key(t, namespace, name);
    const current = this.bucket(t).get(key);
    if (!current) throw notFound(t.kind, t.group, name);
    this.bucket(t).delete(key);
    if (t.kind === 'Namespace') {
      for (const other of RESOURCE_TYPES.filter(r => r.namespaced)) {
        for (const [k, o] of this.bucket(other)) {
          if (o.metadata.namespace === name) this.bucket(other).delete(k);
        }
      }
    }
    this.nextRevision();
    return structuredClone(current);
  }

  private nextRevision(): string {
    this.revision += 1;
    return String(this.revision);
  }

  private validateName(t: ResourceType, name: unknown) {
    const rule = t.kind === 'Namespace' ? DNS_1123_LABEL : DNS_1123_SUBDOMAIN;
    const max = t.kind === 'Namespace' ? 63 : 253;
    if (typeof name !== 'string' || !name || name.length > max || !rule.test(name)) {
      const shown = typeof name === 'string' ? name : '';
      throw new StatusError(
        422,
        'Invalid',
        `${t.kind} "${shown}" is invalid: metadata.name: Invalid value: "${shown}": a lowercase RFC 1123 ${t.kind === 'Namespace' ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
        {
          name: shown,
          group: t.group,
          kind: t.kind,
          causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value', field: 'metadata.name' }],
        },
      );
    }
  }
}

function validateLabels(t: ResourceType, name: string, labels: unknown) {
  if (labels === undefined || labels === null) return;
  const bad = Object.entries(labels as Record<string, unknown>).find(
    ([k, v]) =>
      typeof v !== 'string' ||
      v.length > 63 ||
      !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v) ||
      !/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(k),
  );
  if (bad) {
    throw new StatusError(422, 'Invalid', `${t.kind} "${name}" is invalid: metadata.labels: Invalid value: "${String(bad[1])}"`, {
      name,
      group: t.group,
      kind: t.kind,
      causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value', field: `metadata.labels` }],
    });
  }
}

function encodeContinue(lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', start: lastKey })).toString('base64url');
}

function decodeContinue(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof parsed?.start === 'string') return parsed.start;
  } catch {
    // fall through to the error below
  }
  throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
}

function parseFieldSelector(selector: string | null | undefined): (o: KubeObject) => boolean {
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
