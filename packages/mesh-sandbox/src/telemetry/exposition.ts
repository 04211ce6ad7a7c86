/**
 * The Prometheus text exposition format 0.0.4 (what Envoy serves at `/stats/prometheus`):
 * rendering, and a small strict parser for tests and clients.
 */

export const PROMETHEUS_TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export type Labels = ReadonlyArray<readonly [string, string]>;

export interface Sample {
  /** Full sample name, e.g. `istio_request_duration_milliseconds_bucket`. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help?: string;
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** `{a="1",b="2"}` (empty string for no labels), label values escaped. */
export function renderLabels(labels: Labels): string {
  if (labels.length === 0) return '';
  return `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
}

/** A sample value as Prometheus writes it (`+Inf`, `-Inf`, `NaN`, else the shortest round-trip decimal). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** A bucket bound as an `le` label value (`+Inf` for the last one). */
export function formatLe(bound: number): string {
  return bound === Infinity ? '+Inf' : String(bound);
}

/** The `# HELP` and `# TYPE` lines of a family. */
export function familyHeader(family: MetricFamily): string {
  return `${family.help !== undefined ? `# HELP ${family.name} ${escapeHelp(family.help)}\n` : ''}# TYPE ${family.name} ${family.type}\n`;
}

export class ExpositionParseError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

export interface ParsedExposition {
  families: Map<string, MetricFamily>;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: MetricType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

/** The family a sample belongs to, given the declared families (`x_bucket` → `x` when `x` is a histogram). */
function familyOf(name: string, families: Map<string, MetricFamily>): MetricFamily | undefined {
  const exact = families.get(name);
  if (exact) return exact;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const f = families.get(name.slice(0, -suffix.length));
      if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
    }
  }
  return undefined;
}

function parseValue(text: string, line: number): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new ExpositionParseError(line, `invalid value "${text}"`);
  return Number(text);
}

function isLabelChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** Parses `a="1",b="2"` (the inside of the braces) into `labels`. */
function parseLabels(text: string, labels: Record<string, string>, line: number) {
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  for (;;) {
    skipSpace();
    if (i >= text.length) return;
    const start = i;
    while (i < text.length && isLabelChar(text.charCodeAt(i))) i++;
    const key = text.slice(start, i);
    if (!LABEL_NAME.test(key)) throw new ExpositionParseError(line, `invalid label name "${key}"`);
    skipSpace();
    if (text[i] !== '=') throw new ExpositionParseError(line, `expected = after label ${key}`);
    i++;
    skipSpace();
    if (text[i] !== '"') throw new ExpositionParseError(line, `label ${key}: value must be quoted`);
    i++;
    let value = '';
    for (;;) {
      let j = i;
      while (j < text.length && text.charCodeAt(j) !== 34 /* " */ && text.charCodeAt(j) !== 92 /* \ */) j++;
      if (j >= text.length) throw new ExpositionParseError(line, `label ${key}: unterminated value`);
      value += text.slice(i, j);
      if (text.charCodeAt(j) === 34) {
        i = j + 1;
        break;
      }
      const e = text[j + 1];
      if (e === 'n') value += '\n';
      else if (e === '\\' || e === '"') value += e;
      else throw new ExpositionParseError(line, `label ${key}: invalid escape \\${e ?? ''}`);
      i = j + 2;
    }
    if (key in labels) throw new ExpositionParseError(line, `duplicate label "${key}"`);
    labels[key] = value;
    skipSpace();
    if (i >= text.length) return;
    if (text[i] !== ',') throw new ExpositionParseError(line, `expected , after label ${key}`);
    i++;
  }
}

/**
 * Parses text format 0.0.4 strictly: names and label names valid, label values quoted and
 * escaped, no duplicate labels, at most one `# TYPE` per family and before its samples,
 * the samples of a family contiguous, no duplicate series. Timestamps are accepted and
 * ignored.
 */
export function parseExposition(text: string): ParsedExposition {
  const families = new Map<string, MetricFamily>();
  const samples: Sample[] = [];
  const seenSeries = new Set<string>();
  const finished = new Set<string>();
  const sampleNames = new Set<string>();
  let current: string | undefined;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const n = i + 1;
    const line = raw.trim();
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
      if (!m) return; // a comment
      const [, keyword, name, rest = ''] = m;
      if (!NAME.test(name)) throw new ExpositionParseError(n, `invalid metric name "${name}"`);
      const family = families.get(name) ?? { name, type: 'untyped' as MetricType };
      if (keyword === 'TYPE') {
        if (!TYPES.includes(rest as MetricType)) throw new ExpositionParseError(n, `unknown type "${rest}"`);
        if (families.get(name)?.type !== undefined && families.get(name)!.type !== 'untyped') throw new ExpositionParseError(n, `second TYPE line for ${name}`);
        if ([name, `${name}_bucket`, `${name}_sum`, `${name}_count`].some(s => sampleNames.has(s))) {
          throw new ExpositionParseError(n, `TYPE line for ${name} after its samples`);
        }
        family.type = rest as MetricType;
      } else {
        family.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      }
      families.set(name, family);
      return;
    }
    // name, optional {labels}, value, optional timestamp
    const brace = line.indexOf('{');
    const nameEnd = brace >= 0 ? brace : line.search(/\s/);
    const name = nameEnd < 0 ? line : line.slice(0, nameEnd);
    if (!NAME.test(name)) throw new ExpositionParseError(n, `invalid sample line "${line}"`);
    const labels: Record<string, string> = {};
    let rest = line.slice(name.length);
    let id = name;
    if (brace >= 0) {
      const close = line.lastIndexOf('}');
      if (close < brace) throw new ExpositionParseError(n, `invalid labels in "${line}"`);
      parseLabels(line.slice(brace + 1, close), labels, n);
      rest = line.slice(close + 1);
      id = line.slice(0, close + 1); // (the same labels written differently are not caught)
    }
    const fields = rest.trim().split(/\s+/);
    if (fields.length < 1 || fields.length > 2 || fields[0] === '' || (fields[1] !== undefined && !/^-?\d+$/.test(fields[1]))) {
      throw new ExpositionParseError(n, `invalid sample line "${line}"`);
    }
    const valueText = fields[0];
    const value = parseValue(valueText, n);
    const family = familyOf(name, families)?.name ?? name;
    if (family !== current) {
      if (finished.has(family)) throw new ExpositionParseError(n, `samples of ${family} are not contiguous`);
      if (current) finished.add(current);
      current = family;
    }
    if (seenSeries.has(id)) throw new ExpositionParseError(n, `duplicate series ${id}`);
    seenSeries.add(id);
    sampleNames.add(name);
    samples.push({ name, labels, value });
  });
  return { families, samples };
}
