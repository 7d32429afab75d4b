#!/usr/bin/env bash
# Sets up what is missing, lints, type-checks, and runs every test (unit and real end-to-end).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
# Lint first (ESLint's type-aware rules, then Prettier's check of the formatting): a problem fails
# the run. The full run does it; --quick (the fast tier, for the edit-test loop) and a run of chosen
# files (./test.sh FILE...) leave it out: `npm run lint` alone does it then.
if [ "$#" -eq 0 ]; then
  t0=$SECONDS
  npm run --silent lint
  echo "# lint: clean in $((SECONDS - t0)) s"
fi
npx --no-install tsc --noEmit -p .
# The GUI (web/) has its own tsconfig (DOM, bundler resolution); Vite builds it without checking types.
npx --no-install tsc --noEmit -p web
exec node scripts/run-tests.mjs "$@"
