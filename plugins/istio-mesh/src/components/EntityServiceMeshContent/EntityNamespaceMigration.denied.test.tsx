import { EntityProvider } from '@backstage/plugin-catalog-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { MockPermissionApi, renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { istioMeshApiRef } from '../../api/IstioMeshApi';
import { EntityNamespaceMigrations } from './EntityNamespaceMigration';
import { entity, entityClusters, runWith } from './EntityNamespaceMigration.fixtures';

jest.setTimeout(30_000);

// A file of its own: usePermission caches decisions per permission for the module's lifetime.
describe('EntityNamespaceMigrations without permissions', () => {
  it('disables the button and says why', async () => {
    const requests: Array<{ name: string; resourceRef?: string }> = [];
    const permissions = new MockPermissionApi(request => {
      requests.push({ name: request.permission.name, resourceRef: (request as { resourceRef?: string }).resourceRef });
      return AuthorizeResult.DENY;
    });
    const migrateNamespace = jest.fn();
    await renderInTestApp(
      <TestApiProvider apis={[[istioMeshApiRef, { getUpgrade: jest.fn().mockResolvedValue(runWith({})), migrateNamespace }], [permissionApiRef, permissions]]}>
        <EntityProvider entity={entity}>
          <EntityNamespaceMigrations clusters={entityClusters()} />
        </EntityProvider>
      </TestApiProvider>,
    );
    const button = await screen.findByRole('button', { name: 'Migrate storefront to asm-1-30' });
    await waitFor(() => expect(requests.map(r => r.name).sort()).toEqual(['istio-mesh.namespace.migrate', 'istio-mesh.upgrade.start']));
    expect(requests).toContainEqual({ name: 'istio-mesh.namespace.migrate', resourceRef: 'component:default/checkout' });
    await waitFor(() => expect(screen.queryByText('Checking your permissions…')).not.toBeInTheDocument());
    expect(button).toBeDisabled();
    fireEvent.mouseOver(button.parentElement!);
    expect(
      await screen.findByText(/You may not migrate storefront: it takes the istio-mesh.namespace.migrate permission on every component running in storefront/),
    ).toBeInTheDocument();
    fireEvent.click(button);
    expect(migrateNamespace).not.toHaveBeenCalled();
  });
});
