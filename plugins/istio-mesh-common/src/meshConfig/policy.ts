/**
 * Which MeshConfig fields the AKS Istio add-on accepts in `istio-shared-configmap-<rev>`,
 * kept as data because Azure changes the list between revisions
 * (`shared/domain/aks-istio.md` §5, from the add-on's "MeshConfig support" page).
 *
 * - `supported`: covered by Azure support.
 * - `allowed`: accepted by the add-on's admission webhook, not covered by support.
 * - `blocked`: everything else; the webhook rejects the ConfigMap.
 *
 * To update it: change {@link DEFAULT_MESH_CONFIG_POLICY} when a change applies to every
 * revision, or append a {@link MeshConfigPolicyOverride} (`since` / `until` revision) to
 * {@link MESH_CONFIG_POLICY_OVERRIDES} when it applies from (or up to) a revision. Paths
 * are top-level MeshConfig fields (`trustDomain`) or ProxyConfig fields under
 * `defaultConfig.` (`defaultConfig.concurrency`). docs/meshconfig.md has the steps.
 */
import { compareRevisions, parseRevision } from '../revision';

export type MeshConfigFieldClass = 'supported' | 'allowed' | 'blocked';

export interface MeshConfigPolicyTable {
  /** Top-level MeshConfig fields. */
  meshConfig: { supported: readonly string[]; allowed: readonly string[] };
  /** ProxyConfig fields, i.e. `defaultConfig.<field>`. */
  proxyConfig: { supported: readonly string[]; allowed: readonly string[] };
}

/** The classification of every AKS revision unless an override says otherwise. */
export const DEFAULT_MESH_CONFIG_POLICY: MeshConfigPolicyTable = {
  meshConfig: {
    supported: [
      'defaultConfig',
      'outboundTrafficPolicy',
      'accessLogFile',
      'accessLogFormat',
      'accessLogEncoding',
      'enableEnvoyAccessLogService',
      'disableEnvoyListenerLog',
      'discoverySelectors',
    ],
    allowed: [
      'proxyListenPort',
      'proxyInboundListenPort',
      'proxyHttpPort',
      'connectTimeout',
      'tcpKeepalive',
      'extensionProviders',
      'defaultProviders',
      'enableTracing',
      'trustDomain',
      'trustDomainAliases',
      'caCertificates',
      'defaultServiceExportTo',
      'defaultVirtualServiceExportTo',
      'defaultDestinationRuleExportTo',
      'localityLbSetting',
      'dnsRefreshRate',
      'h2UpgradePolicy',
      'enablePrometheusMerge',
      'pathNormalization',
      'defaultHttpRetryPolicy',
      'serviceSettings',
      'meshMTLS',
      'tlsDefaults',
      'ingressService',
      'ingressSelector',
    ],
  },
  proxyConfig: {
    supported: ['drainDuration', 'concurrency', 'terminationDrainDuration', 'holdApplicationUntilProxyStarts'],
    allowed: [
      'tracingServiceName',
      'statsUdpAddress',
      'proxyAdminPort',
      'tracing',
      'envoyAccessLogService',
      'envoyMetricsService',
      'proxyMetadata',
      'statusPort',
      'extraStatTags',
      'gatewayTopology',
      'proxyStatsMatcher',
      'meshId',
      'caCertificatesPem',
      'privateKeyProvider',
      'proxyHeaders',
    ],
  },
};

/** A change of the classification for a range of AKS revisions. */
export interface MeshConfigPolicyOverride {
  /** First AKS revision it applies to (inclusive), e.g. `asm-1-28`; absent: from the first. */
  since?: string;
  /** First AKS revision it no longer applies to (exclusive); absent: every later one. */
  until?: string;
  /** Field path (`trustDomain`, `defaultConfig.meshId`) → its class in that range. */
  fields: Readonly<Record<string, MeshConfigFieldClass>>;
  /** Where the change was read (release notes, docs page), for whoever reviews it. */
  source: string;
}

/**
 * Per-revision changes, applied in order on top of the default table. Empty while the
 * add-on's published list is the same for every supported revision.
 */
export const MESH_CONFIG_POLICY_OVERRIDES: readonly MeshConfigPolicyOverride[] = [];

/** The classification for one revision. */
export interface MeshConfigPolicy {
  revision: string;
  /** Path (`field` or `defaultConfig.field`) → class; unlisted paths are blocked. */
  fields: ReadonlyMap<string, MeshConfigFieldClass>;
}

export const PROXY_CONFIG_PREFIX = 'defaultConfig.';

function inRange(revision: string, o: MeshConfigPolicyOverride): boolean {
  if (o.since && compareRevisions(revision, o.since) < 0) return false;
  if (o.until && compareRevisions(revision, o.until) >= 0) return false;
  return true;
}

/**
 * The classification of an AKS revision: the default table with the overrides whose range
 * holds the revision. Overrides only bind `asm-<major>-<minor>` revisions; a revision of
 * another scheme gets the default table.
 */
export function meshConfigPolicyFor(
  revision: string,
  table: MeshConfigPolicyTable = DEFAULT_MESH_CONFIG_POLICY,
  overrides: readonly MeshConfigPolicyOverride[] = MESH_CONFIG_POLICY_OVERRIDES,
): MeshConfigPolicy {
  const fields = new Map<string, MeshConfigFieldClass>();
  for (const f of table.meshConfig.supported) fields.set(f, 'supported');
  for (const f of table.meshConfig.allowed) fields.set(f, 'allowed');
  for (const f of table.proxyConfig.supported) fields.set(PROXY_CONFIG_PREFIX + f, 'supported');
  for (const f of table.proxyConfig.allowed) fields.set(PROXY_CONFIG_PREFIX + f, 'allowed');
  if (parseRevision(revision)?.kind === 'aks') {
    for (const o of overrides) {
      if (!inRange(revision, o)) continue;
      for (const [path, cls] of Object.entries(o.fields)) fields.set(path, cls);
    }
  }
  return { revision, fields };
}

/**
 * The policy field a path falls under: `outboundTrafficPolicy.mode` → `outboundTrafficPolicy`,
 * `defaultConfig.tracing.zipkin.address` → `defaultConfig.tracing`, `defaultConfig` → itself.
 * Path segments are the keys (see {@link formatPath}).
 */
export function policyFieldOf(segments: readonly (string | number)[]): string | undefined {
  if (segments.length === 0 || typeof segments[0] !== 'string') return undefined;
  if (segments[0] === 'defaultConfig' && segments.length > 1 && typeof segments[1] === 'string') {
    return PROXY_CONFIG_PREFIX + segments[1];
  }
  return segments[0];
}

/** The class of a field path (given as segments); anything the table does not list is blocked. */
export function classifyMeshConfigPath(
  policy: MeshConfigPolicy,
  segments: readonly (string | number)[],
): MeshConfigFieldClass {
  const field = policyFieldOf(segments);
  return (field && policy.fields.get(field)) || 'blocked';
}

/** The class of a dotted path such as `defaultConfig.concurrency` or `outboundTrafficPolicy.mode`. */
export function classifyMeshConfigField(policy: MeshConfigPolicy, path: string): MeshConfigFieldClass {
  return classifyMeshConfigPath(policy, path.split('.'));
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * A path for people and findings: `defaultConfig.concurrency`,
 * `discoverySelectors[0].matchLabels["app.kubernetes.io/name"]`.
 */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (PLAIN_KEY.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}
