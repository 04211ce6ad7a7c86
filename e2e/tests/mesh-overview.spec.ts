import { expect, test } from '@playwright/test';

test.describe('Service Mesh overview and cluster pages', () => {
  test.beforeEach(async ({ page }) => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Enter' }).click();
    await expect(page.getByRole('link', { name: 'payments-api' })).toBeVisible();
  });

  test('the overview lists meshed components and filters to drifted ones', async ({ page }) => {
    await page.getByRole('navigation', { name: 'sidebar nav' }).getByRole('link', { name: 'Service Mesh' }).click();
    await expect(page).toHaveURL(/\/service-mesh$/);
    await expect(page.getByText(/^Meshed components \(\d+\)$/)).toBeVisible();
    const total = Number((await page.getByText(/^Meshed components \(\d+\)$/).textContent())!.match(/\d+/)![0]);
    expect(total).toBeGreaterThan(1);

    await page.getByLabel('Drifted only').check();
    await expect(page.getByText('Meshed components (1)')).toBeVisible();
    const rows = page.locator('tbody tr');
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toContainText('payments-api');
    await expect(rows.first()).toContainText('aks-prod');

    await page.getByLabel('Drifted only').uncheck();
    await page.getByLabel('Cluster').click();
    await page.getByRole('option', { name: 'aks-dev' }).click();
    await expect(page.locator('tbody tr').first()).toContainText('aks-dev');
    for (const text of await page.locator('tbody tr td:nth-child(3)').allTextContents()) {
      expect(text).toBe('aks-dev');
    }
  });

  test('the cluster page shows namespaces, gateways and misconfigurations', async ({ page }) => {
    await page.goto('/service-mesh');
    await page.getByRole('link', { name: 'aks-dev', exact: true }).first().click();
    await expect(page).toHaveURL(/\/service-mesh\/clusters\/aks-dev$/);
    await expect(page.getByText('Cluster aks-dev')).toBeVisible();
    await expect(
      page.getByText(/Namespace legacy uses istio-injection=enabled, which the AKS add-on ignores/).first(),
    ).toBeVisible();
    await expect(page.getByText('aks-istio-ingressgateway-external', { exact: true })).toBeVisible();
    // Offered upgrades come from Azure Resource Manager (the sandbox's, through the Azure SDK).
    await expect(page.getByText('Offered: asm-1-30 (source: Azure Resource Manager)')).toBeVisible();
    const payments = page.locator('tr', { hasText: 'payments' }).first();
    await expect(payments).toContainText('asm-1-29');
  });
});
