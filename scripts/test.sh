#!/usr/bin/env bash
# Lifeboat's whole test suite from a clean clone: installs what is missing (Chromium and PostgreSQL 15 from Debian
# when root, npm packages), generates the Prisma client, builds the console once, then runs vitest (unit,
# integration against real clusters, e2e in Chromium). Extra arguments go to vitest.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
[ -x /usr/lib/postgresql/15/bin/pg_dump ] || need+=(postgresql-client-15)
command -v zstd >/dev/null || need+=(zstd)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "[setup] installing from Debian: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "Missing Debian packages: ${need[*]}. Install them, then run the tests again:" >&2
    echo "  sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
fi

bash scripts/ensure-deps.sh
echo "[setup] generating the Prisma client and building the console (skipped when up to date)"
node --import tsx -e "await (await import('./scripts/lib/stack.ts')).ensureBuild(() => {})"
exec node node_modules/vitest/vitest.mjs run "$@"
