#!/usr/bin/env bash
# The whole test suite, in order of cost: static checks, build, unit, simulation,
# real processes over ZeroMQ, then a real Chromium against `ivy-cluster serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
export ELECTRON_SKIP_BINARY_DOWNLOAD=1

# The end-to-end tests drive Debian's Chromium; install it on a fresh machine.
if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM_PATH:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Chromium for the end-to-end tests (apt-get)…"
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium is missing: install it (apt-get install chromium) or set CHROMIUM_PATH" >&2
    exit 1
  fi
fi

[ -d node_modules ] || npm ci --no-audit --no-fund
npx tsc -p tsconfig.json --noEmit
npx eslint .
npm run build --silent
npx vitest run --project unit --project sim --project integration --project e2e
