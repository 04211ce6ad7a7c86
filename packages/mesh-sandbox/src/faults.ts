/**
 * Faults on demand: rules that make matching requests slow, fail, get throttled or
 * lose their connection, and make ARM long-running operations end `Failed`.
 *
 * A rule matches a request by cluster, path pattern and method. It fires on every
 * match, or with probability `rate` (reproducible with `seed`), and at most `count`
 * times. Rules are set from tests through `server.faults` and over HTTP through
 * `/_sandbox/faults` (see the README's "Faults on demand").
 */

export type FaultKind =
  /** Delays the response by `latencyMs`; the request then proceeds (and may meet other faults). */
  | 'latency'
  /** Answers with a 5xx (`status`, default 503) in the API's own error shape. */
  | 'error'
  /** Answers a write with 409 Conflict (Kubernetes `Conflict`, ARM `OperationNotAllowed`). */
  | 'conflict'
  /** Answers with 429 and `Retry-After: retryAfterSeconds` (default 1). */
  | 'throttle'
  /** Destroys the connection without a response. */
  | 'drop'
  /** Accepts an ARM write, then ends its long-running operation `Failed`. */
  | 'failOperation';

export const FAULT_KINDS: FaultKind[] = ['latency', 'error', 'conflict', 'throttle', 'drop', 'failOperation'];

const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'];

/** What a client sends to create a rule (JS API or `POST /_sandbox/faults`). */
export interface FaultRuleInput {
  kind: FaultKind;
  /** Cluster name: a Kubernetes cluster of the fleet, or the managed cluster of ARM paths. Omitted: any. */
  cluster?: string;
  // Pattern on the URL path (no query): `*` matches within one segment, `**` across
  // segments, e.g. `/clusters/*/api/v1/namespaces/*/pods` or `**/meshUpgradeProfiles/**`.
  // Omitted: any path.
  /** Pattern on the URL path: `*` within one segment, `**` across segments (see the README). */
  path?: string;
  /** HTTP methods. Omitted: any, except `conflict` (writes) and `failOperation` (PUT). */
  methods?: string[];
  /** Probability in [0, 1] that a matching request is hit. Omitted: every matching request. */
  rate?: number;
  /** Seed of the rule's own PRNG for `rate`, which makes the sequence of hits reproducible. */
  seed?: number;
  /** Hit at most this many requests; the rule then stays listed, inactive. */
  count?: number;
  /** `latency`: milliseconds to add. */
  latencyMs?: number;
  /** `error`: the 5xx status. */
  status?: number;
  /** `throttle`: seconds in `Retry-After`. */
  retryAfterSeconds?: number;
  /** `error`, `conflict`, `failOperation`: message instead of the default text. */
  message?: string;
  /** `failOperation`: ARM error code of the failed operation (default `InternalOperationError`). */
  errorCode?: string;
}

export interface FaultRule extends FaultRuleInput {
  id: string;
  /** Requests the rule matched (cluster, path, method). */
  matched: number;
  /** Requests the rule hit. */
  fired: number;
  /** Hits left when `count` is set. */
  remaining?: number;
  active: boolean;
}

export interface FaultRequest {
  method: string;
  path: string;
  cluster?: string;
}

export interface FaultDecision {
  latencyMs: number;
  /** The first terminal rule (error, conflict, throttle, drop) that hit, if any. */
  terminal?: FaultRule;
}

export class FaultInputError extends Error {}

interface RuleState {
  rule: FaultRule;
  pattern?: RegExp;
  random: () => number;
}

/** The fault rules of one sandbox server. */
export class FaultInjector {
  private rules: RuleState[] = [];
  private nextId = 1;

  /** Adds a rule; throws `FaultInputError` for an invalid one. */
  add(input: FaultRuleInput): FaultRule {
    const rule = validateRule(input, `fault-${this.nextId}`);
    this.nextId += 1;
    this.rules.push({
      rule,
      pattern: rule.path ? globToRegExp(rule.path) : undefined,
      random: rule.seed === undefined ? Math.random : mulberry32(rule.seed),
    });
    return { ...rule };
  }

  /** Adds several rules, all or none. */
  addAll(inputs: FaultRuleInput[]): FaultRule[] {
    inputs.forEach((input, i) => validateRule(input, `fault-${this.nextId + i}`)); // fail before adding any
    return inputs.map(input => this.add(input));
  }

  list(): FaultRule[] {
    return this.rules.map(s => ({ ...s.rule }));
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter(s => s.rule.id !== id);
    return this.rules.length < before;
  }

  /** Removes every rule (ids start again at `fault-1`); returns how many there were. */
  clear(): number {
    const n = this.rules.length;
    this.rules = [];
    this.nextId = 1;
    return n;
  }

  /** The faults for one request: summed latency and the first terminal rule that hits. */
  decide(req: FaultRequest): FaultDecision {
    let latencyMs = 0;
    let terminal: FaultRule | undefined;
    for (const state of this.rules) {
      const { rule } = state;
      if (rule.kind === 'failOperation') continue;
      if (terminal && rule.kind !== 'latency') continue; // later terminal rules keep their count and PRNG
      if (!this.hits(state, req)) continue;
      if (rule.kind === 'latency') latencyMs += rule.latencyMs ?? 0;
      else terminal = { ...rule };
    }
    return { latencyMs, terminal };
  }

  /** The `failOperation` rule that hits this ARM write, if any. */
  operationFailure(req: FaultRequest): FaultRule | undefined {
    for (const state of this.rules) {
      if (state.rule.kind === 'failOperation' && this.hits(state, req)) return { ...state.rule };
    }
    return undefined;
  }

  private hits(state: RuleState, req: FaultRequest): boolean {
    const { rule } = state;
    if (!rule.active) return false;
    if (rule.cluster !== undefined && rule.cluster.toLowerCase() !== req.cluster?.toLowerCase()) return false;
    if (state.pattern && !state.pattern.test(req.path)) return false;
    if (!methodsOf(rule).includes(req.method.toUpperCase())) return false;
    rule.matched += 1;
    if (rule.rate !== undefined && !(state.random() < rule.rate)) return false;
    rule.fired += 1;
    if (rule.remaining !== undefined) {
      rule.remaining -= 1;
      if (rule.remaining <= 0) rule.active = false;
    }
    return true;
  }
}

function methodsOf(rule: FaultRuleInput): string[] {
  if (rule.methods) return rule.methods;
  if (rule.kind === 'conflict') return WRITE_METHODS;
  if (rule.kind === 'failOperation') return ['PUT'];
  return ['GET', 'HEAD', 'OPTIONS', ...WRITE_METHODS];
}

function validateRule(input: FaultRuleInput, id: string): FaultRule {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new FaultInputError('a fault rule must be a JSON object');
  const known = new Set<string>([
    'kind', 'cluster', 'path', 'methods', 'rate', 'seed', 'count', 'latencyMs', 'status', 'retryAfterSeconds', 'message', 'errorCode',
  ]);
  const unknown = Object.keys(input).filter(k => !known.has(k));
  if (unknown.length) throw new FaultInputError(`unknown field(s) in fault rule: ${unknown.join(', ')}`);
  if (!FAULT_KINDS.includes(input.kind)) throw new FaultInputError(`kind must be one of ${FAULT_KINDS.join(', ')}`);
  const optString = (k: 'cluster' | 'path' | 'message' | 'errorCode') => {
    if (input[k] !== undefined && (typeof input[k] !== 'string' || !input[k])) throw new FaultInputError(`${k} must be a non-empty string`);
  };
  (['cluster', 'path', 'message', 'errorCode'] as const).forEach(optString);
  if (input.methods !== undefined && (!Array.isArray(input.methods) || input.methods.some(m => typeof m !== 'string' || !m))) {
    throw new FaultInputError('methods must be an array of HTTP method names');
  }
  const num = (k: keyof FaultRuleInput, ok: (v: number) => boolean, what: string) => {
    const v = input[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || !ok(v))) throw new FaultInputError(`${k} must be ${what}`);
  };
  num('rate', v => v >= 0 && v <= 1, 'a number between 0 and 1');
  num('seed', Number.isInteger, 'an integer');
  num('count', v => Number.isInteger(v) && v > 0, 'a positive integer');
  num('latencyMs', v => v >= 0, 'a non-negative number');
  num('status', v => Number.isInteger(v) && v >= 500 && v <= 599, 'a 5xx status code');
  num('retryAfterSeconds', v => Number.isInteger(v) && v >= 0, 'a non-negative integer');
  if (input.kind === 'latency' && input.latencyMs === undefined) throw new FaultInputError('a latency rule needs latencyMs');
  const rule: FaultRule = {
    ...input,
    id,
    ...(input.methods ? { methods: input.methods.map(m => m.toUpperCase()) } : {}),
    ...(input.kind === 'error' ? { status: input.status ?? 503 } : {}),
    ...(input.kind === 'throttle' ? { retryAfterSeconds: input.retryAfterSeconds ?? 1 } : {}),
    matched: 0,
    fired: 0,
    ...(input.count !== undefined ? { remaining: input.count } : {}),
    active: true,
  };
  return rule;
}

/** `*` within a segment, `**` across segments; everything else literal. Case-insensitive (ARM paths are). */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i += 1;
    } else if (c === '*') {
      re += '[^/]*';
    } else {
      re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`, 'i');
}

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
