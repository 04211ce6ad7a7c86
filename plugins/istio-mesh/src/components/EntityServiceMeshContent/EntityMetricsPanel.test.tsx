import { Entity } from '@backstage/catalog-model';
import { ResponseError } from '@backstage/errors';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { act, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  EntityMeshStatus,
  EntityMetrics,
  EntityTopology,
  GoldenSignalSeries,
  GoldenSignals,
} from '@mesh-portal/plugin-istio-mesh-common';
import { IstioMeshApi, istioMeshApiRef } from '../../api/IstioMeshApi';
import { EntityMetricsPanel, METRICS_REFRESH_MS } from './EntityMetricsPanel';
import { EntityServiceMeshContent } from './EntityServiceMeshContent';
import { formatBytesPerSecond } from './TopologyView';

jest.setTimeout(30_000);

const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'payments-api', annotations: { 'backstage.io/kubernetes-id': 'payments-api' } },
  spec: { type: 'service', owner: 'team-payments', lifecycle: 'production' },
};
const ref = { kind: 'Component', namespace: 'default', name: 'payments-api' };

const start = new Date(2026, 10, 25, 10, 0, 0).getTime();
const step = 60_000;
const line = (values: number[]) => values.map((v, i) => ({ t: start + i * step, v }));
const series = (rps: number, err: number, p50: number, n = 5): GoldenSignalSeries => ({
  requestsPerSecond: line(Array(n).fill(rps)),
  errorRatio: line(Array(n).fill(err)),
  p50Ms: line(Array(n).fill(p50)),
  p90Ms: line(Array(n).fill(p50 * 2)),
  p99Ms: line(Array(n).fill(p50 * 4)),
});
const current = (rps: number, err: number, p50: number): GoldenSignals => ({
  requestsPerSecond: rps,
  errorRatio: err,
  p50Ms: p50,
  p90Ms: p50 * 2,
  p99Ms: p50 * 4,
});

const metrics: EntityMetrics = {
  entityRef: 'component:default/payments-api',
  window: '1h',
  start,
  end: start + 4 * step,
  stepSeconds: 60,
  rateIntervalSeconds: 300,
  errors: [{ cluster: 'istio-lab', error: { name: 'ServiceUnavailableError', message: 'Prometheus for istio-lab did not answer' } }],
  workloads: [
    {
      cluster: 'aks-dev',
      namespace: 'payments',
      workload: 'payments-api',
      current: current(2, 0.005, 30),
      health: 'degraded',
      healthReasons: ['0.5 % of requests failed with 5xx (degraded above 0 %).'],
      series: series(2, 0.005, 30),
    },
    {
      cluster: 'aks-prod',
      namespace: 'payments',
      workload: 'payments-api',
      current: current(2, 0.1, 60),
      health: 'failing',
      healthReasons: ['10 % of requests failed with 5xx (failing at 10 %).'],
      series: series(2, 0.1, 60),
      byRevision: [
        { revision: 'asm-1-29', pods: ['payments-api-a', 'payments-api-b'], current: current(1.3, 0.005, 30), health: 'degraded', series: series(1.3, 0.005, 30) },
        { revision: 'asm-1-30', pods: ['payments-api-c'], current: current(0.7, 0.2, 120), health: 'failing', series: series(0.7, 0.2, 120) },
      ],
    },
  ],
};

const topology: EntityTopology = {
  entityRef: 'component:default/payments-api',
  window: '1h',
  start,
  end: start + 4 * step,
  errors: [],
  nodes: [
    { cluster: 'aks-dev', workload: 'payments-api', namespace: 'payments', role: 'self' },
    { cluster: 'aks-dev', workload: 'checkout', namespace: 'storefront', role: 'caller' },
    { cluster: 'aks-dev', workload: 'unknown', namespace: 'unknown', role: 'caller' },
    { cluster: 'aks-dev', workload: 'payments-worker', namespace: 'payments', role: 'callee' },
    { cluster: 'aks-dev', workload: 'unknown', namespace: 'unknown', service: 'payments-db.postgres.database.azure.com', role: 'callee' },
    { cluster: 'aks-dev', workload: 'unknown', namespace: 'unknown', service: 'ledger.payments.svc.cluster.local', role: 'callee' },
  ],
  edges: [
    { cluster: 'aks-dev', protocol: 'http', source: { workload: 'checkout', namespace: 'storefront' }, destination: { workload: 'payments-api', namespace: 'payments' }, requestsPerSecond: 2, errorRatio: 0 },
    { cluster: 'aks-dev', protocol: 'http', source: { workload: 'unknown', namespace: 'unknown' }, destination: { workload: 'payments-api', namespace: 'payments' }, requestsPerSecond: 0.5, errorRatio: 0.2 },
    { cluster: 'aks-dev', protocol: 'http', source: { workload: 'payments-api', namespace: 'payments' }, destination: { workload: 'payments-worker', namespace: 'payments' }, requestsPerSecond: 2, errorRatio: 0.005 },
    {
      cluster: 'aks-dev',
      protocol: 'tcp',
      source: { workload: 'payments-api', namespace: 'payments' },
      destination: { workload: 'unknown', namespace: 'unknown', service: 'payments-db.postgres.database.azure.com' },
      requestsPerSecond: 0,
      errorRatio: null,
      tcp: { requestBytesPerSecond: 2048, responseBytesPerSecond: 8192, connectionsOpenedPerSecond: 0.2 },
    },
    // No endpoint of a Service in the cluster answered: Envoy's own 503s.
    {
      cluster: 'aks-dev',
      protocol: 'http',
      source: { workload: 'payments-api', namespace: 'payments' },
      destination: { workload: 'unknown', namespace: 'unknown', service: 'ledger.payments.svc.cluster.local' },
      requestsPerSecond: 0.25,
      errorRatio: 1,
    },
  ],
};

async function unavailable(message: string) {
  const response = new Response(
    JSON.stringify({ error: { name: 'ServiceUnavailableError', message }, response: { statusCode: 503 } }),
    { status: 503, statusText: 'Service Unavailable', headers: { 'Content-Type': 'application/json' } },
  );
  return ResponseError.fromResponse(response as any);
}

function renderPanel(api: Partial<IstioMeshApi>, element = <EntityMetricsPanel />) {
  return renderInTestApp(
    <TestApiProvider apis={[[istioMeshApiRef, api]]}>
      <EntityProvider entity={entity}>{element}</EntityProvider>
    </TestApiProvider>,
  );
}

const chartLines = (name: string) => {
  const img = screen.getByRole('img', { name: new RegExp(`^${name.replace(/[/()]/g, '\\$&')},`) });
  return [...img.querySelectorAll('[data-testid="chart-line"]')].map(l => `${l.getAttribute('data-series')}:${l.getAttribute('data-points')}`);
};

describe('EntityMetricsPanel', () => {
  it('charts requests/s, 5xx and p50/p90/p99 per workload, and one line per sidecar revision mid-migration', async () => {
    await renderPanel({
      getEntityMetrics: jest.fn().mockResolvedValue(metrics),
      getEntityTopology: jest.fn().mockResolvedValue(topology),
    });
    const dev = await screen.findByRole('region', { name: 'Golden signals of payments/payments-api in aks-dev' });
    const prod = screen.getByRole('region', { name: 'Golden signals of payments/payments-api in aks-prod' });
    expect(within(dev).getAllByRole('img')).toHaveLength(3);
    // aks-prod: its own three charts plus three by revision.
    expect(within(prod).getAllByRole('img')).toHaveLength(6);
    expect(within(dev).getByText('Degraded')).toBeInTheDocument();
    expect(within(prod).getByText('Failing')).toBeInTheDocument();
    expect(within(dev).getByText('now: 2 req/s · 0.5 % 5xx · p50 30 ms · p99 120 ms')).toBeInTheDocument();

    const devImgs = within(dev).getAllByRole('img');
    expect(devImgs.map(i => i.getAttribute('aria-label'))).toEqual([
      'Requests per second, 10:00 to 10:04. payments-api: latest 2 req/s, min 2 req/s, max 2 req/s.',
      '5xx error rate, 10:00 to 10:04. payments-api: latest 0.5 %, min 0.5 %, max 0.5 %.',
      'Latency p50 / p90 / p99, 10:00 to 10:04. p50: latest 30 ms, min 30 ms, max 30 ms; p90: latest 60 ms, min 60 ms, max 60 ms; p99: latest 120 ms, min 120 ms, max 120 ms.',
    ]);
    expect([...devImgs[2].querySelectorAll('[data-testid="chart-line"]')].map(l => `${l.getAttribute('data-series')}:${l.getAttribute('data-points')}`)).toEqual([
      'p50:5',
      'p90:5',
      'p99:5',
    ]);
    expect(chartLines('Requests per second by revision')).toEqual(['asm-1-29:5', 'asm-1-30:5']);
    expect(chartLines('Latency p99 by revision')).toEqual(['asm-1-29:5', 'asm-1-30:5']);
    expect(screen.getByRole('img', { name: /^5xx error rate by revision,/ })).toHaveAccessibleName(
      '5xx error rate by revision, 10:00 to 10:04. asm-1-29: latest 0.5 %, min 0.5 %, max 0.5 %; asm-1-30: latest 20 %, min 20 %, max 20 %.',
    );
    expect(within(prod).getByText(/asm-1-30: 1 pod, 0.7 req\/s, 20 % 5xx, p99 480 ms/)).toBeInTheDocument();
    // A cluster whose Prometheus failed is one line beside the others.
    expect(screen.getByText('Metrics unavailable for istio-lab: Prometheus for istio-lab did not answer')).toBeInTheDocument();
    expect(screen.getByText(/a point every 60 s, each a rate over 5 min; refreshes every 30 s/)).toBeInTheDocument();
  });

  it('asks for the picked time range', async () => {
    const getEntityMetrics = jest.fn().mockResolvedValue(metrics);
    const getEntityTopology = jest.fn().mockResolvedValue(topology);
    await renderPanel({ getEntityMetrics, getEntityTopology });
    await screen.findByRole('region', { name: 'Golden signals of payments/payments-api in aks-dev' });
    expect(getEntityMetrics).toHaveBeenLastCalledWith(ref, '1h');
    expect(screen.getByRole('button', { name: 'last hour' })).toHaveAttribute('aria-pressed', 'true');

    await userEvent.click(screen.getByRole('button', { name: 'last 6 hours' }));
    expect(getEntityMetrics).toHaveBeenLastCalledWith(ref, '6h');
    expect(getEntityTopology).toHaveBeenLastCalledWith(ref, '6h');
    expect(screen.getByRole('button', { name: 'last 6 hours' })).toHaveAttribute('aria-pressed', 'true');
    await userEvent.click(screen.getByRole('button', { name: 'last 15 minutes' }));
    expect(getEntityMetrics).toHaveBeenLastCalledWith(ref, '15m');
    await userEvent.click(screen.getByRole('button', { name: 'last 24 hours' }));
    expect(getEntityTopology).toHaveBeenLastCalledWith(ref, '24h');
  });

  it('lists callers and callees with their rates and 5xx ratios, edges coloured by health; TCP with bytes and connections', async () => {
    await renderPanel({
      getEntityMetrics: jest.fn().mockResolvedValue(metrics),
      getEntityTopology: jest.fn().mockResolvedValue(topology),
    });
    const traffic = await screen.findByRole('region', { name: 'Traffic in aks-dev' });
    const table = within(traffic).getByText('Calls in aks-dev (5)').closest('div[class*="MuiPaper"]') as HTMLElement;
    const rows = within(table)
      .getAllByRole('row')
      .slice(1)
      .map(r => [...r.querySelectorAll('td')].map(c => c.textContent));
    expect(rows).toEqual([
      ['calls this service', 'storefront/checkout', 'payments/payments-api', 'HTTP', '2 req/s', '0 %', 'Healthy'],
      ['calls this service', 'outside the mesh (no sidecar)', 'payments/payments-api', 'HTTP', '0.5 req/s', '20 %', 'Failing'],
      ['called by this service', 'payments/payments-api', 'payments/payments-worker', 'HTTP', '2 req/s', '0.5 %', 'Degraded'],
      // 2048 B/s = 2.0 KiB/s out, 8192 B/s = 8.0 KiB/s back; TCP has no 5xx to judge by.
      ['called by this service', 'payments/payments-api', 'payments-db.postgres.database.azure.com (outside the mesh)', 'TCP', '2.0 KiB/s out, 8.0 KiB/s back, 0.2 conn/s', 'n/a', 'n/a'],
      ['called by this service', 'payments/payments-api', 'ledger.payments.svc.cluster.local (no sidecar answered)', 'HTTP', '0.25 req/s', '100 %', 'Failing'],
    ]);
    const diagram = within(traffic).getByRole('img');
    expect(diagram.querySelectorAll('[data-testid="topology-node-caller"]')).toHaveLength(2);
    expect(diagram.querySelectorAll('[data-testid="topology-node-self"]')).toHaveLength(1);
    const callees = [...diagram.querySelectorAll('[data-testid="topology-node-callee"]')];
    expect(callees.map(n => [...n.querySelectorAll('text')].map(t => t.textContent))).toEqual([
      ['payments/payments-worker', 'called at 2 req/s'],
      ['payments-db.postgres.database…', 'TCP, 10.0 KiB/s'],
      ['ledger.payments.svc.cluster.l…', 'called at 0.25 req/s'],
    ]);
    expect(callees[1].querySelector('title')!.textContent).toBe('payments-db.postgres.database.azure.com (outside the mesh)');
    expect([...diagram.querySelectorAll('[data-testid="topology-edge"]')].map(e => `${e.getAttribute('data-protocol')}:${e.getAttribute('data-health')}`)).toEqual([
      'http:healthy',
      'http:failing',
      'http:degraded',
      'tcp:null',
      'http:failing',
    ]);
    expect(diagram).toHaveAccessibleName(
      'Traffic of payments/payments-api in aks-dev: 2 callers, 3 callees. storefront/checkout calls payments/payments-api at 2 req/s, 0 % 5xx; outside the mesh (no sidecar) calls payments/payments-api at 0.5 req/s, 20 % 5xx; payments/payments-api calls payments/payments-worker at 2 req/s, 0.5 % 5xx; payments/payments-api connects to payments-db.postgres.database.azure.com (outside the mesh) over TCP: 2.0 KiB/s out, 8.0 KiB/s back, 0.2 connections/s; payments/payments-api calls ledger.payments.svc.cluster.local (no sidecar answered) at 0.25 req/s, 100 % 5xx',
    );
    expect(within(traffic).getByText('TCP (no error ratio)')).toBeInTheDocument();
  });

  it('shows byte rates in binary units', () => {
    expect([0, 512, 1023, 1536, 8192, 5 * 1024 * 1024, 3 * 1024 ** 3].map(formatBytesPerSecond)).toEqual([
      '0 B/s',
      '512 B/s',
      '1023 B/s',
      '1.5 KiB/s',
      '8.0 KiB/s',
      '5.0 MiB/s',
      '3.0 GiB/s',
    ]);
  });

  it('says in one line that Prometheus is down, while the rest of the tab renders', async () => {
    const status: EntityMeshStatus = {
      entityRef: 'component:default/payments-api',
      errors: [],
      clusters: [
        {
          cluster: 'aks-prod',
          provider: 'aks',
          meshed: true,
          driftedPods: 0,
          controlPlane: { namespace: 'aks-istio-system', tags: {}, phase: 'Stable', revisions: [{ revision: 'asm-1-29', version: '1.29.2', replicas: 2, readyReplicas: 2, ready: true }] },
          namespaces: [],
        },
      ],
    };
    const error = await unavailable('Prometheus for aks-prod did not answer');
    await renderPanel(
      {
        getEntityMeshStatus: jest.fn().mockResolvedValue(status),
        getEntityMetrics: jest.fn().mockRejectedValue(error),
        getEntityTopology: jest.fn().mockRejectedValue(error),
      },
      <EntityServiceMeshContent />,
    );
    expect(await screen.findByText('Cluster aks-prod')).toBeInTheDocument();
    const notes = await screen.findAllByText('Metrics unavailable: Prometheus for aks-prod did not answer');
    expect(notes).toHaveLength(2);
    expect(screen.getByText('Golden signals')).toBeInTheDocument();
    expect(screen.getByText('Traffic')).toBeInTheDocument();
    expect(screen.queryByRole('img', { name: /Requests per second/ })).not.toBeInTheDocument();
    // The picker stays, so the user can try another range.
    expect(screen.getByRole('button', { name: 'last 6 hours' })).toBeInTheDocument();
  });

  describe('auto-refresh', () => {
    let visibility: DocumentVisibilityState = 'visible';
    beforeAll(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility });
    });
    afterEach(() => {
      jest.useRealTimers();
      visibility = 'visible';
    });

    it('re-reads every 30 s while the page is visible, and not while it is hidden', async () => {
      jest.useFakeTimers({ advanceTimers: true });
      const getEntityMetrics = jest.fn().mockResolvedValue(metrics);
      const getEntityTopology = jest.fn().mockResolvedValue(topology);
      await renderPanel({ getEntityMetrics, getEntityTopology });
      await screen.findByRole('region', { name: 'Golden signals of payments/payments-api in aks-dev' });
      expect(getEntityMetrics).toHaveBeenCalledTimes(1);

      await act(async () => {
        jest.advanceTimersByTime(METRICS_REFRESH_MS);
      });
      expect(getEntityMetrics).toHaveBeenCalledTimes(2);
      expect(getEntityTopology).toHaveBeenCalledTimes(2);

      await act(async () => {
        visibility = 'hidden';
        document.dispatchEvent(new Event('visibilitychange'));
      });
      await act(async () => {
        jest.advanceTimersByTime(3 * METRICS_REFRESH_MS);
      });
      expect(getEntityMetrics).toHaveBeenCalledTimes(2);

      // Back in view: fresh numbers at once, then every 30 s again.
      await act(async () => {
        visibility = 'visible';
        document.dispatchEvent(new Event('visibilitychange'));
      });
      expect(getEntityMetrics).toHaveBeenCalledTimes(3);
    });
  });
});
