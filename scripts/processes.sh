#!/usr/bin/env bash
# Background processes that die with the script that started them.
BACKGROUND_PIDS=()

start_background() { # name logfile command...
  local name="$1" logfile="$2"
  shift 2
  # setsid gives the process its own group, so stopping it also stops its children
  # (yarn → node → workers).
  setsid "$@" >"$logfile" 2>&1 &
  BACKGROUND_PIDS+=("$!")
  printf '\033[1;34m[mesh-portal]\033[0m started %s (pid %s, log %s)\n' "$name" "$!" "$logfile" >&2
}

stop_background() {
  local pid
  for pid in "${BACKGROUND_PIDS[@]:-}"; do
    [[ -n "$pid" ]] || continue
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  sleep 1
  for pid in "${BACKGROUND_PIDS[@]:-}"; do
    [[ -n "$pid" ]] || continue
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  BACKGROUND_PIDS=()
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_url() { # url seconds name
  local url="$1" seconds="$2" name="$3" i
  for ((i = 0; i < seconds; i++)); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    sleep 1
  done
  echo "$name did not answer at $url within ${seconds}s" >&2
  return 1
}
