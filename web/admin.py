"""The administrator's pages: the record of login attempts (``/admin/masuk``).

Only users holding the ``administrator`` grant (``engine.access``) see it; for
everyone else the address answers 404, as any page they may not see does. An
administrator of some units sees the attempts naming accounts of those units;
an administrator of every unit sees every attempt, unknown names included.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from engine import logins
from engine.access import ADMINISTRATOR
from web.access import refuse
from web.db import transaction

__all__ = ["PER_PAGE", "bp", "init_app"]

bp = Blueprint("admin", __name__, url_prefix="/admin")
PER_PAGE = 50
# The outcome filter's values in the address (``?hasil=gagal``), as the page names them.
OUTCOMES = {"berhasil": "success", "gagal": "failure", "ditahan": "throttled"}


def init_app(app: Flask) -> None:
    """Register the administrator's pages on ``app``."""
    app.register_blueprint(bp)


@bp.get("/masuk")
@login_required
def login_record() -> ResponseReturnValue:
    """Login attempts, newest first; ``?pengguna=`` (exact username), ``?hasil=`` (berhasil | gagal | ditahan),
    ``?halaman=`` (page, from 1). 404 for users without the administrator grant."""
    if not current_user.grants.has(ADMINISTRATOR):
        refuse(current_user, "page", "admin/masuk")
    username = logins.clean_text((request.args.get("pengguna") or "").strip(), 64) or None  # as names are stored
    chosen = request.args.get("hasil") or None
    if chosen is not None and chosen not in OUTCOMES:
        chosen = None
    page = request.args.get("halaman", 1, type=int) or 1
    if not 1 <= page <= 100_000:
        abort(404)
    with transaction() as session:
        result = logins.attempts(session, scope=current_user.grants.scope(ADMINISTRATOR), username=username,
                                 outcome=OUTCOMES[chosen] if chosen else None, page=page, per_page=PER_PAGE)
    return render_template("admin/login_record.html", result=result, username=username or "", chosen=chosen,
                           outcomes=OUTCOMES)
