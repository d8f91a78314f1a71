"""Notifications: in-app rows, e-mail (immediate or a daily digest) and a unit's webhook.

:func:`notify` runs in the worker, inside the transaction of the job that
reports the event (a step became ready, was returned for correction, a
reminder, an escalation: ``engine.followups``), never in a user's request: it adds
one ``notification`` row per recipient and queues the deliveries as jobs —
``email`` (one message per notification, for users who chose "segera"),
``digest`` (one message a day at :data:`DIGEST_HOUR` in the unit's local time,
for users who chose "ringkasan harian") and ``webhook`` (one JSON POST per event
to the unit's URL). Only the worker sends (never a user's request).

A send is recorded in three steps — note the attempt (committed), send, record
the success — so a worker killed between sending and recording causes at most
one more send of the same message: a job whose ``unconfirmed_sends`` already
reached 2 is given up instead of sent a third time. Messages carry stable ids
(``Message-ID``, ``X-Alur-Notification-Id``, ``X-Alur-Event-Id``) that make such
a duplicate visible.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from engine import mail, webhook
from engine.worker import JobRun, register
from storage import instances, jobs, org
from storage import notifications as store
from storage.errors import DeliveryError, InvalidTaskDataError
from storage.models import EMAIL_MODES, HumanTask, Notification, NotificationPreference, User

__all__ = [
    "DIGEST_HOUR", "JOB_KINDS", "NotificationView", "list_for", "mark_read", "notify", "preference_of",
    "render", "set_preference", "unread_count",
]

JOB_KINDS = ("email", "digest", "webhook")
DIGEST_HOUR = time(7, 0)
"""When the daily digest is sent, in the local time of the user's unit (before the 07:30 start of work)."""
MAX_SENDS = 2  # the first send and at most one duplicate

_SUBJECTS = {
    "task_ready": "Langkah baru untuk Anda",
    "task_returned": "Dikembalikan untuk diperbaiki",
    "task_reminder": "Pengingat",
    "task_due": "Tenggat tiba",
    "task_escalated": "Eskalasi: langkah terlambat",
    "task_reassigned": "Langkah dialihkan",
    "claim_reassigned": "Langkah yang sedang dikerjakan dialihkan kepada Anda",
}
_EMAIL_RE = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


@dataclass(frozen=True)
class NotificationView:
    """One notification as a page shows it. ``data``: step_name, instance_title, due_at, lane, ..."""

    id: int
    kind: str
    created_at: datetime
    read: bool
    instance_id: int | None
    task_id: str | None
    data: dict[str, Any]


def notify(session: Session, *, kind: str, users: Sequence[User], human: HumanTask, at: datetime,
           source_key: str, data: dict[str, Any] | None = None,
           webhook_url: str | None = None) -> list[Notification]:
    """Notify ``users`` about task ``human`` (kind in ``NOTIFICATION_KINDS``); queue e-mails and the webhook.

    ``source_key`` names the event uniquely (e.g. ``ready:<task id>``): the
    webhook job's key is derived from it, so an event is posted once.
    ``webhook_url`` is the unit's (None: no webhook job). The deliveries are
    queued with one INSERT.
    """
    title = instances.titles(session, [human.instance_id]).get(human.instance_id, "")
    payload = {"step_name": human.name, "instance_title": title, "lane": human.lane_name,
               "due_at": human.due_at.isoformat() if human.due_at else None, **(data or {})}
    unit = org.get_unit(session, human.unit_id)
    prefs = store.preferences(session, [u.id for u in users])
    queued: list[jobs.NewJob] = []
    rows = store.add_many(session, user_ids=[u.id for u in users], kind=kind, unit_id=human.unit_id,
                          created_at=at, instance_id=human.instance_id, human_task_id=human.id, data=payload)
    for user, row in zip(users, rows, strict=True):
        queued += _email_jobs(row, prefs.get(user.id), user.id, unit.timezone, at)
    if webhook_url:
        body = {"id": source_key, "event": kind, "occurred_at": at.isoformat(), "unit": unit.code,
                "instance": {"id": human.instance_id, "title": title},
                "task": {"id": human.id, "step": human.name, "lane": human.lane_name, "due_at": payload["due_at"],
                         "url": f"/tugas/{human.id}"},
                "recipients": sorted(u.username for u in users), "data": data or {}}
        queued.append(jobs.NewJob(kind="webhook", key=f"webhook:{source_key}", run_at=at,
                                  payload={"unit_id": human.unit_id, "body": body}, instance_id=human.instance_id,
                                  max_attempts=8))
    jobs.enqueue_many(session, queued)
    return rows


def _email_jobs(row: Notification, pref: NotificationPreference | None, user_id: int, zone: str,
                at: datetime) -> list[jobs.NewJob]:
    if pref is None or not pref.email or pref.email_mode == "off":
        return []
    if pref.email_mode == "immediate":
        return [jobs.NewJob(kind="email", key=f"email:{row.id}", run_at=at, payload={"notification_id": row.id})]
    return [_digest_job(user_id, zone, at)]


def _digest_job(user_id: int, zone: str, at: datetime) -> jobs.NewJob:
    local = at.astimezone(ZoneInfo(zone))
    send_local = datetime.combine(local.date(), DIGEST_HOUR, tzinfo=local.tzinfo)
    if send_local <= local:
        send_local += timedelta(days=1)
    day = send_local.date().isoformat()
    return jobs.NewJob(kind="digest", key=f"digest:{user_id}:{day}", run_at=send_local.astimezone(UTC),
                       payload={"user_id": user_id, "day": day})


def unread_count(session: Session, username: str) -> int:
    """How many unread notifications ``username`` has. Raises ``UserNotFound``."""
    return store.unread_count(session, org.get_user_by_username(session, username).id)


def list_for(session: Session, username: str, *, limit: int = 100) -> list[NotificationView]:
    """``username``'s latest notifications, newest first. Raises ``UserNotFound``."""
    user = org.get_user_by_username(session, username)
    return [NotificationView(id=n.id, kind=n.kind, created_at=n.created_at, read=n.read_at is not None,
                             instance_id=n.instance_id, task_id=n.human_task_id, data=n.data)
            for n in store.for_user(session, user.id, limit=limit)]


def mark_read(session: Session, username: str, ids: Sequence[int] | None = None, *,
              now: datetime | None = None) -> int:
    """Mark ``username``'s notifications ``ids`` (None: all) read; return how many changed."""
    user = org.get_user_by_username(session, username)
    return store.mark_read(session, user.id, ids, at=now or datetime.now(UTC))


def preference_of(session: Session, username: str) -> tuple[str | None, str]:
    """``(e-mail address or None, mode)`` of ``username``; mode "immediate" | "digest" | "off"."""
    pref = store.preference(session, org.get_user_by_username(session, username).id)
    return (pref.email, pref.email_mode) if pref is not None else (None, "immediate")


def set_preference(session: Session, username: str, *, email: str | None, mode: str) -> None:
    """Set ``username``'s e-mail address and mode. Raises ``InvalidTaskDataError`` for a bad address or mode."""
    address = (email or "").strip() or None
    if address is not None and (len(address) > 255 or not _EMAIL_RE.match(address)):
        raise InvalidTaskDataError(f"Alamat e-mail tidak sah: {address!r}")
    if mode not in EMAIL_MODES:
        raise InvalidTaskDataError(f"Pilihan e-mail tidak dikenal: {mode!r}")
    store.save_preference(session, org.get_user_by_username(session, username).id, email=address, email_mode=mode)


def render(notification: Notification, *, full_name: str, zone: str, base_url: str) -> tuple[str, str]:
    """``(subject, body)`` of a notification's e-mail, in Bahasa Indonesia, with a link to the step."""
    data = notification.data
    subject = f"[Alur] {_SUBJECTS[notification.kind]}: {data.get('step_name')} — {data.get('instance_title')}"
    return subject, "\n".join([f"Yth. {full_name},", "", *_lines(notification, zone, base_url), "",
                               f"Pesan ini dikirim oleh Alur (notifikasi {notification.id})."])


def _lines(notification: Notification, zone: str, base_url: str) -> list[str]:
    data = notification.data
    due = _local(data.get("due_at"), zone)
    first = {
        "task_ready": "Ada langkah baru untuk Anda kerjakan.",
        "task_returned": "Langkah ini dikembalikan untuk diperbaiki." + (
            f" Catatan: {data['catatan']}" if data.get("catatan") else ""),
        "task_reminder": f"Pengingat: {data.get('percent', '')} % dari Waktu langkah ini sudah berlalu.",
        "task_due": "Tenggat langkah ini sudah tiba.",
        "task_escalated": (f"Langkah ini sudah melewati tenggat {data.get('overdue_minutes', '')} menit kerja; "
                           f"pemegangnya: {', '.join(data.get('holders', []))}."),
        "task_reassigned": "Langkah ini dialihkan kepada Anda.",
        "claim_reassigned": (f"{data.get('by', 'Pimpinan unit')} mengalihkan langkah ini kepada Anda"
                             + (f" dari {data['from']}." if data.get("from") else ".")),
    }[notification.kind]
    lines = [first, "", f"Langkah : {data.get('step_name')}", f"Perihal : {data.get('instance_title')}",
             f"Lajur   : {data.get('lane')}"]
    if due:
        lines.append(f"Tenggat : {due}")
    if notification.human_task_id:
        lines += ["", f"Buka langkah: {base_url}/tugas/{notification.human_task_id}"]
    return lines


def _local(iso: str | None, zone: str) -> str | None:
    if not iso:
        return None
    local = datetime.fromisoformat(iso).astimezone(ZoneInfo(zone))
    names = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
    return f"{local:%d-%m-%Y %H:%M} {names.get(zone) or local.tzname()}"


# --- the worker's side: deliveries -------------------------------------------


def _begin_send(run: JobRun, session: Session) -> bool:
    """Note the coming send; False (job given up) when it may already have gone out twice."""
    if run.job.unconfirmed_sends >= MAX_SENDS:
        jobs.fail(session, run.job.id, run.job.token, now=run.clock(),
                  error="mungkin sudah terkirim dua kali; tidak dikirim lagi / possibly sent twice")
        return False
    jobs.begin_send(session, run.job.id, run.job.token, now=run.clock(), lease=run.lease)
    return True


def _send_failed(run: JobRun, exc: DeliveryError) -> None:
    with run.transaction() as session:
        if exc.ambiguous:
            jobs.retry_later(session, run.job.id, run.job.token, run_at=run.retry_at(), error=str(exc))
        elif run.job.attempts >= run.job.max_attempts:
            jobs.fail(session, run.job.id, run.job.token, now=run.clock(), error=str(exc))
        else:
            jobs.send_failed(session, run.job.id, run.job.token, run_at=run.retry_at(), error=str(exc))


@register("email")
def deliver_email(run: JobRun) -> None:
    """Send one notification by e-mail to a user who chose immediate e-mail."""
    settings = run.settings
    with run.transaction() as session:
        row = store.get(session, run.job.payload["notification_id"])
        if row is None or row.emailed_at is not None:
            run.finish(session, "sudah terkirim / nothing to send")
            return
        pref = store.preference(session, row.user_id)
        if pref is None or not pref.email or pref.email_mode == "off":
            run.finish(session, "tanpa alamat e-mail / e-mail off")
            return
        user, unit = org.get_user(session, row.user_id), org.get_unit(session, row.unit_id)
        if pref.email_mode == "digest":
            jobs.enqueue_many(session, [_digest_job(user.id, unit.timezone, run.clock())])
            run.finish(session, "masuk ringkasan harian / moved to digest")
            return
        if not settings.mail.host:
            run.finish(session, "SMTP tidak diatur / e-mail is off")
            return
        subject, body = render(row, full_name=user.full_name, zone=unit.timezone, base_url=settings.base_url)
        message = mail.build_message(sender=settings.mail.sender, to=pref.email, subject=subject, body=body,
                                     msg_id=mail.message_id(f"notifikasi-{row.id}", settings.mail.sender),
                                     notification_ids=[row.id])
        if not _begin_send(run, session):
            return
    _send_and_record(run, message, [row.id], f"terkirim ke {pref.email}")


@register("digest")
def deliver_digest(run: JobRun) -> None:
    """Send a user's daily digest: every notification not yet e-mailed, in one message."""
    settings = run.settings
    with run.transaction() as session:
        user = org.get_user(session, run.job.payload["user_id"])
        pref = store.preference(session, user.id)
        rows = store.pending_email(session, user.id, created_before=run.clock())
        if not rows or pref is None or not pref.email or pref.email_mode == "off" or not settings.mail.host:
            run.finish(session, "tidak ada yang dikirim / nothing to send")
            return
        zone = org.get_unit(session, user.unit_id).timezone
        parts = [f"Yth. {user.full_name},", "", f"Ringkasan {len(rows)} notifikasi Alur:", ""]
        for row in rows:
            parts += [f"• {_SUBJECTS[row.kind]}", *(f"  {line}" for line in _lines(row, zone, settings.base_url)
                                                    if line), ""]
        parts.append("Pesan ini dikirim oleh Alur.")
        day = run.job.payload["day"]
        message = mail.build_message(
            sender=settings.mail.sender, to=pref.email, subject=f"[Alur] Ringkasan harian {day}",
            body="\n".join(parts), msg_id=mail.message_id(f"ringkasan-{user.id}-{day}", settings.mail.sender),
            notification_ids=[r.id for r in rows])
        ids = [r.id for r in rows]
        if not _begin_send(run, session):
            return
    _send_and_record(run, message, ids, f"{len(ids)} notifikasi terkirim ke {pref.email}")


def _send_and_record(run: JobRun, message: EmailMessage, ids: list[int], done: str) -> None:
    """Send ``message`` (outside any transaction), then mark notifications ``ids`` e-mailed and finish the job."""
    try:
        mail.send(run.settings.mail, message)
    except DeliveryError as exc:
        _send_failed(run, exc)
        return
    with run.transaction() as session:
        store.mark_emailed(session, ids, at=run.clock())
        run.finish(session, done)


@register("webhook")
def deliver_webhook(run: JobRun) -> None:
    """POST one notification event to the unit's webhook URL, signed; retried with back-off."""
    with run.transaction() as session:
        policy = store.policy(session, run.job.payload["unit_id"])
        if policy is None or not policy.webhook_url:
            run.finish(session, "tanpa webhook / no webhook")
            return
        url, secret = policy.webhook_url, policy.webhook_secret
        if not _begin_send(run, session):
            return
    body = run.job.payload["body"]
    try:
        status = webhook.post(url, secret, str(body.get("id", run.job.key)), body)
    except DeliveryError as exc:
        _send_failed(run, exc)
        return
    with run.transaction() as session:
        run.finish(session, f"HTTP {status}")
