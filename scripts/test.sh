#!/usr/bin/env bash
# Run the whole test suite: ruff and mypy (zero findings), then pytest. Storage
# tests also run on PostgreSQL when ALUR_TEST_POSTGRES_URL is set (CI sets it;
# see .ci/run). Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --with-node
.venv/bin/ruff check engine storage web scripts tests
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
