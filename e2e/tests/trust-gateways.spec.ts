import { expect, Page, test } from '@playwright/test';

/**
 * Certificates and gateways on the cluster page, on the demo fleet as the sandbox starts:
 * aks-prod runs a plug-in CA mid root rotation (storefront's bundle still holds only the
 * old root, which expires in 21 days) and its egress gateway lags the asm-1-30 canary.
 * Runs before upgrade.spec.ts (files run in name order), which rolls aks-prod back.
 */

async function signIn(page: Page) {
  await page.goto('/');
  await page.getByRole('button', { name: 'Enter' }).click();
  await expect(page.getByRole('link', { name: 'payments-api' })).toBeVisible();
}

test.describe('certificates and gateways', () => {
  test.beforeEach(async ({ page }) => signIn(page));

  test('aks-prod shows the root rotation in progress, the stale namespace, the expiry warning and the lagging gateway', async ({ page }) => {
    await page.goto('/service-mesh/clusters/aks-prod');
    await expect(page.getByText('Cluster aks-prod')).toBeVisible();

    const certificates = page.getByRole('region', { name: 'Certificates of aks-prod' });
    await expect(certificates.getByText('CA: Plug-in CA')).toBeVisible();
    await expect(certificates.getByText('Root rotation in progress: 2 roots').first()).toBeVisible();
    await expect(certificates.getByText('asm-1-30: plug-in CA from Key Vault via SecretProviderClass istio-spc-asm-1-30')).toBeVisible();
    await expect(
      certificates.getByText(/^Root certificate Contoso Mesh Root CA 2023 expires in 21 days \(\d{4}-\d\d-\d\d\); finish the root rotation before then\.$/),
    ).toBeVisible();
    await expect(certificates.getByText('storefront: lacks Contoso Mesh Root CA 2026')).toBeVisible();
    const oldRoot = certificates.locator('tr', { hasText: 'C=NL, O=Contoso, CN=Contoso Mesh Root CA 2023' });
    await expect(oldRoot).toContainText('RSA 2048');
    await expect(oldRoot).toContainText('21 days · expiring soon');
    const newRoot = certificates.locator('tr', { hasText: 'C=NL, O=Contoso, CN=Contoso Mesh Root CA 2026' });
    await expect(newRoot).toContainText('EC P-384');
    await expect(newRoot).toContainText(/\d+ days · valid/);

    const gateways = page.getByRole('region', { name: 'Gateways' });
    await expect(gateways.getByText('A gateway lags the control plane')).toBeVisible();
    await expect(
      gateways.getByText('Gateway payments-egress has no Deployment for asm-1-30: it still runs only asm-1-29, so it lags the control plane.'),
    ).toBeVisible();
    const egress = gateways.locator('tr', { hasText: 'payments-egressEgress' });
    await expect(egress).toContainText('ClusterIP');
    await expect(egress).toContainText('lags: no asm-1-30 Deployment');
    const internal = gateways.locator('tr', { hasText: 'aks-istio-ingressgateway-internal' });
    await expect(internal).toContainText('10.224.0.250');
    await expect(internal).toContainText('asm-1-30: 2/2 ready · HPA 2–5');

    const dir = process.env.E2E_SCREENSHOT_DIR;
    if (dir) {
      await page.setViewportSize({ width: 1400, height: 1600 });
      await certificates.scrollIntoViewIfNeeded();
      await certificates.screenshot({ path: `${dir}/trust-panel.png` });
    }
  });

  test('aks-dev is self-signed without warnings; the overview’s aks-prod card carries the expiry', async ({ page }) => {
    await page.goto('/service-mesh/clusters/aks-dev');
    const certificates = page.getByRole('region', { name: 'Certificates of aks-dev' });
    await expect(certificates.getByText("CA: istiod's self-signed CA")).toBeVisible();
    await expect(certificates.locator('tr', { hasText: 'O=cluster.local' })).toContainText('RSA 2048');
    await expect(certificates.getByText(/Root rotation in progress/)).toHaveCount(0);

    await page.goto('/service-mesh');
    const prodCard = page.getByRole('group', { name: 'Certificates of aks-prod' });
    await expect(prodCard.getByText('CA certificate expires in 21 days')).toBeVisible();
    await expect(prodCard.getByText('Root rotation in progress: 2 roots')).toBeVisible();
    await expect(page.getByRole('group', { name: 'Certificates of aks-dev' })).toHaveCount(0);
  });
});
