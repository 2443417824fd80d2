#!/usr/bin/env bash
# The whole test suite, in order of cost: static checks, build, unit tests and the
# seeded simulator, real processes over ZeroMQ, then a real Chromium against
# `ivy-cluster serve`. The suites that start processes run one after another so
# they never compete for the CPU (timing-sensitive failover on 2 cores).
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
node scripts/lint-workflows.mjs
npm run build --silent

mkdir -p test-results && rm -f test-results/vitest-*.json
status=0
for suite in "unit sim" "integration" "e2e"; do
  projects=$(printf -- '--project %s ' $suite)
  # shellcheck disable=SC2086
  npx vitest run $projects --reporter=default --reporter=json --outputFile="test-results/vitest-${suite// /-}.json" || status=1
done
# One closing line over all suites, in the plain form CI reads.
node -e '
const fs = require("fs");
let passed = 0, failed = 0, skipped = 0;
for (const f of fs.readdirSync("test-results").filter((f) => /^vitest-.*\.json$/.test(f))) {
  const r = JSON.parse(fs.readFileSync("test-results/" + f, "utf8"));
  passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
}
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
'
exit $status
