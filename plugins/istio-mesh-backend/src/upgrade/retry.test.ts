import { mockServices } from '@backstage/backend-test-utils';
import { ConflictError, NotFoundError, ServiceUnavailableError } from '@backstage/errors';
import { KubernetesBackendClusterGateway } from '../service/ClusterGateway';
import { DEFAULT_RETRY_POLICY, RetryTally, StepRetrier, describeRetries } from './retry';

/** A gateway whose fetch answers from a script, so the errors carry real status and headers. */
function gatewayAnswering(answers: Array<{ status: number; headers?: Record<string, string> } | 'network'>) {
  const calls: string[] = [];
  const fetch = (async (url: string, init?: { method?: string }) => {
    calls.push(`${init?.method ?? 'GET'} ${url}`);
    const next = answers.shift() ?? { status: 200 };
    if (next === 'network') throw new TypeError('fetch failed');
    return new Response(JSON.stringify(next.status < 300 ? { ok: true } : { message: `status ${next.status}` }), {
      status: next.status,
      headers: next.headers,
    });
  }) as unknown as typeof globalThis.fetch;
  const gateway = KubernetesBackendClusterGateway.create({
    discovery: mockServices.discovery(),
    auth: mockServices.auth(),
    fetch,
  });
  return { gateway, calls };
}

const credentials = { $$type: '@backstage/BackstageCredentials', principal: { type: 'service', subject: 'test' } } as any;

function retrier(policy: Partial<typeof DEFAULT_RETRY_POLICY> = {}) {
  const tally: RetryTally = { total: 0, causes: {} };
  const waits: number[] = [];
  const r = new StepRetrier(
    { ...DEFAULT_RETRY_POLICY, ...policy },
    tally,
    mockServices.logger.mock(),
    async ms => {
      waits.push(ms);
    },
    () => 1, // the top of the jitter range, so that waits are the backoff itself
  );
  return { r, tally, waits };
}

describe('StepRetrier', () => {
  it('retries 429 and 5xx with exponential backoff, honouring Retry-After, and tallies the causes', async () => {
    const { gateway, calls } = gatewayAnswering([{ status: 429, headers: { 'Retry-After': '2' } }, { status: 502 }, { status: 503 }]);
    const { r, tally, waits } = retrier({ baseDelayMs: 100 });
    await expect(r.run({ what: 'read', cluster: 'c' }, () => gateway.get('c', '/api/v1/namespaces/x', credentials))).resolves.toEqual({ ok: true });
    expect(calls).toHaveLength(4);
    // 2 s asked by the server beats the 100 ms backoff; then 200 ms, 400 ms.
    expect(waits).toEqual([2000, 200, 400]);
    expect(tally).toEqual({ total: 3, causes: { '429': 1, '502': 1, '503': 1 } });
    expect(describeRetries(tally)).toBe('3 retries after 429/502/503');
  });

  it('retries lost connections and attempts that do not answer in time', async () => {
    const { gateway } = gatewayAnswering(['network']);
    const { r, tally } = retrier({ attemptTimeoutMs: 20 });
    let attempts = 0;
    const result = await r.run({ what: 'read', cluster: 'c' }, async attempt => {
      attempts = attempt.number;
      if (attempt.number === 1) return gateway.get('c', '/x', credentials);
      if (attempt.number === 2) return new Promise(() => undefined); // never answers
      return 'third time';
    });
    expect({ result, attempts }).toEqual({ result: 'third time', attempts: 3 });
    expect(tally).toEqual({ total: 2, causes: { network: 1, timeout: 1 } });
  });

  it('retries a 409 only where the write re-reads first, and tells the attempt why it runs again', async () => {
    const { gateway } = gatewayAnswering([{ status: 409 }, { status: 409 }]);
    const { r, tally } = retrier();
    await expect(r.run({ what: 'create', cluster: 'c' }, () => gateway.create('c', '/x', {}, credentials))).rejects.toBeInstanceOf(ConflictError);
    expect(tally.total).toBe(0);
    const seen: Array<string | undefined> = [];
    await r.run({ what: 'patch', cluster: 'c', retryConflicts: true }, async attempt => {
      seen.push(attempt.after);
      return gateway.patch('c', '/x', {}, 'merge', credentials);
    });
    expect(seen).toEqual([undefined, '409']);
    expect(tally).toEqual({ total: 1, causes: { '409': 1 } });
  });

  it('does not retry what another attempt cannot change (404, 403, programming errors)', async () => {
    const { gateway, calls } = gatewayAnswering([{ status: 404 }, { status: 403 }]);
    const { r, tally } = retrier();
    await expect(r.run({ what: 'read', cluster: 'c' }, () => gateway.get('c', '/x', credentials))).rejects.toBeInstanceOf(NotFoundError);
    await expect(r.run({ what: 'read', cluster: 'c' }, () => gateway.get('c', '/x', credentials))).rejects.toMatchObject({ name: 'NotAllowedError' });
    await expect(r.run({ what: 'read', cluster: 'c' }, async () => { throw new TypeError('bug'); })).rejects.toThrow('bug');
    expect(calls).toHaveLength(2);
    expect(tally.total).toBe(0);
  });

  it('gives up after the budget with an error naming the cluster, the call and the cause', async () => {
    const { gateway, calls } = gatewayAnswering(Array.from({ length: 10 }, () => ({ status: 503 })));
    const { r, tally, waits } = retrier({ attempts: 3, baseDelayMs: 100, maxDelayMs: 150 });
    const error = (await r
      .run({ what: 'restart of Deployment/a in ns', cluster: 'aks-dev' }, () => gateway.patch('aks-dev', '/x', {}, 'strategic', credentials))
      .catch(e => e)) as Error;
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.message).toBe(
      "Gave up on the restart of Deployment/a in ns in cluster 'aks-dev' after 3 attempts (last: 503): cluster 'aks-dev' answered 503: status 503",
    );
    expect(calls).toHaveLength(3);
    expect(waits).toEqual([100, 150]); // capped at maxDelayMs
    expect(tally).toEqual({ total: 2, causes: { '503': 2 } });
  });

  it('stops when the waits of one call would exceed their total budget (a pass must not outlive its lease)', async () => {
    const { gateway, calls } = gatewayAnswering(Array.from({ length: 10 }, () => ({ status: 429, headers: { 'Retry-After': '4' } })));
    const { r, tally, waits } = retrier({ attempts: 10, maxTotalWaitMs: 10_000 });
    await expect(r.run({ what: 'read', cluster: 'c' }, () => gateway.get('c', '/x', credentials))).rejects.toThrow(
      "Gave up on the read in cluster 'c' after 3 attempts and 8 s of waiting (last: 429)",
    );
    expect(waits).toEqual([4000, 4000]);
    expect(calls).toHaveLength(3);
    expect(tally.total).toBe(2);
  });

  it('fails at once when Retry-After asks for longer than a pass may wait', async () => {
    const { gateway, calls } = gatewayAnswering([{ status: 429, headers: { 'Retry-After': '60' } }]);
    const { r, tally } = retrier({ maxRetryAfterMs: 10_000 });
    await expect(r.run({ what: 'relabel of namespace p', cluster: 'c' }, () => gateway.get('c', '/x', credentials))).rejects.toThrow(
      "Cluster 'c' asked to retry the relabel of namespace p after 60 s (429)",
    );
    expect(calls).toHaveLength(1);
    expect(tally.total).toBe(0);
  });
});
