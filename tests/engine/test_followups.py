"""Reminders, escalation and notifications run by the worker, against a real local SMTP server and webhook receiver.

The worker's clock is the test's: a step left past its share of the Waktu, its
due time and the escalation delay produces, each exactly once, a history
entry, in-app notifications and e-mails (aiosmtpd on 127.0.0.1).
"""

from __future__ import annotations

import email
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine import followups, instances, notifications
from engine.calendar import calendar_for
from engine.database import Database
from engine.settings import MailSettings, Settings, load_settings
from engine.worker import Worker, backoff
from storage import notifications as notification_store
from storage import org
from storage.models import AuditEvent, HumanTask, Job, Notification

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
UNIT = "kecamatan-contoh"  # Asia/Jayapura (WIT, UTC+9)
T0 = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)  # Monday 23 November 2026, 08:00 WIT


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    """A real SMTP server on 127.0.0.1 collecting every message."""
    inbox, port = _Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Scene:
    database: Database
    settings: Settings
    clock: Clock
    inbox: _Inbox
    task_id: str = ""
    holders: list[str] = field(default_factory=list)

    def worker(self, name: str = "w1") -> Worker:
        return Worker(self.database, self.settings, name=name, clock=self.clock)

    def events(self, kind: str) -> list[AuditEvent]:
        with self.database.transaction() as session:
            return list(session.scalars(select(AuditEvent).where(AuditEvent.kind == kind)
                                        .order_by(AuditEvent.id)))

    def job(self, key: str) -> Job:
        with self.database.transaction() as session:
            return session.scalars(select(Job).where(Job.key == key)).one()


@pytest.fixture
def scene(alur_db: Database, smtp: tuple[_Inbox, int]) -> Scene:
    """A Pelaporan Kinerja started at T0 in the Kecamatan; its first step's holders take e-mail at once."""
    inbox, port = smtp
    settings = Settings(database_url=str(alur_db.engine.url), bpmn_dir=BPMN_DIR, base_url="http://alur.test",
                        mail=MailSettings(host="127.0.0.1", port=port, tls="none", sender="alur@kab-contoh.go.id"),
                        worker_lease_seconds=60)
    result = Scene(alur_db, settings, Clock(), inbox)
    with alur_db.transaction() as session:
        for name in ("tim1.kecamatan", "staf1.kecamatan", "camat.contoh", "sekretaris.kecamatan"):
            notifications.set_preference(session, name, email=f"{name}@kab-contoh.go.id", mode="immediate")
        view = instances.start_instance(session, process_id="sop_pelaporan_kinerja_kecamatan", unit_code=UNIT,
                                        title="Laporan Kinerja Triwulan IV", username="tim1.kecamatan", now=T0)
        result.task_id = view.ready_tasks[0].id
        result.holders = instances.candidates(session, result.task_id)
    return result


def _subjects(inbox: _Inbox) -> list[str]:
    return [str(m["Subject"]) for m in inbox.messages]


def test_step_left_past_its_due_time_is_reminded_then_escalated_once(scene: Scene) -> None:
    worker = scene.worker()
    worker.drain()
    arrived = [m for m in scene.inbox.messages if "Langkah baru" in str(m["Subject"])]
    assert arrived and len(arrived) == len([h for h in scene.holders if h in ("tim1.kecamatan", "staf1.kecamatan")])
    body = arrived[0].get_payload(decode=True).decode()
    assert f"http://alur.test/tugas/{scene.task_id}" in body and "Yth." in body
    assert arrived[0]["Message-ID"].startswith("<notifikasi-") and arrived[0]["Message-ID"].endswith("@kab-contoh.go.id>")
    with scene.database.transaction() as session:
        human = session.get(HumanTask, scene.task_id)
        assert human is not None
        calendar = calendar_for(org.get_unit(session, human.unit_id).timezone)
        times = followups.followup_times(human, calendar, followups.Policy())
    assert times["share"] and times["due"] and times["escalate"]
    assert times["share"] < times["due"] < times["escalate"]

    scene.clock.now = times["share"] - timedelta(minutes=1)
    worker.drain()
    assert scene.events("task_reminded") == []
    scene.clock.now = times["share"] + timedelta(minutes=1)
    worker.drain()
    (share,) = scene.events("task_reminded")
    assert share.data["stage"] == "share" and share.data["percent"] == 75
    assert share.data["recipients"] == sorted(scene.holders)  # storage.org.lane_holders: by username, every run

    scene.clock.now = times["escalate"] + timedelta(minutes=5)
    worker.drain()
    worker.drain()
    reminded = scene.events("task_reminded")
    assert [e.data["stage"] for e in reminded] == ["share", "due"]
    (escalated,) = scene.events("task_escalated")
    # the Tim's superior jabatan in the demo Kecamatan is the Sekretaris (role.superior_role_id)
    assert escalated.data["recipients"] == ["sekretaris.kecamatan"] and escalated.human_task_id == scene.task_id
    assert escalated.data["overdue_minutes"] >= 450
    escalation_mail = [m for m in scene.inbox.messages if "Eskalasi" in str(m["Subject"])]
    assert len(escalation_mail) == 1 and escalation_mail[0]["To"] == "sekretaris.kecamatan@kab-contoh.go.id"
    with scene.database.transaction() as session:
        assert notifications.unread_count(session, "sekretaris.kecamatan") == 1
        assert notifications.unread_count(session, "camat.contoh") == 0
        assert [n.kind for n in notifications.list_for(session, "tim1.kecamatan")] == [
            "task_due", "task_reminder", "task_ready"]
        assert followups.escalated_task_ids(session, [(scene.task_id, escalated.instance_id)]) == {scene.task_id}
        history = [e.kind for e in instances.history_of(session, escalated.instance_id)]
    assert history.count("task_reminded") == 2 and history.count("task_escalated") == 1
    ids = [m["Message-ID"] for m in scene.inbox.messages]
    assert len(ids) == len(set(ids))  # no duplicate without a killed worker


def test_a_ready_step_queues_one_job_and_the_worker_notifies(scene: Scene) -> None:
    """The request that makes a step ready only INSERTs one follow-up job; notifications come from the worker."""
    with scene.database.transaction() as session:
        queued = [(j.kind, j.key, j.payload_json) for j in session.scalars(select(Job))]
        assert session.scalars(select(Notification)).first() is None
    assert queued == [("task_followup", f"followup:{scene.task_id}",
                       json.dumps({"stage": "ready", "task_id": scene.task_id}))]
    scene.worker().drain()
    job = scene.job(f"followup:{scene.task_id}")
    assert (job.state, job.payload["stage"], job.attempts) == ("pending", "share", 0)
    with scene.database.transaction() as session:
        assert all(notifications.unread_count(session, name) == 1 for name in scene.holders)
        assert [j.id for j in session.scalars(select(Job).where(Job.kind == "task_followup"))] == [job.id]


def test_completed_step_gets_no_reminder(scene: Scene) -> None:
    scene.worker().drain()  # the holders are told the step arrived
    with scene.database.transaction() as session:
        instances.complete_task(session, scene.task_id, username="tim1.kecamatan",
                                now=T0 + timedelta(minutes=10))
    scene.clock.now = T0 + timedelta(days=30)
    scene.worker().drain()
    assert [e for e in scene.events("task_reminded") if e.human_task_id == scene.task_id] == []
    job = scene.job(f"followup:{scene.task_id}")
    assert job.state == "done" and job.result.startswith("langkah sudah tidak menunggu")


def test_step_completed_before_the_worker_ran_notifies_nobody(scene: Scene) -> None:
    with scene.database.transaction() as session:
        instances.complete_task(session, scene.task_id, username="tim1.kecamatan", now=T0 + timedelta(minutes=1))
    scene.worker().drain()
    with scene.database.transaction() as session:
        assert notifications.unread_count(session, "tim2.kecamatan") == 0
    assert scene.job(f"followup:{scene.task_id}").result.startswith("langkah sudah tidak menunggu")


def test_a_later_policy_moves_the_reminder(scene: Scene) -> None:
    scene.worker().drain()  # stage "ready" done; the job now waits for the share reminder
    with scene.database.transaction() as session:
        followups.set_policy(session, UNIT, reminder_percent=90)
    share_job = scene.job(f"followup:{scene.task_id}")
    assert share_job.payload["stage"] == "share"
    scene.clock.now = share_job.run_at + timedelta(minutes=1)
    scene.worker().drain()
    assert scene.events("task_reminded") == []
    moved = scene.job(f"followup:{scene.task_id}")
    assert moved.state == "pending" and moved.run_at > share_job.run_at and moved.attempts == 0
    assert moved.payload["stage"] == "share"


def test_a_stage_turned_off_is_skipped(scene: Scene) -> None:
    scene.worker().drain()
    with scene.database.transaction() as session:
        followups.set_policy(session, UNIT, remind_when_due=False)
    scene.clock.now = T0 + timedelta(days=30)
    scene.worker().drain()
    assert [e.data["stage"] for e in scene.events("task_reminded")] == ["share"]
    assert len(scene.events("task_escalated")) == 1
    assert scene.job(f"followup:{scene.task_id}").state == "done"


def test_bad_policy_is_refused(scene: Scene) -> None:
    from storage.errors import InvalidTaskDataError

    with scene.database.transaction() as session:
        for bad in ({"reminder_percent": 0}, {"reminder_percent": 100}, {"escalate_after_minutes": -1},
                    {"webhook_url": "ftp://x", "webhook_secret": "s"}, {"webhook_url": "http://x"}):
            with pytest.raises(InvalidTaskDataError):
                followups.set_policy(session, UNIT, **bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidTaskDataError):
            notifications.set_preference(session, "camat.contoh", email="not an address", mode="immediate")
        with pytest.raises(InvalidTaskDataError):
            notifications.set_preference(session, "camat.contoh", email=None, mode="weekly")


class _Killed(BaseException):
    """A worker process dying (kill -9): nothing after the send is recorded."""


def _kill_after_send(monkeypatch: pytest.MonkeyPatch) -> None:
    def die(*_args: Any, **_kwargs: Any) -> None:
        raise _Killed

    monkeypatch.setattr(notification_store, "mark_emailed", die)


def test_worker_killed_between_send_and_record_sends_one_duplicate_at_most(
        scene: Scene, monkeypatch: pytest.MonkeyPatch) -> None:
    _kill_after_send(monkeypatch)
    with pytest.raises(_Killed):
        scene.worker("doomed-1").drain()
    with scene.database.transaction() as session:
        (job_key,) = [j.key for j in session.scalars(select(Job).where(Job.kind == "email", Job.state == "running"))]
    assert len(scene.inbox.messages) == 1
    scene.clock.now += timedelta(seconds=61)  # the lease ends
    with pytest.raises(_Killed):
        scene.worker("doomed-2").drain()
    assert len(scene.inbox.messages) == 2
    monkeypatch.undo()
    scene.clock.now += timedelta(seconds=61)
    scene.worker("survivor").drain()
    first = [m for m in scene.inbox.messages if m["Message-ID"] == scene.inbox.messages[0]["Message-ID"]]
    assert len(first) == 2  # the duplicate carries the same Message-ID: visible as one message sent twice
    job = scene.job(job_key)
    assert job.state == "failed" and "dua kali" in (job.last_error or "")


def test_duplicate_then_recorded(scene: Scene, monkeypatch: pytest.MonkeyPatch) -> None:
    _kill_after_send(monkeypatch)
    with pytest.raises(_Killed):
        scene.worker("doomed").drain()
    monkeypatch.undo()
    scene.clock.now += timedelta(seconds=61)
    scene.worker("survivor").drain()
    ids = [m["Message-ID"] for m in scene.inbox.messages]
    assert len(ids) - len(set(ids)) == 1
    assert ids[0] == ids[1] and scene.inbox.messages[0]["X-Alur-Notification-Id"] == \
        scene.inbox.messages[1]["X-Alur-Notification-Id"]


def test_digest_collects_the_day_in_one_message(scene: Scene) -> None:
    with scene.database.transaction() as session:
        notifications.set_preference(session, "tim1.kecamatan", email="tim1@kab-contoh.go.id", mode="digest")
    scene.worker().drain()  # the immediate job finds the user moved to the digest
    assert not any(m["To"] == "tim1@kab-contoh.go.id" for m in scene.inbox.messages)
    scene.clock.now = T0 + timedelta(days=1)  # past 07:00 WIT the next day
    scene.worker().drain()
    (digest,) = [m for m in scene.inbox.messages if m["To"] == "tim1@kab-contoh.go.id"]
    assert "Ringkasan harian" in str(digest["Subject"]) and scene.task_id in digest.get_payload(decode=True).decode()


def test_smtp_down_is_retried_with_backoff(scene: Scene) -> None:
    scene.settings = replace(scene.settings, mail=replace(scene.settings.mail, port=_free_port()))
    scene.worker().drain()
    with scene.database.transaction() as session:
        job = session.scalars(select(Job).where(Job.kind == "email")).first()
    assert job is not None and job.state == "pending" and job.unconfirmed_sends == 0
    assert job.run_at == T0 + backoff(1) and "tidak dapat dihubungi" in (job.last_error or "")


class _Receiver(BaseHTTPRequestHandler):
    statuses: list[int] = []
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        self.send_response(type(self).statuses.pop(0) if type(self).statuses else 200)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


def test_webhook_is_signed_and_retried_after_an_error(alur_db: Database) -> None:
    _Receiver.statuses, _Receiver.received = [500], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/alur"
        with alur_db.transaction() as session:
            followups.set_policy(session, UNIT, webhook_url=url, webhook_secret="rahasia-kantor")
            instances.start_instance(session, process_id="sop_pelaporan_kinerja_kecamatan", unit_code=UNIT,
                                     title="Webhook", username="tim1.kecamatan", now=T0)
        clock = Clock()
        settings = replace(load_settings({"ALUR_DATABASE_URL": str(alur_db.engine.url)}), worker_lease_seconds=60)
        worker = Worker(alur_db, settings, clock=clock, retry_base_seconds=30)
        worker.drain()
        assert len(_Receiver.received) == 1
        with alur_db.transaction() as session:
            job = session.scalars(select(Job).where(Job.kind == "webhook")).one()
        assert (job.state, job.run_at, job.unconfirmed_sends) == ("pending", T0 + timedelta(seconds=30), 0)
        clock.now = T0 + timedelta(seconds=31)
        worker.drain()
        assert len(_Receiver.received) == 2
        (h1, b1), (h2, b2) = _Receiver.received
        assert b1 == b2 and h1["X-Alur-Event-Id"] == h2["X-Alur-Event-Id"]
        expected = "sha256=" + hmac.new(b"rahasia-kantor", b2, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(h2["X-Alur-Signature"], expected)
        payload = json.loads(b2)
        assert payload["event"] == "task_ready" and payload["unit"] == UNIT and payload["recipients"]
        with alur_db.transaction() as session:
            assert session.scalars(select(Job).where(Job.kind == "webhook")).one().state == "done"
    finally:
        server.shutdown()
        server.server_close()


def test_two_workers_on_sqlite_run_each_job_once(scene: Scene) -> None:
    scene.clock.now = T0 + timedelta(days=30)
    workers = [scene.worker(f"w{i}") for i in range(2)]
    threads = [threading.Thread(target=w.drain) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    with scene.database.transaction() as session:
        states = {j.key: (j.state, j.attempts) for j in session.scalars(select(Job))}
    assert states and all(s == "done" and a == 1 for s, a in states.values()), states
    assert len(scene.events("task_escalated")) == 1
    assert [e.data["stage"] for e in scene.events("task_reminded")] == ["share", "due"]
