/** Istio version each add-on revision currently runs (patches roll out in place). */
export const REVISION_VERSIONS: Record<string, string> = {
  'asm-1-28': '1.28.4',
  'asm-1-29': '1.29.2',
  'asm-1-30': '1.30.1',
};

export const MCR = 'mcr.microsoft.com/oss/istio';
export const UPSTREAM_HUB = 'docker.io/istio';

/**
 * The Istio version a revision runs: the add-on's map for `asm-1-N` (`1.N.0` for a
 * revision the map does not know yet), the name itself for upstream `1-26-3`.
 */
export function istioVersionOf(revision: string): string {
  if (REVISION_VERSIONS[revision]) return REVISION_VERSIONS[revision];
  const aks = /^asm-1-(\d+)$/.exec(revision);
  if (aks) return `1.${aks[1]}.0`;
  const upstream = /^(\d+)-(\d+)-(\d+)$/.exec(revision);
  if (upstream) return `${upstream[1]}.${upstream[2]}.${upstream[3]}`;
  const minorOnly = /^(\d+)-(\d+)$/.exec(revision);
  if (minorOnly) return `${minorOnly[1]}.${minorOnly[2]}.0`;
  return '1.29.2';
}
