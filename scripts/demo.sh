#!/usr/bin/env bash
# Lifeboat demo, from a clean clone: installs npm dependencies when needed, then runs scripts/demo.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec node --import tsx scripts/demo.ts "$@"
