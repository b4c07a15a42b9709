#!/usr/bin/env bash
# The README's test command: set up, then run every test. Fails on any failing test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Type-check tests, benches and fixture builders too (vitest strips types without checking).
npx tsc -p tsconfig.test.json
exec npx vitest run "$@"
