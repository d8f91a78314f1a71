#!/usr/bin/env bash
# Newcomer's first command: set up, create the embedded SQLite database
# (./alur.sqlite3), deploy bpmn/, load the demo units and run every SOP to its end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/alur init
.venv/bin/alur demo "$@"
