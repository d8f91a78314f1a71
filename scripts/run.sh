#!/usr/bin/env bash
# Newcomer's first command: set up, create the embedded SQLite database
# (./alur.sqlite3), deploy bpmn/, load the demo offices, run every SOP once to
# its end and record a year of past runs to audit (alur demo --riwayat 12, ~40 s),
# then serve the web inbox and print its address and the demo logins, with a
# worker (alur worker: reminders, escalations, timers, e-mail, webhooks) running
# beside it. Ctrl+C stops both. ALUR_PORT picks another port.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/alur init
.venv/bin/alur demo --riwayat 12
export ALUR_BASE_URL="${ALUR_BASE_URL:-http://127.0.0.1:${ALUR_PORT:-5000}}"
.venv/bin/alur worker &
worker_pid=$!
trap 'kill "$worker_pid" 2>/dev/null; wait "$worker_pid" 2>/dev/null || true' EXIT INT TERM
.venv/bin/python -m web --no-setup --port "${ALUR_PORT:-5000}"
