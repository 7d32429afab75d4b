#!/usr/bin/env bash
# Sets up what is missing, type-checks, and runs every test (unit and real end-to-end).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
npx --no-install tsc --noEmit -p .
# The GUI (web/) has its own tsconfig (DOM, bundler resolution); Vite builds it without checking types.
npx --no-install tsc --noEmit -p web
exec node scripts/run-tests.mjs "$@"
