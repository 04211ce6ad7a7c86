import { expect, test } from '@playwright/test';

test.describe('Service Mesh tab', () => {
  test.beforeEach(async ({ page }) => {
    await page.goto('/');
    // The demo signs in as guest.
    await page.getByRole('button', { name: 'Enter' }).click();
    // Signed in once the catalog lists the demo components; only then may tests navigate.
    await expect(page.getByRole('link', { name: 'payments-api' })).toBeVisible();
  });

  test('payments-api shows the drift in aks-prod', async ({ page }) => {
    await page.getByRole('link', { name: 'payments-api' }).click();
    // The overview card summarises the mesh before the tab is opened.
    await expect(page.locator('p', { hasText: 'aks-prod: injected by asm-1-30 · 3 drifted pods' })).toBeVisible();
    await expect(page.locator('p', { hasText: 'aks-dev: injected by asm-1-29' })).toBeVisible();
    await expect(page.getByRole('link', { name: 'Open the Service Mesh tab' })).toHaveAttribute(
      'href',
      '/catalog/default/component/payments-api/service-mesh',
    );
    await page.getByRole('navigation', { name: 'Content navigation' }).getByRole('link', { name: 'Service Mesh' }).click();

    await expect(page).toHaveURL(/\/catalog\/default\/component\/payments-api\/service-mesh$/);
    await expect(page.getByText('Cluster aks-prod')).toBeVisible();
    await expect(page.getByText('Canary upgrade in progress: asm-1-29 → asm-1-30')).toBeVisible();
    await expect(
      page.getByText(/3 pods still run asm-1-29 while namespace payments is on asm-1-30/),
    ).toBeVisible();
    await expect(page.getByText('Cluster aks-dev')).toBeVisible();
    await expect(page.getByText('Stable on asm-1-29', { exact: false })).toBeVisible();
    // Three drifted pods in aks-prod, none in aks-dev.
    await expect(page.getByText('Drifted', { exact: true })).toHaveCount(3);

    if (process.env.E2E_SCREENSHOT) {
      await page.setViewportSize({ width: 1400, height: 1500 });
      await page.screenshot({ path: process.env.E2E_SCREENSHOT });
    }
  });

  test('legacy-billing explains why it is not in the mesh', async ({ page }) => {
    await page.goto('/catalog/default/component/legacy-billing/service-mesh');
    await expect(page.getByText('Cluster aks-dev')).toBeVisible();
    await expect(
      page.getByText(/Namespace legacy uses istio-injection=enabled, which the AKS add-on ignores/),
    ).toBeVisible();
  });

  test('the stock Kubernetes tab reads the same sandbox clusters', async ({ page }) => {
    await page.goto('/catalog/default/component/payments-api/kubernetes');
    await expect(page.getByText('aks-prod', { exact: true })).toBeVisible();
    await expect(page.getByText('aks-dev', { exact: true })).toBeVisible();
    await expect(page.getByText('3 pods', { exact: true })).toBeVisible();
    await expect(page.getByText(/Error communicating with Kubernetes/i)).toHaveCount(0);
  });
});
