#!/usr/bin/env bash
# A throwaway PostgreSQL (Debian's package) for the tests, on 127.0.0.1:$MESH_PG_PORT.
#   scripts/postgres.sh start <dir>   prints the connection string
#   scripts/postgres.sh stop <dir>
# PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user.
set -euo pipefail
action="$1" dir="$2"
port="${MESH_PG_PORT:-5439}"
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[[ -n "$bin" ]] || { echo "PostgreSQL server binaries not found (apt-get install -y postgresql)" >&2; exit 1; }
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}
case "$action" in
  start)
    # Another PostgreSQL (a second checkout's test run) may hold the port: take the next free one.
    if [[ -z "${MESH_PG_PORT:-}" ]]; then
      for ((tries = 0; tries < 20; tries++)); do in_use "$port" || break; port=$((port + 1)); done
    fi
    mkdir -p "$dir"
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir"
    as_owner "'$bin/initdb' -D '$dir/data' -A trust -U postgres --no-sync >'$dir/initdb.log' 2>&1"
    as_owner "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off\" start >/dev/null"
    echo "postgresql://postgres@127.0.0.1:$port"
    ;;
  stop)
    [[ -d "$dir/data" ]] && as_owner "'$bin/pg_ctl' -D '$dir/data' -m fast -w stop >/dev/null" || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: scripts/postgres.sh start|stop <dir>" >&2
    exit 2
    ;;
esac
