import {
  DEFAULT_HEALTH_GATE_THRESHOLDS,
  DEFAULT_HEALTH_THRESHOLDS,
  GoldenSignals,
  NO_SIGNALS,
  TopologySample,
  classifyHealth,
  combineTopologyEdges,
  combineVerdicts,
  compareHealth,
  isMetricsWindow,
  metricsWindowSeconds,
  validateHealthThresholds,
} from './metrics';

const s = (errorRatio: number | null, p99Ms: number | null = 100, requestsPerSecond: number | null = 10): GoldenSignals => ({
  requestsPerSecond,
  errorRatio,
  p50Ms: p99Ms === null ? null : p99Ms / 4,
  p90Ms: p99Ms === null ? null : p99Ms / 2,
  p99Ms,
});

describe('metrics windows', () => {
  it('knows the four windows and nothing else', () => {
    expect(['15m', '1h', '6h', '24h'].map(w => [isMetricsWindow(w), metricsWindowSeconds(w as any)])).toEqual([
      [true, 900],
      [true, 3600],
      [true, 21600],
      [true, 86400],
    ]);
    expect(['2h', '', '1H', undefined, 15].map(isMetricsWindow)).toEqual([false, false, false, false, false]);
  });
});

describe('classifyHealth', () => {
  it.each([
    // errorRatio, p99, rps, expected
    [null, null, null, 'no-data'],
    [null, 100, 10, 'no-data'],
    [0, null, 0, 'no-data'], // no requests: a ratio of 0 from `or * 0` is not a verdict
    [0, 100, 10, 'healthy'],
    [0.0001, 100, 10, 'degraded'],
    [0.04, 100, 10, 'degraded'],
    [0.0999, 100, 10, 'degraded'],
    [0.1, 100, 10, 'failing'],
    [1, 100, 10, 'failing'],
  ] as const)('errorRatio %p, p99 %p, %p req/s → %s with the default thresholds', (errorRatio, p99, rps, expected) => {
    expect(classifyHealth(s(errorRatio, p99, rps)).health).toBe(expected);
  });

  it('applies configured error and latency thresholds at their edges', () => {
    const t = { degradedErrorRatio: 0.01, failingErrorRatio: 0.05, degradedP99Ms: 200, failingP99Ms: 500 };
    expect(classifyHealth(s(0.01, 100), t).health).toBe('healthy'); // degraded only above 0.01
    expect(classifyHealth(s(0.0101, 100), t).health).toBe('degraded');
    expect(classifyHealth(s(0.05, 100), t).health).toBe('failing'); // failing at 0.05
    expect(classifyHealth(s(0, 200), t).health).toBe('healthy');
    expect(classifyHealth(s(0, 200.1), t).health).toBe('degraded');
    expect(classifyHealth(s(0, 500), t).health).toBe('failing');
    expect(classifyHealth(s(0, null), t).health).toBe('healthy'); // no latency data: no latency rule
  });

  it('says why, failing reasons first', () => {
    const t = { degradedErrorRatio: 0, failingErrorRatio: 0.1, degradedP99Ms: 200 };
    expect(classifyHealth(s(0.25, 300), t)).toEqual({
      health: 'failing',
      reasons: ['25 % of requests failed with 5xx (failing at 10 %).', 'p99 latency is 300 ms (degraded above 200 ms).'],
    });
    expect(classifyHealth(s(0.005, 100))).toEqual({ health: 'degraded', reasons: ['0.5 % of requests failed with 5xx (degraded above 0 %).'] });
    expect(classifyHealth(NO_SIGNALS)).toEqual({ health: 'no-data', reasons: ['No requests were recorded in the window.'] });
    expect(classifyHealth(s(0, 100))).toEqual({ health: 'healthy', reasons: [] });
  });

  it('has the common convention as default', () => {
    expect(DEFAULT_HEALTH_THRESHOLDS).toEqual({ degradedErrorRatio: 0, failingErrorRatio: 0.1 });
  });
});

describe('validateHealthThresholds', () => {
  it('accepts sane thresholds and names each problem', () => {
    expect(validateHealthThresholds(DEFAULT_HEALTH_THRESHOLDS)).toEqual([]);
    expect(validateHealthThresholds({ degradedErrorRatio: 0.2, failingErrorRatio: 0.1 })).toEqual(['failingErrorRatio must not be below degradedErrorRatio']);
    expect(validateHealthThresholds({ degradedErrorRatio: -1, failingErrorRatio: 2, degradedP99Ms: 0, failingP99Ms: Number.NaN })).toEqual([
      'degradedErrorRatio must be a ratio between 0 and 1, got -1',
      'failingErrorRatio must be a ratio between 0 and 1, got 2',
      'degradedP99Ms must be a positive number of milliseconds, got 0',
      'failingP99Ms must be a positive number of milliseconds, got NaN',
    ]);
    expect(validateHealthThresholds({ degradedErrorRatio: 0, failingErrorRatio: 0.1, degradedP99Ms: 500, failingP99Ms: 100 })).toEqual([
      'failingP99Ms must not be below degradedP99Ms',
    ]);
  });
});

describe('compareHealth', () => {
  it.each([
    // before, after, verdict
    ['same', s(0.005, 100), s(0.005, 100), 'healthy'],
    ['better', s(0.05, 300), s(0.001, 90), 'healthy'],
    ['errors +1 point exactly (not more)', s(0.005, 100), s(0.015, 100), 'healthy'],
    ['errors +1.1 points', s(0.005, 100), s(0.016, 100), 'regressed'],
    ['errors 0.5 % → 20 %', s(0.005, 100), s(0.2, 100), 'regressed'],
    ['p99 +50 % exactly', s(0, 100), s(0, 150), 'healthy'],
    ['p99 +51 %', s(0, 100), s(0, 151), 'regressed'],
    ['p99 ×4 but only +6 ms', s(0, 2), s(0, 8), 'healthy'],
    ['p99 ×1.6, +12 ms', s(0, 20), s(0, 32), 'regressed'],
    ['no latency data after', s(0, 100), s(0, null), 'healthy'],
    ['no requests before', s(null, null, null), s(0, 100), 'no-data'],
    ['no requests after', s(0, 100), s(null, null, 0), 'no-data'],
    ['no requests at all', NO_SIGNALS, NO_SIGNALS, 'no-data'],
  ] as const)('%s → %s', (_what, before, after, verdict) => {
    expect(compareHealth(before, after).verdict).toBe(verdict);
  });

  it('flags reaching the failing ratio even within the allowed increase, unless it was failing before', () => {
    const t = { ...DEFAULT_HEALTH_GATE_THRESHOLDS, maxErrorRatioIncrease: 0.5 };
    expect(compareHealth(s(0.05), s(0.1), t)).toEqual({ verdict: 'regressed', reasons: ['5xx ratio reached 10 % (failing at 10 %); it was 5 %.'] });
    expect(compareHealth(s(0.12), s(0.15), t).verdict).toBe('healthy');
  });

  it('gives every reason in plain words', () => {
    expect(compareHealth(s(0.005, 100), s(0.2, 400))).toEqual({
      verdict: 'regressed',
      reasons: [
        '5xx ratio rose from 0.5 % to 20 % (more than 1 % points).',
        'p99 latency rose from 100 ms to 400 ms (more than +50 % and +10 ms).',
      ],
    });
    expect(compareHealth(NO_SIGNALS, s(0))).toEqual({ verdict: 'no-data', reasons: ['No requests in the window before the restart.'] });
  });
});

describe('combineVerdicts', () => {
  it('lets a regression win, then health, else no data', () => {
    expect(combineVerdicts(['healthy', 'regressed', 'no-data'])).toBe('regressed');
    expect(combineVerdicts(['healthy', 'no-data'])).toBe('healthy');
    expect(combineVerdicts(['no-data'])).toBe('no-data');
    expect(combineVerdicts([])).toBe('no-data');
  });
});

describe('combineTopologyEdges', () => {
  // Rates are binary fractions, so sums and ratios are exact.
  const ref = (namespace: string, workload: string) => ({ source_workload: workload, source_workload_namespace: namespace });
  const to = (namespace: string, workload: string, service = `${workload}.${namespace}.svc.cluster.local`) => ({
    destination_workload: workload,
    destination_workload_namespace: namespace,
    destination_service: service,
  });
  const sample = (metric: Record<string, string>, value: number | null): TopologySample => ({ metric, value });
  const api = ref('payments', 'payments-api');
  const worker = ref('payments', 'payments-worker');
  const db = to('unknown', 'unknown', 'payments-db.postgres.database.azure.com');
  // The entity's workloads: the regexes select payments/ledger and staging/payments-api too.
  const workloads = [
    { namespace: 'payments', workload: 'payments-api' },
    { namespace: 'payments', workload: 'payments-worker' },
    { namespace: 'staging', workload: 'ledger' },
  ];
  const apiToWorker = { ...api, ...to('payments', 'payments-worker'), response_code: '200' };
  const edges = combineTopologyEdges('aks-dev', workloads, {
    inbound: [
      sample({ ...ref('storefront', 'checkout'), ...to('payments', 'payments-api'), response_code: '200' }, 7.5),
      sample({ ...ref('storefront', 'checkout'), ...to('payments', 'payments-api'), response_code: '500' }, 0.5),
      sample({ ...ref('storefront', 'checkout'), ...to('staging', 'payments-api'), response_code: '500' }, 64), // cross product
      sample(apiToWorker, 2),
    ],
    outbound: [
      sample(apiToWorker, 2), // the same series as inbound: one edge of 2, not 4
      sample({ ...api, ...to('unknown', 'unknown', 'unknown'), response_code: '503' }, 0.25),
      sample({ ...api, ...to('unknown', 'unknown', 'api.stripe.com'), response_code: '200' }, 0.5),
      sample({ ...ref('payments', 'ledger'), ...to('payments', 'payments-api'), response_code: '200' }, 32), // cross product
    ],
    unmeshedInbound: [sample({ ...ref('unknown', 'unknown'), ...to('payments', 'payments-api'), response_code: '200' }, 1)],
    tcp: {
      requestBytesPerSecond: [sample({ ...worker, ...db }, 2048), sample({ ...api, ...to('payments', 'payments-worker') }, 128), sample({ ...ref('staging', 'payments-worker'), ...db }, 1e6)],
      responseBytesPerSecond: [sample({ ...worker, ...db }, 8192)],
      // api → worker has no connections opened in the window: 0, not missing.
      connectionsOpenedPerSecond: [sample({ ...worker, ...db }, 0.25), sample({ ...ref('staging', 'payments-worker'), ...db }, 1e3)],
    },
  });

  it('sums HTTP response codes into a rate and a 5xx ratio, once per edge, dropping the regexes\' cross product', () => {
    expect(edges.filter(e => e.protocol === 'http')).toEqual([
      { cluster: 'aks-dev', protocol: 'http', source: { namespace: 'payments', workload: 'payments-api' }, destination: { namespace: 'payments', workload: 'payments-worker' }, requestsPerSecond: 2, errorRatio: 0 },
      { cluster: 'aks-dev', protocol: 'http', source: { namespace: 'payments', workload: 'payments-api' }, destination: { namespace: 'unknown', workload: 'unknown' }, requestsPerSecond: 0.25, errorRatio: 1 },
      {
        cluster: 'aks-dev',
        protocol: 'http',
        source: { namespace: 'payments', workload: 'payments-api' },
        destination: { namespace: 'unknown', workload: 'unknown', service: 'api.stripe.com' },
        requestsPerSecond: 0.5,
        errorRatio: 0,
      },
      { cluster: 'aks-dev', protocol: 'http', source: { namespace: 'storefront', workload: 'checkout' }, destination: { namespace: 'payments', workload: 'payments-api' }, requestsPerSecond: 8, errorRatio: 0.0625 },
      { cluster: 'aks-dev', protocol: 'http', source: { namespace: 'unknown', workload: 'unknown' }, destination: { namespace: 'payments', workload: 'payments-api' }, requestsPerSecond: 1, errorRatio: 0 },
    ]);
  });

  it('joins the three TCP counters of an edge; an unknown destination is named by its host', () => {
    expect(edges.filter(e => e.protocol === 'tcp')).toEqual([
      {
        cluster: 'aks-dev',
        protocol: 'tcp',
        source: { namespace: 'payments', workload: 'payments-api' },
        destination: { namespace: 'payments', workload: 'payments-worker' },
        requestsPerSecond: 0,
        errorRatio: null,
        tcp: { requestBytesPerSecond: 128, responseBytesPerSecond: 0, connectionsOpenedPerSecond: 0 },
      },
      {
        cluster: 'aks-dev',
        protocol: 'tcp',
        source: { namespace: 'payments', workload: 'payments-worker' },
        destination: { namespace: 'unknown', workload: 'unknown', service: 'payments-db.postgres.database.azure.com' },
        requestsPerSecond: 0,
        errorRatio: null,
        tcp: { requestBytesPerSecond: 2048, responseBytesPerSecond: 8192, connectionsOpenedPerSecond: 0.25 },
      },
    ]);
  });

  it('orders by source, destination, then protocol: HTTP and TCP between one pair are two edges', () => {
    expect(edges.map(e => `${e.source.workload} -${e.protocol}-> ${e.destination.service ?? e.destination.workload}`)).toEqual([
      'payments-api -http-> payments-worker',
      'payments-api -tcp-> payments-worker',
      'payments-api -http-> unknown',
      'payments-api -http-> api.stripe.com',
      'payments-worker -tcp-> payments-db.postgres.database.azure.com',
      'checkout -http-> payments-api',
      'unknown -http-> payments-api',
    ]);
  });

  it('reads a NaN rate as 0 and a known workload as one node whatever host it was called by', () => {
    const [edge, ...rest] = combineTopologyEdges('c', [{ namespace: 'n', workload: 'w' }], {
      inbound: [
        sample({ ...ref('n', 'caller'), ...to('n', 'w', 'w.n.svc.cluster.local'), response_code: '200' }, 1),
        sample({ ...ref('n', 'caller'), ...to('n', 'w', 'w-canary.n.svc.cluster.local'), response_code: '200' }, null),
      ],
      outbound: [],
      unmeshedInbound: [],
      tcp: { requestBytesPerSecond: [], responseBytesPerSecond: [], connectionsOpenedPerSecond: [] },
    });
    expect(rest).toEqual([]);
    expect(edge).toEqual({ cluster: 'c', protocol: 'http', source: { namespace: 'n', workload: 'caller' }, destination: { namespace: 'n', workload: 'w' }, requestsPerSecond: 1, errorRatio: 0 });
  });
});
