// Prints one line for the whole suite from jest's and Playwright's JSON reports.
import { readFileSync, existsSync } from 'node:fs';

const [jestFile, playwrightFile] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;

if (existsSync(jestFile)) {
  const jest = JSON.parse(readFileSync(jestFile, 'utf8'));
  passed += jest.numPassedTests;
  failed += jest.numFailedTests + (jest.numRuntimeErrorTestSuites ?? 0);
  skipped += jest.numPendingTests + jest.numTodoTests;
  console.log(`jest: ${jest.numPassedTests} passed, ${jest.numFailedTests} failed in ${jest.numTotalTestSuites} suites`);
} else {
  failed += 1;
  console.log('jest: no report (the run did not finish)');
}

if (existsSync(playwrightFile)) {
  const pw = JSON.parse(readFileSync(playwrightFile, 'utf8'));
  const s = pw.stats ?? {};
  passed += s.expected ?? 0;
  failed += (s.unexpected ?? 0) + (s.flaky ?? 0);
  skipped += s.skipped ?? 0;
  console.log(`playwright: ${s.expected ?? 0} passed, ${(s.unexpected ?? 0) + (s.flaky ?? 0)} failed`);
} else {
  failed += 1;
  console.log('playwright: no report (the run did not finish)');
}

console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
