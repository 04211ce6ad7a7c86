import { permissionApiRef } from '@backstage/plugin-permission-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { MockPermissionApi, renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ClusterDetail } from '@mesh-portal/plugin-istio-mesh-common';
import { istioMeshApiRef } from '../../api/IstioMeshApi';
import { UpgradePanel } from './UpgradePanel';

jest.setTimeout(30_000);

/** aks-prod: a canary started with `az aks mesh upgrade start`, so ARM offers nothing and no run is recorded. */
const midCanary = {
  cluster: 'aks-prod',
  upgrades: { provider: 'aks', source: 'arm', availableUpgrades: [], upgradeInProgress: true, message: 'Mesh upgrade is in progress.' },
  controlPlane: { revisions: [{ revision: 'asm-1-30' }, { revision: 'asm-1-29' }] },
  namespaces: [{ name: 'payments', targetRevision: 'asm-1-30' }],
} as unknown as ClusterDetail;

const stable = { ...midCanary, cluster: 'aks-dev', controlPlane: { revisions: [{ revision: 'asm-1-29' }] } } as unknown as ClusterDetail;

function renderPanel(cluster: ClusterDetail, api: object) {
  return renderInTestApp(
    <TestApiProvider apis={[[istioMeshApiRef, api], [permissionApiRef, new MockPermissionApi(() => AuthorizeResult.ALLOW)]]}>
      <UpgradePanel cluster={cluster} />
    </TestApiProvider>,
  );
}

describe('UpgradePanel on a canary started outside the portal', () => {
  it('offers to adopt it, which starts an upgrade to the higher revision', async () => {
    const startUpgrade = jest.fn().mockResolvedValue({});
    await renderPanel(midCanary, { getUpgrade: jest.fn().mockResolvedValue(undefined), startUpgrade });
    const adopt = await screen.findByRole('button', { name: 'Adopt the canary asm-1-29 → asm-1-30' });
    await waitFor(() => expect(adopt).toBeEnabled());
    await userEvent.click(adopt);
    expect(startUpgrade).toHaveBeenCalledWith('aks-prod', 'asm-1-30');
  });

  it('offers no adoption on a cluster with one revision', async () => {
    await renderPanel(stable, { getUpgrade: jest.fn().mockResolvedValue(undefined), startUpgrade: jest.fn() });
    expect(await screen.findByText('Mesh upgrade is in progress.')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Adopt/ })).not.toBeInTheDocument();
  });
});
