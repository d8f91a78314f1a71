"""HTTP answers for errors, in one place: ``storage.errors`` branches and HTTP errors.

::

    NotFoundError           404   (also any id of work the user may not see)
    PermissionDeniedError   404   logged: not told apart from "does not exist"
    ConflictError           409   TaskAlreadyCompleted, StaleInstanceError
    InvalidTaskDataError    422
    CalendarError           422
    DeployError             422
    other AlurError         500
    CSRFError               400   logged: a form without a valid CSRF token

Form views catch the errors they expect and show them beside the form, with
the status from :func:`status_for`; everything else lands in the handlers here.
"""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from storage.errors import (
    AlurError,
    CalendarError,
    ConflictError,
    DeployError,
    InvalidTaskDataError,
    NotFoundError,
    PermissionDeniedError,
)

__all__ = ["init_app", "status_for"]

logger = logging.getLogger("alur.web.access")

_STATUS: tuple[tuple[type[AlurError], int], ...] = (
    (NotFoundError, 404),
    (PermissionDeniedError, 404),
    (ConflictError, 409),
    (InvalidTaskDataError, 422),
    (CalendarError, 422),
    (DeployError, 422),
)


def status_for(exc: AlurError) -> int:
    """The HTTP status of an Alur error (500 for a branch not listed above)."""
    return next((status for kind, status in _STATUS if isinstance(exc, kind)), 500)


def _title(status: int) -> str:
    titles = {
        400: _("Permintaan tidak dapat diproses"),
        404: _("Tidak ditemukan"),
        405: _("Cara akses tidak diizinkan"),
        409: _("Data telah berubah"),
        413: _("Berkas terlalu besar"),
        422: _("Data tidak valid"),
    }
    return titles.get(status, _("Terjadi kesalahan"))


def _page(status: int, message: str) -> ResponseReturnValue:
    return render_template("errors/error.html", status=status, title=_title(status), message=message), status


def _on_alur_error(exc: AlurError) -> ResponseReturnValue:
    status = status_for(exc)
    if status == 404:
        if isinstance(exc, PermissionDeniedError):
            user = current_user.username if current_user.is_authenticated else "-"
            logger.warning("refused: user=%s %s %s: %s", user, request.method, request.path, exc)
        return _page(404, _("Halaman atau data yang Anda cari tidak ada, atau bukan bagian tugas Anda."))
    if status == 500:
        logger.exception("unexpected Alur error on %s %s", request.method, request.path)
        return _page(500, _("Terjadi kesalahan pada server. Silakan coba lagi."))
    return _page(status, str(exc))


def _on_csrf_error(exc: CSRFError) -> ResponseReturnValue:
    user = current_user.username if current_user.is_authenticated else "-"
    logger.warning("refused: user=%s %s %s: CSRF %s", user, request.method, request.path, exc.description)
    return _page(400, _("Formulir kedaluwarsa atau tidak sah. Muat ulang halaman, lalu kirim lagi."))


def _on_http_error(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    messages = {
        404: _("Halaman atau data yang Anda cari tidak ada, atau bukan bagian tugas Anda."),
        405: _("Halaman ini tidak menerima cara akses tersebut."),
    }
    return _page(status, messages.get(status, _("Permintaan tidak dapat diproses.")))


def init_app(app: Flask) -> None:
    """Register the handlers on ``app``."""
    app.register_error_handler(AlurError, _on_alur_error)
    app.register_error_handler(CSRFError, _on_csrf_error)
    app.register_error_handler(HTTPException, _on_http_error)
