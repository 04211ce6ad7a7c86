#!/usr/bin/env bash
# Run a command against a fresh real control plane, and always tear it down
# (normal exit, failure, Ctrl-C or SIGTERM).
# Usage: e2e/kube/run.sh [--] COMMAND [ARGS...]
# The command sees KUBE_URL, KUBE_ADMIN_TOKEN, KUBE_LIMITED_TOKEN, KUBE_CA_FILE,
# KUBE_ADMIN_KUBECONFIG, KUBE_LIMITED_KUBECONFIG, KUBE_STATE_DIR (see start.sh).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ "${1:-}" == "--" ]] && shift
[[ $# -gt 0 ]] || { echo "usage: $0 [--] COMMAND [ARGS...]" >&2; exit 2; }

# Choose the state dir here so cleanup knows it even if start.sh is interrupted.
base=/dev/shm
[[ -d "$base" && -w "$base" ]] || base="${TMPDIR:-/tmp}"
export MESH_KUBE_STATE
MESH_KUBE_STATE="$(mktemp -d "$base/mesh-kube.XXXXXX")"

exec 3<&0
child=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$child" ]] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  "$HERE/stop.sh" "$MESH_KUBE_STATE" || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Children run in the background and are waited for, so that a signal to this
# script is handled at once (bash defers traps while a foreground child runs).
MESH_KUBE_WATCH_PID=$$ "$HERE/start.sh" >/dev/null &
child=$!
wait "$child"
child=""
# shellcheck disable=SC1091
. "$MESH_KUBE_STATE/env"

# (explicit stdin: background jobs would otherwise read /dev/null)
"$@" <&3 &
child=$!
rc=0
wait "$child" || rc=$?
child=""
exit "$rc"
