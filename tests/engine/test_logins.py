"""Login throttling, the login record and server-side sessions (``engine.logins``), on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import logins
from engine.logins import ACCOUNT_RULE, ADDRESS_RULE
from storage import org
from storage.models import LoginAttempt, LoginSession

T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _fail(session: Session, username: str, at: datetime, address: str = "10.0.0.1", times: int = 1) -> None:
    for _ in range(times):
        logins.record_attempt(session, username=username, address=address, user_agent="pytest",
                              outcome="failure", now=at)


def _wait(session: Session, username: str, at: datetime, address: str = "10.0.0.1") -> timedelta | None:
    return logins.throttle_wait(session, username=username, address=address, now=at)


def test_rule_waits_grow_and_stop_at_an_hour() -> None:
    waits = [ACCOUNT_RULE.wait_after(n) for n in range(0, 14)]
    assert waits[:5] == [timedelta(0)] * 5
    assert waits[5:12] == [MINUTE * m for m in (1, 2, 4, 8, 16, 32, 60)]
    assert ACCOUNT_RULE.wait_after(10_000) == timedelta(minutes=60)
    assert ADDRESS_RULE.wait_after(19) == timedelta(0) and ADDRESS_RULE.wait_after(20) == MINUTE


def test_account_waits_after_five_failures_and_longer_after_more(demo_session: Session) -> None:
    _fail(demo_session, "camat.contoh", T0, times=4)
    assert _wait(demo_session, "camat.contoh", T0) is None
    _fail(demo_session, "camat.contoh", T0)
    assert _wait(demo_session, "camat.contoh", T0) == MINUTE
    assert _wait(demo_session, "camat.contoh", T0 + 30 * timedelta(seconds=1)) == timedelta(seconds=30)
    assert _wait(demo_session, "camat.contoh", T0 + MINUTE) is None  # the wait is over
    assert _wait(demo_session, "sekretaris.kecamatan", T0) is None  # another account, same address: free
    _fail(demo_session, "camat.contoh", T0 + MINUTE)
    assert _wait(demo_session, "camat.contoh", T0 + MINUTE) == 2 * MINUTE


def test_refusals_during_a_wait_do_not_lengthen_it(demo_session: Session) -> None:
    _fail(demo_session, "camat.contoh", T0, times=5)
    for second in range(45):
        logins.record_attempt(demo_session, username="camat.contoh", address="10.0.0.1", user_agent="x",
                              outcome="throttled", now=T0 + timedelta(seconds=second))
    assert _wait(demo_session, "camat.contoh", T0 + MINUTE) is None


def test_the_wait_is_bounded_and_a_success_starts_over(demo_session: Session) -> None:
    moment = T0
    for _ in range(30):  # an attacker who guesses as soon as each wait ends
        _fail(demo_session, "camat.contoh", moment, address=f"10.1.0.{_}")
        moment += _wait(demo_session, "camat.contoh", moment, address="10.9.9.9") or timedelta(0)
    assert _wait(demo_session, "camat.contoh", moment - timedelta(seconds=1), address="10.9.9.9") == timedelta(
        seconds=1)
    last = moment - timedelta(minutes=60)  # the newest failure: the wait never passes an hour
    assert _wait(demo_session, "camat.contoh", last, address="10.9.9.9") == timedelta(minutes=60)
    logins.record_attempt(demo_session, username="camat.contoh", address="10.9.9.9", user_agent="x",
                          outcome="success", now=moment)
    _fail(demo_session, "camat.contoh", moment + MINUTE, address="10.9.9.9", times=4)
    assert _wait(demo_session, "camat.contoh", moment + MINUTE, address="10.9.9.9") is None


def test_failures_older_than_the_window_are_forgotten(demo_session: Session) -> None:
    _fail(demo_session, "camat.contoh", T0, times=4)
    _fail(demo_session, "camat.contoh", T0 + timedelta(hours=24, minutes=1))
    assert _wait(demo_session, "camat.contoh", T0 + timedelta(hours=24, minutes=1)) is None


def test_an_address_waits_after_twenty_failures_on_any_names(demo_session: Session) -> None:
    for n in range(19):
        _fail(demo_session, f"tebakan{n}", T0, address="203.0.113.7")
    assert _wait(demo_session, "camat.contoh", T0, address="203.0.113.7") is None
    _fail(demo_session, "tebakan19", T0, address="203.0.113.7")
    assert _wait(demo_session, "camat.contoh", T0, address="203.0.113.7") == MINUTE
    assert _wait(demo_session, "camat.contoh", T0, address="203.0.113.8") is None
    assert _wait(demo_session, "camat.contoh", T0 + timedelta(hours=1), address="203.0.113.7") is None


def test_attempts_are_recorded_with_the_account_and_clean_text(demo_session: Session) -> None:
    logins.record_attempt(demo_session, username=" camat.contoh ", address="10.0.0.1", user_agent="Firefox",
                          outcome="success", now=T0)
    logins.record_attempt(demo_session, username="tidak.ada", address="10.0.0.1", user_agent="",
                          outcome="failure", now=T0)
    logins.record_attempt(demo_session, username="camat\x00contoh" + "x" * 100, address="10.0.0.1\x00",
                          user_agent="a\x07" * 300, outcome="failure", now=T0)
    rows = demo_session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)).all()
    camat = org.get_user_by_username(demo_session, "camat.contoh")
    assert [(r.username, r.user_id, r.outcome) for r in rows[:2]] == [
        ("camat.contoh", camat.id, "success"), ("tidak.ada", None, "failure")]
    assert rows[0].attempted_at == T0 and rows[0].user_agent == "Firefox"
    assert rows[2].username.startswith("camat\ufffdcontoh") and len(rows[2].username) == 64
    assert rows[2].user_id is None and rows[2].address == "10.0.0.1\ufffd" and len(rows[2].user_agent) == 255


def test_record_pages_filters_and_scope(demo_session: Session) -> None:
    for minute in range(7):
        logins.record_attempt(demo_session, username="camat.contoh", address="10.0.0.1", user_agent="x",
                              outcome="failure" if minute % 2 else "success", now=T0 + minute * MINUTE)
    logins.record_attempt(demo_session, username="kadin.kominfo", address="10.0.0.2", user_agent="x",
                          outcome="failure", now=T0)
    logins.record_attempt(demo_session, username="siapa", address="10.0.0.3", user_agent="x",
                          outcome="throttled", now=T0)
    first = logins.attempts(demo_session, scope=None, page=1, per_page=4)
    assert (first.total, first.pages, len(first.records)) == (9, 3, 4)
    assert [r.attempted_at for r in first.records] == [T0 + m * MINUTE for m in (6, 5, 4, 3)]  # newest first
    assert first.records[0].full_name and first.records[0].unit_code == "kecamatan-contoh"
    last = logins.attempts(demo_session, scope=None, page=3, per_page=4)
    assert [r.username for r in last.records] == ["camat.contoh"]  # same time: the one recorded first is oldest
    unknown = logins.attempts(demo_session, scope=None, outcome="throttled").records
    assert [(r.username, r.full_name, r.unit_code) for r in unknown] == [("siapa", None, None)]
    failures = logins.attempts(demo_session, scope=None, username="camat.contoh", outcome="failure")
    assert failures.total == 3 and {r.outcome for r in failures.records} == {"failure"}
    kominfo = logins.attempts(demo_session, scope=["dinas-kominfo", "tidak-ada"])
    assert [r.username for r in kominfo.records] == ["kadin.kominfo"]  # not other units, not unknown names
    assert logins.attempts(demo_session, scope=[]).total == 0
    assert logins.attempts(demo_session, scope=None, page=99).records == []


def test_sessions_end_on_logout_everywhere_and_password_change(demo_session: Session) -> None:
    camat = org.get_user_by_username(demo_session, "camat.contoh")
    camat.password_hash = "$argon2id$lama"
    lifetime = timedelta(hours=8)

    def start() -> str:
        return logins.start_session(demo_session, user_id=camat.id, address="10.0.0.1", user_agent="x\x00",
                                    now=T0, lifetime=lifetime)

    laptop, phone, tablet = start(), start(), start()
    assert len({laptop, phone, tablet}) == 3
    stored = demo_session.scalars(select(LoginSession.token_hash)).all()
    assert laptop not in stored and len(stored) == 3  # only hashes are stored
    assert logins.session_user(demo_session, laptop, T0) is camat
    assert logins.session_user(demo_session, laptop, T0 + lifetime) is None  # expired
    assert logins.end_session(demo_session, laptop) is True
    assert logins.session_user(demo_session, laptop, T0) is None
    assert logins.end_session(demo_session, laptop) is False
    assert logins.change_password(demo_session, camat.id, "$argon2id$baru", keep_token=phone) == 1
    assert logins.session_user(demo_session, phone, T0) is camat  # the device that changed it stays in
    assert logins.session_user(demo_session, tablet, T0) is None
    camat.password_hash = "$argon2id$diganti-di-tempat-lain"  # any other change ends it too
    assert logins.session_user(demo_session, phone, T0) is None
    assert logins.end_user_sessions(demo_session, camat.id) == 1
    later = logins.start_session(demo_session, user_id=camat.id, address="10.0.0.1", user_agent="x",
                                 now=T0 + lifetime, lifetime=lifetime)  # removes the expired rows on the way
    assert demo_session.scalars(select(LoginSession.token_hash)).all() != []
    assert logins.session_user(demo_session, later, T0 + lifetime) is camat


@pytest.mark.parametrize(("text", "cleaned"), [
    ("a\x00b", "a\ufffdb"), ("\ud800", "\ufffd"), ("x" * 70, "x" * 64), ("\u202eadmin", "\ufffdadmin"),
    ("\x1b[31mmerah", "\ufffd[31mmerah"), ("Wahyuni Syam", "Wahyuni Syam")])
def test_clean_text(text: str, cleaned: str) -> None:
    assert logins.clean_text(text, 64) == cleaned
    cleaned.encode("utf-8")
