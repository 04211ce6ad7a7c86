import { permissionApiRef } from '@backstage/plugin-permission-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { MockPermissionApi, renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { screen, waitForElementToBeRemoved, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ClusterDetail, GoldenSignals, HealthGateResult, UpgradeRun, UpgradeStep } from '@mesh-portal/plugin-istio-mesh-common';
import { istioMeshApiRef } from '../../api/IstioMeshApi';
import { UpgradePanel } from './UpgradePanel';

jest.setTimeout(30_000);

const cluster = {
  cluster: 'aks-prod',
  upgrades: { provider: 'aks', source: 'arm', availableUpgrades: [], upgradeInProgress: true },
  controlPlane: { revisions: [{ revision: 'asm-1-29' }, { revision: 'asm-1-30' }] },
  namespaces: [{ name: 'payments', targetRevision: 'asm-1-30' }, { name: 'storefront', targetRevision: 'asm-1-30' }],
} as unknown as ClusterDetail;

const signals = (errorRatio: number, p99Ms: number): GoldenSignals => ({ requestsPerSecond: 2, errorRatio, p50Ms: 30, p90Ms: 60, p99Ms });
const window = { start: '2026-11-25T10:00:00Z', end: '2026-11-25T10:10:00Z' };

const gate = (verdict: HealthGateResult['verdict'], workloads: HealthGateResult['workloads'], reasons: string[] = []): HealthGateResult => ({
  verdict,
  before: window,
  after: { start: '2026-11-25T10:12:00Z', end: '2026-11-25T10:22:00Z' },
  workloads,
  reasons,
});

const migrate = (id: number, namespace: string, healthGate: HealthGateResult): UpgradeStep => ({
  id,
  action: 'migrate',
  namespace,
  targetRevision: 'asm-1-30',
  actor: 'user:default/guest',
  outcome: 'succeeded',
  healthGate,
  startedAt: '2026-11-25T10:11:00Z',
  finishedAt: '2026-11-25T10:12:00Z',
});

function run(regressed: boolean): UpgradeRun {
  return {
    id: 'r1',
    cluster: 'aks-prod',
    provider: 'aks',
    from: 'asm-1-29',
    to: 'asm-1-30',
    phase: 'ReadyToComplete',
    status: 'waiting',
    installedRevisions: ['asm-1-29', 'asm-1-30'],
    pendingNamespaces: [],
    migratedNamespaces: ['payments', 'storefront', 'tools'],
    namespaces: [
      { name: 'payments', revision: 'asm-1-30', podsByRevision: { 'asm-1-30': 3 }, state: 'migrated', lastStepId: 2, healthGate: regressed ? 'regressed' : 'healthy' },
      { name: 'storefront', revision: 'asm-1-30', podsByRevision: { 'asm-1-30': 4 }, state: 'migrated', lastStepId: 3, healthGate: 'healthy' },
      { name: 'tools', revision: 'asm-1-30', podsByRevision: { 'asm-1-30': 1 }, state: 'migrated', lastStepId: 4, healthGate: 'no-data' },
    ],
    guards: {
      complete: { allowed: true, requiresAcknowledgement: regressed ? ['payments'] : undefined },
      rollback: { allowed: true },
    },
    steps: [
      { id: 1, action: 'adopt', actor: 'user:default/guest', outcome: 'succeeded', startedAt: '2026-11-25T10:00:00Z' },
      migrate(
        2,
        'payments',
        regressed
          ? gate(
              'regressed',
              [{ workload: 'payments-api', before: signals(0.005, 120), after: signals(0.2, 480), verdict: 'regressed', reasons: ['5xx ratio rose from 0.5 % to 20 % (more than 1 % points).'] }],
              ['5xx ratio rose from 0.5 % to 20 % (more than 1 % points).'],
            )
          : gate('healthy', [{ workload: 'payments-api', before: signals(0.005, 120), after: signals(0.005, 121), verdict: 'healthy', reasons: [] }]),
      ),
      migrate(3, 'storefront', gate('healthy', [])),
      migrate(4, 'tools', gate('no-data', [], ['No requests before or after the restart.'])),
    ],
    startedBy: 'user:default/guest',
    startedAt: '2026-11-25T10:00:00Z',
  };
}

function renderPanel(api: object) {
  return renderInTestApp(
    <TestApiProvider apis={[[istioMeshApiRef, api], [permissionApiRef, new MockPermissionApi(() => AuthorizeResult.ALLOW)]]}>
      <UpgradePanel cluster={cluster} />
    </TestApiProvider>,
  );
}

function healthGateColumn() {
  const table = screen.getByText('Namespaces').closest('div[class*="MuiPaper"]') as HTMLElement;
  const headers = within(table).getAllByRole('columnheader').map(h => h.textContent);
  const index = headers.indexOf('Health gate');
  return within(table)
    .getAllByRole('row')
    .filter(r => r.querySelectorAll('td').length === headers.length)
    .map(r => [r.querySelectorAll('td')[0].textContent, r.querySelectorAll('td')[index].textContent]);
}

describe('UpgradePanel health gate', () => {
  it('shows each namespace verdict, with the before → after figures when regressed', async () => {
    await renderPanel({ getUpgrade: jest.fn().mockResolvedValue(run(true)) });
    await screen.findByText('Namespaces');
    expect(healthGateColumn()).toEqual([
      ['payments', 'Regressedpayments-api: 5xx 0.5 % → 20 %, p99 120 ms → 480 ms, 2 req/s → 2 req/s'],
      ['storefront', 'Healthy'],
      ['tools', 'No dataNo requests before or after the restart.'],
    ]);
  });

  it('completes only after a second, explicit click that names the regressions', async () => {
    const completeUpgrade = jest.fn().mockResolvedValue({});
    await renderPanel({ getUpgrade: jest.fn().mockResolvedValue(run(true)), completeUpgrade });
    await userEvent.click(await screen.findByRole('button', { name: 'Complete (remove asm-1-29)' }));
    expect(completeUpgrade).not.toHaveBeenCalled();

    const dialog = screen.getByRole('dialog', { name: 'Complete the upgrade despite regressions?' });
    expect(within(dialog).getByText('payments')).toBeInTheDocument();
    expect(within(dialog).getByText('payments-api: 5xx 0.5 % → 20 %, p99 120 ms → 480 ms, 2 req/s → 2 req/s')).toBeInTheDocument();
    expect(within(dialog).queryByText('storefront')).not.toBeInTheDocument();

    // Cancel sends nothing.
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await waitForElementToBeRemoved(() => screen.queryByRole('dialog'));
    expect(completeUpgrade).not.toHaveBeenCalled();

    await userEvent.click(screen.getByRole('button', { name: 'Complete (remove asm-1-29)' }));
    await userEvent.click(
      within(screen.getByRole('dialog')).getByRole('button', { name: 'Acknowledge regressions and complete' }),
    );
    expect(completeUpgrade).toHaveBeenCalledTimes(1);
    expect(completeUpgrade).toHaveBeenCalledWith('aks-prod', { acknowledgeRegressions: true });
  });

  it('completes at once while a gate is still measuring: the backend asks no acknowledgement for it', async () => {
    const measuring = run(false);
    measuring.namespaces[0].healthGate = 'pending';
    measuring.guards.complete.requiresAcknowledgement = [];
    measuring.steps[1].healthGate = gate('pending', [], ['Waiting for 5 minutes of traffic after the restart.']);
    const completeUpgrade = jest.fn().mockResolvedValue({});
    await renderPanel({ getUpgrade: jest.fn().mockResolvedValue(measuring), completeUpgrade });
    expect(await screen.findByText('Waiting for 5 minutes of traffic after the restart.')).toBeInTheDocument();
    expect(healthGateColumn()[0]).toEqual(['payments', 'MeasuringWaiting for 5 minutes of traffic after the restart.']);
    await userEvent.click(screen.getByRole('button', { name: 'Complete (remove asm-1-29)' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(completeUpgrade).toHaveBeenCalledWith('aks-prod');
  });

  it('completes at once when no namespace regressed', async () => {
    const completeUpgrade = jest.fn().mockResolvedValue({});
    await renderPanel({ getUpgrade: jest.fn().mockResolvedValue(run(false)), completeUpgrade });
    await userEvent.click(await screen.findByRole('button', { name: 'Complete (remove asm-1-29)' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(completeUpgrade).toHaveBeenCalledWith('aks-prod');
  });
});
