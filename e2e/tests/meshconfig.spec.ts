import { expect, Locator, Page, test } from '@playwright/test';

/**
 * The shared MeshConfig of aks-dev's asm-1-29 on the cluster page: the effective view,
 * a blocked field refused with its path, an allowed change saved, and the conflict when
 * the ConfigMap changes underneath (changed here straight through the sandbox's
 * Kubernetes API, as kubectl would). It leaves aks-dev with a valid shared document, so
 * upgrade.spec.ts (which runs after every other spec) can still copy it.
 */

test.describe.configure({ mode: 'serial' });

const SANDBOX = `http://127.0.0.1:${process.env.MESH_SANDBOX_PORT ?? '7081'}`;
const CONFIGMAP = `${SANDBOX}/clusters/aks-dev/api/v1/namespaces/aks-istio-system/configmaps/istio-shared-configmap-asm-1-29`;
const AUTH = { Authorization: 'Bearer sandbox-token-aks-dev' };

async function readConfigMap(): Promise<any> {
  const res = await fetch(CONFIGMAP, { headers: AUTH });
  expect(res.status).toBe(200);
  return res.json();
}

async function writeConfigMap(mesh: string): Promise<void> {
  const current = await readConfigMap();
  const res = await fetch(CONFIGMAP, {
    method: 'PUT',
    headers: { ...AUTH, 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...current, data: { ...current.data, mesh } }),
  });
  expect(res.status).toBe(200);
}

function meshConfigCard(page: Page): Locator {
  return page.getByRole('region', { name: 'MeshConfig' });
}

async function openMeshConfig(page: Page): Promise<Locator> {
  await page.goto('/');
  await page.getByRole('button', { name: 'Enter' }).click();
  await expect(page.getByRole('link', { name: 'payments-api' })).toBeVisible();
  await page.goto('/service-mesh/clusters/aks-dev');
  const card = meshConfigCard(page);
  await expect(card.getByText('Effective MeshConfig of asm-1-29')).toBeVisible();
  return card;
}

/** With E2E_SCREENSHOT_DIR set: the card, in a viewport tall enough to hold it (the page scrolls inside Backstage's content). */
async function screenshot(card: Locator, name: string) {
  const dir = process.env.E2E_SCREENSHOT_DIR;
  if (!dir) return;
  await card.page().setViewportSize({ width: 1400, height: 2400 });
  await card.scrollIntoViewIfNeeded();
  await card.screenshot({ path: `${dir}/${name}` });
}

const editor = (card: Locator) => card.getByRole('textbox', { name: 'Shared MeshConfig of asm-1-29' });

test('shows the effective MeshConfig with classes and what the add-on default overrides', async ({ page }) => {
  const card = await openMeshConfig(page);
  const row = (field: string) => card.getByRole('row').filter({ has: page.getByText(field, { exact: true }) });
  await expect(row('accessLogFile')).toContainText('shared');
  await expect(row('accessLogFile')).toContainText('supported');
  await expect(row('rootNamespace')).toContainText('add-on default');
  await expect(row('rootNamespace')).toContainText('blocked');
  await expect(row('defaultConfig.gatewayTopology')).toContainText('allowed');
  await expect(row('defaultConfig.gatewayTopology')).toContainText('overridden by the add-on default (ignored): shared value {"numTrustedProxies":2}');
  await expect(editor(card)).toHaveValue((await readConfigMap()).data.mesh);
  await screenshot(card, 'meshconfig.png');
});

test('refuses a blocked field with its path and line', async ({ page }) => {
  const card = await openMeshConfig(page);
  const before = await readConfigMap();
  await editor(card).fill('accessLogFile: /dev/stdout\nrootNamespace: payments\n');
  await expect(card.getByRole('listitem').filter({ hasText: 'rootNamespace' })).toContainText(
    '2:1 rootNamespace is blocked on asm-1-29: not a supported or allowed MeshConfig field of the AKS Istio add-on',
  );
  await expect(card.getByRole('button', { name: 'Preview and save' })).toBeDisabled();
  expect((await readConfigMap()).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  await screenshot(card, 'meshconfig-blocked.png');
});

test('saves an allowed change after the diff preview', async ({ page }) => {
  const card = await openMeshConfig(page);
  const text = 'accessLogFile: /dev/stdout\naccessLogEncoding: TEXT\ndefaultConfig:\n  holdApplicationUntilProxyStarts: true\n  concurrency: 2\n';
  await editor(card).fill(text);
  await expect(card.getByText('No findings.')).toBeVisible();
  await card.getByRole('button', { name: 'Preview and save' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByRole('list', { name: 'Changes' })).toContainText('changed accessLogEncoding');
  await expect(dialog.getByRole('list', { name: 'Changes' })).toContainText('added defaultConfig.concurrency');
  await expect(dialog.getByRole('list', { name: 'Changes' })).toContainText('removed defaultConfig.gatewayTopology');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText(/Saved istio-shared-configmap-asm-1-29 \(3 changes\)/)).toBeVisible();
  expect((await readConfigMap()).data.mesh).toBe(text);
  await expect(card.getByRole('row').filter({ has: page.getByText('defaultConfig.concurrency', { exact: true }) })).toContainText('2');
});

test('says when the ConfigMap changed underneath, and reloads it', async ({ page }) => {
  const card = await openMeshConfig(page);
  await editor(card).fill('accessLogFile: /dev/stderr\n');
  await expect(card.getByText('No findings.')).toBeVisible();
  // Someone else changes it meanwhile.
  const theirs = 'accessLogFile: /dev/stdout\naccessLogEncoding: JSON\n';
  await writeConfigMap(theirs);
  await card.getByRole('button', { name: 'Preview and save' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
  await expect(card.getByText(/the ConfigMap changed since you loaded it/)).toBeVisible();
  await expect(card.getByText(/Reload it and apply your change again/)).toBeVisible();
  expect((await readConfigMap()).data.mesh).toBe(theirs);
  await card.getByRole('button', { name: 'Reload' }).click();
  await expect(editor(card)).toHaveValue(theirs);
  await expect(card.getByText(/the ConfigMap changed since you loaded it/)).toBeHidden();
});
