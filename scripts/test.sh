#!/usr/bin/env bash
# Run the whole test suite. Storage tests also run on PostgreSQL when
# ALUR_TEST_POSTGRES_URL is set (CI sets it; see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --with-node
.venv/bin/python -m pytest "$@"
