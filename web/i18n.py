"""Language and dates: Bahasa Indonesia by default, English by a switch (Flask-Babel).

Message ids are the Indonesian text itself; ``web/translations/en`` holds the
English. Times are stored in UTC and shown in the time zone of the unit the
task or instance belongs to (WIB, WITA or WIT), in the reader's language:
``5 Mar 2026, 08.30 WIB``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_timedelta, get_month_names
from flask import Blueprint, Flask, current_app, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import Babel, get_locale, gettext, ngettext
from flask_login import current_user

from engine.waktu import Waktu
from web.accounts import unit_timezones
from web.auth import now, safe_next
from web.db import transaction

__all__ = ["LANGUAGES", "bp", "datetime_formatter", "event_label", "init_app", "local_datetime", "since_formatter",
           "standard_time"]

LANGUAGES = ("id", "en")
DEFAULT_TIMEZONE = "Asia/Jakarta"
_ZONES_KEY = "alur.unit_timezones"

bp = Blueprint("i18n", __name__)


def _locale() -> str:
    lang = session.get("lang")
    return lang if lang in LANGUAGES else "id"


def _timezone() -> str:
    return current_user.timezone if current_user.is_authenticated else DEFAULT_TIMEZONE


def _zone_of(unit_code: str | None) -> str:
    """The IANA zone of a unit, cached per app; reloaded when a unit is not known yet."""
    if unit_code is None:
        return _timezone()
    zones: dict[str, str] = current_app.extensions.setdefault(_ZONES_KEY, {})
    if unit_code not in zones:
        with transaction() as db_session:
            zones.update(unit_timezones(db_session))
    return zones.get(unit_code) or _timezone()  # not zones.get(code, _timezone()): that reads current_user each time


def local_datetime(moment: datetime | None, unit_code: str | None = None) -> str:
    """``moment`` (aware UTC) in the unit's zone and the reader's language; "-" for None.

    "5 Mar 2026, 10.30 WIT" (id) / "5 Mar 2026, 10:30 WIT" (en): Babel's
    ``d MMM y, HH.mm`` pattern, with month names and the zone abbreviation looked up
    once per locale and zone (an inbox page formats hundreds of these).
    """
    if moment is None:
        return "-"
    zone_name = _zone_of(unit_code)
    local = moment.astimezone(ZoneInfo(zone_name))
    locale = str(get_locale())
    months = _month_abbreviations(locale)
    separator = "." if locale == "id" else ":"
    return (f"{local.day} {months[local.month]} {local.year}, "
            f"{local.hour:02d}{separator}{local.minute:02d} {_zone_abbreviation(zone_name, local)}")


def datetime_formatter() -> Callable[[datetime | None, str | None], str]:
    """:func:`local_datetime` for a page of many rows: the reader's language, the month names and
    the units' zones looked up once, not per call. Same texts; for this request only."""
    locale = str(get_locale())
    months = _month_abbreviations(locale)
    separator = "." if locale == "id" else ":"
    zones: dict[str, str] = current_app.extensions.setdefault(_ZONES_KEY, {})
    fallback = _timezone()

    def format_moment(moment: datetime | None, unit_code: str | None = None) -> str:
        if moment is None:
            return "-"
        zone_name = (zones.get(unit_code) or _zone_of(unit_code)) if unit_code is not None else fallback
        local = moment.astimezone(ZoneInfo(zone_name))
        return (f"{local.day} {months[local.month]} {local.year}, "
                f"{local.hour:02d}{separator}{local.minute:02d} {_zone_abbreviation(zone_name, local)}")

    return format_moment


def since_formatter() -> Callable[[datetime | None], str]:
    """:func:`_since` (the ``sejak`` filter), the reader's locale and the time now taken once: for a page of rows."""
    locale = get_locale()
    now = datetime.now(UTC)

    def format_since(moment: datetime | None) -> str:
        if moment is None:
            return "-"
        return format_timedelta(now - moment, threshold=1.5, locale=locale)

    return format_since


@cache
def _month_abbreviations(locale: str) -> dict[int, str]:
    return dict(get_month_names("abbreviated", locale=locale))


def _zone_abbreviation(zone_name: str, local: datetime) -> str:
    # WIB / WITA / WIT: the Indonesian zone names, used in English text too.
    return _INDONESIAN_ZONES.get(zone_name) or format_datetime(local, "z", locale="id")


_INDONESIAN_ZONES = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
                     "Asia/Jayapura": "WIT"}


def _since(moment: datetime | None) -> str:
    """How long ago ``moment`` was by the app's clock (``ALUR_CLOCK``), in words ("3 jam" / "3 hours")."""
    if moment is None:
        return "-"
    return format_timedelta(now() - moment, threshold=1.5, locale=get_locale())


def _long_date(value: date | str | None) -> str:
    """A calendar date (``date`` or ``YYYY-MM-DD``) as "5 Maret 2026"; the text itself if unparsable."""
    if not value:
        return "-"
    try:
        day = value if isinstance(value, date) else date.fromisoformat(value)
    except ValueError:
        return str(value)
    return format_date(day, "long", locale=get_locale())


def _working_time(minutes: int | None) -> str:
    """Working minutes as "2 jam 5 menit" / "2 h 5 min"; "-" for None."""
    if minutes is None:
        return "-"
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return gettext("%(h)d jam %(m)d menit", h=hours, m=rest)
    if hours:
        return gettext("%(h)d jam", h=hours)
    return gettext("%(m)d menit", m=rest)


def standard_time(iso: str | None) -> str:
    """A Waktu (ISO 8601, e.g. ``P1D``) as the SOP writes it: "1 hari" / "1 working day"."""
    if not iso:
        return "-"
    waktu = Waktu.from_iso(iso)
    n = waktu.amount
    texts = {"menit": lambda: ngettext("%(num)d menit", "%(num)d menit", n),
             "jam": lambda: ngettext("%(num)d jam", "%(num)d jam", n),
             "hari": lambda: ngettext("%(num)d hari kerja", "%(num)d hari kerja", n),
             "minggu": lambda: ngettext("%(num)d minggu", "%(num)d minggu", n)}
    return texts[waktu.unit]()


def event_label(kind: str) -> str:
    """An audit event kind as the reader says it: "Langkah selesai" / "Step completed"."""
    labels = {
        "instance_started": gettext("Proses dimulai"), "task_ready": gettext("Langkah siap"),
        "task_completed": gettext("Langkah selesai"), "team_formed": gettext("Tim dibentuk"),
        "called_process_started": gettext("SOP terkait dimulai"),
        "called_process_completed": gettext("SOP terkait selesai"),
        "instance_completed": gettext("Proses selesai"), "task_cancelled": gettext("Langkah dibatalkan"),
        "document_attached": gettext("Dokumen dilampirkan"),
        "task_claimed": gettext("Langkah diambil"), "task_released": gettext("Langkah dilepaskan"),
        "task_claim_reassigned": gettext("Langkah dialihkan"),
    }
    return labels.get(kind, kind)


def _is_overdue(due_at: datetime | None) -> bool:
    """Whether ``due_at`` has passed by the app's clock (``ALUR_CLOCK``): the "Terlambat" mark."""
    return due_at is not None and due_at < now()


def init_app(app: Flask) -> None:
    """Set up Flask-Babel, the date filters and the language switch on ``app``."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "id")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=_locale, timezone_selector=_timezone)
    app.jinja_env.filters.update(waktu=local_datetime, sejak=_since, tanggal=_long_date,
                                  lama_kerja=_working_time, waktu_baku=standard_time)
    app.jinja_env.tests["overdue"] = _is_overdue
    app.context_processor(lambda: {"current_language": _locale(), "languages": LANGUAGES})
    app.register_blueprint(bp)


@bp.post("/bahasa")
def switch_language() -> ResponseReturnValue:
    """Remember the reader's language choice (``lang`` = id | en) and go back."""
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(safe_next(request.form.get("next")) or url_for("inbox.index"))
