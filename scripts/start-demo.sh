#!/usr/bin/env bash
# The demo portal: the mesh sandbox on :7080, the backend on :7007, the app on :3000,
# and, when /usr/bin/prometheus exists, Prometheus on :9090 scraping the sandbox's
# simulated Istio proxies (docs/metrics.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/processes.sh
source scripts/prometheus.sh
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

# Prometheus (optional). Unlike the browser tests' (scripts/prometheus.sh), its TSDB under
# .cache/ is kept across demo runs.
PROMETHEUS_BIN="${PROMETHEUS_BIN:-/usr/bin/prometheus}"
PROMETHEUS_PORT="${PROMETHEUS_PORT:-9090}"
if [[ ! -x "$PROMETHEUS_BIN" ]]; then
  echo "No $PROMETHEUS_BIN: the demo runs without Prometheus (apt-get install prometheus, see docs/metrics.md)." >&2
elif port_in_use "$PROMETHEUS_PORT"; then
  echo "Port $PROMETHEUS_PORT is in use (another Prometheus?): not starting the demo's Prometheus." >&2
else
  mkdir -p .cache/prometheus
  write_sandbox_scrape_config .cache/prometheus/prometheus.yml "$MESH_SANDBOX_PORT"
  start_background prometheus .cache/prometheus.log "$PROMETHEUS_BIN" \
    --config.file=.cache/prometheus/prometheus.yml \
    --storage.tsdb.path=.cache/prometheus/data \
    --storage.tsdb.retention.time=2d \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT"
  wait_for_url "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" 30 prometheus
  echo "Prometheus: http://127.0.0.1:$PROMETHEUS_PORT (Istio metrics of the demo clusters; docs/metrics.md)" >&2
fi

echo "Starting Backstage: the portal will be on http://localhost:3000 (backend :7007)" >&2
yarn start
