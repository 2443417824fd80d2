#!/usr/bin/env bash
# The whole test suite, in order of cost: static checks, build, unit, simulation,
# real processes over ZeroMQ, then a real Chromium against `ivy-cluster serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
export ELECTRON_SKIP_BINARY_DOWNLOAD=1

npx tsc -p tsconfig.json --noEmit
npx eslint .
npm run build --silent
npx vitest run --project unit --project sim --project integration --project e2e
