#!/usr/bin/env bash
# Prometheus scraping the mesh sandbox's simulated Istio proxies (docs/metrics.md), for the
# browser tests and the demo. Source after scripts/processes.sh; stopped by stop_background (its PID).

# Every 5 s, whatever the sandbox lists through HTTP service discovery (refreshed every
# 10 s), so pods that appear later (rollouts, scaling) are scraped too.
write_sandbox_scrape_config() { # file sandbox-port
  cat >"$1" <<YAML
# Written by scripts/prometheus.sh: the mesh sandbox's simulated Istio proxies.
global:
  scrape_interval: 5s
  evaluation_interval: 5s
scrape_configs:
  - job_name: mesh-sandbox
    http_sd_configs:
      - url: http://127.0.0.1:$2/_sandbox/prometheus/targets
        refresh_interval: 10s
YAML
}

start_sandbox_prometheus() { # port data-dir sandbox-port logfile
  local port="$1" dir="$2" sandbox_port="$3" logfile="$4"
  local bin="${PROMETHEUS_BIN:-/usr/bin/prometheus}"
  if [[ ! -x "$bin" ]]; then
    echo "No $bin (scripts/system-deps.sh installs it): the metrics browser tests need it." >&2
    return 1
  fi
  # A previous run's Prometheus may still be releasing the port for a moment.
  local i
  for ((i = 0; i < 15; i++)); do port_in_use "$port" || break; sleep 1; done
  if port_in_use "$port"; then echo "Port $port is in use; Prometheus for the e2e run needs it." >&2; return 1; fi
  # A fresh TSDB every run: the charts must show this run's sandbox, not an old one's.
  rm -rf "$dir"
  mkdir -p "$dir"
  write_sandbox_scrape_config "$dir/prometheus.yml" "$sandbox_port"
  start_background prometheus "$logfile" "$bin" \
    --config.file="$dir/prometheus.yml" \
    --storage.tsdb.path="$dir/data" \
    --web.listen-address="127.0.0.1:$port"
  wait_for_url "http://127.0.0.1:$port/-/ready" 30 prometheus
}
