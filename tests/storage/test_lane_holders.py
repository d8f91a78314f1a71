"""Lane holders (``storage.org.lane_holders``): the one list of who holds a task's lane, in a fixed order."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage import org
from tests.conftest import NewInstance

KECAMATAN = "kecamatan-contoh"


def _ids(session: Session, *usernames: str) -> list[int]:
    return [org.get_user_by_username(session, name).id for name in usernames]


def test_a_team_lane_is_held_by_its_active_members_by_username(demo_session: Session,
                                                                new_instance: NewInstance) -> None:
    instance = new_instance(demo_session)
    # given in an order that is neither by id nor by username
    members = _ids(demo_session, "tim1.kecamatan", "staf2.kecamatan", "staf1.kecamatan")
    team = org.create_team(demo_session, instance_id=instance.id, lane_name="Tim", member_ids=members,
                           formed_by_task_id="task-1")
    held = org.lane_holders(demo_session, team_id=team.id, role_id=None)
    assert [u.username for u in held] == ["staf1.kecamatan", "staf2.kecamatan", "tim1.kecamatan"]

    org.get_user_by_username(demo_session, "staf2.kecamatan").active = False
    demo_session.flush()
    held = org.lane_holders(demo_session, team_id=team.id, role_id=None)
    assert [u.username for u in held] == ["staf1.kecamatan", "tim1.kecamatan"]  # a deactivated member holds nothing


def test_a_role_lane_is_held_by_the_role_holders_and_nobody_holds_no_lane(demo_session: Session) -> None:
    unit = org.get_unit_by_code(demo_session, KECAMATAN)
    staf = org.resolve_role(demo_session, unit.id, "Staf")
    assert staf is not None
    held = org.lane_holders(demo_session, team_id=None, role_id=staf.id)
    assert [u.username for u in held] == ["staf1.kecamatan", "staf2.kecamatan"]
    assert held == org.users_with_role(demo_session, staf.id)
    assert org.lane_holders(demo_session, team_id=None, role_id=None) == []


def test_acting_roles_are_read_once_and_again_after_a_write(demo_session: Session) -> None:
    """``acting_role_ids`` remembers its answer within a transaction only until the session writes."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import event, select

    from storage.models import RoleMember

    (staf1,) = _ids(demo_session, "staf1.kecamatan")
    at = datetime.now(UTC)
    statements: list[str] = []
    connection = demo_session.connection()

    def capture(_conn: object, _cursor: object, sql: str, *_rest: object) -> None:
        statements.append(sql)

    event.listen(connection, "before_cursor_execute", capture)
    try:
        held = org.acting_role_ids(demo_session, staf1, at)
        assert org.acting_role_ids(demo_session, staf1, at + timedelta(seconds=1)) == held or at.second == 59
        reads = len(statements)
        member = demo_session.scalars(select(RoleMember).where(RoleMember.user_id == staf1)).first()
        assert member is not None and member.role_id in held
        member.end_date = (at - timedelta(days=2)).date()  # left the jabatan: the next read must see it
        demo_session.flush()
        assert member.role_id not in org.acting_role_ids(demo_session, staf1, at)
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    assert reads <= 2 and (reads == 1 or at.second == 59)


def test_a_unit_calendar_is_read_again_only_after_a_calendar_write(demo_session: Session) -> None:
    """``engine.calendar.unit_calendar`` is remembered across unrelated writes, not across a correction."""
    from datetime import date

    from engine.calendar import unit_calendar
    from storage import calendar as calendar_store

    unit = org.get_unit_by_code(demo_session, KECAMATAN)
    first = unit_calendar(demo_session, unit)
    org.get_user_by_username(demo_session, "staf1.kecamatan").full_name = "Nama Baru"
    demo_session.flush()  # a write of another table: the calendar stays
    assert unit_calendar(demo_session, unit) is first
    day = date(2026, 12, 7)  # a Monday
    assert first.is_working_day(day)
    calendar_store.set_correction(demo_session, unit_id=unit.id, day=day, is_working_day=False, note="Uji")
    assert not unit_calendar(demo_session, unit).is_working_day(day)
