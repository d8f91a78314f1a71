"""HTTP answers for errors, in one place: ``storage.errors`` branches and HTTP errors.

::

    NotFoundError           404   (also any id of work the user may not see)
    PermissionDeniedError   404   logged: not told apart from "does not exist"
    ConflictError           409   TaskAlreadyCompleted, StaleInstanceError, TaskClaimedError
    InvalidTaskDataError    422   InvalidFieldError: the API names the field (error.fields)
    CalendarError           422
    ProcessExecutionError   422   a condition/script of the diagram failed; nothing changed
    DeployError             422
    SopImportError          422
    other AlurError         500
    CSRFError               400   logged: a form without a valid CSRF token
    no login (API only)     401   pages redirect to the login page instead
    throttled login         429   answered by the login and password forms themselves
                                  (``web.auth``: the wait in words and ``Retry-After``)

Form views catch the errors they expect and show them beside the form, with
the status from :func:`status_for`; everything else lands in the handlers here.

Pages get an HTML error page; requests under ``/api/`` get JSON,
``{"error": {"code": ..., "message": ...}}`` (:func:`api_error`; codes in
``web.openapi.ERROR_CODES``; 409 ``task_already_completed`` /
``stale_instance`` / ``task_claimed``, 400 ``csrf_failed``), never a page or a redirect. API
messages are Bahasa Indonesia, not switched by the pages' language choice.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from storage.errors import (
    AlurError,
    CalendarError,
    ConflictError,
    DeployError,
    InvalidFieldError,
    InvalidTaskDataError,
    NotFoundError,
    PermissionDeniedError,
    ProcessExecutionError,
    SopImportError,
    StaleInstanceError,
    TaskAlreadyCompleted,
    TaskClaimedError,
)

__all__ = ["api_error", "init_app", "is_api_request", "status_for"]

logger = logging.getLogger("alur.web.access")

_STATUS: tuple[tuple[type[AlurError], int], ...] = (
    (NotFoundError, 404),
    (PermissionDeniedError, 404),
    (ConflictError, 409),
    (InvalidTaskDataError, 422),
    (CalendarError, 422),
    (ProcessExecutionError, 422),
    (DeployError, 422),
    (SopImportError, 422),
)


_API_CODES = {400: "bad_request", 401: "unauthenticated", 404: "not_found", 405: "method_not_allowed",
              409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
              422: "invalid_data"}
# API messages are Bahasa Indonesia whatever the session's language: the switch is the pages'.
_API_MESSAGES = {
    400: "Permintaan tidak dapat diproses: periksa badan permintaan (JSON).",
    401: "Silakan masuk terlebih dahulu: tidak ada sesi login yang berlaku.",
    404: "Data yang Anda cari tidak ada, atau bukan bagian tugas Anda.",
    405: "Alamat ini tidak menerima cara akses tersebut.",
    413: "Data terlalu besar.",
    415: "Kirim data sebagai JSON (Content-Type: application/json).",
    500: "Terjadi kesalahan pada server. Silakan coba lagi.",
}
_API_CSRF_MESSAGE = ("Token CSRF tidak ada atau tidak sah: kirim token sesi ini dalam header X-CSRFToken "
                     "(GET /api/v1/csrf-token).")


def status_for(exc: AlurError) -> int:
    """The HTTP status of an Alur error (500 for a branch not listed above)."""
    return next((status for kind, status in _STATUS if isinstance(exc, kind)), 500)


def is_api_request() -> bool:
    """Whether the current request is a JSON API call (a path under ``/api/``)."""
    return request.path.startswith("/api/")


def api_error(status: int, message: str, *, code: str | None = None,
              fields: dict[str, str] | None = None) -> Response:
    """A JSON error answer ``{"error": {"code", "message"[, "fields"]}}`` with ``status``.

    ``code`` defaults to the one of ``status`` (``not_found``, ``invalid_data``...;
    ``bad_request`` or ``server_error`` for another 4xx or 5xx); ``fields`` maps
    request fields to what is wrong.
    """
    default = _API_CODES.get(status, "server_error" if status >= 500 else "bad_request")
    error: dict[str, object] = {"code": code or default, "message": message}
    if fields:
        error["fields"] = fields
    response = jsonify(error=error)
    response.status_code = status
    return response


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
        if is_api_request():
            return api_error(404, _API_MESSAGES[404])
        return _page(404, _("Halaman atau data yang Anda cari tidak ada, atau bukan bagian tugas Anda."))
    if status == 500:
        logger.exception("unexpected Alur error on %s %s", request.method, request.path)
        if is_api_request():
            return api_error(500, _API_MESSAGES[500])
        return _page(500, _("Terjadi kesalahan pada server. Silakan coba lagi."))
    if is_api_request():
        code = ("task_already_completed" if isinstance(exc, TaskAlreadyCompleted)
                else "stale_instance" if isinstance(exc, StaleInstanceError)
                else "task_claimed" if isinstance(exc, TaskClaimedError) else None)
        fields = {exc.field: exc.problem} if isinstance(exc, InvalidFieldError) else None
        return api_error(status, str(exc), code=code, fields=fields)
    return _page(status, str(exc))


def _on_csrf_error(exc: CSRFError) -> ResponseReturnValue:
    user = current_user.username if current_user.is_authenticated else "-"
    logger.warning("refused: user=%s %s %s: CSRF %s", user, request.method, request.path, exc.description)
    if is_api_request():
        return api_error(400, _API_CSRF_MESSAGE, code="csrf_failed")
    return _page(400, _("Formulir kedaluwarsa atau tidak sah. Muat ulang halaman, lalu kirim lagi."))


def _on_http_error(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    if is_api_request():
        response = api_error(status, _API_MESSAGES.get(status, _API_MESSAGES[500 if status >= 500 else 400]))
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response
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
