import { permissionApiRef } from '@backstage/plugin-permission-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { MockPermissionApi, renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { istioMeshApiRef } from '../../api/IstioMeshApi';
import { MeshConfigPanel } from './MeshConfigPanel';
import { allowedValidation, cluster, view } from './fixtures';

jest.setTimeout(30_000);

// A file of its own: usePermission caches decisions per permission for the module's lifetime.
describe('MeshConfigPanel without istio-mesh.meshconfig.update', () => {
  it('disables save even for a valid change and says why', async () => {
    const validateMeshConfig = jest.fn().mockResolvedValue(allowedValidation);
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [istioMeshApiRef, { getMeshConfig: jest.fn().mockResolvedValue(view()), validateMeshConfig, updateMeshConfig: jest.fn() }],
          [permissionApiRef, new MockPermissionApi(() => AuthorizeResult.DENY)],
        ]}
      >
        <MeshConfigPanel cluster={cluster} />
      </TestApiProvider>,
    );
    const editor = await screen.findByRole('textbox', { name: 'Shared MeshConfig of asm-1-29' });
    await userEvent.clear(editor);
    await userEvent.click(editor);
    await userEvent.paste('accessLogFile: /dev/stderr\n');
    expect(await screen.findByText('No findings.')).toBeInTheDocument();
    const save = screen.getByRole('button', { name: 'Preview and save' });
    expect(save).toBeDisabled();
    await userEvent.hover(save.parentElement!);
    expect(await screen.findByRole('tooltip')).toHaveTextContent('You are not allowed to change the shared MeshConfig (permission istio-mesh.meshconfig.update).');
  });
});
