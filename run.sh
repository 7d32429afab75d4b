#!/usr/bin/env bash
# Quick start: set up what is missing, then run the default benchmark and show where results are.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
exec bin/streambench.js run examples/stream-sweep.yaml "$@"
