import { ServiceUnavailableError } from '@backstage/errors';
import { MetricSample, MetricsProvider } from '@mesh-portal/plugin-istio-mesh-node';
import { MetricsService } from '../metrics/MetricsService';
import { DEFAULT_HEALTH_GATE_SETTINGS, HealthGate, gateMeasuring, unacknowledgedGates } from './healthGate';
import { StepDetails } from './UpgradeStore';

/**
 * The gate's pass logic with a scripted provider and clock: when it waits, what it asks,
 * how it treats an outage. The real queries are covered by healthGate.test.ts.
 */

const RESTART = Date.parse('2026-12-01T10:00:00Z');

/** Answers each golden-signal query with one sample per workload, from `values(time)`. */
function scriptedProvider(values: (time: number) => Record<string, { rps: number; errors: number; p99: number }> | Error) {
  const asked: Array<{ time: number; promql: string }> = [];
  const provider: MetricsProvider = {
    id: 'scripted',
    handles: c => c === 'aks-dev',
    describe: () => 'scripted',
    clusterMatchers: () => [],
    podLabel: () => 'pod',
    query: async (_cluster, promql, { time }) => {
      asked.push({ time, promql });
      const v = values(time);
      if (v instanceof Error) throw v;
      return Object.entries(v).map(([workload, s]): MetricSample => {
        let value = s.p99 / 4;
        if (promql.startsWith('(')) value = s.errors / s.rps;
        else if (promql.startsWith('sum')) value = s.rps;
        else if (promql.includes('0.99')) value = s.p99;
        return { metric: { destination_workload: workload, destination_workload_namespace: 'payments' }, value };
      });
    },
    queryRange: async () => [],
  };
  return { provider, asked };
}

function ctx(details: StepDetails) {
  const saves: StepDetails[] = [];
  return { cluster: 'aks-dev', namespace: 'payments', details, save: async () => void saves.push(JSON.parse(JSON.stringify(details))), saves };
}

describe('HealthGate', () => {
  const settings = { ...DEFAULT_HEALTH_GATE_SETTINGS, windowSeconds: 60, graceSeconds: 30 };

  it('records the windows, waits for the after-window, then compares and records the verdict', async () => {
    let now = RESTART + 20_000; // the rollout finished 20 s after the restart
    const { provider, asked } = scriptedProvider(time =>
      time * 1000 <= RESTART ? { 'payments-api': { rps: 10, errors: 0.05, p99: 100 } } : { 'payments-api': { rps: 10, errors: 2, p99: 100 } },
    );
    const gate = new HealthGate(new MetricsService({ providers: [provider] }), settings, () => now);
    const c = ctx({ restartStamp: new Date(RESTART).toISOString() });

    expect(await gate.tick(c)).toEqual({ done: false, message: 'Health gate: measuring payments after the restart until 2026-12-01T10:01:20.000Z.' });
    expect(c.saves).toHaveLength(1);
    expect(c.details.healthGate).toMatchObject({
      verdict: 'pending',
      before: { start: '2026-12-01T09:59:00.000Z', end: '2026-12-01T10:00:00.000Z' },
      after: { start: '2026-12-01T10:00:20.000Z', end: '2026-12-01T10:01:20.000Z' },
    });
    now += 59_999;
    expect((await gate.tick(c)).done).toBe(false);
    expect(asked).toEqual([]); // nothing asked before the window has passed
    now += 1;
    expect(await gate.tick(c)).toEqual({ done: true, summary: 'Health gate: regressed. payments-api: 5xx ratio rose from 0.5 % to 20 % (more than 1 % points).' });
    // Each window: five queries at its end, rates over the window's length.
    expect([...new Set(asked.map(a => a.time))]).toEqual([RESTART / 1000, (RESTART + 80_000) / 1000]);
    expect(asked).toHaveLength(10);
    expect(asked.every(a => a.promql.includes('[60s]'))).toBe(true);
    expect(c.details.healthGate).toMatchObject({ verdict: 'regressed', evaluatedAt: '2026-12-01T10:01:20.000Z' });
    // A later pass (a resumed step) does not ask again.
    expect((await gate.tick(c)).done).toBe(true);
    expect(asked).toHaveLength(10);
  });

  it('retries while Prometheus is down, then settles on no-data with the reason after the grace', async () => {
    let now = RESTART + 1000;
    const { provider } = scriptedProvider(() => new ServiceUnavailableError('The Prometheus of aks-dev at http://p is unreachable: ECONNREFUSED'));
    const gate = new HealthGate(new MetricsService({ providers: [provider] }), settings, () => now);
    const c = ctx({ restartStamp: new Date(RESTART).toISOString() });
    await gate.tick(c);
    now = RESTART + 1000 + 60_000;
    expect(await gate.tick(c)).toEqual({
      done: false,
      message: 'Health gate: metrics unavailable (The Prometheus of aks-dev at http://p is unreachable: ECONNREFUSED); retrying.',
    });
    now += 30_000;
    expect(await gate.tick(c)).toEqual({
      done: true,
      summary: 'Health gate: no data. Metrics stayed unavailable: The Prometheus of aks-dev at http://p is unreachable: ECONNREFUSED',
    });
    expect(c.details.healthGate!.verdict).toBe('no-data');
  });

  it('is healthy when the signals held, and no-data without traffic', async () => {
    const now = RESTART + 200_000;
    const steady = scriptedProvider(() => ({ 'payments-api': { rps: 10, errors: 0.05, p99: 100 }, 'payments-worker': { rps: 2, errors: 0, p99: 20 } }));
    const c = ctx({ restartStamp: new Date(RESTART).toISOString(), healthGate: undefined });
    const gate = new HealthGate(new MetricsService({ providers: [steady.provider] }), settings, () => now);
    await gate.tick(c);
    // The after-window starts now: move the clock past it.
    const later = new HealthGate(new MetricsService({ providers: [steady.provider] }), settings, () => now + 60_000);
    expect(await later.tick(c)).toEqual({ done: true, summary: 'Health gate: healthy (error ratio and p99 latency held after the restart).' });
    expect(c.details.healthGate!.workloads.map(w => [w.workload, w.verdict])).toEqual([
      ['payments-api', 'healthy'],
      ['payments-worker', 'healthy'],
    ]);

    const quiet = scriptedProvider(() => ({}));
    const q = ctx({ restartStamp: new Date(RESTART).toISOString() });
    await new HealthGate(new MetricsService({ providers: [quiet.provider] }), settings, () => now).tick(q);
    expect(await new HealthGate(new MetricsService({ providers: [quiet.provider] }), settings, () => now + 60_000).tick(q)).toEqual({
      done: true,
      summary: 'Health gate: no data. No requests to payments were recorded in either window.',
    });
  });

  it('applies only to clusters with metrics, unless disabled', () => {
    const { provider } = scriptedProvider(() => ({}));
    const metrics = new MetricsService({ providers: [provider] });
    expect(new HealthGate(metrics, settings).applies('aks-dev')).toBe(true);
    expect(new HealthGate(metrics, settings).applies('aks-prod')).toBe(false);
    expect(new HealthGate(metrics, { ...settings, enabled: false }).applies('aks-dev')).toBe(false);
    expect(new HealthGate(metrics, settings).extraTimeMs('aks-dev')).toBe((60 + 30 + 60) * 1000);
    expect(new HealthGate(metrics, settings).extraTimeMs('aks-prod')).toBe(0);
  });
});

describe('unacknowledgedGates and gateMeasuring', () => {
  const gate = (verdict: 'pending' | 'healthy' | 'regressed' | 'no-data') => ({
    healthGate: { verdict, before: { start: '', end: '' }, after: { start: '', end: '' }, workloads: [], reasons: [] },
  });
  it('lists migrated namespaces whose last migrate step regressed', () => {
    const steps = [
      { id: 1, action: 'migrate', namespace: 'payments', outcome: 'succeeded', details: gate('regressed') },
      { id: 2, action: 'migrate', namespace: 'storefront', outcome: 'succeeded', details: gate('regressed') },
      { id: 3, action: 'migrate', namespace: 'storefront', outcome: 'succeeded', details: gate('healthy') }, // migrated again: healthy now
      { id: 4, action: 'migrate', namespace: 'tools', outcome: 'running', details: gate('pending') },
      { id: 5, action: 'migrate', namespace: 'legacy', outcome: 'succeeded', details: gate('regressed') },
    ];
    expect(unacknowledgedGates(steps, ['payments', 'storefront', 'tools'])).toEqual([{ namespace: 'payments', stepId: 1, verdict: 'regressed' }]);
    expect(steps.map(s => gateMeasuring(s))).toEqual([false, false, false, true, false]);
  });
});
