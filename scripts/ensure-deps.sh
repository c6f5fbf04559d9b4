#!/usr/bin/env bash
# Makes a clone runnable: installs the npm dependencies when node_modules is missing or older than package-lock.json,
# then generates the Prisma client when lib/generated is missing or older than prisma/schema.prisma (every entry
# point imports it, and a clone has none). `--generate-only` skips the install: npm's postinstall and the pre-hooks
# of `npm run worker|migrate|bench:*` use it, so `npm ci` followed by any of them works too.
set -euo pipefail
cd "$(dirname "$0")/.."
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
  echo "Lifeboat needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi
if [ "${1:-}" != "--generate-only" ]; then
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    echo "[setup] installing npm dependencies (npm ci)"
    # npm ci's postinstall generates the client (below), unless scripts are off: the check below then catches it.
    npm ci --no-audit --no-fund --loglevel=error
  fi
fi
client=lib/generated/prisma/client.ts
if [ ! -f "$client" ] || [ prisma/schema.prisma -nt "$client" ]; then
  if [ ! -f node_modules/prisma/build/index.js ]; then
    echo "[setup] the npm packages are not installed yet: run npm ci (or bash scripts/demo.sh) first." >&2
    exit 1
  fi
  echo "[setup] generating the Prisma client (lib/generated)"
  # The CLI insists on a schema engine path although generate never runs it.
  if ! out=$(PRISMA_SCHEMA_ENGINE_BINARY="$(command -v node)" PRISMA_HIDE_UPDATE_MESSAGE=1 CHECKPOINT_DISABLE=1 \
    node node_modules/prisma/build/index.js generate 2>&1); then
    echo "$out" >&2
    exit 1
  fi
fi
