/**
 * How istiod combines the add-on's `istio-<rev>` MeshConfig with the users'
 * `istio-shared-configmap-<rev>`: the add-on's default wins on conflict. Fields are
 * combined at the granularity the add-on classifies them: top-level MeshConfig fields,
 * and `defaultConfig` (ProxyConfig) field by field, as istiod merges ProxyConfig. A field
 * set on both sides takes the default's whole value; the shared value is ignored.
 */
import { classifyMeshConfigPath, formatPath, MeshConfigFieldClass, MeshConfigPolicy } from './policy';

export type MeshConfigValueSource = 'default' | 'shared' | 'both';

export interface MeshConfigEffectiveField {
  /** `accessLogFile`, `defaultConfig.concurrency`. */
  path: string;
  /** The effective value. */
  value: unknown;
  /** Where the effective value came from; `both` when both documents hold the same value. */
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

/**
 * The effective MeshConfig: `shared` under `addonDefault`, with each field's source and
 * the shared fields the default overrides. With a `policy`, each field gets its class.
 */
export function mergeMeshConfig(
  addonDefault: Record<string, unknown>,
  shared: Record<string, unknown>,
  policy?: MeshConfigPolicy,
): MergedMeshConfig {
  const effective: Record<string, unknown> = {};
  const fields: MeshConfigEffectiveField[] = [];
  const overridden: MeshConfigOverride[] = [];
  const has = (o: Record<string, unknown>, k: string) => Object.prototype.hasOwnProperty.call(o, k);

  const field = (segments: string[], d: { set: boolean; value?: unknown }, s: { set: boolean; value?: unknown }) => {
    const path = formatPath(segments);
    const cls = policy ? { class: classifyMeshConfigPath(policy, segments) } : {};
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

  const keys = [...new Set([...Object.keys(addonDefault), ...Object.keys(shared)])];
  for (const key of keys) {
    const d = { set: has(addonDefault, key), value: addonDefault[key] };
    const s = { set: has(shared, key), value: shared[key] };
    const dProxy = !d.set || isPlainObject(d.value);
    const sProxy = !s.set || isPlainObject(s.value);
    if (key === 'defaultConfig' && dProxy && sProxy) {
      const dc = (d.value ?? {}) as Record<string, unknown>;
      const sc = (s.value ?? {}) as Record<string, unknown>;
      const merged: Record<string, unknown> = {};
      for (const sub of [...new Set([...Object.keys(dc), ...Object.keys(sc)])]) {
        merged[sub] = field(['defaultConfig', sub], { set: has(dc, sub), value: dc[sub] }, { set: has(sc, sub), value: sc[sub] });
      }
      effective[key] = merged;
      continue;
    }
    effective[key] = field([key], d, s);
  }
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
