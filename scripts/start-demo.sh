#!/usr/bin/env bash
# The demo portal: the mesh sandbox on :7080, the backend on :7007, the app on :3000.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/processes.sh
trap stop_background EXIT INT TERM

export MESH_SANDBOX_PORT="${MESH_SANDBOX_PORT:-7080}"
export MESH_SANDBOX_HTTPS_PORT="${MESH_SANDBOX_HTTPS_PORT:-7443}"
export MESH_SANDBOX_CA_FILE="$PWD/.cache/mesh-sandbox-ca.pem"
for port in "$MESH_SANDBOX_PORT" "$MESH_SANDBOX_HTTPS_PORT" 7007 3000; do
  if port_in_use "$port"; then
    echo "Port $port is already in use (an earlier ./run start?). Stop that process first." >&2
    exit 1
  fi
done

mkdir -p .cache
start_background mesh-sandbox .cache/mesh-sandbox.log yarn workspace @mesh-portal/mesh-sandbox start
wait_for_url "http://127.0.0.1:$MESH_SANDBOX_PORT/healthz" 60 mesh-sandbox

echo "Starting Backstage: the portal will be on http://localhost:3000 (backend :7007)" >&2
yarn start
