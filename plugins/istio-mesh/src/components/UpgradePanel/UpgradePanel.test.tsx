import { permissionApiRef } from '@backstage/plugin-permission-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { MockPermissionApi, renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ClusterDetail, UpgradeRun } from '@mesh-portal/plugin-istio-mesh-common';
import { istioMeshApiRef } from '../../api/IstioMeshApi';
import { UpgradePanel } from './UpgradePanel';

jest.setTimeout(30_000);

const cluster = {
  cluster: 'aks-dev',
  upgrades: { provider: 'aks', source: 'arm', availableUpgrades: ['asm-1-30'], upgradeInProgress: false },
  controlPlane: { revisions: [{ revision: 'asm-1-29' }] },
  namespaces: [{ name: 'payments', targetRevision: 'asm-1-29' }, { name: 'tools' }],
} as unknown as ClusterDetail;

const run: UpgradeRun = {
  id: 'r1',
  cluster: 'aks-dev',
  provider: 'aks',
  from: 'asm-1-29',
  to: 'asm-1-30',
  phase: 'Migrating',
  status: 'waiting',
  installedRevisions: ['asm-1-29', 'asm-1-30'],
  pendingNamespaces: ['storefront'],
  migratedNamespaces: ['payments'],
  namespaces: [
    { name: 'payments', revision: 'asm-1-30', podsByRevision: { 'asm-1-30': 3 }, state: 'migrated' },
    { name: 'storefront', revision: 'asm-1-29', podsByRevision: { 'asm-1-29': 4 }, state: 'pending' },
  ],
  guards: {
    complete: { allowed: false, reason: 'Completing would remove asm-1-29 while workloads still use it.', blockers: ['storefront is labelled for asm-1-29'] },
    rollback: { allowed: false },
  },
  steps: [],
  startedBy: 'user:default/guest',
  startedAt: '2026-11-25T10:00:00Z',
};

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

describe('UpgradePanel', () => {
  it('starts an offered upgrade when allowed', async () => {
    const startUpgrade = jest.fn().mockResolvedValue({});
    await renderPanel({ getUpgrade: jest.fn().mockResolvedValue(undefined), startUpgrade }, true);
    const button = await screen.findByRole('button', { name: 'Start upgrade to asm-1-30' });
    expect(button).toBeEnabled();
    await userEvent.click(button);
    // A confirmation shows the plan first.
    expect(await screen.findByText('Start a canary upgrade of aks-dev to asm-1-30?')).toBeInTheDocument();
    expect(screen.getByText(/Migrate each namespace \(relabel and rollout restart\): payments/)).toBeInTheDocument();
    expect(startUpgrade).not.toHaveBeenCalled();
    await userEvent.click(screen.getByRole('button', { name: 'Start upgrade' }));
    expect(startUpgrade).toHaveBeenCalledWith('aks-dev', 'asm-1-30');
  });

  it('shows progress, blocks complete while a namespace is pending, and migrates it', async () => {
    const migrateNamespace = jest.fn().mockResolvedValue({});
    await renderPanel({ getUpgrade: jest.fn().mockResolvedValue(run), migrateNamespace }, true);
    expect(await screen.findByText(/1 of 2 namespaces/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Complete (remove asm-1-29)' })).toBeDisabled();
    await userEvent.click(screen.getByRole('button', { name: 'Migrate to asm-1-30' }));
    expect(migrateNamespace).toHaveBeenCalledWith('aks-dev', 'storefront', 'asm-1-30');
  });
});
