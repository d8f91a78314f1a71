"""Access grants (storage.grants, engine.access): administrator, analis_proses, auditor."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine import access
from engine.access import Grants
from storage import grants, org
from storage.demo import DEMO_ACCESS
from storage.errors import InvalidTaskDataError, UnitNotFound, UserNotFound
from storage.models import AccessGrant


def test_demo_grants_are_loaded(demo_session: Session) -> None:
    expected = sorted((a.user.username, kind, unit) for a in DEMO_ACCESS for kind, unit in a.grants)
    assert access.holders(demo_session) == sorted(expected, key=lambda g: (g[0], g[1], g[2] or ""))
    assert access.grants_of(demo_session, "analis.organisasi") == Grants((("analis_proses", None),))
    assert access.grants_of(demo_session, "camat.contoh") == Grants(())
    assert {u for u, _, _ in access.holders(demo_session, "auditor")} == {
        "auditor.inspektorat", "evaluator.kecamatan"}


def test_grant_is_idempotent_and_revoke_reports(demo_session: Session) -> None:
    access.grant(demo_session, "staf1.kecamatan", "auditor", "kecamatan-contoh", granted_by="admin.alur")
    access.grant(demo_session, "staf1.kecamatan", "auditor", "kecamatan-contoh")
    staf = org.get_user_by_username(demo_session, "staf1.kecamatan")
    rows = demo_session.scalars(select(AccessGrant).where(AccessGrant.user_id == staf.id)).all()
    assert len(rows) == 1 and rows[0].granted_by_id == org.get_user_by_username(demo_session, "admin.alur").id
    assert access.grants_of(demo_session, "staf1.kecamatan").covers("auditor", "kecamatan-contoh")
    assert access.revoke(demo_session, "staf1.kecamatan", "auditor", "kecamatan-contoh") is True
    assert access.revoke(demo_session, "staf1.kecamatan", "auditor", "kecamatan-contoh") is False
    assert access.grants_of(demo_session, "staf1.kecamatan") == Grants(())


def test_all_units_grant_is_distinct_from_a_unit_grant(demo_session: Session) -> None:
    access.grant(demo_session, "staf1.kecamatan", "analis_proses")
    access.grant(demo_session, "staf1.kecamatan", "analis_proses", "kecamatan-contoh")
    assert access.grants_of(demo_session, "staf1.kecamatan").pairs == (
        ("analis_proses", None), ("analis_proses", "kecamatan-contoh"))
    assert access.revoke(demo_session, "staf1.kecamatan", "analis_proses") is True
    assert access.grants_of(demo_session, "staf1.kecamatan").pairs == (("analis_proses", "kecamatan-contoh"),)


@pytest.mark.parametrize(("args", "error"), [
    (("tidak.ada", "auditor", None), UserNotFound),
    (("staf1.kecamatan", "auditor", "unit-tak-ada"), UnitNotFound),
    (("staf1.kecamatan", "superuser", None), InvalidTaskDataError),
])
def test_bad_grants_are_refused(demo_session: Session, args: tuple[str, str, str | None],
                                error: type[Exception]) -> None:
    with pytest.raises(error):
        access.grant(demo_session, *args)


def test_the_database_refuses_an_unknown_kind(demo_session: Session) -> None:
    user = org.get_user_by_username(demo_session, "staf1.kecamatan")
    with pytest.raises(IntegrityError), demo_session.begin_nested():
        demo_session.add(AccessGrant(user_id=user.id, kind="root"))
        demo_session.flush()
    with pytest.raises(InvalidTaskDataError):
        grants.revoke(demo_session, user_id=user.id, kind="root")


def test_grants_cover_and_scope() -> None:
    g = Grants((("analis_proses", "dinas-kominfo"), ("auditor", None)))
    assert g.covers("analis_proses", "dinas-kominfo") and not g.covers("analis_proses", "kecamatan-contoh")
    assert g.covers("auditor", "kecamatan-contoh") and not g.covers("administrator", "dinas-kominfo")
    assert g.scope("analis_proses") == frozenset({"dinas-kominfo"})
    assert g.scope("auditor") is None and g.scope("administrator") == frozenset()
    assert g.has("auditor") and not g.has("administrator")
