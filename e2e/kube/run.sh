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
group=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ -n "$child" ]] && kill -0 "$child" 2>/dev/null; then
    # The command's whole process group (yarn -> node -> jest workers), not just its first process.
    if [[ -n "$group" ]]; then
      kill -TERM -- "-$group" 2>/dev/null || kill -TERM "$child" 2>/dev/null || true
    else
      kill -TERM "$child" 2>/dev/null || true
    fi
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

# The command gets a process group of its own (setsid; -w passes its exit status on), so
# that an interrupted run stops all of it. Explicit stdin: background jobs would
# otherwise read /dev/null.
setsid -w "$@" <&3 &
child=$!
group=$child
rc=0
wait "$child" || rc=$?
child=""
# Whatever the command left running in its group goes with the control plane.
kill -TERM -- "-$group" 2>/dev/null || true
exit "$rc"
