"""Organisation queries: units, users, roles, aliases, teams (storage.org)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from storage import org
from storage.errors import InvalidTaskDataError, UnitNotFound, UserNotFound
from storage.models import Role, RoleMember


def _role(session: Session, unit_code: str, name: str) -> Role:
    unit = org.get_unit_by_code(session, unit_code)
    role = org.resolve_role(session, unit.id, name)
    assert role is not None, name
    return role


def test_users_by_id_and_username(demo_session: Session) -> None:
    camat = org.get_user_by_username(demo_session, "camat.contoh")
    assert org.get_user(demo_session, camat.id) is camat
    with pytest.raises(UserNotFound):
        org.get_user_by_username(demo_session, "tidak.ada")
    with pytest.raises(UserNotFound):
        org.get_user(demo_session, 10**9)


def test_units_by_id_and_code(demo_session: Session) -> None:
    unit = org.get_unit_by_code(demo_session, "dinas-kominfo")
    assert org.get_unit(demo_session, unit.id) is unit
    assert unit.timezone == "Asia/Makassar"
    with pytest.raises(UnitNotFound):
        org.get_unit_by_code(demo_session, "dinas-lain")
    with pytest.raises(UnitNotFound):
        org.get_unit(demo_session, 10**9)


def test_list_units_ordered_by_code(demo_session: Session) -> None:
    codes = [u.code for u in org.list_units(demo_session)]
    assert codes == ["bagian-organisasi", "dinas-kominfo", "inspektorat", "kecamatan-contoh"]


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("Kasubag Evapor", "kasubag evapor"),
        ("  KASUBAG\t  evapor \n", "kasubag evapor"),
        ("Kasi/Ka.Subag", "kasi/ka.subag"),
        ("Staf\u00a0Ahli", "staf ahli"),
    ],
)
def test_normalize_role_name(raw: str, normalized: str) -> None:
    assert org.normalize_role_name(raw) == normalized


@pytest.mark.parametrize(
    ("unit_code", "lane", "role_name"),
    [
        ("kecamatan-contoh", "Kasubag Evapor", "Kasubag Evapor"),
        ("kecamatan-contoh", "kasubag  EVAPOR", "Kasubag Evapor"),
        ("kecamatan-contoh", "Kasubag Renvapor", "Kasubag Evapor"),
        ("kecamatan-contoh", "Sekretaris Camat", "Sekretaris"),
        ("kecamatan-contoh", "Staff", "Staf"),
        ("bagian-organisasi", "Kasubag (Pengendalian)", "Kasubag"),
        ("bagian-organisasi", "Kasubag Pengendalian", "Kasubag"),
        ("dinas-kominfo", "Kadin", "Kepala Dinas"),
        ("dinas-kominfo", "Kepala SKPD", "Kepala Dinas"),
        ("dinas-kominfo", "Kepala Bidang Terkait", "Kepala Bidang"),
        ("dinas-kominfo", "Ka.Subag", "Kasi/Ka.Subag"),
        ("dinas-kominfo", "Kasubag Perencanaan & Pelaporan", "Kepala Sub Bagian Perencanaan"),
    ],
)
def test_resolve_role_by_name_or_alias(
    demo_session: Session, unit_code: str, lane: str, role_name: str
) -> None:
    role = _role(demo_session, unit_code, lane)
    assert role.name == role_name
    assert role.unit_id == org.get_unit_by_code(demo_session, unit_code).id


def test_resolve_role_stays_in_its_unit(demo_session: Session) -> None:
    kecamatan = org.get_unit_by_code(demo_session, "kecamatan-contoh")
    assert org.resolve_role(demo_session, kecamatan.id, "Kadin") is None  # a Dinas alias
    assert org.resolve_role(demo_session, kecamatan.id, "Tim Penyusun LAKIP") is None


def test_roles_of_and_users_with_role(demo_session: Session) -> None:
    staf = _role(demo_session, "kecamatan-contoh", "Staf")
    holders = org.users_with_role(demo_session, staf.id)
    assert [u.username for u in holders] == ["staf1.kecamatan", "staf2.kecamatan"]
    assert [r.id for r in org.roles_of(demo_session, holders[0].id)] == [staf.id]


def test_unit_users_lists_each_holder_once(demo_session: Session) -> None:
    unit = org.get_unit_by_code(demo_session, "kecamatan-contoh")
    camat = org.get_user_by_username(demo_session, "camat.contoh")
    demo_session.add(RoleMember(user_id=camat.id, role_id=_role(demo_session, unit.code, "Tim").id))
    demo_session.flush()
    usernames = [u.username for u in org.unit_users(demo_session, unit.id)]
    assert usernames.count("camat.contoh") == 1
    assert usernames == sorted(usernames)
    assert "kadin.kominfo" not in usernames
    assert len(org.roles_of(demo_session, camat.id)) == 2


def test_create_team_and_reform_it(demo_session: Session, new_instance) -> None:
    instance = new_instance(demo_session)
    staf1, staf2, tim1 = (
        org.get_user_by_username(demo_session, name).id
        for name in ("staf1.kecamatan", "staf2.kecamatan", "tim1.kecamatan")
    )
    assert org.team_for(demo_session, instance.id, "Tim") is None
    team = org.create_team(
        demo_session, instance_id=instance.id, lane_name="Tim",
        member_ids=[staf1, tim1], formed_by_task_id="task-1",
    )
    assert org.team_for(demo_session, instance.id, "Tim") is team
    assert org.team_member_ids(demo_session, team.id) == {staf1, tim1}

    again = org.create_team(
        demo_session, instance_id=instance.id, lane_name="Tim",
        member_ids=[staf2], formed_by_task_id="task-2",
    )
    assert again.id == team.id
    assert again.formed_by_task_id == "task-2"
    assert org.team_member_ids(demo_session, team.id) == {staf2}
    assert org.team_for(demo_session, instance.id, "Tim Lain") is None


def test_create_team_refuses_unknown_or_no_members(demo_session: Session, new_instance) -> None:
    instance = new_instance(demo_session)
    camat = org.get_user_by_username(demo_session, "camat.contoh").id
    with pytest.raises(InvalidTaskDataError, match="999999"):
        org.create_team(
            demo_session, instance_id=instance.id, lane_name="Tim",
            member_ids=[camat, 999999], formed_by_task_id="t",
        )
    with pytest.raises(InvalidTaskDataError):
        org.create_team(
            demo_session, instance_id=instance.id, lane_name="Tim",
            member_ids=[], formed_by_task_id="t",
        )
    assert org.team_for(demo_session, instance.id, "Tim") is None
