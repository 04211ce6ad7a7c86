import { expect, test } from '@playwright/test';

/**
 * The overview with 5,000 rows. The backend's answer is replaced in the browser by a
 * generated one, so this measures the page alone. The time is printed (and attached to
 * the report), never asserted: speed goals are measured, not tested.
 */
const ROWS = 5000;

function overview() {
  const clusters = Array.from({ length: 20 }, (_, i) => `aks-${String(i).padStart(2, '0')}`);
  const rows = Array.from({ length: ROWS }, (_, i) => {
    const cluster = clusters[i % clusters.length];
    const drifted = i % 50 === 0 ? 2 : 0;
    return {
      entityRef: `component:default/service-${i}`,
      kind: 'Component',
      namespace: 'default',
      name: `service-${i}`,
      owner: `team-${i % 40}`,
      cluster,
      provider: 'aks',
      kubernetesNamespace: `ns-${i % 200}`,
      revision: i % 3 === 0 ? 'asm-1-30' : 'asm-1-29',
      sidecarRevisions: drifted ? ['asm-1-29'] : [i % 3 === 0 ? 'asm-1-30' : 'asm-1-29'],
      pods: 4,
      driftedPods: drifted,
      phase: 'Canary',
    };
  });
  const summary = (cluster: string) => ({
    cluster,
    provider: 'aks',
    fetchedAt: '2026-11-25T10:00:00Z',
    controlPlane: {
      namespace: 'aks-istio-system',
      tags: {},
      phase: 'Canary',
      revisions: [
        { revision: 'asm-1-29', version: '1.29.2', replicas: 2, readyReplicas: 2, ready: true },
        { revision: 'asm-1-30', version: '1.30.1', replicas: 2, readyReplicas: 2, ready: true },
      ],
    },
    meshedNamespaces: 200,
    workloads: 900,
    pods: 2000,
    podsWithSidecar: 1800,
    driftedPods: 10,
    health: 'warning',
    healthReasons: ['10 pods drifted from their namespace\'s revision and need a restart.'],
    snapshotApiRequests: 11,
  });
  return { rows, clusters: clusters.map(summary), errors: [] };
}

test('the overview stays usable with 5,000 rows', async ({ page }, testInfo) => {
  await page.route('**/api/istio-mesh/v1/overview', route =>
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(overview()) }),
  );
  await page.goto('/');
  await page.getByRole('button', { name: 'Enter' }).click();
  await expect(page.getByRole('link', { name: 'payments-api' })).toBeVisible();

  // In-app navigation, as a user opens the page from the sidebar.
  const started = Date.now();
  await page.getByRole('navigation', { name: 'sidebar nav' }).getByRole('link', { name: 'Service Mesh' }).click();
  await expect(page.getByText(`Meshed components (${ROWS})`)).toBeVisible();
  await expect(page.locator('tbody tr')).toHaveCount(25); // first page of the paginated table
  const renderedMs = Date.now() - started;
  const filterStarted = Date.now();
  await page.getByLabel('Drifted only').check();
  await expect(page.getByText(`Meshed components (${ROWS / 50})`)).toBeVisible();
  const filteredMs = Date.now() - filterStarted;

  const line = `overview with ${ROWS} rows: interactive ${renderedMs} ms after the click, filter applied in ${filteredMs} ms (Chromium, this machine)`;
  // eslint-disable-next-line no-console
  console.log(line);
  testInfo.annotations.push({ type: 'measurement', description: line });
});
