import { jsonEqual } from '../json';

/** One RFC 6902 operation, as a mutating admission webhook returns them. */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace';
  path: string;
  value?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 6901: `~` → `~0`, `/` → `~1` (annotation keys such as `sidecar.istio.io/status`). */
export function escapePointerSegment(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * The JSON patch that turns `from` into `to`: objects are compared key by key; an array
 * that only grew gets its new elements added at their indices, any other changed array
 * is replaced as a whole (kube-apiserver applies the patch to the object it sent, so no
 * `test` operations are needed). Values are compared as JSON: `undefined` is absent.
 */
export function jsonPatchDiff(from: unknown, to: unknown): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  diff(toJson(from), toJson(to), '', ops);
  return ops;
}

function toJson(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

function diff(from: unknown, to: unknown, path: string, ops: JsonPatchOperation[]): void {
  if (jsonEqual(from, to)) return;
  if (isObject(from) && isObject(to)) {
    for (const key of Object.keys(from)) {
      if (!(key in to)) ops.push({ op: 'remove', path: `${path}/${escapePointerSegment(key)}` });
    }
    for (const [key, value] of Object.entries(to)) {
      const child = `${path}/${escapePointerSegment(key)}`;
      if (key in from) diff(from[key], value, child, ops);
      else ops.push({ op: 'add', path: child, value });
    }
    return;
  }
  if (Array.isArray(from) && Array.isArray(to) && to.length > from.length && from.every((v, i) => jsonEqual(v, to[i]))) {
    to.slice(from.length).forEach((value, i) => ops.push({ op: 'add', path: `${path}/${from.length + i}`, value }));
    return;
  }
  // A replaced root (path '') or a value that changed type or content.
  ops.push({ op: 'replace', path, value: to });
}
