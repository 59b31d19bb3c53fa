#!/usr/bin/env bash
# `make run`: set up (idempotent), then start the five services and the gateway
# together under honcho. Ctrl-C stops them all.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
bash deploy/local/setup.sh
# The eventlet deprecation notice nameko's CLI triggers is not ours to act on.
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::Warning:nameko.cli.commands}"
echo
echo "Bridgework: http://${GATEWAY_HOST:-127.0.0.1}:${GATEWAY_PORT:-8000}  (Ctrl-C stops everything)"
echo
exec .venv/bin/honcho -f deploy/local/Procfile -d "$ROOT" start
