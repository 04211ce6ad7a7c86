#!/usr/bin/env bash
# Proof that the control plane is real: through plain HTTPS (curl, no kubectl)
#  1. the admin token creates a Namespace and a 2-replica Deployment;
#  2. kube-controller-manager creates the ReplicaSet and 2 Pods;
#  3. kube-scheduler binds them to the kwok nodes and kwok marks them Running;
#  4. the Deployment reports 2 available replicas;
#  5. the limited token gets 403 Forbidden (RBAC), a bogus token 401;
#  6. deleting the Namespace removes everything (namespace controller + GC).
# Usage: e2e/kube/smoke.sh               (starts and stops its own control plane)
#        e2e/kube/run.sh e2e/kube/smoke.sh --in-cluster   (reuse a started one)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ "${1:-}" != "--in-cluster" ]]; then
  exec "$HERE/run.sh" "$HERE/smoke.sh" --in-cluster
fi
: "${KUBE_URL:?}" "${KUBE_ADMIN_TOKEN:?}" "${KUBE_LIMITED_TOKEN:?}" "${KUBE_CA_FILE:?}"

NS="mesh-smoke"
T0="$(date +%s%N)"
say() { printf '[smoke %6sms] %s\n' "$(( ($(date +%s%N) - T0) / 1000000 ))" "$*"; }
fail() { say "FAIL: $*"; exit 1; }

req() { # TOKEN METHOD PATH [JSON] -> body on stdout, HTTP status in $STATUS_FILE
  curl -s --cacert "$KUBE_CA_FILE" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
    -X "$2" "$KUBE_URL$3" ${4:+--data "$4"} -w '\n%{http_code}'
}
admin() { # METHOD PATH [JSON] -> body; fails unless 2xx
  local out code
  out="$(req "$KUBE_ADMIN_TOKEN" "$@")"
  code="${out##*$'\n'}"
  [[ "$code" == 2* ]] || fail "$1 $2 -> HTTP $code: ${out%$'\n'*}"
  printf '%s' "${out%$'\n'*}"
}
js() { # JS-EXPR: evaluate with `o` = parsed JSON from stdin, print result
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const o=JSON.parse(s);const r=eval(process.argv[1]);console.log(typeof r==="string"?r:JSON.stringify(r))})' "$1"
}
poll() { # DESCRIPTION SECONDS COMMAND... : until COMMAND succeeds
  local what="$1" deadline=$(($(date +%s) + $2))
  shift 2
  until "$@"; do
    (($(date +%s) <= deadline)) || fail "timed out waiting for $what"
    sleep 0.5
  done
}

say "apiserver $KUBE_URL reports $(admin GET /version | js 'o.gitVersion')"

admin POST /api/v1/namespaces "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$NS\"}}" >/dev/null
say "created namespace $NS"

admin POST "/apis/apps/v1/namespaces/$NS/deployments" "$(
  cat <<'EOF'
{"apiVersion":"apps/v1","kind":"Deployment",
 "metadata":{"name":"echo","labels":{"app":"echo"}},
 "spec":{"replicas":2,
   "selector":{"matchLabels":{"app":"echo"}},
   "template":{"metadata":{"labels":{"app":"echo"}},
     "spec":{"containers":[{"name":"echo","image":"registry.invalid/mesh-portal/echo:1.0",
       "ports":[{"containerPort":8080}]}]}}}}
EOF
)" >/dev/null
say "created deployment $NS/echo (2 replicas, image registry.invalid/mesh-portal/echo:1.0)"

rs_exists() {
  [[ "$(admin GET "/apis/apps/v1/namespaces/$NS/replicasets" |
    js 'o.items.filter(r=>(r.metadata.ownerReferences||[]).some(x=>x.kind==="Deployment"&&x.name==="echo")).length')" -ge 1 ]]
}
poll "ReplicaSet owned by the Deployment" 60 rs_exists
say "kube-controller-manager created ReplicaSet: $(admin GET "/apis/apps/v1/namespaces/$NS/replicasets" |
  js 'o.items.map(r=>r.metadata.name+" (owner "+r.metadata.ownerReferences[0].kind+"/"+r.metadata.ownerReferences[0].name+", replicas "+r.spec.replicas+")").join(", ")')"

pods_running() {
  [[ "$(admin GET "/api/v1/namespaces/$NS/pods" |
    js 'o.items.filter(p=>p.status.phase==="Running"&&p.spec.nodeName&&(p.status.conditions||[]).some(c=>c.type==="Ready"&&c.status==="True")).length')" -eq 2 ]]
}
poll "2 Running+Ready pods" 90 pods_running
admin GET "/api/v1/namespaces/$NS/pods" |
  js 'o.items.map(p=>`pod ${p.metadata.name}: owner ${p.metadata.ownerReferences[0].kind}/${p.metadata.ownerReferences[0].name}, node ${p.spec.nodeName}, phase ${p.status.phase}, podIP ${p.status.podIP}, ready ${(p.status.conditions||[]).find(c=>c.type==="Ready").status}`).join("\n")' |
  while read -r line; do say "$line"; done

deploy_available() {
  [[ "$(admin GET "/apis/apps/v1/namespaces/$NS/deployments/echo" | js 'o.status.availableReplicas||0')" -eq 2 ]]
}
poll "Deployment availableReplicas=2" 60 deploy_available
say "deployment status: $(admin GET "/apis/apps/v1/namespaces/$NS/deployments/echo" |
  js '`replicas=${o.status.replicas} ready=${o.status.readyReplicas} available=${o.status.availableReplicas}`')"

# RBAC: the limited user is authenticated but bound to nothing.
out="$(req "$KUBE_LIMITED_TOKEN" GET "/api/v1/namespaces/$NS/pods")"
code="${out##*$'\n'}"
[[ "$code" == 403 ]] || fail "limited token: expected 403, got $code"
say "limited token GET pods -> HTTP $code: $(printf '%s' "${out%$'\n'*}" | js 'o.message')"
out="$(req "$KUBE_LIMITED_TOKEN" POST "/api/v1/namespaces/$NS/configmaps" '{"metadata":{"name":"x"}}')"
code="${out##*$'\n'}"
[[ "$code" == 403 ]] || fail "limited token create: expected 403, got $code"
say "limited token POST configmap -> HTTP $code"
out="$(req "not-a-valid-token" GET "/api/v1/namespaces/$NS/pods")"
code="${out##*$'\n'}"
[[ "$code" == 401 ]] || fail "bogus token: expected 401, got $code"
say "bogus token GET pods -> HTTP $code"

# Namespace deletion: namespace controller + garbage collector clean up.
admin DELETE "/api/v1/namespaces/$NS" >/dev/null
ns_gone() {
  local code
  code="$(req "$KUBE_ADMIN_TOKEN" GET "/api/v1/namespaces/$NS")"
  [[ "${code##*$'\n'}" == 404 ]]
}
poll "namespace $NS deleted" 90 ns_gone
say "namespace $NS deleted (pods, replicaset, deployment finalized)"
say "PASS"
