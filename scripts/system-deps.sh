#!/usr/bin/env bash
# Debian packages the tests need. Installed when missing (needs root, as on CI).
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v curl >/dev/null || missing+=(curl)
# A real Prometheus (2.42 in Debian 12) for packages/mesh-sandbox/src/telemetry/prometheus.test.ts
# and the demo's metrics (docs/metrics.md). The package's service is not started here.
[[ -x /usr/bin/prometheus ]] || missing+=(prometheus)
# PostgreSQL for the upgrade store's tests (scripts/postgres.sh starts a throwaway cluster).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "system packages present" >&2
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "Missing Debian packages: ${missing[*]}. Install them (apt-get install -y ${missing[*]}) or run as root." >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
