import { TrafficInputError } from './graph';

/**
 * A change of one destination workload's traffic, effective from the moment it is set
 * (`POST /_sandbox/traffic` or `server.traffic.addSpike`) until it is removed. Counters go on
 * from where they were, at the new rates. It applies to the requests the workload
 * receives, as both proxies report them (`reporter="destination"` on its pods,
 * `reporter="source"` on the callers'); it does not cascade to what the workload calls.
 */
export interface TrafficSpikeInput {
  /** Fleet cluster; omitted: every cluster. */
  cluster?: string;
  /** Namespace of the workload; omitted: any. */
  namespace?: string;
  /** The destination workload (`destination_workload`, the Deployment's name). */
  workload: string;
  /** Share of 5xx responses, replacing the edge's (baseline 0.005). */
  errorRatio?: number;
  /** The status of those errors (default: 500 and 503, 3:2). */
  errorCode?: number;
  /** Latencies are multiplied by this (default 1)… */
  latencyMultiplier?: number;
  /** …then this many ms are added (default 0). */
  latencyOffsetMs?: number;
  /** Request rate (and TCP connection and byte rates) times this. */
  rateMultiplier?: number;
  /** Total HTTP requests/s the workload receives, shared by its callers as their base rates are. */
  requestsPerSecond?: number;
}

export interface TrafficSpike extends TrafficSpikeInput {
  id: string;
  /** When it took effect (the cluster clock). */
  since: string;
}

const FIELDS = new Set([
  'cluster', 'namespace', 'workload', 'errorRatio', 'errorCode', 'latencyMultiplier', 'latencyOffsetMs', 'rateMultiplier', 'requestsPerSecond',
]);

/** Checks a spike; throws {@link TrafficInputError}. */
export function validateSpike(input: TrafficSpikeInput): TrafficSpikeInput {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw new TrafficInputError('a traffic spike must be a JSON object');
  const unknown = Object.keys(input).filter(k => !FIELDS.has(k));
  if (unknown.length) throw new TrafficInputError(`unknown field(s) in traffic spike: ${unknown.join(', ')}`);
  if (typeof input.workload !== 'string' || !input.workload) throw new TrafficInputError('workload must be a non-empty string');
  for (const k of ['cluster', 'namespace'] as const) {
    if (input[k] !== undefined && (typeof input[k] !== 'string' || !input[k])) throw new TrafficInputError(`${k} must be a non-empty string`);
  }
  const num = (k: keyof TrafficSpikeInput, ok: (v: number) => boolean, what: string) => {
    const v = input[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || !ok(v))) throw new TrafficInputError(`${k} must be ${what}`);
  };
  num('errorRatio', v => v >= 0 && v <= 1, 'a number between 0 and 1');
  num('errorCode', v => Number.isInteger(v) && v >= 500 && v <= 599, 'a 5xx status code');
  num('latencyMultiplier', v => v > 0, 'a positive number');
  num('latencyOffsetMs', v => v >= 0, 'a non-negative number');
  num('rateMultiplier', v => v >= 0, 'a non-negative number');
  num('requestsPerSecond', v => v >= 0, 'a non-negative number');
  if (input.rateMultiplier !== undefined && input.requestsPerSecond !== undefined) {
    throw new TrafficInputError('set rateMultiplier or requestsPerSecond, not both');
  }
  const keys = Object.keys(input).filter(k => !['cluster', 'namespace', 'workload'].includes(k));
  if (keys.length === 0) throw new TrafficInputError('a traffic spike needs at least one of errorRatio, errorCode, latencyMultiplier, latencyOffsetMs, rateMultiplier, requestsPerSecond');
  return input;
}

/** Whether a spike applies to a destination workload of a cluster. */
export function spikeMatches(spike: TrafficSpikeInput, cluster: string, namespace: string, workload: string): boolean {
  return spike.workload === workload && (spike.namespace === undefined || spike.namespace === namespace) && (spike.cluster === undefined || spike.cluster === cluster);
}

/** The spikes that apply, merged in order: a later spike's fields win. */
export function mergeSpikes(spikes: readonly TrafficSpikeInput[]): Omit<TrafficSpikeInput, 'cluster' | 'namespace' | 'workload'> {
  const merged: Omit<TrafficSpikeInput, 'cluster' | 'namespace' | 'workload'> = {};
  for (const s of spikes) {
    const { cluster, namespace, workload, ...fields } = s;
    if (fields.rateMultiplier !== undefined) delete merged.requestsPerSecond;
    if (fields.requestsPerSecond !== undefined) delete merged.rateMultiplier;
    Object.assign(merged, fields);
  }
  return merged;
}
