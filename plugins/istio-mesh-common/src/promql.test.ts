import {
  duration,
  escapeLabelValue,
  escapeRegex,
  goldenSignalQueries,
  oneOf,
  podMatcher,
  rangeFor,
  selector,
  topologyQueries,
  workloadMatchers,
} from './promql';

describe('label escaping', () => {
  it('escapes backslashes, quotes and newlines in values', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect(selector([{ name: 'x', op: '=', value: 'say "hi"\\' }])).toBe('{x="say \\"hi\\"\\\\"}');
  });

  it('refuses label names that are not identifiers', () => {
    expect(() => selector([{ name: 'a"b', op: '=', value: 'v' }])).toThrow('Invalid Prometheus label name "a\\"b"');
    expect(() => selector([{ name: '1a', op: '=', value: 'v' }])).toThrow(/Invalid Prometheus label name/);
  });

  it('makes regex alternatives match only themselves', () => {
    expect(escapeRegex('a.b|c*(d)')).toBe('a\\.b\\|c\\*\\(d\\)');
    expect(oneOf('pod', ['b.1', 'a.2', 'b.1'])).toEqual({ name: 'pod', op: '=~', value: 'a\\.2|b\\.1' });
    expect(oneOf('pod', ['only'])).toEqual({ name: 'pod', op: '=', value: 'only' });
    // A regex escape inside a string literal is escaped once more.
    expect(selector([oneOf('pod', ['a.1', 'b.2'])])).toBe('{pod=~"a\\\\.1|b\\\\.2"}');
  });

  it('refuses workload, namespace and pod names that are not Kubernetes names', () => {
    expect(() => workloadMatchers('destination', [{ workload: 'x"}) or vector(1) #', namespace: 'ns' }])).toThrow(
      'Invalid workload for a metrics query: "x\\"}) or vector(1) #" is not a Kubernetes name',
    );
    expect(() => workloadMatchers('destination', [{ workload: 'ok', namespace: 'Bad_NS' }])).toThrow(/Invalid namespace/);
    expect(() => podMatcher('pod', ['pod-1', 'a|b'])).toThrow(/Invalid pod/);
    expect(() => workloadMatchers('source', [])).toThrow('No workloads to query');
    expect(() => duration(0)).toThrow();
    expect(() => duration(1.5)).toThrow();
  });
});

describe('goldenSignalQueries', () => {
  it('builds the documented queries on reporter="destination"', () => {
    const q = goldenSignalQueries({
      matchers: [{ name: 'cluster', op: '=', value: 'aks-dev' }, ...workloadMatchers('destination', [{ workload: 'payments-api', namespace: 'payments' }])],
      rateIntervalSeconds: 300,
      by: ['destination_workload', 'destination_workload_namespace'],
    });
    const sel = '{reporter="destination",cluster="aks-dev",destination_workload="payments-api",destination_workload_namespace="payments"}';
    const total = `sum by (destination_workload, destination_workload_namespace) (rate(istio_requests_total${sel}[300s]))`;
    expect(q.requestsPerSecond).toBe(total);
    expect(q.errorRatio).toBe(
      `(sum by (destination_workload, destination_workload_namespace) (rate(istio_requests_total${sel.replace('}', ',response_code=~"5.."}')}[300s])) or ${total} * 0) / ${total}`,
    );
    expect(q.p99Ms).toBe(
      `histogram_quantile(0.99, sum by (destination_workload, destination_workload_namespace, le) (rate(istio_request_duration_milliseconds_bucket${sel}[300s])))`,
    );
    expect(q.p50Ms).toContain('histogram_quantile(0.5, ');
    expect(q.p90Ms).toContain('histogram_quantile(0.9, ');
  });

  it('sums to one series without grouping labels', () => {
    const q = goldenSignalQueries({ matchers: [], rateIntervalSeconds: 60, by: [] });
    expect(q.requestsPerSecond).toBe('sum (rate(istio_requests_total{reporter="destination"}[60s]))');
    expect(q.p50Ms).toBe('histogram_quantile(0.5, sum by (le) (rate(istio_request_duration_milliseconds_bucket{reporter="destination"}[60s])))');
  });
});

describe('topologyQueries', () => {
  const q = topologyQueries({ clusterMatchers: [{ name: 'cluster', op: '=', value: 'c' }], workloads: [{ workload: 'w', namespace: 'n' }], windowSeconds: 900 });
  const inbound = 'reporter="source",destination_workload="w",destination_workload_namespace="n",cluster="c"';
  const outbound = 'reporter="source",source_workload="w",source_workload_namespace="n",cluster="c"';
  const unmeshed = 'reporter="destination",source_workload="unknown",destination_workload="w",destination_workload_namespace="n",cluster="c"';
  const edge = 'source_workload, source_workload_namespace, destination_workload, destination_workload_namespace, destination_service';

  it('reads HTTP edges from the callers, unmeshed callers from the receivers, by response code', () => {
    const by = `sum by (${edge}, response_code)`;
    expect(q.inbound).toBe(`${by} (rate(istio_requests_total{${inbound}}[900s]))`);
    expect(q.outbound).toBe(`${by} (rate(istio_requests_total{${outbound}}[900s]))`);
    expect(q.unmeshedInbound).toBe(`${by} (rate(istio_requests_total{${unmeshed}}[900s]))`);
  });

  it('reads each TCP counter in one query, the three selections or-ed', () => {
    const tcp = (metric: string) =>
      [inbound, outbound, unmeshed].map(sel => `sum by (${edge}) (rate(${metric}{${sel}}[900s]))`).join(' or ');
    expect(q.tcp).toEqual({
      requestBytesPerSecond: tcp('istio_tcp_received_bytes_total'),
      responseBytesPerSecond: tcp('istio_tcp_sent_bytes_total'),
      connectionsOpenedPerSecond: tcp('istio_tcp_connections_opened_total'),
    });
  });

  it('refuses workload names that could break out of the selector', () => {
    expect(() => topologyQueries({ clusterMatchers: [], workloads: [{ workload: 'w"} or vector(1)', namespace: 'n' }], windowSeconds: 900 })).toThrow(
      /Invalid workload for a metrics query/,
    );
    // Several workloads: alternatives of an escaped regex; a cluster value is escaped as a literal.
    const many = topologyQueries({
      clusterMatchers: [{ name: 'cluster', op: '=', value: 'a"b' }],
      workloads: [
        { workload: 'api.v2', namespace: 'n' },
        { workload: 'worker', namespace: 'n' },
      ],
      windowSeconds: 60,
    });
    expect(many.tcp.connectionsOpenedPerSecond.split(' or ')[1]).toBe(
      `sum by (${edge}) (rate(istio_tcp_connections_opened_total{reporter="source",source_workload=~"api\\\\.v2|worker",source_workload_namespace="n",cluster="a\\"b"}[60s]))`,
    );
  });
});

describe('rangeFor', () => {
  const opts = { maxPoints: 300, minStepSeconds: 10 };
  it.each([
    [900, 10, 91],
    [3600, 13, 277],
    [21600, 73, 296],
    [86400, 289, 299],
  ])('%i s → step %i s, %i points (never more than 300)', (window, step, points) => {
    const r = rangeFor(1_700_000_123_456, window, opts);
    expect([r.stepSeconds, r.points]).toEqual([step, points]);
    expect(r.end % (step * 1000)).toBe(0);
    expect(r.end).toBeLessThanOrEqual(1_700_000_123_456);
    expect(r.end - r.start).toBe((points - 1) * step * 1000);
    expect(r.end - r.start).toBeLessThanOrEqual(window * 1000);
  });

  it('keeps to any point budget', () => {
    for (const maxPoints of [2, 3, 50, 299, 1000]) {
      for (const window of [60, 900, 3600, 86400]) {
        expect(rangeFor(1e12, window, { maxPoints, minStepSeconds: 1 }).points).toBeLessThanOrEqual(maxPoints);
      }
    }
    expect(() => rangeFor(0, 60, { maxPoints: 1, minStepSeconds: 1 })).toThrow();
  });
});
