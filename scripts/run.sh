#!/usr/bin/env bash
# Newcomer's first command: set up, create the embedded SQLite database
# (./alur.sqlite3), deploy bpmn/, load the demo offices, run every SOP once to
# its end and record a year of past runs to audit (alur demo --riwayat 12, ~40 s), then serve the web inbox and print its address and the
# demo logins. Ctrl+C stops the server. ALUR_PORT picks another port.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/alur init
.venv/bin/alur demo --riwayat 12
exec .venv/bin/python -m web --no-setup --port "${ALUR_PORT:-5000}"
