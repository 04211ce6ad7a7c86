/**
 * Reading a MeshConfig document typed by a person, with hard limits: the text reaches
 * istiod in every cluster, so anything a YAML parser can be made to choke on (alias
 * bombs, deep nesting, huge documents) is refused before it is expanded.
 */
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  Node as YamlNode,
  parseDocument,
  stringify,
} from 'yaml';
import { MeshConfigFinding, SourcePosition } from './findings';
import { formatPath } from './policy';

export interface MeshConfigLimits {
  /** UTF-8 bytes of the document. */
  maxBytes: number;
  /** Nesting of mappings and sequences; the root mapping is level 1. */
  maxDepth: number;
}

export const MESH_CONFIG_LIMITS: MeshConfigLimits = { maxBytes: 64 * 1024, maxDepth: 32 };

/** Flow nesting refused before parsing (see flowDepthBeyond). */
const FLOW_PRESCAN_DEPTH = 256;

/** Stop collecting after this many problems: one page of findings is enough to act on. */
const MAX_FINDINGS = 20;

export interface ParsedMeshConfig {
  /** The document as plain data; present only when there were no errors. */
  value?: Record<string, unknown>;
  errors: MeshConfigFinding[];
  /** Where each field's key is, by {@link formatPath} path. */
  positions: Map<string, SourcePosition>;
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

const kib = (bytes: number) => `${Math.round((bytes / 1024) * 10) / 10} KiB`;

function kindOf(node: unknown): string {
  if (isSeq(node)) return 'a sequence';
  if (isScalar(node)) return node.value === null ? 'null' : `a ${typeof node.value} (${JSON.stringify(node.value)})`;
  if (isAlias(node)) return 'an alias';
  return 'not a mapping';
}

/**
 * Flow nesting (`[[[...`) as a lexer sees it, up to where it first exceeds `limit`: the
 * parser recurses per level and spends seconds unwinding thousands of stack overflows,
 * so such input is refused before parsing. Quotes count only where a scalar can start;
 * the bound is far above the real depth limit, which the tree walk checks exactly.
 */
function flowDepthBeyond(source: string, limit: number): number | undefined {
  let depth = 0;
  let line = 1;
  let quote: '"' | "'" | undefined;
  let prev = '\n';
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\n') line++;
    if (quote) {
      if (quote === '"' && c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '#' && /\s/.test(prev)) {
      while (i < source.length && source[i] !== '\n') i++;
      line++;
      prev = '\n';
      continue;
    }
    if ((c === '"' || c === "'") && /[\s[{,:?-]/.test(prev)) quote = c;
    else if (c === '[' || c === '{') {
      if (++depth > limit) return line;
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
    if (c !== ' ' && c !== '\t') prev = c;
    else if (prev !== '\n') prev = ' ';
  }
  return undefined;
}

/** The key written at `offset` (a duplicate key's position), without quotes. */
function keyAt(source: string, offset: number): string {
  const rest = source.slice(offset, source.indexOf('\n', offset) === -1 ? undefined : source.indexOf('\n', offset));
  const m = /^\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^']|'')*)'|([^:#]*?))\s*:/.exec(rest);
  return (m?.[1] ?? m?.[2]?.replace(/''/g, "'") ?? m?.[3] ?? rest).trim();
}

/**
 * Parses `source` as one YAML mapping of MeshConfig fields. An empty document is an empty
 * mapping (no shared settings). Errors carry line and column (1-based).
 */
export function parseMeshConfigYaml(source: string, limits: MeshConfigLimits = MESH_CONFIG_LIMITS): ParsedMeshConfig {
  const positions = new Map<string, SourcePosition>();
  const bytes = byteLength(source);
  if (bytes > limits.maxBytes) {
    return {
      errors: [{
        severity: 'error',
        path: '',
        message: `The document is ${bytes} bytes (${kib(bytes)}); the limit is ${limits.maxBytes} bytes (${kib(limits.maxBytes)}).`,
      }],
      positions,
    };
  }

  const lineCounter = new LineCounter();
  const depthError = (line = 1): ParsedMeshConfig => ({
    errors: [{ severity: 'error', path: '', message: `Line ${line}: the document nests deeper than ${limits.maxDepth} levels.`, line, column: 1 }],
    positions,
  });
  const deepAt = flowDepthBeyond(source, FLOW_PRESCAN_DEPTH);
  if (deepAt !== undefined) return depthError(deepAt);
  let doc: ReturnType<typeof parseDocument>;
  try {
    doc = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  } catch (error) {
    // The parser recurses per nesting level: thousands of levels exhaust the stack.
    if (error instanceof RangeError) return depthError();
    throw error;
  }
  const overflow = doc.errors.find(e => /Maximum call stack size exceeded/.test(e.message));
  if (overflow) return depthError(lineCounter.linePos(overflow.pos[0]).line);
  const at = (offset: number | undefined): SourcePosition | undefined => {
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const errors: MeshConfigFinding[] = [];
  const add = (message: string, pos?: SourcePosition, path = '') => {
    if (errors.length < MAX_FINDINGS) errors.push({ severity: 'error', path, message, ...(pos ?? {}) });
  };

  for (const e of doc.errors) {
    const pos = at(e.pos[0]);
    const where = pos ? `line ${pos.line}, column ${pos.column}` : 'the document';
    switch (e.code) {
      case 'TAB_AS_INDENT':
        add(`Line ${pos?.line}: a tab is used for indentation; YAML allows only spaces for indentation (a tab inside a value is fine).`, pos);
        break;
      case 'DUPLICATE_KEY':
        add(`Line ${pos?.line}, column ${pos?.column}: the key ${JSON.stringify(keyAt(source, e.pos[0]))} appears more than once in the same mapping.`, pos);
        break;
      case 'MULTIPLE_DOCS':
        add(`Line ${pos?.line}: the text holds more than one YAML document (a second "---"); MeshConfig is a single document.`, pos);
        break;
      default:
        add(`YAML syntax error at ${where}: ${e.message.split('\n')[0]}`, pos);
    }
  }
  for (const w of doc.warnings) {
    const pos = at(w.pos[0]);
    add(`Line ${pos?.line}, column ${pos?.column}: ${w.code === 'TAG_RESOLVE_FAILED' ? `${w.message.split('\n')[0]} (MeshConfig uses plain YAML values, no custom tags)` : w.message.split('\n')[0]}`, pos);
  }
  if (errors.length) return { errors, positions };

  // Walk the syntax tree without expanding anything: aliases, depth and keys are checked
  // here, iteratively, so neither a bomb nor 30,000 nested brackets can exhaust the stack.
  const stack: Array<{ node: unknown; depth: number; path: (string | number)[] }> = [];
  if (doc.contents) stack.push({ node: doc.contents, depth: 1, path: [] });
  let deepest = false;
  while (stack.length && errors.length < MAX_FINDINGS) {
    const { node, depth, path } = stack.pop()!;
    const range = (node as YamlNode | undefined)?.range;
    if (isAlias(node)) {
      add(`Line ${at(range?.[0])?.line}, column ${at(range?.[0])?.column}: aliases (*${node.source}) are not allowed; write the value out in full.`, at(range?.[0]), formatPath(path));
      continue;
    }
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth > limits.maxDepth) {
      if (!deepest) {
        deepest = true;
        add(`Line ${at(range?.[0])?.line}: the document nests deeper than ${limits.maxDepth} levels.`, at(range?.[0]), formatPath(path));
      }
      continue;
    }
    if (isMap(node)) {
      // Pushed in reverse so findings come out in document order.
      for (const pair of [...node.items].reverse()) {
        if (!isPair(pair)) continue;
        const key = pair.key;
        const keyPos = at((key as YamlNode | null)?.range?.[0]);
        if (isAlias(key)) {
          add(`Line ${keyPos?.line}, column ${keyPos?.column}: aliases (*${key.source}) are not allowed; write the value out in full.`, keyPos, formatPath(path));
          continue;
        }
        if (!isScalar(key) || typeof key.value !== 'string') {
          add(`Line ${keyPos?.line}, column ${keyPos?.column}: keys must be strings (found ${isScalar(key) ? kindOf(key) : 'a collection'}).`, keyPos, formatPath(path));
          continue;
        }
        const childPath = [...path, key.value];
        if (keyPos) positions.set(formatPath(childPath), keyPos);
        stack.push({ node: pair.value, depth: depth + 1, path: childPath });
      }
    } else {
      for (let i = node.items.length - 1; i >= 0; i--) {
        const item = node.items[i];
        const childPath = [...path, i];
        const pos = at((item as YamlNode | null)?.range?.[0]);
        if (pos) positions.set(formatPath(childPath), pos);
        stack.push({ node: item, depth: depth + 1, path: childPath });
      }
    }
  }
  if (errors.length) return { errors, positions };

  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return { value: {}, errors, positions };
  if (!isMap(root)) {
    const pos = at(root.range?.[0]);
    add(`The document must be a mapping of MeshConfig fields (such as "accessLogFile: /dev/stdout"); found ${kindOf(root)} at line ${pos?.line}.`, pos);
    return { errors, positions };
  }
  // maxAliasCount 0: defence in depth, aliases were refused above.
  const value = doc.toJS({ maxAliasCount: 0 }) as Record<string, unknown>;
  return { value, errors, positions };
}

/** YAML text of parsed MeshConfig data (the effective view); empty for an empty mapping. */
export function stringifyMeshConfig(value: Record<string, unknown>): string {
  return Object.keys(value).length ? stringify(value, { aliasDuplicateObjects: false, lineWidth: 0 }) : '';
}
