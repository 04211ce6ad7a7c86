/** The three patch types kube-apiserver accepts besides server-side apply. */
type Json = any;

const isObject = (v: unknown): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

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

/**
 * Strategic merge patch, for the lists that matter to workloads: lists of objects that
 * carry a merge key (`name` for containers, env, volumes, ports; `containerPort` falls
 * back to replace) are merged element by element, and `$patch: delete` removes an
 * element. Other lists are replaced, as for types without patch metadata.
 */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') {
    const { $patch, ...rest } = patch;
    return structuredClone(rest);
  }
  const result: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch') continue;
    if (value === null) {
      delete result[key];
    } else if (Array.isArray(value) && Array.isArray(result[key]) && mergeableByName(value)) {
      result[key] = mergeListByName(result[key], value);
    } else {
      result[key] = strategicMergePatch(result[key], value);
    }
  }
  return result;
}

function mergeableByName(list: Json[]): boolean {
  return list.length > 0 && list.every(e => isObject(e) && typeof e.name === 'string');
}

function mergeListByName(current: Json[], patch: Json[]): Json[] {
  const result = current.map(e => structuredClone(e));
  for (const element of patch) {
    const index = result.findIndex(e => isObject(e) && e.name === element.name);
    if (element.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = strategicMergePatch(result[index], element);
    } else {
      result.push(strategicMergePatch({}, element));
    }
  }
  return result;
}

export class JsonPatchError extends Error {}

function decodePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new JsonPatchError(`invalid JSON pointer "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** RFC 6902 JSON patch (add, remove, replace, test, copy, move). */
export function jsonPatch(target: Json, operations: Json): Json {
  if (!Array.isArray(operations)) throw new JsonPatchError('a JSON patch must be an array of operations');
  let doc = structuredClone(target);
  for (const op of operations) {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') {
      throw new JsonPatchError('each operation needs "op" and "path"');
    }
    const path = decodePointer(op.path);
    switch (op.op) {
      case 'add':
        doc = setAt(doc, path, structuredClone(op.value), 'add');
        break;
      case 'replace':
        getAt(doc, path);
        doc = setAt(doc, path, structuredClone(op.value), 'replace');
        break;
      case 'remove':
        getAt(doc, path);
        doc = removeAt(doc, path);
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(op.value)) {
          throw new JsonPatchError(`test operation failed at "${op.path}"`);
        }
        break;
      case 'copy':
      case 'move': {
        const from = decodePointer(String(op.from ?? ''));
        const value = structuredClone(getAt(doc, from));
        if (op.op === 'move') doc = removeAt(doc, from);
        doc = setAt(doc, path, value, 'add');
        break;
      }
      default:
        throw new JsonPatchError(`unsupported operation "${op.op}"`);
    }
  }
  return doc;
}

function getAt(doc: Json, path: string[]): Json {
  let cur = doc;
  for (const seg of path) {
    if (Array.isArray(cur)) {
      const i = Number(seg);
      if (!Number.isInteger(i) || i < 0 || i >= cur.length) throw new JsonPatchError(`no element at "/${path.join('/')}"`);
      cur = cur[i];
    } else if (isObject(cur) && seg in cur) {
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
    if (last === '-') parent.push(value);
    else {
      const i = Number(last);
      if (!Number.isInteger(i) || i < 0 || i > parent.length) throw new JsonPatchError(`bad array index "${last}"`);
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
  const parent = getAt(doc, path.slice(0, -1));
  const last = path[path.length - 1];
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else delete parent[last];
  return doc;
}
