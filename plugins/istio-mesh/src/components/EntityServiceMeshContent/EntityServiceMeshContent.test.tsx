import { Entity } from '@backstage/catalog-model';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { ResponseError } from '@backstage/errors';
import { screen } from '@testing-library/react';
import { EntityMeshStatus, PodMeshStatus } from '@mesh-portal/plugin-istio-mesh-common';
import { IstioMeshApi, istioMeshApiRef } from '../../api/IstioMeshApi';
import { EntityServiceMeshContent } from './EntityServiceMeshContent';

const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'payments-api', annotations: { 'backstage.io/kubernetes-id': 'payments-api' } },
  spec: { type: 'service', owner: 'team-payments', lifecycle: 'production' },
};

const pod = (name: string, revision: string | undefined, state: PodMeshStatus['state']): PodMeshStatus => ({
  name,
  workload: 'Deployment/payments-api',
  phase: 'Running',
  ready: true,
  sidecar: revision
    ? { injected: true, revision, proxyVersion: revision === 'asm-1-29' ? '1.29.2' : '1.30.1', native: true }
    : { injected: false, native: false },
  state,
});

const canaryStatus: EntityMeshStatus = {
  entityRef: 'component:default/payments-api',
  errors: [{ cluster: 'aks-west', error: { name: 'ServiceUnavailableError', message: "cluster 'aks-west' is unreachable" } }],
  clusters: [
    {
      cluster: 'aks-prod',
      provider: 'aks',
      meshed: true,
      driftedPods: 2,
      controlPlane: {
        namespace: 'aks-istio-system',
        tags: {},
        phase: 'Canary',
        revisions: [
          { revision: 'asm-1-29', version: '1.29.2', replicas: 2, readyReplicas: 2, ready: true },
          { revision: 'asm-1-30', version: '1.30.1', replicas: 2, readyReplicas: 1, ready: false },
        ],
      },
      namespaces: [
        {
          name: 'payments',
          revisionLabel: 'asm-1-30',
          injection: { mode: 'revision', label: 'asm-1-30', revision: 'asm-1-30' },
          targetRevision: 'asm-1-30',
          workloads: [],
          driftedPods: 2,
          pods: [pod('payments-api-a-1', 'asm-1-29', 'drifted'), pod('payments-api-a-2', 'asm-1-29', 'drifted')],
        },
      ],
    },
  ],
};

// The tab also reads metrics (EntityMetricsPanel.test.tsx covers them): none here.
const noMetrics: Partial<IstioMeshApi> = {
  getEntityMetrics: async (_ref, window) => ({ entityRef: 'component:default/payments-api', window, start: 0, end: 0, stepSeconds: 60, rateIntervalSeconds: 300, workloads: [], errors: [] }),
  getEntityTopology: async (_ref, window) => ({ entityRef: 'component:default/payments-api', window, start: 0, end: 0, nodes: [], edges: [], errors: [] }),
};

// No canary run recorded: the migrate button (EntityNamespaceMigration.test.tsx) stays hidden.
const noUpgrade: Partial<IstioMeshApi> = { getUpgrade: async () => undefined };

function renderWith(api: Partial<IstioMeshApi>) {
  return renderInTestApp(
    <TestApiProvider apis={[[istioMeshApiRef, { ...noMetrics, ...noUpgrade, ...api }]]}>
      <EntityProvider entity={entity}>
        <EntityServiceMeshContent />
      </EntityProvider>
    </TestApiProvider>,
  );
}

jest.setTimeout(30_000);

describe('EntityServiceMeshContent', () => {
  it('shows revisions, the canary phase, pods and a drift warning per cluster', async () => {
    const getEntityMeshStatus = jest.fn().mockResolvedValue(canaryStatus);
    await renderWith({ getEntityMeshStatus });

    expect(getEntityMeshStatus).toHaveBeenCalledWith({ kind: 'Component', namespace: 'default', name: 'payments-api' });
    expect(await screen.findByText('Cluster aks-prod')).toBeInTheDocument();
    expect(screen.getByText(/Canary upgrade in progress: asm-1-29 → asm-1-30/)).toBeInTheDocument();
    expect(screen.getByText('asm-1-29 (1.29.2) · istiod 2/2')).toBeInTheDocument();
    expect(screen.getByText('asm-1-30 (1.30.1) · istiod 1/2')).toBeInTheDocument();
    expect(screen.getByText('Namespace payments: istio.io/rev=asm-1-30')).toBeInTheDocument();
    expect(screen.getByText(/Sidecars drifted from the namespace's revision/)).toBeInTheDocument();
    expect(screen.getByText(/2 pods still run asm-1-29 while namespace payments is on asm-1-30/)).toBeInTheDocument();
    expect(screen.getByText('payments-api-a-1')).toBeInTheDocument();
    expect(screen.getAllByText('1.29.2 (native)')).toHaveLength(2);
    expect(screen.getAllByText('Drifted')).toHaveLength(2);
    expect(screen.getByText(/Could not read cluster aks-west/)).toBeInTheDocument();
  });

  it('explains a namespace whose injection label the add-on ignores', async () => {
    const status: EntityMeshStatus = {
      entityRef: 'component:default/legacy-billing',
      errors: [],
      clusters: [
        {
          ...canaryStatus.clusters[0],
          meshed: false,
          driftedPods: 0,
          controlPlane: { ...canaryStatus.clusters[0].controlPlane, phase: 'Stable', revisions: [canaryStatus.clusters[0].controlPlane.revisions[0]] },
          namespaces: [
            {
              name: 'legacy',
              injection: { mode: 'ignored-injection-label', reason: 'uses istio-injection=enabled, which the AKS add-on ignores: its pods get no sidecar. Label it istio.io/rev=<revision> instead.' },
              workloads: [],
              driftedPods: 0,
              pods: [pod('legacy-billing-1', undefined, 'unmeshed')],
            },
          ],
        },
      ],
    };
    await renderWith({ getEntityMeshStatus: jest.fn().mockResolvedValue(status) });
    expect(await screen.findByText(/Not in the mesh: no namespace of this service/)).toBeInTheDocument();
    expect(screen.getByText(/Namespace legacy uses istio-injection=enabled, which the AKS add-on ignores/)).toBeInTheDocument();
    expect(screen.getByText('Stable on asm-1-29', { exact: false })).toBeInTheDocument();
    expect(screen.queryByText(/Sidecars drifted from the namespace's revision/)).not.toBeInTheDocument();
  });

  it('says so when the entity runs in no cluster', async () => {
    await renderWith({
      getEntityMeshStatus: jest.fn().mockResolvedValue({ entityRef: 'component:default/payments-api', clusters: [], errors: [] }),
    });
    expect(await screen.findByText('Not running in any cluster')).toBeInTheDocument();
  });

  it('shows the backend error', async () => {
    const response = new Response(
      JSON.stringify({ error: { name: 'NotAllowedError', message: 'You are not allowed to read mesh status' }, response: { statusCode: 403 } }),
      { status: 403, statusText: 'Forbidden', headers: { 'Content-Type': 'application/json' } },
    );
    const error = await ResponseError.fromResponse(response as any);
    await renderWith({ getEntityMeshStatus: jest.fn().mockRejectedValue(error) });
    expect(await screen.findByText(/403: NotAllowedError/)).toBeInTheDocument();
  });
});
