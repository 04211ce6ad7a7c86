import { permissionApiRef } from '@backstage/plugin-permission-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { MockPermissionApi, renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { ResponseError } from '@backstage/errors';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { istioMeshApiRef } from '../../api/IstioMeshApi';
import { MeshConfigPanel } from './MeshConfigPanel';
import { allowedValidation, blockedValidation, cluster, SHARED, view } from './fixtures';

jest.setTimeout(30_000);

function renderPanel(api: object) {
  return renderInTestApp(
    <TestApiProvider apis={[[istioMeshApiRef, api], [permissionApiRef, new MockPermissionApi(() => AuthorizeResult.ALLOW)]]}>
      <MeshConfigPanel cluster={cluster} />
    </TestApiProvider>,
  );
}

async function replaceText(revision: string, text: string) {
  const editor = await screen.findByRole('textbox', { name: `Shared MeshConfig of ${revision}` });
  await userEvent.clear(editor);
  // user-event treats { and [ as key descriptors; paste the text instead of typing it.
  await userEvent.click(editor);
  await userEvent.paste(text);
  return editor;
}

describe('MeshConfigPanel', () => {
  it('shows the effective view with classes, sources and the overridden marker, per revision', async () => {
    const getMeshConfig = jest.fn(async (_c: string, revision: string) => view({}, revision));
    await renderPanel({ getMeshConfig });
    expect(await screen.findByText('Effective MeshConfig of asm-1-29')).toBeInTheDocument();
    expect(getMeshConfig).toHaveBeenCalledWith('aks-dev', 'asm-1-29');
    expect(screen.getByText('supported')).toBeInTheDocument();
    expect(screen.getByText('allowed')).toBeInTheDocument();
    expect(screen.getByText('blocked')).toBeInTheDocument();
    expect(screen.getByText('overridden by the add-on default (ignored): shared value {"numTrustedProxies":2}')).toBeInTheDocument();
    expect(screen.getByText(/The add-on's default \(istio-asm-1-29\) wins on conflict/)).toHaveTextContent(
      "The add-on's default (istio-asm-1-29) wins on conflict: defaultConfig.gatewayTopology from istio-shared-configmap-asm-1-29 is ignored.",
    );
    expect(screen.getAllByText('add-on default')).toHaveLength(2);
    // The stored document's own findings, with line:column.
    expect(within(screen.getByRole('list', { name: 'Findings' })).getByRole('listitem')).toHaveTextContent('3:3 defaultConfig.gatewayTopology is allowed but not supported on asm-1-29');
    expect(screen.getByRole('textbox', { name: 'Shared MeshConfig of asm-1-29' })).toHaveValue(SHARED);

    await userEvent.click(screen.getByRole('tab', { name: 'asm-1-30' }));
    expect(await screen.findByText('Effective MeshConfig of asm-1-30')).toBeInTheDocument();
    expect(getMeshConfig).toHaveBeenLastCalledWith('aks-dev', 'asm-1-30');
  });

  it('validates as you type and shows findings with line:column and path; save stays disabled while there are errors', async () => {
    const validateMeshConfig = jest.fn().mockResolvedValue(blockedValidation);
    await renderPanel({ getMeshConfig: jest.fn().mockResolvedValue(view()), validateMeshConfig });
    await replaceText('asm-1-29', 'accessLogFile: /dev/stdout\nrootNamespace: payments\n');
    const item = await screen.findByText(/is blocked on asm-1-29/);
    expect(item.closest('[role="listitem"]')).toHaveTextContent('2:1 rootNamespace is blocked on asm-1-29');
    // Debounced: one call for the whole paste, with the whole text.
    expect(validateMeshConfig).toHaveBeenCalledTimes(1);
    expect(validateMeshConfig).toHaveBeenCalledWith('aks-dev', 'asm-1-29', 'accessLogFile: /dev/stdout\nrootNamespace: payments\n');
    expect(screen.getByRole('button', { name: 'Preview and save' })).toBeDisabled();
  });

  it('previews the diff and saves with the loaded resourceVersion, then reloads', async () => {
    const getMeshConfig = jest.fn().mockResolvedValue(view());
    const updateMeshConfig = jest.fn().mockResolvedValue({ diff: allowedValidation.diff, view: view() });
    await renderPanel({ getMeshConfig, validateMeshConfig: jest.fn().mockResolvedValue(allowedValidation), updateMeshConfig });
    const text = 'accessLogFile: /dev/stderr\n';
    await replaceText('asm-1-29', text);
    expect(await screen.findByText('No findings.')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Preview and save' }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByRole('list', { name: 'Changes' })).toHaveTextContent('changed accessLogFile- "/dev/stdout" + "/dev/stderr"');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(updateMeshConfig).toHaveBeenCalledWith('aks-dev', { revision: 'asm-1-29', yaml: text, resourceVersion: '42' }));
    await waitFor(() => expect(getMeshConfig).toHaveBeenCalledTimes(2));
  });

  it('says when the ConfigMap changed underneath and reloads on request', async () => {
    const getMeshConfig = jest.fn().mockResolvedValueOnce(view()).mockResolvedValue(view({ shared: { ...view().shared, yaml: 'accessLogFile: /dev/null\n', resourceVersion: '43' } }));
    const conflict = await ResponseError.fromResponse(
      new Response(
        JSON.stringify({
          error: { name: 'ConflictError', message: 'the ConfigMap changed since you loaded it: istio-shared-configmap-asm-1-29 is at resourceVersion 43, you loaded 42. Reload it and apply your change again.' },
          response: { statusCode: 409 },
        }),
        { status: 409, statusText: 'Conflict', headers: { 'Content-Type': 'application/json' } },
      ) as any,
    );
    const updateMeshConfig = jest.fn().mockRejectedValue(conflict);
    await renderPanel({ getMeshConfig, validateMeshConfig: jest.fn().mockResolvedValue(allowedValidation), updateMeshConfig });
    await replaceText('asm-1-29', 'accessLogFile: /dev/stderr\n');
    await screen.findByText('No findings.');
    await userEvent.click(screen.getByRole('button', { name: 'Preview and save' }));
    await userEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Save' }));
    expect(await screen.findByText(/the ConfigMap changed since you loaded it/)).toHaveTextContent(
      'the ConfigMap changed since you loaded it: istio-shared-configmap-asm-1-29 is at resourceVersion 43, you loaded 42. Reload it and apply your change again.',
    );
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    await userEvent.click(screen.getByRole('button', { name: 'Reload' }));
    await waitFor(() => expect(screen.getByRole('textbox', { name: 'Shared MeshConfig of asm-1-29' })).toHaveValue('accessLogFile: /dev/null\n'));
    expect(screen.getByText(/resourceVersion 43/)).toBeInTheDocument();
    expect(screen.queryByText(/the ConfigMap changed since you loaded it/)).not.toBeInTheDocument();
  });

  it('is read-only on upstream Istio, saying why', async () => {
    await renderPanel({
      getMeshConfig: jest.fn().mockResolvedValue(view({ provider: 'istio', editable: false, readOnlyReason: 'istio-lab runs upstream Istio: helm or istioctl own it.' })),
    });
    expect(await screen.findByText('istio-lab runs upstream Istio: helm or istioctl own it.')).toBeInTheDocument();
    expect(screen.queryByRole('textbox')).not.toBeInTheDocument();
  });
});
