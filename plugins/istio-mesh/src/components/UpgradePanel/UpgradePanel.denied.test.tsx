import { permissionApiRef } from '@backstage/plugin-permission-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { MockPermissionApi, renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { screen } from '@testing-library/react';
import { ClusterDetail } from '@mesh-portal/plugin-istio-mesh-common';
import { istioMeshApiRef } from '../../api/IstioMeshApi';
import { UpgradePanel } from './UpgradePanel';

jest.setTimeout(30_000);

const cluster = {
  cluster: 'aks-dev',
  upgrades: { provider: 'aks', source: 'arm', availableUpgrades: ['asm-1-30'], upgradeInProgress: false },
  controlPlane: { revisions: [{ revision: 'asm-1-29' }] },
  namespaces: [],
} as unknown as ClusterDetail;

function renderPanel(api: object, allow: boolean) {
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [istioMeshApiRef, api],
        [permissionApiRef, new MockPermissionApi(() => (allow ? AuthorizeResult.ALLOW : AuthorizeResult.DENY))],
      ]}
    >
      <UpgradePanel cluster={cluster} />
    </TestApiProvider>,
  );
}

// A file of its own: usePermission caches decisions per permission for the module's lifetime.
describe('UpgradePanel without permissions', () => {
  it('disables start and says why', async () => {
    await renderPanel({ getUpgrade: jest.fn().mockResolvedValue(undefined), startUpgrade: jest.fn() }, false);
    expect(await screen.findByRole('button', { name: 'Start upgrade to asm-1-30' })).toBeDisabled();
  });
});
