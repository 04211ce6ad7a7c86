/**
 * The mesh's trust: which CA signs workload certificates (istiod's self-signed root or a
 * plug-in CA), which roots every namespace trusts (`istio-ca-root-cert`/`root-cert.pem`),
 * whether a root rotation is under way, which namespaces hold a stale bundle, and how
 * long the certificates have left. Pure functions over certificate facts; parsing X.509
 * is the backend's job (node's `crypto.X509Certificate`).
 */

/** What the portal reads from one X.509 certificate. */
export interface CertificateFacts {
  /** Distinguished name, one `attr=value` per RDN joined with `, ` (e.g. `C=NL, O=Contoso, CN=Root`). */
  subject: string;
  issuer: string;
  /** Hex, upper case, no separators (as node prints it). */
  serialNumber: string;
  /** ISO 8601. */
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the DER, `AA:BB:…` upper case. */
  fingerprintSha256: string;
  /** e.g. `RSA 2048`, `EC P-384`. */
  keyType: string;
  /** basicConstraints CA:TRUE. */
  isCA: boolean;
  /** Subject equals issuer and the certificate verifies with its own key. */
  selfIssued: boolean;
}

export type CertificateRole = 'root' | 'intermediate' | 'leaf';
export type CertificateValidity = 'valid' | 'expiring' | 'critical' | 'expired' | 'not-yet-valid';

export interface CertificateView extends CertificateFacts {
  role: CertificateRole;
  /** Whole days until notAfter (negative once expired). */
  daysLeft: number;
  validity: CertificateValidity;
  /** Namespaces whose bundle holds this certificate. */
  namespaces: string[];
}

export interface TrustThresholds {
  /** Warn when a CA certificate has fewer than this many days left. */
  warningDays: number;
  /** Critical when it has fewer than this many days left (or is expired). */
  criticalDays: number;
}

export const DEFAULT_TRUST_THRESHOLDS: TrustThresholds = { warningDays: 30, criticalDays: 7 };

/** Checks thresholds from configuration; returns the problem in plain words, if any. */
export function trustThresholdsProblem(t: TrustThresholds): string | undefined {
  for (const [key, value] of Object.entries(t)) {
    if (!Number.isInteger(value) || value < 0) return `istioMesh.trust.${key} must be a whole number of days, 0 or more (got ${value})`;
  }
  if (t.criticalDays > t.warningDays) {
    return `istioMesh.trust.criticalDays (${t.criticalDays}) must not exceed istioMesh.trust.warningDays (${t.warningDays})`;
  }
  return undefined;
}

/** Where one revision's istiod gets its signing CA, from its Deployment's volumes. */
export type IstiodCaSource =
  | { revision: string; type: 'self-signed' }
  /** A `cacerts` volume from the Secrets Store CSI driver (AKS plug-in CA from Key Vault). */
  | { revision: string; type: 'csi'; secretProviderClass?: string }
  /** A `cacerts` volume from a Secret (upstream Istio's plug-in CA). */
  | { revision: string; type: 'secret'; secretName?: string };

/** The parts of an istiod Deployment that say where its CA comes from. */
export interface IstiodDeploymentLike {
  metadata?: { labels?: Record<string, string> };
  spec?: { template?: { spec?: { volumes?: Array<{ name?: string; csi?: { driver?: string; volumeAttributes?: Record<string, string> }; secret?: { secretName?: string } }> } } };
}

/**
 * Where an istiod gets its CA: a volume named `cacerts` (mounted at `/etc/cacerts`) from
 * the Secrets Store CSI driver (AKS plug-in CA) or from a Secret (upstream), else its own
 * self-signed root.
 */
export function istiodCaSource(revision: string, deployment: IstiodDeploymentLike): IstiodCaSource {
  const volume = deployment.spec?.template?.spec?.volumes?.find(v => v.name === 'cacerts');
  if (volume?.csi) {
    const spc = volume.csi.volumeAttributes?.secretProviderClass;
    return { revision, type: 'csi', ...(spc ? { secretProviderClass: spc } : {}) };
  }
  if (volume?.secret) return { revision, type: 'secret', ...(volume.secret.secretName ? { secretName: volume.secret.secretName } : {}) };
  return { revision, type: 'self-signed' };
}

/** One namespace's `istio-ca-root-cert`: its parsed certificates, or why it could not be read. */
export interface TrustBundleInput {
  namespace: string;
  certificates: CertificateFacts[];
  /** Set when `root-cert.pem` is missing, empty or not PEM/X.509; then `certificates` holds what did parse. */
  error?: string;
}

export interface TrustInput {
  /** Where istiod runs (`aks-istio-system`, `istio-system`): its bundle is the reference. */
  controlPlaneNamespace: string;
  istiod: IstiodCaSource[];
  /**
   * SecretProviderClass names in the control-plane namespace; undefined when the cluster
   * does not serve that kind (no Secrets Store CSI driver).
   */
  secretProviderClasses?: string[];
  bundles: TrustBundleInput[];
  /** Meshed namespaces; one without a bundle is reported as missing. */
  meshedNamespaces?: string[];
  now: Date;
  thresholds?: TrustThresholds;
}

export type CaMode = 'self-signed' | 'plug-in' | 'mixed' | 'unknown';

export interface CaSourceView {
  revision: string;
  mode: 'self-signed' | 'plug-in';
  /** `csi` (SecretProviderClass) or `secret` for a plug-in CA. */
  via?: 'csi' | 'secret';
  secretProviderClass?: string;
  /** Whether that SecretProviderClass exists; undefined when the cluster does not serve the kind. */
  secretProviderClassFound?: boolean;
  secretName?: string;
}

export type BundleState = 'current' | 'stale' | 'missing' | 'invalid';

export interface NamespaceBundleView {
  namespace: string;
  state: BundleState;
  /** Fingerprints of the certificates in the bundle, in order. */
  fingerprints: string[];
  /** Reference roots the bundle lacks (stale). */
  missing: string[];
  /** Certificates the bundle has that the reference lacks (stale). */
  extra: string[];
  error?: string;
}

export type TrustWarningKind = 'expiry' | 'expired' | 'not-yet-valid' | 'stale-bundle' | 'missing-bundle' | 'invalid-bundle' | 'ca-source';

export interface TrustWarning {
  severity: 'warning' | 'critical';
  kind: TrustWarningKind;
  message: string;
  fingerprint?: string;
  namespace?: string;
}

export interface TrustAnalysis {
  caMode: CaMode;
  caSources: CaSourceView[];
  /** The bundle the others are compared with, and why it was chosen. */
  reference: { namespace?: string; source: 'control-plane-namespace' | 'majority' | 'none' };
  roots: CertificateView[];
  intermediates: CertificateView[];
  /** Certificates in bundles that are neither CA (should not be there). */
  leaves: CertificateView[];
  rotation: { inProgress: boolean; roots: number; message?: string };
  namespaces: NamespaceBundleView[];
  staleNamespaces: string[];
  warnings: TrustWarning[];
  /** The CA certificate that expires first (of the reference bundle, else of all). */
  earliestExpiry?: { subject: string; fingerprintSha256: string; notAfter: string; daysLeft: number };
}

const DAY_MS = 86_400_000;

/** Whole days from `now` to `notAfter`, rounded down (negative once expired). */
export function daysLeft(notAfter: string, now: Date): number {
  return Math.floor((Date.parse(notAfter) - now.getTime()) / DAY_MS);
}

export function certificateRole(c: Pick<CertificateFacts, 'isCA' | 'selfIssued'>): CertificateRole {
  if (c.isCA && c.selfIssued) return 'root';
  return c.isCA ? 'intermediate' : 'leaf';
}

export function certificateValidity(c: Pick<CertificateFacts, 'notBefore' | 'notAfter'>, now: Date, thresholds: TrustThresholds = DEFAULT_TRUST_THRESHOLDS): CertificateValidity {
  if (Date.parse(c.notBefore) > now.getTime()) return 'not-yet-valid';
  if (Date.parse(c.notAfter) <= now.getTime()) return 'expired';
  const left = daysLeft(c.notAfter, now);
  if (left < thresholds.criticalDays) return 'critical';
  if (left < thresholds.warningDays) return 'expiring';
  return 'valid';
}

/** The CN of a subject if it has one, else the whole subject (for messages). */
export function displayName(subject: string): string {
  const cn = /(?:^|,\s*)CN=([^,]+)/.exec(subject);
  return cn ? cn[1] : subject;
}

/**
 * The CA mode from istiod's volumes: a `cacerts` volume (CSI SecretProviderClass
 * `istio-spc-<rev>` on AKS, or a Secret upstream) means a plug-in CA; none means istiod's
 * self-signed root. Revisions that disagree are `mixed` (a switch needs disable/re-enable
 * on AKS, so this is a misconfiguration worth seeing).
 */
export function caSources(istiod: IstiodCaSource[], secretProviderClasses: string[] | undefined): CaSourceView[] {
  return istiod.map(source => {
    switch (source.type) {
      case 'self-signed':
        return { revision: source.revision, mode: 'self-signed' };
      case 'csi':
        return {
          revision: source.revision,
          mode: 'plug-in',
          via: 'csi',
          ...(source.secretProviderClass ? { secretProviderClass: source.secretProviderClass } : {}),
          ...(secretProviderClasses !== undefined && source.secretProviderClass
            ? { secretProviderClassFound: secretProviderClasses.includes(source.secretProviderClass) }
            : {}),
        };
      default:
        return { revision: source.revision, mode: 'plug-in', via: 'secret', ...(source.secretName ? { secretName: source.secretName } : {}) };
    }
  });
}

export function caModeOf(sources: CaSourceView[]): CaMode {
  const modes = new Set(sources.map(s => s.mode));
  if (modes.size === 0) return 'unknown';
  if (modes.size > 1) return 'mixed';
  return [...modes][0];
}

const keyOf = (fingerprints: string[]) => [...new Set(fingerprints)].sort().join(' ');

/**
 * The bundle every namespace should hold. istiod publishes its CA's roots to every
 * namespace, starting with its own, so the control-plane namespace's bundle is the
 * reference; when that one is missing or unreadable, the bundle most namespaces hold
 * (ties: more certificates, i.e. the newer publication during a rotation; then the
 * namespace name).
 */
export function referenceBundle(controlPlaneNamespace: string, bundles: TrustBundleInput[]): TrustAnalysis['reference'] & { bundle?: TrustBundleInput } {
  const usable = bundles.filter(b => !b.error && b.certificates.length > 0);
  const own = usable.find(b => b.namespace === controlPlaneNamespace);
  if (own) return { namespace: own.namespace, source: 'control-plane-namespace', bundle: own };
  if (usable.length === 0) return { source: 'none' };
  const counts = new Map<string, number>();
  for (const b of usable) {
    const k = keyOf(b.certificates.map(c => c.fingerprintSha256));
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const best = [...usable].sort((a, b) => {
    const ka = keyOf(a.certificates.map(c => c.fingerprintSha256));
    const kb = keyOf(b.certificates.map(c => c.fingerprintSha256));
    return (counts.get(kb)! - counts.get(ka)!) || b.certificates.length - a.certificates.length || a.namespace.localeCompare(b.namespace);
  })[0];
  return { namespace: best.namespace, source: 'majority', bundle: best };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function expiryDate(notAfter: string): string {
  return notAfter.slice(0, 10);
}

/** The whole trust picture of one cluster. */
export function analyzeTrust(input: TrustInput): TrustAnalysis {
  const thresholds = input.thresholds ?? DEFAULT_TRUST_THRESHOLDS;
  const { now } = input;
  const sources = caSources(input.istiod, input.secretProviderClasses);
  const caMode = caModeOf(sources);
  const { bundle: reference, ...referenceInfo } = referenceBundle(input.controlPlaneNamespace, input.bundles);
  const referenceSet = new Set(reference?.certificates.map(c => c.fingerprintSha256) ?? []);
  const warnings: TrustWarning[] = [];

  // Every distinct certificate, with the namespaces that hold it.
  const byFingerprint = new Map<string, { facts: CertificateFacts; namespaces: string[] }>();
  for (const b of input.bundles) {
    for (const c of b.certificates) {
      const entry = byFingerprint.get(c.fingerprintSha256);
      if (entry) {
        if (!entry.namespaces.includes(b.namespace)) entry.namespaces.push(b.namespace);
      } else byFingerprint.set(c.fingerprintSha256, { facts: c, namespaces: [b.namespace] });
    }
  }
  const views: CertificateView[] = [...byFingerprint.values()].map(({ facts, namespaces }) => ({
    ...facts,
    role: certificateRole(facts),
    daysLeft: daysLeft(facts.notAfter, now),
    validity: certificateValidity(facts, now, thresholds),
    namespaces: [...namespaces].sort(),
  }));
  // Reference certificates first (in bundle order), then the rest by expiry.
  const order = new Map((reference?.certificates ?? []).map((c, i) => [c.fingerprintSha256, i]));
  views.sort((a, b) => (order.get(a.fingerprintSha256) ?? Infinity) - (order.get(b.fingerprintSha256) ?? Infinity) || a.notAfter.localeCompare(b.notAfter) || a.fingerprintSha256.localeCompare(b.fingerprintSha256));

  const referenceRoots = (reference?.certificates ?? []).filter(c => certificateRole(c) === 'root');
  const rotation: TrustAnalysis['rotation'] = { inProgress: referenceRoots.length >= 2, roots: referenceRoots.length };
  if (rotation.inProgress) {
    const byExpiry = [...referenceRoots].sort((a, b) => a.notAfter.localeCompare(b.notAfter));
    const oldest = byExpiry[0];
    const newest = [...referenceRoots].sort((a, b) => b.notBefore.localeCompare(a.notBefore))[0];
    rotation.message =
      `Root rotation in progress: ${referenceRoots.length} roots are trusted. ` +
      `Restart workloads (or wait 24 h) so every proxy holds a certificate from ${displayName(newest.subject)}, ` +
      `then remove ${displayName(oldest.subject)} (expires ${expiryDate(oldest.notAfter)}) from the bundle.`;
  }

  for (const v of views) {
    if (v.role === 'leaf') continue;
    const what = `${v.role === 'root' ? 'Root' : 'Intermediate'} certificate ${displayName(v.subject)}`;
    const where = referenceSet.has(v.fingerprintSha256) ? '' : ` (only in ${v.namespaces.join(', ')})`;
    const finish = rotation.inProgress && v.role === 'root' && referenceRoots.length > 1 && referenceRoots.some(r => r.notAfter > v.notAfter)
      ? '; finish the root rotation before then'
      : '';
    switch (v.validity) {
      case 'expired':
        warnings.push({ severity: 'critical', kind: 'expired', fingerprint: v.fingerprintSha256, message: `${what}${where} expired on ${expiryDate(v.notAfter)}: mTLS with certificates it signed fails.` });
        break;
      case 'critical':
      case 'expiring':
        warnings.push({
          severity: v.validity === 'critical' ? 'critical' : 'warning',
          kind: 'expiry',
          fingerprint: v.fingerprintSha256,
          message: `${what}${where} expires in ${plural(v.daysLeft, 'day')} (${expiryDate(v.notAfter)})${finish}.`,
        });
        break;
      case 'not-yet-valid':
        warnings.push({ severity: 'warning', kind: 'not-yet-valid', fingerprint: v.fingerprintSha256, message: `${what}${where} is not valid before ${v.notBefore.slice(0, 10)}.` });
        break;
      default:
    }
  }
  for (const v of views.filter(c => c.role === 'leaf')) {
    warnings.push({ severity: 'warning', kind: 'invalid-bundle', fingerprint: v.fingerprintSha256, message: `A non-CA certificate (${displayName(v.subject)}) is in the trust bundle of ${v.namespaces.join(', ')}.` });
  }

  const namespaces: NamespaceBundleView[] = input.bundles.map(b => {
    const fingerprints = b.certificates.map(c => c.fingerprintSha256);
    if (b.error) return { namespace: b.namespace, state: 'invalid', fingerprints, missing: [], extra: [], error: b.error };
    const set = new Set(fingerprints);
    const missing = [...referenceSet].filter(f => !set.has(f));
    const extra = [...set].filter(f => !referenceSet.has(f));
    const stale = reference !== undefined && (missing.length > 0 || extra.length > 0);
    return { namespace: b.namespace, state: stale ? 'stale' : 'current', fingerprints, missing, extra };
  });
  const withBundle = new Set(input.bundles.map(b => b.namespace));
  for (const ns of input.meshedNamespaces ?? []) {
    if (!withBundle.has(ns)) namespaces.push({ namespace: ns, state: 'missing', fingerprints: [], missing: [...referenceSet], extra: [] });
  }
  namespaces.sort((a, b) => a.namespace.localeCompare(b.namespace));
  const staleNamespaces = namespaces.filter(n => n.state === 'stale').map(n => n.namespace);
  const subjectOf = (f: string) => displayName(byFingerprint.get(f)?.facts.subject ?? f);
  for (const n of namespaces) {
    if (n.state === 'stale') {
      const parts = [
        ...(n.missing.length ? [`lacks ${n.missing.map(subjectOf).join(', ')}`] : []),
        ...(n.extra.length ? [`still trusts ${n.extra.map(subjectOf).join(', ')}`] : []),
      ];
      warnings.push({
        severity: 'warning',
        kind: 'stale-bundle',
        namespace: n.namespace,
        message: `Namespace ${n.namespace} has a stale trust bundle: it ${parts.join(' and ')} compared with ${reference!.namespace}.`,
      });
    } else if (n.state === 'missing') {
      warnings.push({ severity: 'warning', kind: 'missing-bundle', namespace: n.namespace, message: `Meshed namespace ${n.namespace} has no istio-ca-root-cert ConfigMap: its proxies cannot verify peers.` });
    } else if (n.state === 'invalid') {
      warnings.push({ severity: 'warning', kind: 'invalid-bundle', namespace: n.namespace, message: `The trust bundle of ${n.namespace} is unreadable: ${n.error}` });
    }
  }
  for (const s of sources) {
    if (s.secretProviderClassFound === false) {
      warnings.push({ severity: 'critical', kind: 'ca-source', message: `istiod ${s.revision} mounts cacerts from SecretProviderClass ${s.secretProviderClass}, which does not exist: its pods cannot start.` });
    }
  }
  if (caMode === 'mixed') {
    warnings.push({ severity: 'warning', kind: 'ca-source', message: `Revisions disagree on the CA: ${sources.map(s => `${s.revision} ${s.mode}`).join(', ')}. Workloads of one revision may not trust the other's.` });
  }

  const ca = views.filter(v => v.role !== 'leaf');
  const pool = ca.filter(v => referenceSet.has(v.fingerprintSha256));
  const first = [...(pool.length ? pool : ca)].sort((a, b) => a.notAfter.localeCompare(b.notAfter))[0];
  return {
    caMode,
    caSources: sources,
    reference: referenceInfo,
    roots: views.filter(v => v.role === 'root'),
    intermediates: views.filter(v => v.role === 'intermediate'),
    leaves: views.filter(v => v.role === 'leaf'),
    rotation,
    namespaces,
    staleNamespaces,
    // Critical first; otherwise in the order found (stable sort).
    warnings: warnings.sort((a, b) => Number(b.severity === 'critical') - Number(a.severity === 'critical')),
    ...(first ? { earliestExpiry: { subject: first.subject, fingerprintSha256: first.fingerprintSha256, notAfter: first.notAfter, daysLeft: first.daysLeft } } : {}),
  };
}

const NAMESPACE_KIND_WORDS: Partial<Record<TrustWarningKind, string>> = {
  'stale-bundle': 'have a stale trust bundle',
  'missing-bundle': 'have no istio-ca-root-cert ConfigMap',
  'invalid-bundle': 'have an unreadable trust bundle',
};

/**
 * Warnings for a cluster's health reasons: per-namespace warnings of one kind beyond
 * `max` become one line ("12 namespaces have a stale trust bundle: a, b, c, …"), so a
 * cluster with hundreds of namespaces still has a readable card. The trust endpoint keeps
 * every warning.
 */
export function condenseTrustWarnings(warnings: TrustWarning[], max = 3): TrustWarning[] {
  const out: TrustWarning[] = [];
  const byKind = new Map<TrustWarningKind, TrustWarning[]>();
  for (const w of warnings) {
    if (w.namespace && NAMESPACE_KIND_WORDS[w.kind]) {
      const list = byKind.get(w.kind) ?? [];
      if (list.length === 0) byKind.set(w.kind, list);
      list.push(w);
    }
  }
  const emitted = new Set<TrustWarningKind>();
  for (const w of warnings) {
    const group = w.namespace ? byKind.get(w.kind) : undefined;
    if (!group || group.length <= max) {
      out.push(w);
      continue;
    }
    if (emitted.has(w.kind)) continue;
    emitted.add(w.kind);
    const names = group.map(g => g.namespace!);
    out.push({
      severity: group.some(g => g.severity === 'critical') ? 'critical' : 'warning',
      kind: w.kind,
      message: `${names.length} namespaces ${NAMESPACE_KIND_WORDS[w.kind]}: ${names.slice(0, max).join(', ')}, …`,
    });
  }
  return out;
}

/** The part of a cluster's trust the overview shows on its card. */
export interface TrustSummary {
  caMode: CaMode;
  rotationInProgress: boolean;
  roots: number;
  staleNamespaces: number;
  earliestExpiry?: TrustAnalysis['earliestExpiry'];
  warnings: TrustWarning[];
  /** Set when the trust bundles could not be read; the rest of the summary is then empty. */
  error?: string;
}

export function summarizeTrust(analysis: TrustAnalysis): TrustSummary {
  return {
    caMode: analysis.caMode,
    rotationInProgress: analysis.rotation.inProgress,
    roots: analysis.roots.length,
    staleNamespaces: analysis.staleNamespaces.length,
    ...(analysis.earliestExpiry ? { earliestExpiry: analysis.earliestExpiry } : {}),
    warnings: analysis.warnings,
  };
}

/** `GET /v1/clusters/:cluster/trust`. */
export interface ClusterTrustResponse extends TrustAnalysis {
  cluster: string;
  fetchedAt: string;
  thresholds: TrustThresholds;
  /** Set when the bundles could not be read (e.g. the Kubernetes backend's account may not list ConfigMaps). */
  error?: { name: string; message: string };
}
