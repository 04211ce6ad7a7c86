/**
 * Istio control-plane revision names.
 *
 * Two naming schemes meet in one fleet: the AKS add-on names revisions `asm-<major>-<minor>`
 * (one per minor; patches roll out in place), upstream installs usually name them
 * `<major>-<minor>-<patch>`. Anything else that is a valid label value (`default`,
 * `prod-stable`, `canary`) is a revision tag or a custom revision name.
 */

/** A parsed revision name. */
export type Revision =
  | { kind: 'aks'; name: string; major: number; minor: number }
  | { kind: 'upstream'; name: string; major: number; minor: number; patch?: number }
  | { kind: 'custom'; name: string };

const AKS_REVISION = /^asm-(\d{1,3})-(\d{1,3})$/;
const UPSTREAM_REVISION = /^(\d{1,3})-(\d{1,3})(?:-(\d{1,3}))?$/;
// istio.io/rev is a label value that also becomes part of object names (istiod-<rev>),
// so it must be a DNS-1123 label.
const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** True when `name` can be a revision name (a DNS-1123 label of at most 63 characters). */
export function isValidRevisionName(name: string): boolean {
  return name.length <= 63 && DNS_1123_LABEL.test(name);
}

/** Parses a revision name; returns undefined when it cannot be a revision. */
export function parseRevision(name: string): Revision | undefined {
  if (!isValidRevisionName(name)) {
    return undefined;
  }
  const aks = AKS_REVISION.exec(name);
  if (aks) {
    return { kind: 'aks', name, major: Number(aks[1]), minor: Number(aks[2]) };
  }
  const upstream = UPSTREAM_REVISION.exec(name);
  if (upstream) {
    return {
      kind: 'upstream',
      name,
      major: Number(upstream[1]),
      minor: Number(upstream[2]),
      ...(upstream[3] !== undefined ? { patch: Number(upstream[3]) } : {}),
    };
  }
  return { kind: 'custom', name };
}

/**
 * Orders two revisions by Istio version. Custom names carry no version, so they sort
 * after versioned ones, by name; the result is stable for any mix.
 */
export function compareRevisions(a: string, b: string): number {
  const ra = parseRevision(a);
  const rb = parseRevision(b);
  const versioned = (r?: Revision) => r && r.kind !== 'custom';
  if (versioned(ra) && versioned(rb)) {
    const va = ra as Exclude<Revision, { kind: 'custom' }>;
    const vb = rb as Exclude<Revision, { kind: 'custom' }>;
    return (
      va.major - vb.major ||
      va.minor - vb.minor ||
      patchOf(va) - patchOf(vb) ||
      a.localeCompare(b)
    );
  }
  if (versioned(ra)) return -1;
  if (versioned(rb)) return 1;
  return a.localeCompare(b);
}

function patchOf(r: Revision): number {
  return r.kind === 'upstream' ? r.patch ?? 0 : 0;
}

/** The `major.minor` an Istio version or revision belongs to, e.g. `1.29`. */
export function minorVersionOf(revision: string): string | undefined {
  const r = parseRevision(revision);
  return r && r.kind !== 'custom' ? `${r.major}.${r.minor}` : undefined;
}

/** How many minor versions `to` is ahead of `from` (negative for a downgrade). */
export function minorDistance(from: string, to: string): number | undefined {
  const a = parseRevision(from);
  const b = parseRevision(to);
  if (!a || !b || a.kind === 'custom' || b.kind === 'custom') return undefined;
  if (a.major !== b.major) return undefined;
  return b.minor - a.minor;
}

/** The revision name for the next minor in the same naming scheme (`asm-1-29` → `asm-1-30`). */
export function nextMinorRevision(revision: string): string | undefined {
  const r = parseRevision(revision);
  if (!r || r.kind === 'custom') return undefined;
  if (r.kind === 'aks') return `asm-${r.major}-${r.minor + 1}`;
  return `${r.major}-${r.minor + 1}-0`;
}

/** Sorted, de-duplicated revisions. */
export function sortRevisions(revisions: Iterable<string>): string[] {
  return [...new Set(revisions)].sort(compareRevisions);
}

/**
 * The proxy version in an `istio-proxy` image reference:
 * `mcr.microsoft.com/oss/istio/proxyv2:1.29.1-distroless` → `1.29.1`.
 */
export function proxyVersionFromImage(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const withoutDigest = image.split('@')[0];
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  if (colon <= slash) return undefined;
  const tag = withoutDigest.slice(colon + 1);
  const version = /^(\d+\.\d+\.\d+(?:-(?:alpha|beta|rc)\.?\d*)?)/.exec(tag);
  return version?.[1];
}

/**
 * The revision a sidecar's CA address points at:
 * `istiod-asm-1-29.aks-istio-system.svc:15012` → `asm-1-29`. Plain `istiod.<ns>` is the
 * unrevisioned (`default`) control plane.
 */
export function revisionFromCaAddress(caAddr: string | undefined): string | undefined {
  if (!caAddr) return undefined;
  const host = caAddr.split(':')[0].split('.')[0];
  if (host === 'istiod') return 'default';
  const m = /^istiod-(.+)$/.exec(host);
  return m && isValidRevisionName(m[1]) ? m[1] : undefined;
}

/** The revision an `istiod-<rev>` Deployment serves. */
export function revisionFromIstiodName(name: string): string | undefined {
  if (name === 'istiod') return 'default';
  const m = /^istiod-(.+)$/.exec(name);
  return m && isValidRevisionName(m[1]) ? m[1] : undefined;
}
