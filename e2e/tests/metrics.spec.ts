import { expect, Locator, Page, test } from '@playwright/test';

// Needs the Prometheus that scripts/test-all.sh starts on :7090 (scripts/prometheus.sh),
// scraping the sandbox's simulated proxies, and e2e/app-config.e2e.yaml pointing at it.

async function openTab(page: Page, component = 'payments-api') {
  await page.goto('/');
  await page.getByRole('button', { name: 'Enter' }).click();
  await expect(page.getByRole('link', { name: 'payments-api' })).toBeVisible();
  await page.goto(`/catalog/default/component/${component}/service-mesh`);
  await expect(page.getByText('Cluster aks-prod')).toBeVisible();
}

/** The latest value a chart's accessible summary gives for one line. */
async function latest(chart: Locator, line: string, unit: string): Promise<number> {
  const label = (await chart.getAttribute('aria-label')) ?? '';
  const match = label.match(new RegExp(`${line}: latest ([\\d.]+) ${unit}`));
  return match ? Number(match[1]) : NaN;
}

test.describe('Golden signals on the Service Mesh tab', () => {
  test('payments-api shows request, error and latency charts with data, and its callers and callees', async ({ page }) => {
    await openTab(page);
    await expect(page.getByText('Golden signals', { exact: true })).toBeVisible();
    const prod = page.getByRole('region', { name: 'Golden signals of payments/payments-api in aks-prod' });

    // Right after the run starts Prometheus may hold a scrape or two: the tab refreshes
    // every 30 s, so wait for a chart with a non-zero rate rather than for a fixed time.
    const requests = prod.getByRole('img', { name: /^Requests per second,/ });
    await expect(async () => {
      await page.reload();
      await expect(requests).toBeVisible({ timeout: 15_000 });
      expect(await latest(requests, 'payments-api', 'req/s')).toBeGreaterThan(0);
    }).toPass({ timeout: 80_000 });
    await expect(page.getByText(/Metrics unavailable/)).toHaveCount(0);

    // The sandbox sends payments-api 2 requests/s in aks-prod (checkout → payments-api).
    expect(await latest(requests, 'payments-api', 'req/s')).toBeLessThanOrEqual(2.5);
    const line = requests.locator('[data-testid="chart-line"]');
    await expect(line).toHaveCount(1);
    expect(Number(await line.getAttribute('data-points'))).toBeGreaterThanOrEqual(1);

    const latency = prod.getByRole('img', { name: /^Latency p50 \/ p90 \/ p99,/ });
    await expect(latency.locator('[data-testid="chart-line"]')).toHaveCount(3);
    // Log-normal latencies with a 30 ms median, estimated from Istio's histogram buckets.
    const p50 = await latest(latency, 'p50', 'ms');
    const p99 = await latest(latency, 'p99', 'ms');
    expect(p50).toBeGreaterThan(10);
    expect(p50).toBeLessThan(60);
    expect(p99).toBeGreaterThan(p50);
    await expect(prod.getByRole('img', { name: /^5xx error rate,/ })).toBeVisible();

    // The picker asks for another range; the subheader says which one is shown.
    await page.getByRole('button', { name: 'last 15 minutes' }).click();
    await expect(page.getByRole('button', { name: 'last 15 minutes' })).toHaveAttribute('aria-pressed', 'true');
    await expect(page.getByText(/^last 15 minutes, a point every/)).toBeVisible();

    // Topology: checkout calls payments-api, which calls payments-worker.
    const traffic = page.getByRole('region', { name: 'Traffic in aks-prod' });
    await expect(traffic.getByRole('row').filter({ hasText: 'storefront/checkout' }).filter({ hasText: 'calls this service' })).toBeVisible();
    await expect(traffic.getByRole('row').filter({ hasText: 'payments/payments-worker' }).filter({ hasText: 'called by this service' })).toBeVisible();
    await expect(traffic.getByRole('img', { name: /^Traffic of payments\/payments-api in aks-prod: 1 caller, 1 callee\./ })).toBeVisible();

    const dir = process.env.E2E_SCREENSHOT_DIR;
    if (dir) {
      // At the 15-minute range picked above (a fresh run has no hour of data).
      await page.setViewportSize({ width: 1400, height: 1200 });
      await prod.scrollIntoViewIfNeeded();
      await prod.screenshot({ path: `${dir}/service-mesh-metrics.png` });
      await traffic.screenshot({ path: `${dir}/service-mesh-topology.png` });
    }
  });

  test("payments-worker's TCP connections to its database outside the mesh show with bytes and connections per second", async ({ page }) => {
    await openTab(page, 'payments-worker');
    // The sandbox's payments-worker opens 0.2 connections/s to an Azure PostgreSQL without a
    // sidecar, 2 KiB/s out and 8 KiB/s back. rate() over a window longer than the data reads
    // low on a fresh run, so this checks that the edge is there and carries bytes, not how many.
    const traffic = page.getByRole('region', { name: 'Traffic in aks-prod' });
    const db = traffic.getByRole('row').filter({ hasText: 'payments-db.postgres.database.azure.com (outside the mesh)' });
    await expect(async () => {
      await page.reload();
      await page.getByRole('button', { name: 'last 15 minutes' }).click();
      await expect(db).toBeVisible({ timeout: 15_000 });
    }).toPass({ timeout: 80_000 });
    const cells = await db.locator('td').allTextContents();
    expect(cells.slice(0, 4)).toEqual(['called by this service', 'payments/payments-worker', 'payments-db.postgres.database.azure.com (outside the mesh)', 'TCP']);
    const [, out, back, connections] = cells[4].match(/^([\d.]+) (?:B|KiB)\/s out, ([\d.]+) (?:B|KiB)\/s back, ([\d.]+) conn\/s$/) ?? [];
    expect(Number(out)).toBeGreaterThan(0);
    expect(Number(back)).toBeGreaterThan(0);
    expect(Number(connections)).toBeGreaterThan(0);
    expect(cells.slice(5)).toEqual(['n/a', 'n/a']); // no 5xx ratio or health for TCP
    await expect(traffic.getByRole('img', { name: /connects to payments-db\.postgres\.database\.azure\.com \(outside the mesh\) over TCP: / })).toBeVisible();
  });

  test('the overview shows golden-signal columns', async ({ page }) => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Enter' }).click();
    await expect(page.getByRole('link', { name: 'payments-api' })).toBeVisible();
    await page.goto('/service-mesh');
    await expect(page.getByText(/^Meshed components \(\d+\)$/)).toBeVisible();
    await expect(page.getByRole('columnheader', { name: 'Req/s' })).toBeVisible();
    await expect(page.getByRole('columnheader', { name: 'Health' })).toBeVisible();
    await expect(page.getByText(/Golden signals unavailable/)).toHaveCount(0);
    const row = page.locator('tbody tr').filter({ hasText: 'payments-api' }).filter({ hasText: 'aks-prod' });
    const headers = await page.getByRole('columnheader').allTextContents();
    const cells = await row.locator('td').allTextContents();
    expect(Number(cells[headers.indexOf('Req/s')])).toBeGreaterThan(0);
    expect(cells[headers.indexOf('Health')]).toMatch(/^(Healthy|Degraded|Failing)$/);
    if (process.env.E2E_SCREENSHOT_DIR) {
      // README's docs/images/mesh-overview.png: best taken against the demo (E2E_BASE_URL=
      // http://localhost:3000) once its Prometheus holds a few minutes of data.
      await page.setViewportSize({ width: 1400, height: 1300 });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: `${process.env.E2E_SCREENSHOT_DIR}/mesh-overview.png` });
    }
  });
});
