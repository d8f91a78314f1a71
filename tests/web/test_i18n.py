"""Language: Indonesian by default, English by the switch; dates in the unit's zone; catalogs."""

from __future__ import annotations

import gettext
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from web.i18n import local_datetime

WEB = Path(__file__).resolve().parents[2] / "web"
PO = WEB / "translations/en/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")
MOMENT = datetime(2026, 3, 5, 1, 30, tzinfo=UTC)


def test_indonesian_by_default_english_by_switch(client: FlaskClient, auth, form_post) -> None:
    auth.login("staf1.kecamatan")
    assert "Kotak masuk" in client.get("/").get_data(as_text=True)
    response = form_post(client, "/bahasa", {"lang": "en", "next": "/mulai"}, page="/")
    assert response.status_code == 302 and response.headers["Location"] == "/mulai"
    page = client.get("/").get_data(as_text=True)
    assert "Inbox" in page and "Kotak masuk" not in page and '<html lang="en">' in page
    form_post(client, "/bahasa", {"lang": "id"}, page="/")
    assert "Kotak masuk" in client.get("/").get_data(as_text=True)


def test_language_choice_survives_logout_and_refuses_unknown(client: FlaskClient, auth, form_post) -> None:
    form_post(client, "/bahasa", {"lang": "en"}, page="/masuk")
    auth.login("staf1.kecamatan")
    auth.logout()
    assert "Log in to Alur" in client.get("/masuk").get_data(as_text=True)
    form_post(client, "/bahasa", {"lang": "xx", "next": "https://evil.example/"}, page="/masuk")
    assert "Log in to Alur" in client.get("/masuk").get_data(as_text=True)


@pytest.mark.parametrize(("unit_code", "lang", "expected"), [
    ("bagian-organisasi", "id", "5 Mar 2026, 08.30 WIB"),
    ("dinas-kominfo", "id", "5 Mar 2026, 09.30 WITA"),
    ("kecamatan-contoh", "id", "5 Mar 2026, 10.30 WIT"),
    ("kecamatan-contoh", "en", "5 Mar 2026, 10:30 WIT"),
])
def test_times_in_the_units_zone(app: Flask, unit_code: str, lang: str, expected: str) -> None:
    with app.test_request_context("/"):
        from flask import session
        session["lang"] = lang
        assert local_datetime(MOMENT, unit_code) == expected
        assert local_datetime(None, unit_code) == "-"


def test_ago_and_late_marks_follow_the_app_clock(app: Flask) -> None:
    """"3 jam lalu" and "Terlambat" are measured against ``ALUR_CLOCK``, not the machine's clock."""
    app.config["ALUR_CLOCK"] = lambda: MOMENT  # March 2026: months before the real clock of any run
    marks = app.jinja_env.from_string(
        "{% from '_macros.html' import due %}{{ ready|sejak }}|{{ due(soon, 'kecamatan-contoh') }}"
        "|{{ passed is overdue }}|{{ soon is overdue }}")
    with app.test_request_context("/"):
        text = marks.render(ready=MOMENT - timedelta(hours=3), soon=MOMENT + timedelta(hours=1),
                            passed=MOMENT - timedelta(minutes=1))
    ago, due_text, passed, soon = text.split("|")
    assert ago == "3 jam"
    assert "Terlambat" not in due_text and "5 Mar 2026, 11.30 WIT" in due_text
    assert (passed, soon) == ("True", "False")


def _strings(messages) -> dict[str, tuple[str, ...]]:
    """``{msgid: (translation, ...)}``; plural messages by their singular id."""
    return {m.id if isinstance(m.id, str) else m.id[0]: tuple([m.string] if isinstance(m.string, str) else m.string)
            for m in messages if m.id}


def _catalog() -> dict[str, tuple[str, ...]]:
    with PO.open("rb") as f:
        return _strings(read_po(f))


def test_every_message_has_an_english_translation() -> None:
    mapping = [("**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    used = {msg if isinstance(msg, str) else msg[0]
            for _file, _line, msg, _comments, _context in extract_from_dir(str(WEB), mapping, keywords=keywords)}
    catalog = _catalog()
    assert sorted(used - catalog.keys()) == []
    assert sorted(k for k, v in catalog.items() if not all(v)) == []


def test_compiled_catalog_matches_the_po_file() -> None:
    with MO.open("rb") as f:
        compiled = _strings(read_mo(f))
    assert compiled == _catalog()
    assert gettext.GNUTranslations(MO.open("rb")).gettext("Kotak masuk") == "Inbox"
