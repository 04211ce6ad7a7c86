/**
 * Kubernetes label selectors in their string form, as `?labelSelector=` carries them:
 * `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x,y)`, `a`, `!a`, `a>1`, `a<1`, comma-joined.
 */
export type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string }
  | { op: 'gt' | 'lt'; key: string; value: number };

export class SelectorParseError extends Error {}

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0) throw new SelectorParseError(`unbalanced parentheses in "${selector}"`);
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (depth !== 0) throw new SelectorParseError(`unbalanced parentheses in "${selector}"`);
  parts.push(current);
  return parts.map(p => p.trim());
}

function checkKey(key: string) {
  if (!KEY.test(key)) throw new SelectorParseError(`invalid label key "${key}"`);
}
function checkValue(value: string) {
  if (!VALUE.test(value)) throw new SelectorParseError(`invalid label value "${value}"`);
}

export function parseLabelSelector(selector: string | undefined | null): Requirement[] {
  if (!selector || !selector.trim()) return [];
  return splitTopLevel(selector).map(part => {
    if (!part) throw new SelectorParseError(`empty requirement in "${selector}"`);
    let m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
    if (m) {
      checkKey(m[1]);
      const values = m[3].split(',').map(v => v.trim());
      values.forEach(checkValue);
      return { op: m[2] as 'in' | 'notin', key: m[1], values };
    }
    m = /^([^=!<>\s]+)\s*(==|=|!=)\s*([^=!<>\s]*)$/.exec(part);
    if (m) {
      checkKey(m[1]);
      checkValue(m[3]);
      return { op: m[2] === '!=' ? 'neq' : 'eq', key: m[1], value: m[3] };
    }
    m = /^([^=!<>\s]+)\s*(<|>)\s*([^=!<>\s]+)$/.exec(part);
    if (m) {
      checkKey(m[1]);
      // As in Go's strconv.ParseInt: an optional sign and decimal digits.
      if (!/^[+-]?\d+$/.test(m[3])) {
        throw new SelectorParseError(`for 'Gt', 'Lt' operators, the value must be an integer, got "${m[3]}"`);
      }
      return { op: m[2] === '>' ? 'gt' : 'lt', key: m[1], value: Number(m[3]) };
    }
    m = /^!\s*(\S+)$/.exec(part);
    if (m) {
      checkKey(m[1]);
      return { op: 'notexists', key: m[1] };
    }
    if (/^[^=!<>(),\s]+$/.test(part)) {
      checkKey(part);
      return { op: 'exists', key: part };
    }
    throw new SelectorParseError(`unable to parse requirement "${part}"`);
  });
}

export function matchesLabels(
  requirements: Requirement[],
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
      case 'notexists':
        return !has;
      case 'gt':
      case 'lt': {
        if (!has || !/^[+-]?\d+$/.test(l[r.key])) return false;
        const v = Number(l[r.key]);
        return r.op === 'gt' ? v > r.value : v < r.value;
      }
      default:
        return false;
    }
  });
}

/** A `metav1.LabelSelector` object (matchLabels and matchExpressions), as webhooks and workloads carry it. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/**
 * Whether labels match a LabelSelector object. An absent or empty selector matches
 * everything, as in webhook namespace/object selectors; an unknown operator matches nothing.
 */
export function matchesLabelSelectorObject(
  selector: LabelSelectorObject | null | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector) return true;
  const requirements: Requirement[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    requirements.push({ op: 'eq', key, value });
  }
  for (const e of selector.matchExpressions ?? []) {
    switch (e.operator) {
      case 'In':
        requirements.push({ op: 'in', key: e.key, values: e.values ?? [] });
        break;
      case 'NotIn':
        requirements.push({ op: 'notin', key: e.key, values: e.values ?? [] });
        break;
      case 'Exists':
        requirements.push({ op: 'exists', key: e.key });
        break;
      case 'DoesNotExist':
        requirements.push({ op: 'notexists', key: e.key });
        break;
      default:
        return false;
    }
  }
  return matchesLabels(requirements, labels);
}
