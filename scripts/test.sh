#!/usr/bin/env bash
# The README's test command: set up, then run every test. Fails on any failing test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec npx vitest run "$@"
