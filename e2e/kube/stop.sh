#!/usr/bin/env bash
# Stop a control plane started by start.sh and remove its state dir.
# Usage: e2e/kube/stop.sh STATE_DIR     (or MESH_KUBE_STATE=STATE_DIR e2e/kube/stop.sh)
# Only the PIDs recorded in STATE_DIR/pids are signalled, and only while their
# command line still mentions STATE_DIR (guards against PID reuse).
set -uo pipefail

S="${1:-${MESH_KUBE_STATE:-}}"
log() { printf '[kube-stop] %s\n' "$*" >&2; }
if [[ -z "$S" ]]; then
  log "usage: stop.sh STATE_DIR"
  exit 2
fi
if [[ ! -d "$S" ]]; then
  log "$S does not exist; nothing to stop"
  exit 0
fi
S="$(cd "$S" && pwd)"

ours() { # pid -> true while it is still one of our processes
  [[ -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF -- "$S"
}

if [[ -f "$S/pids" ]]; then
  # stop in reverse start order: kwok, scheduler, controller-manager, apiserver, etcd
  mapfile -t entries < <(tac "$S/pids")
  for e in "${entries[@]}"; do
    read -r pid name <<<"$e"
    [[ "$pid" == "$$" ]] && continue # the watchdog exec()s this script
    if ours "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do ours "$pid" || break; sleep 0.1; done
      if ours "$pid"; then
        log "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
  done
  # reap zombies is the parent's job; just make sure none of ours is left
  for e in "${entries[@]}"; do
    read -r pid name <<<"$e"
    [[ "$pid" == "$$" ]] && continue
    for _ in $(seq 1 20); do ours "$pid" || break; sleep 0.1; done
    if ours "$pid"; then log "WARNING: $name (pid $pid) still running"; fi
  done
fi

case "$S" in
  /dev/shm/mesh-kube.* | /tmp/mesh-kube.* | "${TMPDIR:-/tmp}"/mesh-kube.*)
    # a dir start.sh/run.sh made with mktemp: remove it whole
    rm -rf "$S"
    log "stopped; removed $S"
    ;;
  *)
    # a caller-chosen dir: only remove what start.sh created in it
    rm -rf "$S/pki" "$S/logs" "$S/etcd" "$S/kcm" "$S/scheduler" "$S"/*.kubeconfig "$S/kubeconfig" "$S/env" "$S/pids"
    rmdir "$S" 2>/dev/null || true
    log "stopped; cleaned $S"
    ;;
esac
