import { jsonEqual } from './json';

/** The three patch types kube-apiserver accepts besides server-side apply. */
type Json = any;

const isObject = (v: unknown): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A patch that cannot be applied to the object (a failed `test`, a missing path, a list
 * element without its merge key): kube-apiserver answers 422 Invalid.
 */
export class JsonPatchError extends Error {}

/** A patch body that is not even well-formed (e.g. a JSON patch that is not an array): 400. */
export class PatchFormatError extends Error {}

/** RFC 7386 JSON merge patch. */
export function jsonMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = jsonMergePatch(result[key], value);
  }
  return result;
}

// --- Strategic merge patch -----------------------------------------------------------

/** Lists that hold containers; their `ports` merge on `containerPort`. */
const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

/**
 * The `patchMergeKey` of every list with `patchStrategy:"merge"` in the types the sandbox
 * serves. Lists not named here have no patch strategy and are replaced as a whole.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  imagePullSecrets: 'name',
  resourceClaims: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  conditions: 'type',
  ownerReferences: 'uid',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  webhooks: 'name',
};

function mergeKeyOf(path: string[]): string | undefined {
  const field = path[path.length - 1];
  if (field === 'ports') {
    // ContainerPort merges on containerPort, ServicePort on port.
    return path.some(p => CONTAINER_LISTS.has(p)) ? 'containerPort' : 'port';
  }
  return MERGE_KEYS[field];
}

/** `metadata.finalizers` is a list of scalars with `patchStrategy:"merge"`: a set union. */
function isMergedScalarList(path: string[]): boolean {
  return path.length >= 2 && path[path.length - 1] === 'finalizers' && path[path.length - 2] === 'metadata';
}

const DELETED = Symbol('deleted');

/**
 * Strategic merge patch as kube-apiserver applies it to built-in types: lists with a
 * merge key (containers, env, volumes by `name`; container ports by `containerPort`;
 * conditions by `type`, ...) are merged element by element, `$patch: delete` removes an
 * element or a map, `$patch: replace` replaces a map or list, and the directives kubectl
 * sends (`$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`, `$retainKeys`) are
 * applied rather than stored. Lists without a patch strategy are replaced.
 */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result = mergeMap(target, patch, []);
  return result === DELETED ? {} : result;
}

function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !k.startsWith('$'))
      .map(([k, v]) => [k, stripDirectives(v)]),
  );
}

function mergeMap(target: Json, patch: Record<string, Json>, path: string[]): Json | typeof DELETED {
  if (patch.$patch === 'delete') return DELETED;
  if (patch.$patch === 'replace') return structuredClone(stripDirectives(patch));
  const result: Record<string, Json> = isObject(target) ? { ...target } : {};

  // Deletions from scalar lists apply to the original, before the patch's additions.
  for (const [key, value] of Object.entries(patch)) {
    if (!key.startsWith('$deleteFromPrimitiveList/')) continue;
    const field = key.slice('$deleteFromPrimitiveList/'.length);
    if (!Array.isArray(value)) throw new JsonPatchError(`${key} must be a list`);
    if (Array.isArray(result[field])) result[field] = result[field].filter((v: Json) => !value.includes(v));
  }

  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) {
      delete result[key];
    } else if (Array.isArray(value)) {
      result[key] = mergeList(result[key], value, [...path, key]);
    } else if (isObject(value)) {
      const merged = mergeMap(result[key], value, [...path, key]);
      if (merged === DELETED) delete result[key];
      else result[key] = merged;
    } else {
      result[key] = value;
    }
  }

  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith('$setElementOrder/')) continue;
    const field = key.slice('$setElementOrder/'.length);
    if (!Array.isArray(order)) throw new JsonPatchError(`${key} must be a list`);
    if (Array.isArray(result[field])) result[field] = applyElementOrder(result[field], order, mergeKeyOf([...path, field]));
  }

  if (patch.$retainKeys !== undefined) {
    if (!Array.isArray(patch.$retainKeys)) throw new JsonPatchError('$retainKeys must be a list');
    for (const k of Object.keys(result)) if (!patch.$retainKeys.includes(k)) delete result[k];
  }
  return result;
}

function mergeList(current: Json, patch: Json[], path: string[]): Json[] {
  const replaceDirective = patch.some(e => isObject(e) && e.$patch === 'replace');
  if (replaceDirective) {
    return patch.filter(e => !(isObject(e) && e.$patch === 'replace')).map(e => structuredClone(stripDirectives(e)));
  }
  if (isMergedScalarList(path)) {
    const result = Array.isArray(current) ? [...current] : [];
    for (const v of patch) if (!result.includes(v)) result.push(v);
    return result;
  }
  const key = mergeKeyOf(path);
  if (!key) return structuredClone(stripDirectives(patch));

  let result: Json[] = Array.isArray(current) ? current.map(e => structuredClone(e)) : [];
  for (const element of patch) {
    if (!isObject(element) || !(key in element)) {
      throw new JsonPatchError(`map: ${JSON.stringify(element)} does not contain declared merge key: ${key}`);
    }
    if (element.$patch === 'delete') {
      result = result.filter(e => !(isObject(e) && e[key] === element[key]));
      continue;
    }
    const index = result.findIndex(e => isObject(e) && e[key] === element[key]);
    const merged = mergeMap(index >= 0 ? result[index] : {}, element, path);
    if (merged === DELETED) continue;
    if (index >= 0) result[index] = merged;
    else result.push(merged);
  }
  return result;
}

/** Orders a list as `$setElementOrder` says; elements it does not name keep their relative order after. */
function applyElementOrder(list: Json[], order: Json[], key: string | undefined): Json[] {
  const identity = (e: Json) => (key && isObject(e) ? e[key] : e);
  const rank = (e: Json) => {
    const i = order.findIndex(o => jsonEqual(identity(o), identity(e)));
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return list
    .map((e, i) => ({ e, i, r: rank(e) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map(x => x.e);
}

// --- JSON patch ----------------------------------------------------------------------

function decodePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new JsonPatchError(`invalid JSON pointer "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

/** RFC 6902 JSON patch (add, remove, replace, test, copy, move). */
export function jsonPatch(target: Json, operations: Json): Json {
  if (!Array.isArray(operations)) throw new PatchFormatError('a JSON patch must be an array of operations');
  if (!operations.every(isObject)) throw new PatchFormatError('each operation of a JSON patch must be an object');
  let doc = structuredClone(target);
  for (const op of operations) {
    if (typeof op.op !== 'string') throw new JsonPatchError(`Unexpected kind: ${String(op.op ?? 'unknown')}`);
    if (typeof op.path !== 'string') throw new JsonPatchError(`operation "${op.op}" is missing "path"`);
    const path = decodePointer(op.path);
    switch (op.op) {
      case 'add':
        if (!('value' in op)) throw new JsonPatchError(`operation "add" at "${op.path}" is missing "value"`);
        doc = setAt(doc, path, structuredClone(op.value), 'add');
        break;
      case 'replace':
        if (!('value' in op)) throw new JsonPatchError(`operation "replace" at "${op.path}" is missing "value"`);
        getAt(doc, path);
        doc = setAt(doc, path, structuredClone(op.value), 'replace');
        break;
      case 'remove':
        getAt(doc, path);
        doc = removeAt(doc, path);
        break;
      case 'test':
        if (!jsonEqual(getAt(doc, path), op.value)) {
          throw new JsonPatchError(`testing value ${op.path} failed: test failed`);
        }
        break;
      case 'copy':
      case 'move': {
        if (typeof op.from !== 'string') throw new JsonPatchError(`operation "${op.op}" is missing "from"`);
        const from = decodePointer(op.from);
        if (op.op === 'move' && from.length < path.length && from.every((s, i) => s === path[i])) {
          throw new JsonPatchError(`cannot move "${op.from}" into its own child "${op.path}"`);
        }
        const value = structuredClone(getAt(doc, from));
        if (op.op === 'move') doc = removeAt(doc, from);
        doc = setAt(doc, path, value, 'add');
        break;
      }
      default:
        throw new JsonPatchError(`Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}

function getAt(doc: Json, path: string[]): Json {
  let cur = doc;
  for (const seg of path) {
    if (Array.isArray(cur)) {
      const i = ARRAY_INDEX.test(seg) ? Number(seg) : -1;
      if (i < 0 || i >= cur.length) throw new JsonPatchError(`no element at "/${path.join('/')}"`);
      cur = cur[i];
    } else if (isObject(cur) && Object.prototype.hasOwnProperty.call(cur, seg)) {
      cur = cur[seg];
    } else {
      throw new JsonPatchError(`no value at "/${path.join('/')}"`);
    }
  }
  return cur;
}

function setAt(doc: Json, path: string[], value: Json, mode: 'add' | 'replace'): Json {
  if (path.length === 0) return value;
  const parent = getAt(doc, path.slice(0, -1));
  const last = path[path.length - 1];
  if (Array.isArray(parent)) {
    if (last === '-' && mode === 'add') parent.push(value);
    else {
      const i = ARRAY_INDEX.test(last) ? Number(last) : -1;
      const max = mode === 'add' ? parent.length : parent.length - 1;
      if (i < 0 || i > max) throw new JsonPatchError(`bad array index "${last}" at "/${path.join('/')}"`);
      if (mode === 'add') parent.splice(i, 0, value);
      else parent[i] = value;
    }
  } else if (isObject(parent)) {
    parent[last] = value;
  } else {
    throw new JsonPatchError(`cannot set a member of a non-object at "/${path.join('/')}"`);
  }
  return doc;
}

function removeAt(doc: Json, path: string[]): Json {
  if (path.length === 0) throw new JsonPatchError('cannot remove the whole document');
  const parent = getAt(doc, path.slice(0, -1));
  const last = path[path.length - 1];
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete parent[last];
  return doc;
}
