"""Try the web inbox on this machine: ``.venv/bin/python -m web``.

Sets up the database named by ``ALUR_DATABASE_URL`` (default ``./alur.sqlite3``)
as ``alur init`` does — migrate, deploy ``bpmn/``, load the demo offices — gives
demo users without a password the demo password, prints the address and the
demo logins, and serves the app with Flask's development server. Over plain
HTTP on this machine the session cookie cannot be Secure, so this command
defaults ``ALUR_SESSION_COOKIE_SECURE`` to 0; production runs the app under a
WSGI server behind HTTPS instead.
"""

from __future__ import annotations

import os

import click

from engine.database import open_database
from engine.settings import load_settings
from storage.demo import DEMO_INSTANSI, DEMO_PASSWORD, DEMO_UNITS


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Alamat yang didengarkan.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port.")
@click.option("--no-setup", is_flag=True, help="Jangan migrasi/deploy/muat data demo lebih dulu.")
def main(host: str, port: int, no_setup: bool) -> None:
    """Jalankan kotak masuk web Alur (server pengembangan)."""
    from web import create_app
    from web.accounts import initialize

    settings = load_settings()
    if not no_setup:
        database = open_database(settings)
        try:
            initialize(database, settings.bpmn_dir)
        finally:
            database.dispose()
    os.environ.setdefault("ALUR_SESSION_COOKIE_SECURE", "0")
    os.environ.setdefault("ALUR_INSTANSI", DEMO_INSTANSI)  # shown on the demo units' SOP-AP documents
    app = create_app()
    click.echo(f"Basis data: {settings.database_url}")
    click.echo(f"Alur berjalan di http://{host}:{port}/  (Ctrl+C untuk berhenti)")
    click.echo(f"Pengguna demo (kata sandi: {DEMO_PASSWORD}):")
    for unit in DEMO_UNITS:
        click.echo(f"  {unit.code}")
        for role in unit.roles:
            click.echo(f"    {role.name:<32} {', '.join(u.username for u in role.users)}")
    app.run(host=host, port=port)


if __name__ == "__main__":
    main()
