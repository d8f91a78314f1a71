#!/usr/bin/env bash
# Run the whole test suite: ruff and mypy (zero findings), then pytest. Storage
# tests also run on PostgreSQL when ALUR_TEST_POSTGRES_URL is set (CI sets it;
# see .ci/run). Arguments go to pytest.
# pytest runs on one worker process per core (pytest-xdist; ALUR_TEST_WORKERS=N
# sets how many, 0 runs everything in one process); --dist loadscope keeps each
# module's tests on one worker, so a module-scoped live server or CLI database is
# built once.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --with-node
.venv/bin/ruff check engine storage web scripts tests
.venv/bin/mypy
.venv/bin/python -m pytest -n "${ALUR_TEST_WORKERS:-auto}" --dist loadscope "$@"
