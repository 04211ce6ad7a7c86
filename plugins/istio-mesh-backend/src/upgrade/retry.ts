import { LoggerService } from '@backstage/backend-plugin-api';
import { ServiceUnavailableError } from '@backstage/errors';
import { upstreamFailure } from '../service/ClusterGateway';

/** How hard an upgrade step insists on one cluster call (config `istioMesh.upgrades.retries`). */
export interface RetryPolicy {
  /** Attempts per call, the first included. */
  attempts: number;
  /** Backoff before the second attempt; doubled for each further one (with full jitter). */
  baseDelayMs: number;
  /** Upper bound of one backoff. */
  maxDelayMs: number;
  /** A `Retry-After` longer than this ends the call instead of blocking the step's pass (and its lease). */
  maxRetryAfterMs: number;
  /** One attempt that has not answered by then counts as a timeout (the call is retried). */
  attemptTimeoutMs: number;
  /**
   * All waits of one call together stay below this, so that a pass never outlives the
   * lease on its step (UpgradeService caps it at half the lease).
   */
  maxTotalWaitMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 3_000,
  maxRetryAfterMs: 10_000,
  attemptTimeoutMs: 30_000,
  maxTotalWaitMs: 15_000,
};

/** Retries of one step, by cause (`429`, `503`, `409`, `timeout`, `network`), saved in the step's details. */
export interface RetryTally {
  total: number;
  causes: Record<string, number>;
}

export interface RetryCall {
  /** What is attempted, for logs and the final error (e.g. `restart of Deployment/x in payments`). */
  what: string;
  cluster: string;
  /**
   * 409 is worth another attempt only for writes that re-read first and are idempotent
   * (patches of labels and stamps). A create's 409 means "exists" and is no failure to retry.
   */
  retryConflicts?: boolean;
}

/** Passed to each attempt: after a conflict the attempt re-reads before writing again. */
export interface Attempt {
  number: number;
  /** The cause that made this attempt necessary (undefined for the first). */
  after?: string;
}

/** An attempt that did not answer within `attemptTimeoutMs`. */
class AttemptTimeout extends Error {
  name = 'AttemptTimeout';
}

/**
 * Why an upstream failure is worth another attempt, or undefined if it is not:
 * 429 and 5xx (the server is throttling or struggling), 409 where allowed, timeouts and
 * lost connections. 4xx other than 409/429 (bad request, forbidden, not found) are final.
 */
function retryCause(error: unknown, call: RetryCall): string | undefined {
  if (error instanceof AttemptTimeout) return 'timeout';
  const info = upstreamFailure(error);
  if (!info) return undefined;
  if (info.statusCode === undefined) return info.network ? 'network' : undefined;
  if (info.statusCode === 429 || info.statusCode >= 500) return String(info.statusCode);
  if (info.statusCode === 409 && call.retryConflicts) return '409';
  return undefined;
}

/** "3 retries after 429/503", or undefined without retries. */
export function describeRetries(tally?: RetryTally): string | undefined {
  if (!tally?.total) return undefined;
  const causes = Object.keys(tally.causes).sort();
  return `${tally.total} ${tally.total === 1 ? 'retry' : 'retries'} after ${causes.join('/')}`;
}

/**
 * Retries the cluster calls of one upgrade step with exponential backoff and full jitter,
 * honouring `Retry-After`, and tallies the retries into the step's record. When the budget
 * is spent the call fails with a ServiceUnavailableError naming the cluster, what was
 * attempted and the last cause; the step's writes are idempotent, so trying the action
 * again later takes up where it stopped.
 */
export class StepRetrier {
  constructor(
    private readonly policy: RetryPolicy,
    private readonly tally: RetryTally,
    private readonly logger: LoggerService,
    private readonly wait: (ms: number) => Promise<void> = ms => new Promise(r => setTimeout(r, ms)),
    private readonly random: () => number = Math.random,
  ) {}

  async run<T>(call: RetryCall, fn: (attempt: Attempt) => Promise<T>): Promise<T> {
    let after: string | undefined;
    let waited = 0;
    for (let n = 1; ; n++) {
      try {
        return await this.withTimeout(fn({ number: n, after }));
      } catch (error) {
        const cause = retryCause(error, call);
        if (!cause) throw error;
        const message = error instanceof AttemptTimeout ? error.message : (error as Error).message;
        if (n >= this.policy.attempts) {
          throw new ServiceUnavailableError(
            `Gave up on the ${call.what} in cluster '${call.cluster}' after ${n} attempts (last: ${cause}): ${message}`,
          );
        }
        const retryAfterMs = upstreamFailure(error)?.retryAfterMs;
        if (retryAfterMs !== undefined && retryAfterMs > this.policy.maxRetryAfterMs) {
          throw new ServiceUnavailableError(
            `Cluster '${call.cluster}' asked to retry the ${call.what} after ${Math.round(retryAfterMs / 1000)} s (429): ${message}`,
          );
        }
        const backoff = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (n - 1)) * this.random();
        const delayMs = Math.round(Math.max(backoff, retryAfterMs ?? 0));
        if (waited + delayMs > this.policy.maxTotalWaitMs) {
          throw new ServiceUnavailableError(
            `Gave up on the ${call.what} in cluster '${call.cluster}' after ${n} attempts and ${Math.round(waited / 1000)} s of waiting (last: ${cause}): ${message}`,
          );
        }
        waited += delayMs;
        this.tally.total += 1;
        this.tally.causes[cause] = (this.tally.causes[cause] ?? 0) + 1;
        this.logger.warn(
          `Retrying the ${call.what} in cluster '${call.cluster}' in ${delayMs} ms after ${cause} (attempt ${n + 1} of ${this.policy.attempts}): ${message}`,
        );
        after = cause;
        await this.wait(delayMs);
      }
    }
  }

  private withTimeout<T>(promise: Promise<T>): Promise<T> {
    const ms = this.policy.attemptTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AttemptTimeout(`no answer within ${ms} ms`)), ms);
    });
    // The abandoned attempt may still land later; every write it could make is idempotent.
    promise.catch(() => undefined);
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}
