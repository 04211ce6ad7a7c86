#!/usr/bin/env bash
# Sourced by ./run: makes Node >= 22 and the committed Yarn available, then installs
# dependencies when the lockfile or a manifest changed. Idempotent; ~1 s when warm.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLCHAIN_DIR="$REPO_ROOT/.toolchain"
NODE_MAJOR_WANTED=22

log() { printf '\033[1;34m[mesh-portal]\033[0m %s\n' "$*" >&2; }

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  local system_node
  system_node="$(command -v node || true)"
  if [[ -n "$system_node" && "$(node_major "$system_node")" -ge "$NODE_MAJOR_WANTED" ]]; then
    return
  fi
  local local_node="$TOOLCHAIN_DIR/node_modules/node/bin/node"
  if [[ ! -x "$local_node" || "$(node_major "$local_node")" -lt "$NODE_MAJOR_WANTED" ]]; then
    command -v npm >/dev/null || { log "npm is required to fetch Node $NODE_MAJOR_WANTED"; exit 1; }
    log "Node $(node -v 2>/dev/null || echo missing) is too old for Backstage; fetching Node $NODE_MAJOR_WANTED into .toolchain/"
    mkdir -p "$TOOLCHAIN_DIR"
    (cd "$TOOLCHAIN_DIR" && echo '{"private":true}' > package.json &&
      npm install --no-audit --no-fund --loglevel=error "node@$NODE_MAJOR_WANTED" >/dev/null)
  fi
  export PATH="$TOOLCHAIN_DIR/node_modules/node/bin:$PATH"
  # node-gyp must build native addons (better-sqlite3) against the headers of the Node
  # that will load them, not the system Node's.
  local headers
  headers="$(ls -d "$TOOLCHAIN_DIR"/node_modules/node/node_modules/node-linux-* 2>/dev/null | head -1 || true)"
  [[ -n "$headers" ]] && export npm_config_nodedir="$headers"
}

ensure_yarn() {
  local release
  release="$(ls "$REPO_ROOT"/.yarn/releases/yarn-*.cjs | head -1)"
  mkdir -p "$TOOLCHAIN_DIR/bin"
  printf '#!/bin/sh\nexec node "%s" "$@"\n' "$release" > "$TOOLCHAIN_DIR/bin/yarn"
  chmod +x "$TOOLCHAIN_DIR/bin/yarn"
  export PATH="$TOOLCHAIN_DIR/bin:$PATH"
  export COREPACK_ENABLE_STRICT=0
}

install_dependencies() {
  local stamp="$REPO_ROOT/node_modules/.mesh-portal-install-stamp"
  local digest
  digest="$(cd "$REPO_ROOT" && cat yarn.lock package.json packages/*/package.json plugins/*/package.json | sha256sum | cut -d' ' -f1)-$(node -v)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$digest" ]]; then
    return
  fi
  log "Installing dependencies (first run takes a few minutes)"
  (cd "$REPO_ROOT" && if [[ "${CI:-}" == "true" ]]; then yarn install --immutable; else yarn install; fi)
  digest="$(cd "$REPO_ROOT" && cat yarn.lock package.json packages/*/package.json plugins/*/package.json | sha256sum | cut -d' ' -f1)-$(node -v)"
  echo "$digest" > "$stamp"
}

ensure_node
ensure_yarn
install_dependencies
