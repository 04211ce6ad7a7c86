import { defineConfig } from '@playwright/test';
import { execSync } from 'node:child_process';

/**
 * Browser tests in Debian's Chromium (Playwright's own browser download cannot run
 * here). `./run test` builds the app, starts the demo sandbox and the backend on
 * E2E_BASE_URL, then runs these.
 */
function chromiumPath(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execSync('command -v chromium', { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export default defineConfig({
  testDir: 'e2e/tests',
  timeout: 90_000,
  expect: { timeout: 30_000 },
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  reporter: [['list'], ['json', { outputFile: 'e2e-test-report/results.json' }]],
  use: {
    baseURL: process.env.E2E_BASE_URL ?? 'http://localhost:7017',
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: chromiumPath(),
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  outputDir: 'node_modules/.cache/e2e-test-results',
  projects: [
    // Specs that read the demo fleet as seeded.
    { name: 'read', testIgnore: /upgrade\.spec\.ts$/ },
    // upgrade.spec.ts changes aks-dev and aks-prod for good (no downgrade brings them
    // back): it runs once every other spec has finished.
    { name: 'upgrade', testMatch: /upgrade\.spec\.ts$/, dependencies: ['read'] },
  ],
});
