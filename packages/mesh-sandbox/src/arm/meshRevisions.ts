/**
 * Which Istio add-on revisions AKS supports, where each can be upgraded to, and which
 * Kubernetes versions each runs on: the data behind `meshRevisionProfiles` and
 * `meshUpgradeProfiles`. Revisions reach end of life roughly every quarter; edit this
 * table (not the code) when they do.
 */
export interface MeshRevisionData {
  revision: string;
  /** Revisions a cluster on this one may canary-upgrade to (n+1, n+2). */
  upgrades: string[];
  /** Kubernetes minor versions (`1.34`) the revision is compatible with. */
  kubernetesVersions: string[];
}

/** The product name of `compatibleWith` entries, as in the AKS REST API's examples. */
export const COMPATIBLE_WITH_NAME = 'kubernetes';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `1.${from + i}`);

export const MESH_REVISIONS: MeshRevisionData[] = [
  { revision: 'asm-1-28', upgrades: ['asm-1-29', 'asm-1-30'], kubernetesVersions: range(30, 35) },
  { revision: 'asm-1-29', upgrades: ['asm-1-30'], kubernetesVersions: range(31, 36) },
  { revision: 'asm-1-30', upgrades: [], kubernetesVersions: range(32, 36) },
];

/** The most revisions a cluster may run at once (stable and canary). */
export const MAX_REVISIONS = 2;

/** `asm-1-29` → a number that orders revisions (1029); NaN for other names. */
export function revisionOrder(revision: string): number {
  const m = /^asm-(\d+)-(\d+)$/.exec(revision);
  return m ? Number(m[1]) * 1000 + Number(m[2]) : NaN;
}

export function sortRevisions(revisions: string[]): string[] {
  return [...revisions].sort((a, b) => revisionOrder(a) - revisionOrder(b));
}

/** `1.34.2`, `v1.34.2` or `1.34` → `1.34`. */
export function kubernetesMinor(version: string): string {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  return m ? `${m[1]}.${m[2]}` : version;
}

export function findRevision(revisions: MeshRevisionData[], revision: string): MeshRevisionData | undefined {
  return revisions.find(r => r.revision === revision);
}

export function isCompatible(data: MeshRevisionData, kubernetesVersion: string): boolean {
  return data.kubernetesVersions.includes(kubernetesMinor(kubernetesVersion));
}

/** The ARM shape of one revision (`meshRevisions[]` items and `meshUpgradeProfiles` properties). */
export function toArmMeshRevision(data: MeshRevisionData, upgrades: string[] = data.upgrades) {
  return {
    revision: data.revision,
    upgrades: [...upgrades],
    compatibleWith: [{ name: COMPATIBLE_WITH_NAME, versions: [...data.kubernetesVersions] }],
  };
}
