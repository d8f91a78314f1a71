"""Claiming shared steps: claim, release, reassignment by the unit's head, and the race of two claims.

``sop_pelaporan_kinerja_kecamatan`` starts with a step of the Tim lane, a role
held by three people in the demo Kecamatan (tim1, tim2, tim3.kecamatan).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import claims, instances, organisation
from engine.database import Database
from storage import chain, org, tasks
from storage.errors import (
    ConflictError,
    InvalidTaskDataError,
    PermissionDeniedError,
    TaskClaimedError,
)
from storage.models import AuditEvent, HumanTask, Notification
from tests.support import RaceJob, race

SOP, UNIT = "sop_pelaporan_kinerja_kecamatan", "kecamatan-contoh"


def _start(database: Database) -> str:
    with database.transaction() as session:
        view = instances.start_instance(session, process_id=SOP, unit_code=UNIT, title="Laporan Triwulan",
                                        username="tim1.kecamatan")
        return view.ready_tasks[0].id


def _kinds(database: Database, task_id: str) -> list[str]:
    with database.transaction() as session:
        return list(session.scalars(select(AuditEvent.kind).where(AuditEvent.human_task_id == task_id)
                                    .order_by(AuditEvent.id)))


def test_claim_blocks_the_others_until_released(alur_db: Database) -> None:
    task_id = _start(alur_db)
    with alur_db.transaction() as session:
        before = claims.claim_of(session, task_id, "tim2.kecamatan")
        assert before.shared and before.can_claim and before.by is None
        names = [name for _, name in before.holders]  # the reassignment's choices: by full name
        assert len(names) >= 3 and names == sorted(names)
        assert [u.username for u in claims.holders(session, tasks.get(session, task_id))] == sorted(
            username for username, _ in before.holders)  # recipients and completers: by username
        view = claims.claim(session, task_id, username="tim1.kecamatan")
        assert view.mine and view.can_release and view.by_name == "Daniel Mandowen, S.IP."
    with alur_db.transaction() as session:
        other = claims.claim_of(session, task_id, "tim2.kecamatan")
        assert other.by == "tim1.kecamatan" and not other.can_claim and not other.can_release
    with pytest.raises(TaskClaimedError, match="Daniel Mandowen"), alur_db.transaction() as session:
        instances.complete_task(session, task_id, username="tim2.kecamatan")
    with pytest.raises(TaskClaimedError), alur_db.transaction() as session:
        claims.claim(session, task_id, username="tim3.kecamatan")
    with pytest.raises(TaskClaimedError), alur_db.transaction() as session:
        claims.release(session, task_id, username="tim2.kecamatan")
    with pytest.raises(InvalidTaskDataError), alur_db.transaction() as session:
        claims.claim(session, task_id, username="tim1.kecamatan")  # a double claim
    assert _kinds(alur_db, task_id) == ["task_ready", "task_claimed"]
    with alur_db.transaction() as session:
        claims.release(session, task_id, username="tim1.kecamatan")
    with alur_db.transaction() as session:  # first-come again
        instances.complete_task(session, task_id, username="tim2.kecamatan")
    assert _kinds(alur_db, task_id) == ["task_ready", "task_claimed", "task_released", "task_completed"]
    with alur_db.transaction() as session:
        instance_id = session.get(HumanTask, task_id).instance_id
        assert chain.verify_instance(session, instance_id) is None


def test_outsiders_and_single_holder_lanes_cannot_claim(alur_db: Database) -> None:
    task_id = _start(alur_db)
    with pytest.raises(PermissionDeniedError), alur_db.transaction() as session:
        claims.claim(session, task_id, username="staf1.kecamatan")
    with pytest.raises(PermissionDeniedError), alur_db.transaction() as session:
        claims.claim(session, task_id, username="camat.contoh")  # reads the unit, never acts
    with alur_db.transaction() as session:
        instances.complete_task(session, task_id, username="tim1.kecamatan")
        (nxt,) = [t for t in instances.inbox(session, "kasubag.evapor.kecamatan")]
    with pytest.raises(InvalidTaskDataError, match="hanya dipegang"), alur_db.transaction() as session:
        claims.claim(session, nxt.id, username="kasubag.evapor.kecamatan")
    assert _kinds(alur_db, task_id) == ["task_ready", "task_completed"]


def test_head_reassigns_and_the_new_holder_is_notified(alur_db: Database) -> None:
    task_id = _start(alur_db)
    with alur_db.transaction() as session:
        claims.claim(session, task_id, username="tim1.kecamatan")
    with pytest.raises(PermissionDeniedError), alur_db.transaction() as session:
        claims.reassign(session, task_id, username="sekretaris.kecamatan", to_username="tim2.kecamatan")
    with pytest.raises(InvalidTaskDataError), alur_db.transaction() as session:
        claims.reassign(session, task_id, username="camat.contoh", to_username="staf1.kecamatan")
    with alur_db.transaction() as session:
        view = claims.reassign(session, task_id, username="camat.contoh", to_username="tim2.kecamatan")
        assert view.by == "tim2.kecamatan" and view.can_reassign
        tim2 = org.get_user_by_username(session, "tim2.kecamatan")
        note = session.scalars(select(Notification).where(Notification.user_id == tim2.id,
                                                          Notification.kind == "claim_reassigned")).one()
        assert note.data["from"] == "Daniel Mandowen, S.IP." and note.human_task_id == task_id
    with pytest.raises(TaskClaimedError), alur_db.transaction() as session:
        instances.complete_task(session, task_id, username="tim1.kecamatan")
    with alur_db.transaction() as session:
        instances.complete_task(session, task_id, username="tim2.kecamatan")
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == "task_claim_reassigned")).one()
        assert event.data == {"from": "tim1.kecamatan", "to": "tim2.kecamatan"}


def test_release_claims_of_a_user_who_left(alur_db: Database) -> None:
    first, second = _start(alur_db), _start(alur_db)
    with alur_db.transaction() as session:
        for task_id in (first, second):
            claims.claim(session, task_id, username="tim3.kecamatan")
        tim3 = org.get_user_by_username(session, "tim3.kecamatan").id
        assert claims.release_claims_of_user(session, tim3, "dinonaktifkan") == 2
        assert claims.release_claims_of_user(session, tim3, "dinonaktifkan") == 0
    with alur_db.transaction() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == "task_released",
                                                         AuditEvent.human_task_id == first)).one()
        assert event.actor_id is None and event.data["reason"] == "dinonaktifkan"
        assert claims.claim_of(session, first, "tim1.kecamatan").can_claim


def _race(database: Database, task_id: str) -> list[object]:
    """Claim ``task_id`` as tim1 and tim2 from two threads released together; each one's view or error."""
    def claim_as(username: str) -> RaceJob:
        def saw_it_unclaimed(session: Session) -> None:
            assert claims.claim_of(session, task_id, username).can_claim

        return saw_it_unclaimed, lambda session: claims.claim(session, task_id, username=username)

    return race(database, [claim_as("tim1.kecamatan"), claim_as("tim2.kecamatan")], join_timeout_s=60)


def test_two_simultaneous_claims_one_wins(scratch_alur_db: Database) -> None:
    database = scratch_alur_db
    for _ in range(3):
        task_id = _start(database)
        outcomes = _race(database, task_id)
        wins = [o for o in outcomes if isinstance(o, claims.ClaimView)]
        losses = [o for o in outcomes if not isinstance(o, claims.ClaimView)]
        assert len(wins) == 1 and len(losses) == 1, outcomes
        assert isinstance(losses[0], ConflictError), outcomes
        assert _kinds(database, task_id) == ["task_ready", "task_claimed"]
        with database.transaction() as session:
            assert session.get(HumanTask, task_id).assignee_id == org.get_user_by_username(
                session, wins[0].by or "").id


def test_a_claimer_who_loses_the_lane_releases_the_claim(alur_db: Database) -> None:
    """Issue 9 meets claiming: deactivating the claimer releases the claim at once (recorded,
    without an actor); a claim whose holder lost the lane otherwise blocks nobody."""
    task_id = _start(alur_db)
    with alur_db.transaction() as session:
        claims.claim(session, task_id, username="tim1.kecamatan")
        tim1 = org.get_user_by_username(session, "tim1.kecamatan")
        organisation.save_user(session, "tim1.kecamatan", full_name=tim1.full_name, nip=tim1.nip, active=False,
                               by_id=org.get_user_by_username(session, "admin.alur").id, now=datetime.now(UTC))
    assert _kinds(alur_db, task_id) == ["task_ready", "task_claimed", "task_released"]
    with alur_db.transaction() as session:
        assert claims.claim_of(session, task_id, "tim2.kecamatan").can_claim
        instances.complete_task(session, task_id, username="tim2.kecamatan")


def test_a_claim_left_by_someone_no_longer_holding_the_lane_blocks_nobody(alur_db: Database) -> None:
    task_id = _start(alur_db)
    with alur_db.transaction() as session:
        claims.claim(session, task_id, username="tim1.kecamatan")
        tim1 = org.get_user_by_username(session, "tim1.kecamatan")
        tim1.active = False  # behind the organisation pages' back: no hook ran
    with alur_db.transaction() as session:
        view = claims.claim_of(session, task_id, "tim2.kecamatan")
        assert view.by is None and view.can_claim
        instances.complete_task(session, task_id, username="tim2.kecamatan")
    assert _kinds(alur_db, task_id) == ["task_ready", "task_claimed", "task_released", "task_completed"]
