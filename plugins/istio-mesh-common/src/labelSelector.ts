/**
 * Kubernetes label selectors in string form (`a=b,c!=d,e in (x,y),!f`), for matching
 * objects that were already fetched, e.g. a catalog entity's
 * `backstage.io/kubernetes-label-selector` against a cached pod list.
 */
export type LabelRequirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

export class LabelSelectorError extends Error {
  name = 'LabelSelectorError';
}

function splitRequirements(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0 || depth > 1) throw new LabelSelectorError(`unbalanced parentheses in "${selector}"`);
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  if (depth !== 0) throw new LabelSelectorError(`unbalanced parentheses in "${selector}"`);
  parts.push(current.trim());
  return parts;
}

export function parseLabelSelector(selector: string): LabelRequirement[] {
  if (!selector.trim()) return [];
  return splitRequirements(selector).map(part => {
    let m = /^([^\s!=()]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part);
    if (m) {
      return { op: m[2] as 'in' | 'notin', key: m[1], values: m[3].split(',').map(v => v.trim()) };
    }
    m = /^([^\s!=()]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/.exec(part);
    if (m) return { op: m[2] === '!=' ? 'neq' : 'eq', key: m[1], value: m[3] };
    m = /^!\s*([^\s!=()]+)$/.exec(part);
    if (m) return { op: 'notexists', key: m[1] };
    if (/^[^\s!=(),]+$/.test(part)) return { op: 'exists', key: part };
    throw new LabelSelectorError(`cannot parse label selector requirement "${part}"`);
  });
}

export function matchesLabelSelector(
  requirements: LabelRequirement[],
  labels: Record<string, string> | undefined,
): boolean {
  const l = labels ?? {};
  return requirements.every(r => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'eq':
        return has && l[r.key] === r.value;
      case 'neq':
        return !has || l[r.key] !== r.value;
      case 'in':
        return has && r.values.includes(l[r.key]);
      case 'notin':
        return !has || !r.values.includes(l[r.key]);
      case 'exists':
        return has;
      default:
        return !has;
    }
  });
}
