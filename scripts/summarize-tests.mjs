// Prints one line for the whole suite from jest's and Playwright's JSON reports:
// summarize-tests.mjs <jest report>... <playwright report>
import { readFileSync, existsSync } from 'node:fs';

const files = process.argv.slice(2);
const playwrightFile = files.pop();
let passed = 0;
let failed = 0;
let skipped = 0;

for (const file of files) {
  if (!existsSync(file)) {
    failed += 1;
    console.log(`jest: no report at ${file} (the run did not finish)`);
    continue;
  }
  const jest = JSON.parse(readFileSync(file, 'utf8'));
  // A suite that fails to load has no failed tests of its own: count it as one failure.
  const brokenSuites = jest.numRuntimeErrorTestSuites ?? 0;
  passed += jest.numPassedTests;
  failed += jest.numFailedTests + brokenSuites;
  skipped += jest.numPendingTests + jest.numTodoTests;
  console.log(
    `jest (${file.split('/').pop()}): ${jest.numPassedTests} passed, ${jest.numFailedTests} failed, ${brokenSuites} suites failed to load, ${jest.numTotalTestSuites} suites`,
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

console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
