/**
 * How istiod combines the add-on's `istio-<rev>` MeshConfig with the users'
 * `istio-shared-configmap-<rev>`: it applies the shared document, then the add-on's on top
 * (Istio's `mesh.ApplyMeshConfig` twice), so the default wins on conflict. As there, every
 * field is replaced whole except:
 * - `defaultConfig` (ProxyConfig), field by field, and its `proxyMetadata` key by key;
 * - `defaultProviders`, field by field;
 * - `extensionProviders`, by `name`: the default's provider replaces the shared one of that
 *   name in place, the others are kept and the default's new ones appended;
 * - `trustDomainAliases`: the union of both, sorted.
 * A field (or key, or named provider) set on both sides to different values takes the
 * default's value; the shared one is reported as overridden (ignored).
 */
import { classifyMeshConfigPath, formatPath, MeshConfigFieldClass, MeshConfigPolicy } from './policy';

export type MeshConfigValueSource = 'default' | 'shared' | 'both';

export interface MeshConfigEffectiveField {
  /** `accessLogFile`, `defaultConfig.concurrency`. */
  path: string;
  /** The effective value. */
  value: unknown;
  /**
   * Where the effective value came from; `both` when both documents hold the same value,
   * or both contribute to it (`trustDomainAliases`, the union).
   */
  source: MeshConfigValueSource;
  /** The class under the revision's policy (absent when no policy applies, e.g. upstream Istio). */
  class?: MeshConfigFieldClass;
  /** True when the shared document sets it to something else, which is ignored. */
  overridden: boolean;
  /** The shared document's (ignored) value, when overridden. */
  sharedValue?: unknown;
}

export interface MeshConfigOverride {
  path: string;
  /** What the shared document asked for (ignored). */
  sharedValue: unknown;
  /** What the add-on's default sets, and istiod uses. */
  effectiveValue: unknown;
}

export interface MergedMeshConfig {
  effective: Record<string, unknown>;
  fields: MeshConfigEffectiveField[];
  /** Shared fields the default overrides (their values are ignored). */
  overridden: MeshConfigOverride[];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Structural equality of YAML data (mapping key order does not matter). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every(k => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return Number.isNaN(a) && Number.isNaN(b);
}

type Side = { set: boolean; value?: unknown };

const has = (o: Record<string, unknown>, k: string) => Object.prototype.hasOwnProperty.call(o, k);
const sideOf = (o: Record<string, unknown>, k: string): Side => ({ set: has(o, k), value: o[k] });
/** Absent, or a mapping: what a field-by-field merge needs on each side. */
const mappingOrUnset = (x: Side) => !x.set || isPlainObject(x.value);

type NamedItem = Record<string, unknown> & { name: string };
/** A list merged by name needs a unique, non-empty name on every item (validation reports the rest). */
const isNamedList = (x: Side): x is { set: true; value: NamedItem[] } =>
  Array.isArray(x.value) &&
  x.value.every(i => isPlainObject(i) && typeof i.name === 'string' && i.name !== '') &&
  new Set(x.value.map(i => i.name)).size === x.value.length;
const isStringList = (x: Side): x is { set: true; value: string[] } => Array.isArray(x.value) && x.value.every(i => typeof i === 'string');

/** Top-level fields that istiod merges key by key, and ProxyConfig's one such field. */
const MERGED_BY_KEY: Record<string, ReadonlySet<string>> = {
  '': new Set(['defaultConfig', 'defaultProviders']),
  defaultConfig: new Set(['proxyMetadata']),
};

/**
 * The effective MeshConfig: `shared` under `addonDefault`, with each field's source and
 * the shared fields the default overrides. With a `policy`, each field gets its class.
 */
export function mergeMeshConfig(
  addonDefault: Record<string, unknown>,
  shared: Record<string, unknown>,
  policy?: MeshConfigPolicy,
): MergedMeshConfig {
  const fields: MeshConfigEffectiveField[] = [];
  const overridden: MeshConfigOverride[] = [];
  const classOf = (segments: string[]) => (policy ? { class: classifyMeshConfigPath(policy, segments) } : {});

  const field = (segments: string[], d: Side, s: Side, path = formatPath(segments)) => {
    const cls = classOf(segments);
    if (d.set && s.set) {
      const same = deepEqual(d.value, s.value);
      if (!same) overridden.push({ path, sharedValue: s.value, effectiveValue: d.value });
      fields.push({ path, value: d.value, source: same ? 'both' : 'default', ...cls, overridden: !same, ...(same ? {} : { sharedValue: s.value }) });
      return d.value;
    }
    const value = d.set ? d.value : s.value;
    fields.push({ path, value, source: d.set ? 'default' : 'shared', ...cls, overridden: false });
    return value;
  };

  // Istio keeps the earlier (shared) document's order and appends the default's new names.
  const byName = (segments: string[], d: NamedItem[], s: NamedItem[]) => {
    const defaults = new Map(d.map(p => [p.name, p]));
    const shareds = new Map(s.map(p => [p.name, p]));
    const names = [...shareds.keys(), ...[...defaults.keys()].filter(n => !shareds.has(n))];
    return names.map(name =>
      field(
        segments,
        { set: defaults.has(name), value: defaults.get(name) },
        { set: shareds.has(name), value: shareds.get(name) },
        `${formatPath(segments)}[name=${JSON.stringify(name)}]`,
      ),
    );
  };

  const union = (segments: string[], d: string[], s: string[]) => {
    const value = [...new Set([...d, ...s])].sort();
    fields.push({ path: formatPath(segments), value, source: 'both', ...classOf(segments), overridden: false });
    return value;
  };

  const mapping = (prefix: string[], dm: Record<string, unknown>, sm: Record<string, unknown>) => {
    const out: Record<string, unknown> = {};
    const mergedByKey = MERGED_BY_KEY[prefix.join('.')] ?? new Set<string>();
    for (const key of [...new Set([...Object.keys(dm), ...Object.keys(sm)])]) {
      const segments = [...prefix, key];
      const d = sideOf(dm, key);
      const s = sideOf(sm, key);
      if (mergedByKey.has(key) && mappingOrUnset(d) && mappingOrUnset(s)) {
        out[key] = mapping(segments, (d.value ?? {}) as Record<string, unknown>, (s.value ?? {}) as Record<string, unknown>);
      } else if (prefix.length === 0 && key === 'extensionProviders' && d.set && s.set && isNamedList(d) && isNamedList(s)) {
        out[key] = byName(segments, d.value, s.value);
      } else if (prefix.length === 0 && key === 'trustDomainAliases' && d.set && s.set && isStringList(d) && isStringList(s)) {
        out[key] = union(segments, d.value, s.value);
      } else {
        out[key] = field(segments, d, s);
      }
    }
    return out;
  };

  const effective = mapping([], addonDefault, shared);
  fields.sort((a, b) => a.path.localeCompare(b.path));
  return { effective, fields, overridden };
}

export interface MeshConfigChange {
  /** `defaultConfig.concurrency`, `discoverySelectors`. */
  path: string;
  change: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

/**
 * The structural difference between two documents, mapping by mapping (sequences are
 * compared whole: their items have no identity). Ordered by path.
 */
export function diffMeshConfig(before: Record<string, unknown>, after: Record<string, unknown>): MeshConfigChange[] {
  const changes: MeshConfigChange[] = [];
  const walk = (a: Record<string, unknown>, b: Record<string, unknown>, prefix: string[]) => {
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])]) {
      const inA = Object.prototype.hasOwnProperty.call(a, key);
      const inB = Object.prototype.hasOwnProperty.call(b, key);
      const segments = [...prefix, key];
      if (inA && !inB) changes.push({ path: formatPath(segments), change: 'removed', before: a[key] });
      else if (!inA && inB) changes.push({ path: formatPath(segments), change: 'added', after: b[key] });
      else if (isPlainObject(a[key]) && isPlainObject(b[key])) walk(a[key] as Record<string, unknown>, b[key] as Record<string, unknown>, segments);
      else if (!deepEqual(a[key], b[key])) changes.push({ path: formatPath(segments), change: 'changed', before: a[key], after: b[key] });
    }
  };
  walk(before, after, []);
  return changes.sort((x, y) => x.path.localeCompare(y.path));
}
