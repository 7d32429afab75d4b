#!/usr/bin/env bash
# The earlier name of scripts/slurm-dev.sh (the private test cluster), kept for scripts that use it.
exec "$(dirname "$0")/slurm-dev.sh" "$@"
