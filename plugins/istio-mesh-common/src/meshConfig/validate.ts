/**
 * Validation of a parsed MeshConfig document against a revision's policy: blocked fields
 * are errors (the add-on's admission webhook rejects them), allowed-but-unsupported ones
 * warnings, and fields we know get their value checked the way istiod would read them.
 */
import { MeshConfigFinding, SourcePosition } from './findings';
import {
  classifyMeshConfigPath,
  formatPath,
  MeshConfigPolicy,
  PROXY_CONFIG_PREFIX,
} from './policy';

type Path = (string | number)[];
type Report = (path: Path, message: string, severity?: 'error' | 'warning') => void;
type Check = (value: unknown, path: Path, report: Report) => void;

const describe = (v: unknown): string => {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a sequence';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v === 'number' ? 'the number' : `the ${typeof v}`} ${String(v)}`;
};

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const str: Check = (v, p, r) => {
  if (typeof v !== 'string') r(p, `must be a string (found ${describe(v)})`);
};
const bool: Check = (v, p, r) => {
  if (typeof v !== 'boolean') r(p, `must be true or false (found ${describe(v)})`);
};
const mapping: Check = (v, p, r) => {
  if (!isPlainObject(v)) r(p, `must be a mapping (found ${describe(v)})`);
};
const port: Check = (v, p, r) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
    r(p, `must be a port number, an integer from 1 to 65535 (found ${describe(v)})`);
  }
};
const oneOf = (...values: string[]): Check => (v, p, r) => {
  if (typeof v !== 'string' || !values.includes(v)) r(p, `must be one of ${values.join(', ')} (found ${describe(v)})`);
};
const listOf = (item: Check): Check => (v, p, r) => {
  if (!Array.isArray(v)) {
    r(p, `must be a sequence (found ${describe(v)})`);
    return;
  }
  v.forEach((x, i) => item(x, [...p, i], r));
};
const stringMap: Check = (v, p, r) => {
  if (!isPlainObject(v)) {
    r(p, `must be a mapping of names to strings (found ${describe(v)})`);
    return;
  }
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') r([...p, k], `must be a string (found ${describe(x)}; quote it)`);
  }
};

/** Go's time.ParseDuration syntax, as istiod's YAML→proto reader accepts it: `45s`, `1m30s`, `500ms`, `0`. */
const GO_DURATION = /^(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;
export function isGoDuration(value: string): boolean {
  return GO_DURATION.test(value);
}
const duration: Check = (v, p, r) => {
  if (typeof v !== 'string' || !GO_DURATION.test(v)) {
    r(p, `must be a duration such as 45s, 1m30s or 500ms (units ns, us, ms, s, m, h; found ${describe(v)})`);
  }
};
const concurrency: Check = (v, p, r) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1) {
    r(p, `must be a non-negative integer, the number of worker threads per proxy (found ${describe(v)})`);
  } else if (v === 0) {
    r(p, 'is 0, which makes every proxy start one worker thread per CPU core of its node; set a number unless that is intended', 'warning');
  }
};

const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return 'has an invalid prefix (must be a DNS subdomain such as example.com)';
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return 'is not a valid label key (at most 63 characters of [A-Za-z0-9-_.], starting and ending with a letter or digit)';
  }
  return undefined;
}
const labelValueOk = (v: string) => v === '' || (v.length <= 63 && LABEL_NAME.test(v));

const labelSelector: Check = (v, p, r) => {
  if (!isPlainObject(v)) {
    r(p, `must be a label selector, a mapping with matchLabels and/or matchExpressions (found ${describe(v)})`);
    return;
  }
  for (const key of Object.keys(v)) {
    if (key !== 'matchLabels' && key !== 'matchExpressions') {
      r([...p, key], 'is not a label selector field (only matchLabels and matchExpressions)');
    }
  }
  if (v.matchLabels !== undefined) {
    const ml = v.matchLabels;
    if (!isPlainObject(ml)) r([...p, 'matchLabels'], `must be a mapping of label keys to values (found ${describe(ml)})`);
    else {
      for (const [k, x] of Object.entries(ml)) {
        const problem = labelKeyProblem(k);
        if (problem) r([...p, 'matchLabels', k], `label key ${problem}`);
        if (typeof x !== 'string') r([...p, 'matchLabels', k], `must be a string label value (found ${describe(x)}; quote it)`);
        else if (!labelValueOk(x)) r([...p, 'matchLabels', k], 'is not a valid label value (at most 63 characters of [A-Za-z0-9-_.], starting and ending with a letter or digit)');
      }
    }
  }
  if (v.matchExpressions !== undefined) {
    const me = v.matchExpressions;
    if (!Array.isArray(me)) {
      r([...p, 'matchExpressions'], `must be a sequence of {key, operator, values} (found ${describe(me)})`);
      return;
    }
    me.forEach((e, i) => {
      const ep = [...p, 'matchExpressions', i];
      if (!isPlainObject(e)) {
        r(ep, `must be a mapping with key, operator and values (found ${describe(e)})`);
        return;
      }
      for (const k of Object.keys(e)) {
        if (!['key', 'operator', 'values'].includes(k)) r([...ep, k], 'is not a field of a label selector requirement (key, operator, values)');
      }
      if (typeof e.key !== 'string') r([...ep, 'key'], `must be a label key (found ${describe(e.key)})`);
      else {
        const problem = labelKeyProblem(e.key);
        if (problem) r([...ep, 'key'], `label key ${problem}`);
      }
      const op = e.operator;
      if (typeof op !== 'string' || !['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(op)) {
        r([...ep, 'operator'], `must be one of In, NotIn, Exists, DoesNotExist (found ${describe(op)})`);
        return;
      }
      const values = e.values;
      if (op === 'In' || op === 'NotIn') {
        if (!Array.isArray(values) || values.length === 0) r([...ep, 'values'], `must be a non-empty sequence of label values for operator ${op}`);
        else values.forEach((x, j) => {
          if (typeof x !== 'string' || !labelValueOk(x)) r([...ep, 'values', j], `must be a label value (found ${describe(x)})`);
        });
      } else if (values !== undefined && !(Array.isArray(values) && values.length === 0)) {
        r([...ep, 'values'], `must be empty for operator ${op}`);
      }
    });
  }
};

const namedItem = (what: string): Check => (v, p, r) => {
  if (!isPlainObject(v)) r(p, `must be a mapping (an ${what} with a name; found ${describe(v)})`);
  else if (typeof v.name !== 'string' || v.name === '') r([...p, 'name'], `every ${what} needs a name (a non-empty string)`);
};

/** Named items whose names must be unique too (istiod rejects a second provider of a name). */
const uniquelyNamedList = (what: string): Check => (v, p, r) => {
  listOf(namedItem(what))(v, p, r);
  if (!Array.isArray(v)) return;
  const first = new Map<string, number>();
  v.forEach((x, i) => {
    if (!isPlainObject(x) || typeof x.name !== 'string' || x.name === '') return;
    const seen = first.get(x.name);
    if (seen === undefined) first.set(x.name, i);
    else r([...p, i, 'name'], `duplicate ${what} name ${JSON.stringify(x.name)} (item ${seen} has it too)`);
  });
};

const outboundTrafficPolicy: Check = (v, p, r) => {
  if (!isPlainObject(v)) {
    r(p, `must be a mapping such as {mode: REGISTRY_ONLY} (found ${describe(v)})`);
    return;
  }
  if (v.mode !== undefined) oneOf('ALLOW_ANY', 'REGISTRY_ONLY')(v.mode, [...p, 'mode'], r);
};

/** Value checks of top-level MeshConfig fields (not every field; unknown shapes are left to istiod). */
export const MESH_CONFIG_FIELD_CHECKS: Readonly<Record<string, Check>> = {
  defaultConfig: mapping,
  outboundTrafficPolicy,
  accessLogFile: str,
  accessLogFormat: str,
  accessLogEncoding: oneOf('TEXT', 'JSON'),
  enableEnvoyAccessLogService: bool,
  disableEnvoyListenerLog: bool,
  discoverySelectors: listOf(labelSelector),
  proxyListenPort: port,
  proxyInboundListenPort: port,
  proxyHttpPort: port,
  connectTimeout: duration,
  tcpKeepalive: mapping,
  extensionProviders: uniquelyNamedList('extension provider'),
  defaultProviders: mapping,
  enableTracing: bool,
  trustDomain: str,
  trustDomainAliases: listOf(str),
  caCertificates: listOf(mapping),
  defaultServiceExportTo: listOf(str),
  defaultVirtualServiceExportTo: listOf(str),
  defaultDestinationRuleExportTo: listOf(str),
  localityLbSetting: mapping,
  dnsRefreshRate: duration,
  h2UpgradePolicy: oneOf('DO_NOT_UPGRADE', 'UPGRADE'),
  enablePrometheusMerge: bool,
  pathNormalization: mapping,
  defaultHttpRetryPolicy: mapping,
  serviceSettings: listOf(mapping),
  meshMTLS: mapping,
  tlsDefaults: mapping,
  ingressService: str,
  ingressSelector: str,
};

/** Value checks of ProxyConfig fields (`defaultConfig.<field>`). */
export const PROXY_CONFIG_FIELD_CHECKS: Readonly<Record<string, Check>> = {
  drainDuration: duration,
  terminationDrainDuration: duration,
  concurrency,
  holdApplicationUntilProxyStarts: bool,
  tracingServiceName: oneOf('APP_LABEL_AND_NAMESPACE', 'CANONICAL_NAME_ONLY', 'CANONICAL_NAME_AND_NAMESPACE'),
  statsUdpAddress: str,
  proxyAdminPort: port,
  statusPort: port,
  tracing: mapping,
  envoyAccessLogService: mapping,
  envoyMetricsService: mapping,
  proxyMetadata: stringMap,
  extraStatTags: listOf(str),
  gatewayTopology: mapping,
  proxyStatsMatcher: mapping,
  meshId: str,
  caCertificatesPem: listOf(str),
  privateKeyProvider: mapping,
  proxyHeaders: mapping,
};

function editDistance(a: string, b: string): number {
  const al = a.toLowerCase();
  const bl = b.toLowerCase();
  let prev = Array.from({ length: bl.length + 1 }, (_, i) => i);
  for (let i = 1; i <= al.length; i++) {
    const cur = [i];
    for (let j = 1; j <= bl.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (al[i - 1] === bl[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[bl.length];
}

/** The accepted field a blocked key was probably meant to be (a typo or wrong case), if any. */
function suggestion(policy: MeshConfigPolicy, key: string, proxy: boolean): string | undefined {
  let best: { field: string; d: number } | undefined;
  for (const [path, cls] of policy.fields) {
    if (cls === 'blocked') continue;
    const isProxy = path.startsWith(PROXY_CONFIG_PREFIX);
    if (isProxy !== proxy) continue;
    const field = isProxy ? path.slice(PROXY_CONFIG_PREFIX.length) : path;
    if (Math.abs(field.length - key.length) > 3) continue;
    const d = editDistance(key, field);
    if (d <= Math.max(1, Math.floor(field.length / 6)) && (!best || d < best.d)) best = { field, d };
  }
  return best?.field;
}

/** A page of findings is enough to act on, and bounds the work a huge document costs. */
const MAX_FINDINGS = 100;

export interface ValidateOptions {
  /** Key positions from {@link parseMeshConfigYaml}, to give findings a line and column. */
  positions?: ReadonlyMap<string, SourcePosition>;
}

/**
 * Findings for a parsed shared MeshConfig document under `policy`. Fields are checked at
 * the granularity the add-on classifies them: top-level MeshConfig fields and
 * `defaultConfig.<ProxyConfig field>`.
 */
export function validateMeshConfig(
  doc: Record<string, unknown>,
  policy: MeshConfigPolicy,
  options: ValidateOptions = {},
): MeshConfigFinding[] {
  const findings: MeshConfigFinding[] = [];
  const positionOf = (path: Path): SourcePosition | undefined => {
    for (let n = path.length; n > 0; n--) {
      const pos = options.positions?.get(formatPath(path.slice(0, n)));
      if (pos) return pos;
    }
    return undefined;
  };
  const report: Report = (path, message, severity = 'error') => {
    findings.push({ severity, path: formatPath(path), message, ...(positionOf(path) ?? {}) });
  };
  const checkValue = (check: Check | undefined, value: unknown, path: Path) => {
    if (value === null) {
      report(path, 'has no value (null), so it is left unset; remove the line or give it a value', 'warning');
      return;
    }
    check?.(value, path, report);
  };
  const classify = (path: Path, proxy: boolean): boolean => {
    const cls = classifyMeshConfigPath(policy, path);
    const key = String(path[path.length - 1]);
    const what = proxy ? 'ProxyConfig field' : 'MeshConfig field';
    if (cls === 'blocked') {
      const hint = suggestion(policy, key, proxy);
      report(
        path,
        `is blocked on ${policy.revision}: not a supported or allowed ${what} of the AKS Istio add-on, so its admission webhook would reject the ConfigMap${hint ? ` (did you mean ${proxy ? PROXY_CONFIG_PREFIX : ''}${hint}?)` : ''}`,
      );
      return false;
    }
    if (cls === 'allowed') {
      report(path, `is allowed but not supported on ${policy.revision}: the add-on accepts it, Azure support does not cover it`, 'warning');
    }
    return true;
  };

  const keys = Object.keys(doc);
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k];
    const value = doc[key];
    if (findings.length >= MAX_FINDINGS) {
      findings.push({ severity: 'error', path: '', message: `Too many problems: ${MAX_FINDINGS} are listed, the other ${keys.length - k} top-level fields were not checked.` });
      break;
    }
    if (!classify([key], false)) continue;
    checkValue(MESH_CONFIG_FIELD_CHECKS[key], value, [key]);
    if (key === 'defaultConfig' && isPlainObject(value)) {
      for (const [pkey, pvalue] of Object.entries(value)) {
        const path = ['defaultConfig', pkey];
        if (!classify(path, true)) continue;
        checkValue(PROXY_CONFIG_FIELD_CHECKS[pkey], pvalue, path);
      }
    }
  }
  return findings;
}
