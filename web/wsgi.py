"""The production entry point: ``gunicorn --config web/gunicorn_conf.py web.wsgi:app``.

Production runs several worker processes, usually on PostgreSQL
(``ALUR_DATABASE_URL=postgresql+psycopg://…``). Every worker must sign
sessions and CSRF tokens with the same key, so ``ALUR_SECRET_KEY`` is required
here; the database must already be migrated with the diagrams deployed
(``alur init --no-demo`` before the first start, ``alur deploy`` for new
versions).
"""

from __future__ import annotations

import os

from web import create_app

if not os.environ.get("ALUR_SECRET_KEY"):
    raise RuntimeError(
        "ALUR_SECRET_KEY wajib diisi di produksi (set ALUR_SECRET_KEY: every worker must share it)")

app = create_app()
