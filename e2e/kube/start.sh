#!/usr/bin/env bash
# Start a real, throw-away Kubernetes control plane on loopback:
#   etcd -> kube-apiserver -> kube-controller-manager + kube-scheduler -> kwok
# plus two fake kwok Nodes, so Deployments get ReplicaSets, Pods get scheduled
# and kwok reports them Running. Binaries come from build.sh (run first; it is
# a no-op when the pinned binaries are cached).
#
# Usage:  STATE_DIR="$(e2e/kube/start.sh)"      # prints the state dir on stdout
#         . "$STATE_DIR/env"                     # KUBE_URL, KUBE_ADMIN_TOKEN, ...
#         e2e/kube/stop.sh "$STATE_DIR"
# or:     e2e/kube/run.sh -- <command>           # start, run, always stop
#
# Env: MESH_KUBE_STATE   state dir to create (default: mktemp under /dev/shm or $TMPDIR)
#      MESH_KUBE_BIN     binary dir (default: `build.sh --print-bin-dir`)
#      MESH_KUBE_NODES   number of fake nodes (default 2)
#      MESH_KUBE_TIMEOUT seconds to wait for each component (default 120)
#      MESH_KUBE_WATCH_PID  stop the control plane by itself once this PID exits
# Everything started is recorded in $STATE_DIR/pids; on any start-up failure
# it is all stopped again and the state dir removed (the logs are printed first).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
. "$HERE/versions.env"
BIN="${MESH_KUBE_BIN:-$("$HERE/build.sh" --print-bin-dir)}"
NODES="${MESH_KUBE_NODES:-2}"
TIMEOUT="${MESH_KUBE_TIMEOUT:-120}"
T0="$(date +%s%N)"

log() { printf '[kube-start] %s\n' "$*" >&2; }
elapsed() { echo "$(( ($(date +%s%N) - T0) / 1000000 ))ms"; }

for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok kwok-stages.yaml; do
  if [[ ! -e "$BIN/$b" ]]; then
    log "missing $BIN/$b - run e2e/kube/build.sh first"
    exit 1
  fi
done
for t in openssl curl node; do
  command -v "$t" >/dev/null 2>&1 || { log "missing required tool: $t"; exit 1; }
done

if [[ -n "${MESH_KUBE_STATE:-}" ]]; then
  S="$MESH_KUBE_STATE"
  mkdir -p "$S"
else
  base=/dev/shm
  [[ -d "$base" && -w "$base" ]] || base="${TMPDIR:-/tmp}"
  S="$(mktemp -d "$base/mesh-kube.XXXXXX")"
fi
S="$(cd "$S" && pwd)"
mkdir -p "$S/pki" "$S/logs" "$S/etcd" "$S/kcm" "$S/scheduler"
: >"$S/pids"

STARTED_OK=0
on_exit() {
  if [[ $STARTED_OK != 1 ]]; then
    log "start-up failed after $(elapsed); last log lines:"
    for f in "$S"/logs/*.log; do
      [[ -f "$f" ]] || continue
      echo "----- $(basename "$f")" >&2
      tail -n 25 "$f" >&2
    done
    "$HERE/stop.sh" "$S" >&2 || true
  fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

free_ports() { # N -> N distinct free loopback ports, one per line (one node start-up, not N)
  node -e '
    const net = require("net");
    const n = Number(process.argv[1]), servers = [];
    const next = () => {
      if (servers.length === n) {
        servers.forEach(s => { console.log(s.address().port); s.close(); });
        return;
      }
      const s = net.createServer();
      s.listen(0, "127.0.0.1", () => { servers.push(s); next(); });
    };
    next();' "$1"
}

# start NAME BINARY ARGS...: run detached (own session, survives this shell),
# log to $S/logs/NAME.log, record "pid name" in $S/pids.
start() {
  local name="$1"
  shift
  setsid "$@" </dev/null >"$S/logs/$name.log" 2>&1 &
  echo "$! $name" >>"$S/pids"
}

# wait_for DESCRIPTION COMMAND...: poll until COMMAND succeeds, fail on timeout
# or when a recorded process has died.
wait_for() {
  local what="$1" deadline=$(($(date +%s) + TIMEOUT))
  shift
  until "$@" >/dev/null 2>&1; do
    while read -r pid name; do
      kill -0 "$pid" 2>/dev/null || { log "$name (pid $pid) exited while waiting for $what"; return 1; }
    done <"$S/pids"
    if (($(date +%s) > deadline)); then
      log "timed out after ${TIMEOUT}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
  log "$what ($(elapsed))"
}

# --------------------------------------------------------------------- PKI --
P="$S/pki"
# ECDSA P-256 throughout: generating RSA keys cost ~1 s of start-up here.
EC=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1)
openssl req -x509 "${EC[@]}" -nodes -days 2 -subj "/CN=mesh-portal-test-ca" \
  -keyout "$P/ca.key" -out "$P/ca.crt" 2>/dev/null
openssl req "${EC[@]}" -nodes -subj "/CN=kube-apiserver" \
  -keyout "$P/apiserver.key" -out "$P/apiserver.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.0.0.1\nextendedKeyUsage=serverAuth\n' >"$P/apiserver.ext"
openssl x509 -req -in "$P/apiserver.csr" -CA "$P/ca.crt" -CAkey "$P/ca.key" -CAcreateserial \
  -days 2 -extfile "$P/apiserver.ext" -out "$P/apiserver.crt" 2>/dev/null
# service-account token signing key pair (ES256)
openssl ecparam -name prime256v1 -genkey -noout -out "$P/sa.key" 2>/dev/null
openssl ec -in "$P/sa.key" -pubout -out "$P/sa.pub" 2>/dev/null
chmod 600 "$P"/*.key

tok() { openssl rand -hex 24; }
ADMIN_TOKEN="$(tok)"
LIMITED_TOKEN="$(tok)"
KCM_TOKEN="$(tok)"
SCHED_TOKEN="$(tok)"
KWOK_TOKEN="$(tok)"
# token,user,uid,"groups" - the limited user has no RBAC bindings at all
cat >"$P/tokens.csv" <<EOF
$ADMIN_TOKEN,mesh-admin,uid-mesh-admin,"system:masters"
$LIMITED_TOKEN,mesh-limited,uid-mesh-limited
$KCM_TOKEN,system:kube-controller-manager,uid-kcm
$SCHED_TOKEN,system:kube-scheduler,uid-kube-scheduler
$KWOK_TOKEN,kwok-controller,uid-kwok,"system:masters"
EOF
chmod 600 "$P/tokens.csv"
log "pki + tokens ($(elapsed))"

{ read -r ETCD_PORT; read -r ETCD_PEER_PORT; read -r API_PORT; read -r KCM_PORT; read -r SCHED_PORT; read -r KWOK_PORT; } < <(free_ports 6)
URL="https://127.0.0.1:$API_PORT"

kubeconfig() { # file user token
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: mesh-test
  cluster:
    server: $URL
    certificate-authority: $P/ca.crt
users:
- name: $2
  user:
    token: $3
contexts:
- name: $2@mesh-test
  context:
    cluster: mesh-test
    user: $2
current-context: $2@mesh-test
EOF
  chmod 600 "$1"
}
kubeconfig "$S/admin.kubeconfig" mesh-admin "$ADMIN_TOKEN"
kubeconfig "$S/limited.kubeconfig" mesh-limited "$LIMITED_TOKEN"
kubeconfig "$S/kcm.kubeconfig" kube-controller-manager "$KCM_TOKEN"
kubeconfig "$S/scheduler.kubeconfig" kube-scheduler "$SCHED_TOKEN"
kubeconfig "$S/kwok.kubeconfig" kwok "$KWOK_TOKEN"

# -------------------------------------------------------------------- etcd --
start etcd "$BIN/etcd" \
  --name=mesh-test \
  --data-dir="$S/etcd" \
  --unsafe-no-fsync \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="mesh-test=http://127.0.0.1:$ETCD_PEER_PORT" \
  --log-level=warn
wait_for "etcd healthy" curl -sf "http://127.0.0.1:$ETCD_PORT/health"

# ---------------------------------------------------------- kube-apiserver --
# --endpoint-reconciler-type=none: the "kubernetes" Service cannot get a
# loopback endpoint (Endpoints validation rejects 127.0.0.0/8) and nothing
# here runs in-cluster, so do not reconcile it (the Service itself exists).
start kube-apiserver "$BIN/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address=127.0.0.1 \
  --advertise-address=127.0.0.1 \
  --endpoint-reconciler-type=none \
  --secure-port="$API_PORT" \
  --cert-dir="$S/pki/apiserver-generated" \
  --tls-cert-file="$P/apiserver.crt" \
  --tls-private-key-file="$P/apiserver.key" \
  --client-ca-file="$P/ca.crt" \
  --token-auth-file="$P/tokens.csv" \
  --authorization-mode=RBAC \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.pub" \
  --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range=10.0.0.0/24 \
  --allow-privileged=true \
  --profiling=false \
  --v=1
wait_for "kube-apiserver ready" curl -sf --cacert "$P/ca.crt" "$URL/readyz"

# ------------------------------------------------- kube-controller-manager --
# Every default controller except the ones that need a cloud provider.
# --kube-api-qps/burst (default 20/30): with --use-service-account-credentials
# every controller first fetches its own token; the default client rate limit
# made that take ~4-5 s of start-up.
start kube-controller-manager "$BIN/kube-controller-manager" \
  --kubeconfig="$S/kcm.kubeconfig" \
  --authentication-kubeconfig="$S/kcm.kubeconfig" \
  --authorization-kubeconfig="$S/kcm.kubeconfig" \
  --authentication-skip-lookup=true \
  --bind-address=127.0.0.1 \
  --secure-port="$KCM_PORT" \
  --cert-dir="$S/kcm" \
  --leader-elect=false \
  --use-service-account-credentials=true \
  --kube-api-qps=200 \
  --kube-api-burst=400 \
  --service-account-private-key-file="$P/sa.key" \
  --root-ca-file="$P/ca.crt" \
  --cluster-signing-cert-file="$P/ca.crt" \
  --cluster-signing-key-file="$P/ca.key" \
  --controllers='*,-service-lb-controller,-node-route-controller,-cloud-node-lifecycle-controller' \
  --profiling=false \
  --v=1

# ---------------------------------------------------------- kube-scheduler --
start kube-scheduler "$BIN/kube-scheduler" \
  --kubeconfig="$S/scheduler.kubeconfig" \
  --authentication-kubeconfig="$S/scheduler.kubeconfig" \
  --authorization-kubeconfig="$S/scheduler.kubeconfig" \
  --authentication-skip-lookup=true \
  --bind-address=127.0.0.1 \
  --secure-port="$SCHED_PORT" \
  --cert-dir="$S/scheduler" \
  --leader-elect=false \
  --profiling=false \
  --v=1

# -------------------------------------------------------------------- kwok --
# --config: the stage profile build.sh copied from the pinned kwok source
# (kwok does nothing without stages; it also keeps kwok off ~/.kwok/kwok.yaml)
start kwok "$BIN/kwok" \
  --config="$BIN/kwok-stages.yaml" \
  --kubeconfig="$S/kwok.kubeconfig" \
  --manage-all-nodes=true \
  --cidr=10.244.0.0/16 \
  --node-lease-duration-seconds=40 \
  --server-address="127.0.0.1:$KWOK_PORT" \
  --v=INFO

wait_for "kube-controller-manager healthy" curl -sfk "https://127.0.0.1:$KCM_PORT/healthz"
wait_for "kube-scheduler healthy" curl -sfk "https://127.0.0.1:$SCHED_PORT/healthz"

api() { # METHOD PATH [JSON]
  curl -sf --cacert "$P/ca.crt" -H "Authorization: Bearer $ADMIN_TOKEN" \
    -H 'Content-Type: application/json' -X "$1" "$URL$2" ${3:+--data "$3"}
}

# ------------------------------------------------------------- fake nodes --
for i in $(seq 0 $((NODES - 1))); do
  api POST /api/v1/nodes "$(
    cat <<EOF
{"apiVersion":"v1","kind":"Node",
 "metadata":{"name":"kwok-node-$i",
   "labels":{"type":"kwok","kubernetes.io/hostname":"kwok-node-$i","kubernetes.io/os":"linux","kubernetes.io/arch":"amd64"},
   "annotations":{"kwok.x-k8s.io/node":"fake","node.alpha.kubernetes.io/ttl":"0"}},
 "status":{
   "capacity":{"cpu":"32","memory":"256Gi","pods":"110"},
   "allocatable":{"cpu":"32","memory":"256Gi","pods":"110"},
   "nodeInfo":{"architecture":"amd64","operatingSystem":"linux","kubeletVersion":"fake","kubeProxyVersion":"fake"}}}
EOF
  )" >/dev/null
done

nodes_ready() {
  api GET /api/v1/nodes | node -e '
    let s = "";
    process.stdin.on("data", d => (s += d)).on("end", () => {
      const items = JSON.parse(s).items;
      const ready = items.filter(n =>
        (n.status.conditions || []).some(c => c.type === "Ready" && c.status === "True") &&
        !(n.spec.taints || []).some(t => t.effect === "NoSchedule" || t.effect === "NoExecute"));
      process.exit(ready.length >= Number(process.argv[1]) ? 0 : 1);
    });' "$NODES"
}
wait_for "$NODES kwok nodes Ready and untainted" nodes_ready
# the service-account controller has made the default ServiceAccount (pods need it)
wait_for "default ServiceAccount present" api GET /api/v1/namespaces/default/serviceaccounts/default

# -------------------------------------------------------------- env file --
cat >"$S/env" <<EOF
# Written by e2e/kube/start.sh - source it.
export KUBE_URL='$URL'
export KUBE_ADMIN_TOKEN='$ADMIN_TOKEN'
export KUBE_LIMITED_TOKEN='$LIMITED_TOKEN'
export KUBE_CA_FILE='$P/ca.crt'
export KUBE_CA_DATA='$(base64 -w0 "$P/ca.crt")'
export KUBE_ADMIN_KUBECONFIG='$S/admin.kubeconfig'
export KUBE_LIMITED_KUBECONFIG='$S/limited.kubeconfig'
export KUBE_STATE_DIR='$S'
export KUBE_VERSION='$KUBE_VERSION'
export KUBE_NODES='$(seq -s, -f 'kwok-node-%g' 0 $((NODES - 1)))'
EOF
chmod 600 "$S/env"
# the admin kubeconfig doubles as $STATE_DIR/kubeconfig
cp "$S/admin.kubeconfig" "$S/kubeconfig"

# Optional watchdog: stop everything when process $MESH_KUBE_WATCH_PID is gone
# (run.sh passes its own PID, so even a SIGKILLed test run leaks nothing).
if [[ -n "${MESH_KUBE_WATCH_PID:-}" ]]; then
  start watchdog bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; exec "$2" "$3"' \
    mesh-kube-watchdog "$MESH_KUBE_WATCH_PID" "$HERE/stop.sh" "$S"
fi

STARTED_OK=1
log "control plane ready in $(elapsed): $URL (state: $S)"
echo "$S"
