#!/usr/bin/env bash
# All jest suites, in two runs. The Kubernetes backend (used for real in the backend
# plugin's integration tests) loads @kubernetes/client-node with a dynamic import(),
# which jest allows only with --experimental-vm-modules; under that flag jest refuses to
# require() the same ESM package where other suites import it statically.
#
# The real-cluster suites need the control plane of e2e/kube/ and are left out of the
# default runs (so they are counted once); they run on their own with --real-cluster:
#   e2e/kube/run.sh -- bash scripts/jest.sh --real-cluster
# (mesh-sandbox: the contract against kube-apiserver and sidecar injection through it;
# the backend plugin: its read path against the cluster). See docs/testing.md.
#
# JEST_REPORT_DIR=<dir> writes jest-main.json and jest-backend.json there, or with
# --real-cluster jest-real-sandbox.json and jest-real-backend.json.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
report() { [[ -n "${JEST_REPORT_DIR:-}" ]] && echo "--json" "--outputFile=$JEST_REPORT_DIR/$1"; }

# Paths of the real-cluster suites, relative to their package.
REAL_SANDBOX='src/contract/cluster\.contract\.test\.ts$|src/admission/realCluster\.test\.ts$'
REAL_BACKEND='src/realCluster\.test\.ts$'

status=0
if [[ "${1:-}" == "--real-cluster" ]]; then
  shift
  if [[ -z "${KUBE_URL:-}" || -z "${KUBE_ADMIN_KUBECONFIG:-}" || -z "${KUBE_LIMITED_TOKEN:-}" ]]; then
    echo "scripts/jest.sh --real-cluster needs the KUBE_* variables of a running control plane:" >&2
    echo "  e2e/kube/run.sh -- bash scripts/jest.sh --real-cluster" >&2
    exit 2
  fi
  # Never watch (the control plane lives only as long as this run). kube-apiserver runs
  # with anonymous auth on: a request without a token is 403, not 401.
  (cd packages/mesh-sandbox &&
    KUBE_CONTRACT_KUBECONFIG="$KUBE_ADMIN_KUBECONFIG" KUBE_CONTRACT_ANONYMOUS_STATUS=403 \
      yarn backstage-cli package test --watchAll=false $(report jest-real-sandbox.json) "$@" "$REAL_SANDBOX") || status=$?
  (cd plugins/istio-mesh-backend &&
    NODE_OPTIONS=--experimental-vm-modules \
      yarn backstage-cli package test --watchAll=false $(report jest-real-backend.json) "$@" "$REAL_BACKEND") || status=$?
  exit $status
fi

yarn backstage-cli repo test \
  "--testPathIgnorePatterns=/node_modules/|/plugins/istio-mesh-backend/|/packages/mesh-sandbox/($REAL_SANDBOX)" \
  $(report jest-main.json) "$@" || status=$?
(cd plugins/istio-mesh-backend &&
  NODE_OPTIONS=--experimental-vm-modules yarn backstage-cli package test \
    "--testPathIgnorePatterns=/node_modules/|/plugins/istio-mesh-backend/$REAL_BACKEND" \
    $(report jest-backend.json) "$@") || status=$?
exit $status
