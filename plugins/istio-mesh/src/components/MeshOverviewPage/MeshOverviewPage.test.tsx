import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { entityRouteRef } from '@backstage/plugin-catalog-react';
import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ClusterSummary, OverviewResponse, OverviewRow } from '@mesh-portal/plugin-istio-mesh-common';
import { istioMeshApiRef } from '../../api/IstioMeshApi';
import { filterRows, MeshOverviewPage } from './MeshOverviewPage';

const row = (name: string, cluster: string, revision: string, sidecars: string[], drifted: number, owner = 'team-payments'): OverviewRow => ({
  entityRef: `component:default/${name}`,
  kind: 'Component',
  namespace: 'default',
  name,
  owner,
  cluster,
  provider: 'aks',
  kubernetesNamespace: 'payments',
  revision,
  sidecarRevisions: sidecars,
  pods: 3,
  driftedPods: drifted,
  phase: cluster === 'aks-prod' ? 'Canary' : 'Stable',
});

const rows = [
  row('payments-api', 'aks-dev', 'asm-1-29', ['asm-1-29'], 0),
  row('payments-api', 'aks-prod', 'asm-1-30', ['asm-1-29'], 3),
  row('checkout', 'aks-prod', 'asm-1-29', ['asm-1-29'], 0, 'team-storefront'),
];

const cluster = (name: string): ClusterSummary => ({
  cluster: name,
  provider: 'aks',
  fetchedAt: '2026-11-25T10:00:00Z',
  controlPlane: { namespace: 'aks-istio-system', tags: {}, phase: 'Stable', revisions: [{ revision: 'asm-1-29', version: '1.29.2', replicas: 2, readyReplicas: 2, ready: true }] },
  meshedNamespaces: 2,
  workloads: 6,
  pods: 9,
  podsWithSidecar: 7,
  driftedPods: 0,
  health: 'healthy',
  healthReasons: [],
  snapshotApiRequests: 7,
});

jest.setTimeout(30_000);

describe('filterRows', () => {
  const all = { cluster: '', revision: '', owner: '', driftOnly: false };
  it('filters by cluster, revision (namespace or sidecar), owner and drift', () => {
    expect(filterRows(rows, all)).toHaveLength(3);
    expect(filterRows(rows, { ...all, cluster: 'aks-prod' }).map(r => r.name)).toEqual(['payments-api', 'checkout']);
    expect(filterRows(rows, { ...all, revision: 'asm-1-30' }).map(r => r.cluster)).toEqual(['aks-prod']);
    expect(filterRows(rows, { ...all, revision: 'asm-1-29' })).toHaveLength(3);
    expect(filterRows(rows, { ...all, owner: 'team-storefront' }).map(r => r.name)).toEqual(['checkout']);
    expect(filterRows(rows, { ...all, driftOnly: true }).map(r => [r.name, r.cluster])).toEqual([['payments-api', 'aks-prod']]);
  });
});

describe('MeshOverviewPage', () => {
  it('shows cluster cards, the table, cluster errors, and filters to drifted rows', async () => {
    const overview: OverviewResponse = {
      rows,
      clusters: [cluster('aks-dev'), cluster('aks-prod')],
      errors: [{ cluster: 'aks-west', error: { name: 'ServiceUnavailableError', message: "cluster 'aks-west' is unreachable" } }],
    };
    await renderInTestApp(
      <TestApiProvider apis={[[istioMeshApiRef, { getOverview: jest.fn().mockResolvedValue(overview) }]]}>
        <MeshOverviewPage />
      </TestApiProvider>,
      { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
    );
    expect(await screen.findByText('Meshed components (3)')).toBeInTheDocument();
    expect(screen.getByText(/Could not read cluster aks-west/)).toBeInTheDocument();
    expect(screen.getAllByText('asm-1-29 (1.29.2) · istiod 2/2')).toHaveLength(2);

    await userEvent.click(screen.getByLabelText('Drifted only'));
    expect(await screen.findByText('Meshed components (1)')).toBeInTheDocument();
    const table = screen.getByText('Meshed components (1)').closest('div[class*="MuiPaper"]') as HTMLElement;
    expect(within(table).getByText('asm-1-30')).toBeInTheDocument();
  });
});
