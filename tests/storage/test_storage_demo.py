"""The demo organisation (storage.demo)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import org
from storage.demo import DEMO_UNITS, load_demo_org
from storage.models import Role, RoleAlias, RoleMember, Unit, User

TIM_LIKE = {"Staf", "Tim", "Tim Penyusunan SAKIP", "Tim SAKIP", "Tim Penyusun LAKIP"}


def _snapshot(session: Session) -> dict[str, list[tuple]]:
    tables = {
        "unit": select(Unit.id, Unit.code, Unit.name, Unit.kind, Unit.timezone),
        "user": select(User.id, User.username, User.full_name, User.nip, User.unit_id),
        "role": select(Role.id, Role.unit_id, Role.name),
        "alias": select(RoleAlias.id, RoleAlias.unit_id, RoleAlias.alias, RoleAlias.role_id),
        "member": select(RoleMember.user_id, RoleMember.role_id),
    }
    return {name: sorted(map(tuple, session.execute(stmt))) for name, stmt in tables.items()}


def test_demo_is_idempotent(session: Session) -> None:
    load_demo_org(session)
    before = _snapshot(session)
    load_demo_org(session)
    assert not session.new and not session.dirty
    assert _snapshot(session) == before
    assert len(before["unit"]) == 4


def test_units_and_time_zones(demo_session: Session) -> None:
    units = {u.code: (u.kind, u.timezone) for u in org.list_units(demo_session)}
    assert units == {
        "bagian-organisasi": ("bagian", "Asia/Jakarta"),
        "dinas-kominfo": ("dinas", "Asia/Makassar"),
        "kecamatan-contoh": ("kecamatan", "Asia/Jayapura"),
        "inspektorat": ("dinas", "Asia/Jakarta"),  # jenis Inspektorat, running the Dinas SOPs
    }


def test_every_role_has_holders_from_its_unit(demo_session: Session) -> None:
    for demo_unit in DEMO_UNITS:
        unit = org.get_unit_by_code(demo_session, demo_unit.code)
        for demo_role in demo_unit.roles:
            role = org.resolve_role(demo_session, unit.id, demo_role.name)
            assert role is not None and role.name == demo_role.name
            holders = org.users_with_role(demo_session, role.id)
            assert len(holders) >= (2 if demo_role.name in TIM_LIKE else 1), role.name
            assert {u.unit_id for u in holders} == {unit.id}
            for alias in demo_role.aliases:
                assert org.resolve_role(demo_session, unit.id, alias) == role


def test_users_look_real(demo_session: Session) -> None:
    users = demo_session.scalars(select(User)).all()
    assert len({u.nip for u in users}) == len(users)
    for user in users:
        assert re.fullmatch(r"[a-z0-9]+(\.[a-z0-9]+)+", user.username), user.username
        assert re.fullmatch(r"(19|20)\d{6}(19|20)\d{4}[12]\d{3}", user.nip or ""), user.nip
        assert user.password_hash is None
        assert len(user.full_name.split()) >= 2


def test_examples_named_in_the_brief_exist(demo_session: Session) -> None:
    assert org.get_user_by_username(demo_session, "camat.contoh").full_name
    staf1 = org.get_user_by_username(demo_session, "staf1.kecamatan")
    assert [r.name for r in org.roles_of(demo_session, staf1.id)] == ["Staf"]
