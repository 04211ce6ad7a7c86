import { ResponseError } from '@backstage/errors';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { MockPermissionApi, renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { UpgradeActionResponse } from '@mesh-portal/plugin-istio-mesh-common';
import { istioMeshApiRef } from '../../api/IstioMeshApi';
import { EntityNamespaceMigrations } from './EntityNamespaceMigration';
import { adoptStep, entity, entityClusters, runWith } from './EntityNamespaceMigration.fixtures';

jest.setTimeout(30_000);

/** The owner may migrate on their own entity; the platform permission is denied. */
const permissions = new MockPermissionApi(request => {
  const resourceRef = (request as { resourceRef?: string }).resourceRef;
  if (request.permission.name === 'istio-mesh.namespace.migrate' && resourceRef === 'component:default/checkout') return AuthorizeResult.ALLOW;
  return AuthorizeResult.DENY;
});

function render(api: object) {
  return renderInTestApp(
    <TestApiProvider apis={[[istioMeshApiRef, api], [permissionApiRef, permissions]]}>
      <EntityProvider entity={entity}>
        <EntityNamespaceMigrations clusters={entityClusters()} />
      </EntityProvider>
    </TestApiProvider>,
  );
}

const migrateStep = { id: 2, action: 'migrate' as const, namespace: 'storefront', targetRevision: 'asm-1-30', actor: 'user:default/ann', startedAt: '2026-12-01T10:01:00.000Z' };

describe('EntityNamespaceMigrations (owner allowed)', () => {
  it('migrates the namespace, shows pods moving revision while it runs, then the outcome', async () => {
    const running = { ...migrateStep, outcome: 'running' as const, message: 'Restarted Deployment/checkout, Deployment/cart in storefront.' };
    const succeeded = {
      ...migrateStep,
      outcome: 'succeeded' as const,
      message: 'Namespace storefront runs asm-1-30: every sidecar is on asm-1-30 (restarted: Deployment/cart, Deployment/checkout).',
      finishedAt: '2026-12-01T10:01:30.000Z',
    };
    const getUpgrade = jest
      .fn()
      .mockResolvedValueOnce(runWith({}))
      .mockResolvedValueOnce(runWith({ state: 'migrating', revision: 'asm-1-30', podsByRevision: { 'asm-1-29': 3, 'asm-1-30': 1 }, lastStepId: 2 }, [adoptStep, running], 'in-progress'))
      .mockResolvedValue(runWith({ state: 'migrated', revision: 'asm-1-30', podsByRevision: { 'asm-1-30': 4 }, lastStepId: 2 }, [adoptStep, succeeded]));
    const migrateNamespace = jest.fn().mockResolvedValue({ run: runWith({}), step: running } as UpgradeActionResponse);
    await render({ getUpgrade, migrateNamespace });

    // Only the cluster with a canary is asked for its upgrade.
    expect(getUpgrade).toHaveBeenCalledWith('aks-prod');
    expect(getUpgrade).not.toHaveBeenCalledWith('aks-dev');
    const button = await screen.findByRole('button', { name: 'Migrate storefront to asm-1-30' });
    await waitFor(() => expect(button).toBeEnabled());
    expect(screen.getByText(/restarts every workload in it, including other components/)).toBeInTheDocument();
    // Already on the canary: no button for payments (the entity does not run there anyway).
    expect(screen.queryByRole('button', { name: /Migrate payments/ })).not.toBeInTheDocument();

    fireEvent.click(button);
    expect(migrateNamespace).toHaveBeenCalledWith('aks-prod', 'storefront', 'asm-1-30');
    expect(await screen.findByText(/1 of 4 pods on asm-1-30 — Restarted Deployment\/checkout/)).toBeInTheDocument();
    expect(screen.getByRole('progressbar', { name: 'storefront pods on asm-1-30' })).toHaveAttribute('aria-valuenow', '25');
    // The panel polls the run until the step ends.
    expect(await screen.findByText(/Namespace storefront runs asm-1-30: every sidecar is on asm-1-30/, undefined, { timeout: 10_000 })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Migrate storefront to asm-1-30' })).not.toBeInTheDocument();
    expect(screen.getByText(/pods by sidecar revision: asm-1-30: 4/)).toBeInTheDocument();
  });

  it('shows the backend refusal when another team owns a component in the namespace (403)', async () => {
    const response = new Response(
      JSON.stringify({
        error: { name: 'NotAllowedError', message: 'Migrating storefront restarts component:default/cart, which you may not migrate.' },
        response: { statusCode: 403 },
      }),
      { status: 403, statusText: 'Forbidden', headers: { 'Content-Type': 'application/json' } },
    );
    const error = await ResponseError.fromResponse(response as any);
    const migrateNamespace = jest.fn().mockRejectedValue(error);
    await render({ getUpgrade: jest.fn().mockResolvedValue(runWith({})), migrateNamespace });
    const button = await screen.findByRole('button', { name: 'Migrate storefront to asm-1-30' });
    await waitFor(() => expect(button).toBeEnabled());
    fireEvent.click(button);
    expect(await screen.findByText(/Not allowed to migrate storefront: .*component:default\/cart, which you may not migrate/)).toBeInTheDocument();
  });

  it('keeps following the step while it measures after the pods moved (health gate), until it ends', async () => {
    const measuring = { ...migrateStep, outcome: 'running' as const, message: 'Measuring the health of storefront on asm-1-30 until 10:07.' };
    const done = { ...migrateStep, outcome: 'succeeded' as const, message: 'Namespace storefront runs asm-1-30. Health gate: healthy.' };
    const migrated = { state: 'migrated' as const, revision: 'asm-1-30', podsByRevision: { 'asm-1-30': 4 }, lastStepId: 2 };
    const getUpgrade = jest
      .fn()
      .mockResolvedValueOnce(runWith({}))
      .mockResolvedValueOnce(runWith(migrated, [adoptStep, measuring]))
      .mockResolvedValueOnce(runWith(migrated, [adoptStep, measuring]))
      .mockResolvedValue(runWith(migrated, [adoptStep, done]));
    await render({ getUpgrade, migrateNamespace: jest.fn().mockResolvedValue({ run: runWith({}), step: measuring }) });
    const button = await screen.findByRole('button', { name: 'Migrate storefront to asm-1-30' });
    await waitFor(() => expect(button).toBeEnabled());
    fireEvent.click(button);
    expect(await screen.findByText(/Every pod of storefront runs asm-1-30; the migration goes on: Measuring the health/)).toBeInTheDocument();
    expect(await screen.findByText('Namespace storefront runs asm-1-30. Health gate: healthy.', undefined, { timeout: 10_000 })).toBeInTheDocument();
    expect(getUpgrade.mock.calls.length).toBeGreaterThanOrEqual(4);
  });

  it('says why the last migration failed and offers to migrate again', async () => {
    const failed = { ...migrateStep, outcome: 'failed' as const, message: "Gave up on the restart of Deployment/cart in storefront in cluster 'aks-prod' after 5 attempts (last: 503)" };
    await render({ getUpgrade: jest.fn().mockResolvedValue(runWith({ state: 'failed', lastStepId: 2 }, [adoptStep, failed], 'failed')), migrateNamespace: jest.fn() });
    expect(await screen.findByText(/The last migration of storefront failed: Gave up on the restart of Deployment\/cart/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Migrate storefront to asm-1-30' })).toBeInTheDocument();
  });

  it('is hidden when there is nothing to migrate', async () => {
    const migrated = runWith({ state: 'migrated', revision: 'asm-1-30', podsByRevision: { 'asm-1-30': 4 } });
    const cases = [undefined, migrated, { ...runWith({}), status: 'completed' as const }];
    for (const run of cases) {
      const { unmount } = await render({ getUpgrade: jest.fn().mockResolvedValue(run), migrateNamespace: jest.fn() });
      await waitFor(() => expect(screen.queryByRole('progressbar')).not.toBeInTheDocument());
      expect(screen.queryByRole('button', { name: /Migrate/ })).not.toBeInTheDocument();
      expect(screen.queryByText(/Canary upgrade in aks-prod/)).not.toBeInTheDocument();
      unmount();
    }
  });
});
