#!/usr/bin/env bash
# All jest suites, in two runs. The Kubernetes backend (used for real in the backend
# plugin's integration tests) loads @kubernetes/client-node with a dynamic import(),
# which jest allows only with --experimental-vm-modules; under that flag jest refuses to
# require() the same ESM package where other suites import it statically.
# JEST_REPORT_DIR=<dir> writes jest-main.json and jest-backend.json there.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
report() { [[ -n "${JEST_REPORT_DIR:-}" ]] && echo "--json" "--outputFile=$JEST_REPORT_DIR/$1"; }
status=0
yarn backstage-cli repo test --testPathIgnorePatterns '/plugins/istio-mesh-backend/' $(report jest-main.json) "$@" || status=$?
(cd plugins/istio-mesh-backend &&
  NODE_OPTIONS=--experimental-vm-modules yarn backstage-cli package test $(report jest-backend.json) "$@") || status=$?
exit $status
