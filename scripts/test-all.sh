#!/usr/bin/env bash
# The whole test suite. Ends with one summary line: "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/processes.sh
trap stop_background EXIT INT TERM
export CI="${CI:-true}" # jest without watch mode, playwright without .only

step() { printf '\n\033[1;34m[mesh-portal]\033[0m == %s\n' "$*" >&2; }
REPORTS=.cache/test-reports
mkdir -p "$REPORTS" .cache
rm -f "$REPORTS"/*.json

step "System packages"
bash scripts/system-deps.sh

step "Type-check"
yarn tsc

step "Lint"
yarn lint:all

step "Unit and integration tests (jest)"
jest_status=0
JEST_REPORT_DIR="$PWD/$REPORTS" yarn test || jest_status=$?

step "Browser tests (Playwright in Debian's Chromium)"
yarn workspace app build
export MESH_SANDBOX_PORT=7081 MESH_SANDBOX_HTTPS_PORT=7444
export MESH_SANDBOX_CA_FILE="$PWD/.cache/e2e-mesh-sandbox-ca.pem"
rm -f "$MESH_SANDBOX_CA_FILE"
for port in "$MESH_SANDBOX_PORT" "$MESH_SANDBOX_HTTPS_PORT" 7017; do
  if port_in_use "$port"; then echo "Port $port is in use; the e2e run needs it." >&2; exit 1; fi
done
start_background mesh-sandbox .cache/e2e-mesh-sandbox.log yarn workspace @mesh-portal/mesh-sandbox start
start_background backend .cache/e2e-backend.log yarn workspace backend start \
  --config ../../app-config.yaml --config ../../e2e/app-config.e2e.yaml
wait_for_url "http://127.0.0.1:$MESH_SANDBOX_PORT/healthz" 60 mesh-sandbox
wait_for_url "http://127.0.0.1:7017/.backstage/health/v1/readiness" 240 backend ||
  { tail -50 .cache/e2e-backend.log >&2; exit 1; }
e2e_status=0
yarn playwright test || e2e_status=$?
stop_background

step "Summary"
node scripts/summarize-tests.mjs "$REPORTS/jest-main.json" "$REPORTS/jest-backend.json" e2e-test-report/results.json
if [[ $jest_status -ne 0 || $e2e_status -ne 0 ]]; then exit 1; fi
