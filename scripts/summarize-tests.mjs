// Prints one line for the whole suite from jest's and Playwright's JSON reports:
// summarize-tests.mjs [--skipped=<why>]... <jest report>... <playwright report>
// The jest reports are the main runs (jest-main.json, jest-backend.json) and the
// real-control-plane runs (jest-real-sandbox.json, jest-real-backend.json); a report
// that is missing counts as one failure. --skipped=<why> names a suite that was not run
// on purpose (e.g. no Go toolchain outside CI), so the summary says so.
import { readFileSync, existsSync } from 'node:fs';

const args = process.argv.slice(2);
const skippedSuites = args.filter(a => a.startsWith('--skipped=')).map(a => a.slice('--skipped='.length));
const files = args.filter(a => !a.startsWith('--skipped='));
const playwrightFile = files.pop();
let passed = 0;
let failed = 0;
let skipped = 0;

for (const file of files) {
  const name = file.split('/').pop();
  if (!existsSync(file)) {
    failed += 1;
    console.log(`jest (${name}): no report at ${file} (the run did not finish)`);
    continue;
  }
  const jest = JSON.parse(readFileSync(file, 'utf8'));
  // A suite that fails to load has no failed tests of its own: count it as one failure.
  const brokenSuites = jest.numRuntimeErrorTestSuites ?? 0;
  passed += jest.numPassedTests;
  failed += jest.numFailedTests + brokenSuites;
  skipped += jest.numPendingTests + jest.numTodoTests;
  const real = name.startsWith('jest-real-') ? ' [real control plane]' : '';
  console.log(
    `jest (${name})${real}: ${jest.numPassedTests} passed, ${jest.numFailedTests} failed, ${brokenSuites} suites failed to load, ${jest.numTotalTestSuites} suites`,
  );
}

if (existsSync(playwrightFile)) {
  const s = JSON.parse(readFileSync(playwrightFile, 'utf8')).stats ?? {};
  const pwFailed = (s.unexpected ?? 0) + (s.flaky ?? 0);
  passed += s.expected ?? 0;
  failed += pwFailed;
  skipped += s.skipped ?? 0;
  console.log(`playwright: ${s.expected ?? 0} passed, ${pwFailed} failed`);
} else {
  failed += 1;
  console.log('playwright: no report (the run did not finish)');
}

for (const why of skippedSuites) console.log(`NOT RUN: ${why}`);

console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
