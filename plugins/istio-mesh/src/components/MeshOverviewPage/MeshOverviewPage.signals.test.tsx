import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { entityRouteRef } from '@backstage/plugin-catalog-react';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { OverviewResponse, OverviewRow, OverviewSignals } from '@mesh-portal/plugin-istio-mesh-common';
import { istioMeshApiRef } from '../../api/IstioMeshApi';
import { MeshOverviewPage, metricsNote } from './MeshOverviewPage';

jest.setTimeout(30_000);

const signals = (rps: number | null, err: number | null, p99: number | null, health: OverviewSignals['health']): OverviewSignals => ({
  requestsPerSecond: rps,
  errorRatio: err,
  p50Ms: p99 === null ? null : p99 / 4,
  p90Ms: p99 === null ? null : p99 / 2,
  p99Ms: p99,
  health,
});

const row = (name: string, s?: OverviewSignals): OverviewRow => ({
  entityRef: `component:default/${name}`,
  kind: 'Component',
  namespace: 'default',
  name,
  owner: 'team-payments',
  cluster: 'aks-dev',
  provider: 'aks',
  kubernetesNamespace: 'payments',
  revision: 'asm-1-29',
  sidecarRevisions: ['asm-1-29'],
  pods: 2,
  driftedPods: 0,
  phase: 'Stable',
  signals: s,
});

const rows = [
  row('cart', signals(12, 0, 80, 'healthy')),
  row('payments-api', signals(2.5, 0.2, 480, 'failing')),
  row('checkout', signals(4, 0.005, 160, 'degraded')),
  row('ops-toolbox'),
];

async function renderOverview(overview: OverviewResponse) {
  await renderInTestApp(
    <TestApiProvider apis={[[istioMeshApiRef, { getOverview: jest.fn().mockResolvedValue(overview) }]]}>
      <MeshOverviewPage />
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
  await screen.findByText(`Meshed components (${overview.rows.length})`);
  return screen.getByText(`Meshed components (${overview.rows.length})`).closest('div[class*="MuiPaper"]') as HTMLElement;
}

/** Entity names in table order, and one column's cells. */
function column(table: HTMLElement, title: string) {
  const headers = within(table).getAllByRole('columnheader').map(h => h.textContent);
  const index = headers.indexOf(title);
  if (index < 0) throw new Error(`no column ${title} in ${JSON.stringify(headers)}`);
  return within(table)
    .getAllByRole('row')
    // Body rows only: not the header, nor the pagination footer.
    .filter(r => r.querySelectorAll('td').length === headers.length)
    .map(r => [r.querySelectorAll('td')[0].textContent, r.querySelectorAll('td')[index].textContent]);
}

describe('MeshOverviewPage golden signals', () => {
  it('shows req/s, 5xx, p99 and a health badge per row, sortable', async () => {
    const table = await renderOverview({ rows, clusters: [], errors: [], metrics: { status: 'ok' } });
    expect(column(table, 'Req/s')).toEqual([
      ['cart', '12'],
      ['payments-api', '2.5'],
      ['checkout', '4'],
      ['ops-toolbox', '—'],
    ]);
    expect(column(table, '5xx %').map(c => c[1])).toEqual(['0', '20', '0.5', '—']);
    expect(column(table, 'p99 ms').map(c => c[1])).toEqual(['80', '480', '160', '—']);
    expect(column(table, 'Health').map(c => c[1])).toEqual(['Healthy', 'Failing', 'Degraded', '—']);
    expect(screen.queryByRole('status')).not.toBeInTheDocument();

    await userEvent.click(within(table).getAllByRole('button', { name: 'Req/s' })[0]);
    expect(column(table, 'Req/s').map(c => c[0])).toEqual(['ops-toolbox', 'payments-api', 'checkout', 'cart']);
    await userEvent.click(within(table).getAllByRole('button', { name: 'Req/s' })[0]);
    expect(column(table, 'Req/s').map(c => c[0])).toEqual(['cart', 'checkout', 'payments-api', 'ops-toolbox']);
    // The table cycles ascending / descending / unsorted and carries the direction over
    // to the next column: three clicks must show both sorted orders.
    for (const [title, ascending] of [
      ['5xx %', ['ops-toolbox', 'cart', 'checkout', 'payments-api']],
      ['p99 ms', ['ops-toolbox', 'cart', 'checkout', 'payments-api']],
      ['Health', ['ops-toolbox', 'cart', 'checkout', 'payments-api']],
    ] as const) {
      const seen: Array<Array<string | null>> = [];
      for (let i = 0; i < 3; i++) {
        await userEvent.click(within(table).getAllByRole('button', { name: title })[0]);
        seen.push(column(table, title).map(c => c[0]));
      }
      expect(seen).toContainEqual([...ascending]);
      expect(seen).toContainEqual([...ascending].reverse());
    }
  });

  it('says in one line when Prometheus did not answer, and keeps the table', async () => {
    const table = await renderOverview({
      rows: rows.map(r => ({ ...r, signals: undefined })),
      clusters: [],
      errors: [],
      metrics: { status: 'unavailable', message: 'Prometheus for aks-dev did not answer' },
    });
    expect(screen.getByRole('status')).toHaveTextContent('Golden signals unavailable: Prometheus for aks-dev did not answer');
    expect(column(table, 'Req/s').map(c => c[1])).toEqual(['—', '—', '—', '—']);
    expect(within(table).getByText('payments-api')).toBeInTheDocument();
  });

  it('leaves the columns out when metrics are not configured, and says so', async () => {
    const table = await renderOverview({ rows, clusters: [], errors: [], metrics: { status: 'unconfigured' } });
    expect(screen.getByRole('status')).toHaveTextContent(
      'Golden signals unavailable: metrics are not configured (istioMesh.metrics in app-config).',
    );
    const headers = within(table).getAllByRole('columnheader').map(h => h.textContent);
    expect(headers).not.toContain('Req/s');
    expect(headers).toContain('Drifted');
  });

  it('words partial answers', () => {
    expect(metricsNote({ status: 'partial', message: 'Prometheus for aks-prod did not answer' })).toBe(
      'Some golden signals are missing: Prometheus for aks-prod did not answer',
    );
    expect(metricsNote({ status: 'ok' })).toBeUndefined();
    expect(metricsNote(undefined)).toBeUndefined();
  });
});
