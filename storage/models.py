"""SQLAlchemy models of every table in the shared storage schema.

Timestamps are :class:`UTCDateTime`: timezone-aware UTC in and out on every
backend. Foreign keys to rows a table *owns* (a unit's roles, an instance's
tasks, link rows) cascade on delete; plain references keep the default NO ACTION,
so e.g. a user, role or process instance with history cannot be deleted (checked
at the end of the statement, which lets cascades run first). ``audit_event`` is
append-only: migration 0001 adds triggers that refuse UPDATE and DELETE; so is
``document`` (migration 0002): a step redone after "tidak" adds a new version,
and ``audit_seal`` (migration 0006). Migration 0006 also chains every audit
event to the one before it (``AuditEvent.chain_hash``, ``storage.chain``).

Heavy text columns (``process_definition.bpmn_xml``/``spec_json``,
``process_instance.state_json``, ``document.content``) are deferred: list
queries do not load them; ``definitions.get``/``latest``/``find_by_sha``,
``instances.get`` and ``documents.get(..., with_content=True)`` do.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "MAX_ID",
    "ACCESS_KINDS", "AUDIT_KINDS", "DRAFT_STATUSES", "INSTANCE_STATUSES", "LOGIN_OUTCOMES", "STUDIO_EVENT_KINDS",
    "DESIGNATION_KINDS", "Designation", "OrgChange", "PasswordToken", "UNIT_JENIS",
    "TASK_STATES", "UNIT_KINDS", "AccessGrant", "AuditAccess", "AuditEvent", "AuditSeal", "Base", "CalendarCorrection",
    "CalendarHours",
    "Document", "HumanTask", "LoginAttempt", "LoginSession", "ProcessDefinition", "ProcessInstance", "Role",
    "RoleAlias", "RoleMember", "SopDraft", "StudioEvent", "Team", "TeamMember",
    "UTCDateTime", "Unit", "User", "utcnow",
    "EMAIL_MODES", "JOB_STATES", "NOTIFICATION_KINDS", "Job", "Notification", "NotificationPreference",
    "UnitPolicy", "POSTGRES_ONLY_INDEXES",
]

POSTGRES_ONLY_INDEXES = frozenset({"ix_process_instance_title_trgm"})
"""Indexes a migration creates on PostgreSQL only (not declarable per dialect here): the trigram
index of titles for the auditors' search ``ILIKE '%…%'`` (migration 0008)."""

UNIT_KINDS = ("bagian", "dinas", "kecamatan")
UNIT_JENIS = ("Bagian", "Dinas", "Badan", "Inspektorat", "Sekretariat", "Kantor", "Kecamatan", "Kelurahan")
"""The kinds of office a unit may be (``Unit.jenis``), as regional-government law names them."""
DESIGNATION_KINDS = ("plh", "plt")
ACCESS_KINDS = ("administrator", "analis_proses", "auditor")
INSTANCE_STATUSES = ("running", "completed", "error")
LOGIN_OUTCOMES = ("success", "failure", "throttled")
TASK_STATES = ("ready", "completed", "cancelled")
AUDIT_KINDS = (
    "instance_started", "task_ready", "task_completed", "team_formed",
    "called_process_started", "called_process_completed", "instance_completed",
    "task_cancelled", "document_attached", "instance_migrated", "task_reminded", "task_escalated",
    "timer_fired", "task_claimed", "task_released", "task_claim_reassigned", "team_restaffed",
)
DRAFT_STATUSES = ("open", "deployed", "discarded")
STUDIO_EVENT_KINDS = ("draft_created", "draft_saved", "draft_discarded", "deployed", "restored",
                      "instances_moved")

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


def _in_check(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UTCDateTime(TypeDecorator[datetime]):
    """A DateTime stored in UTC and always read back timezone-aware in UTC.

    Binding a naive datetime raises ``ValueError`` (wrapped by SQLAlchemy in
    ``StatementError``): a naive value has no defined instant. SQLite keeps no
    zone, so values are stored there as naive UTC and re-tagged on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


MAX_ID = 2**31 - 1  # the largest integer id every backend stores (PostgreSQL INTEGER; SQLite: 2**63 - 1)


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so constraint names are stable."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Unit(Base):
    """An office running SOPs (a Bagian, a Dinas, a Kecamatan, an Inspektorat...).

    ``kind`` is the family of SOPs it runs (:data:`UNIT_KINDS`); ``jenis`` the kind
    of office as people name it (:data:`UNIT_JENIS`, migration 0009: an
    Inspektorat or a Badan runs the SOPs written for a Dinas, a Kelurahan those of
    a Kecamatan); ``parent_id`` the unit it belongs to.
    """

    __tablename__ = "unit"
    __table_args__ = (CheckConstraint(_in_check("kind", UNIT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))  # IANA, e.g. "Asia/Makassar"
    jenis: Mapped[str] = mapped_column(String(32), default="", server_default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))


class User(Base):
    """A person who can start processes and complete tasks."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    nip: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))  # home unit
    # an inactive user holds no lane and cannot log in (migration 0009)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class AccessGrant(Base):
    """An access right that is not a Pelaksana role: administrator, process analyst or auditor.

    ``kind`` is one of :data:`ACCESS_KINDS`; ``unit_id`` is the unit it covers,
    or None for every unit of the installation. Migration 0003.
    """

    __tablename__ = "access_grant"
    __table_args__ = (
        CheckConstraint(_in_check("kind", ACCESS_KINDS), name="kind"),
        UniqueConstraint("user_id", "kind", "unit_id"),
        Index(None, "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class LoginAttempt(Base):
    """One try at the login form, kept for the record and for throttling (migration 0004).

    ``username`` is the name typed (stripped, at most 64 characters, control
    characters replaced), ``user_id`` the account it names when there is one;
    ``address`` the client address (``X-Forwarded-For`` only behind a trusted
    proxy), ``user_agent`` the browser's ``User-Agent`` (cut to 255
    characters); ``outcome`` one of :data:`LOGIN_OUTCOMES` — ``throttled`` means
    refused during a wait, without checking the password.
    """

    __tablename__ = "login_attempt"
    __table_args__ = (
        CheckConstraint(_in_check("outcome", LOGIN_OUTCOMES), name="outcome"),
        Index(None, "username", "attempted_at"),
        Index(None, "address", "attempted_at"),
        Index(None, "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    username: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(16))


class LoginSession(Base):
    """One login on one device: the server-side half of a session cookie (migration 0004).

    The cookie carries a random token; only its SHA-256 (``token_hash``, hex) is
    stored, so reading this table does not give anyone a usable cookie. Logging
    out deletes the row; so does "keluar dari semua perangkat" (every row of the
    user) and a password change (every other row). ``password_fingerprint`` ties
    the login to the password hash it was made with: a password changed any
    other way ends it too. ``expires_at`` is ``created_at`` plus
    ``ALUR_SESSION_HOURS``.
    """

    __tablename__ = "login_session"
    __table_args__ = (Index(None, "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    password_fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(255))


class Role(Base):
    """A Pelaksana of a unit, named as the lanes name it (e.g. "Kasubag Evapor")."""

    __tablename__ = "role"
    __table_args__ = (UniqueConstraint("unit_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    # the jabatan above this one (escalation, who may reassign; migration 0009)
    superior_role_id: Mapped[int | None] = mapped_column(ForeignKey("role.id"))


class RoleAlias(Base):
    """Another lane name for a role; ``alias`` is normalized (casefold, single spaces)."""

    __tablename__ = "role_alias"
    __table_args__ = (UniqueConstraint("unit_id", "alias"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(128))
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id", ondelete="CASCADE"))


class RoleMember(Base):
    """A user holds a role, from ``start_date`` to ``end_date`` (both inclusive, NULL: open; migration 0009).

    Dates are days in the unit's time zone.
    """

    __tablename__ = "role_member"
    __table_args__ = (Index(None, "role_id"),)

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[int] = mapped_column(
        ForeignKey("role.id", ondelete="CASCADE"), primary_key=True
    )
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


class Designation(Base):
    """A Plh or Plt of a jabatan: ``user_id`` performs the role's steps over a date range (migration 0009).

    UU 30/2014 tentang Administrasi Pemerintahan, Pasal 14; SE Kepala BKN
    1/SE/I/2021. ``kind`` is ``plh`` (Pelaksana Harian: the official is absent)
    or ``plt`` (Pelaksana Tugas: the post is vacant). ``start_date``/``end_date``
    are inclusive days in the unit's time zone; ``starts_at``/``ends_at`` the UTC
    instants they begin and end (end exclusive), which the routing compares with.
    """

    __tablename__ = "designation"
    __table_args__ = (
        CheckConstraint(_in_check("kind", DESIGNATION_KINDS), name="kind"),
        CheckConstraint("end_date >= start_date", name="range"),
        Index(None, "role_id", "ends_at"),
        Index(None, "user_id", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    kind: Mapped[str] = mapped_column(String(8))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    designated_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrgChange(Base):
    """One change of the organisation: who, what, before and after (JSON; migration 0009).

    ``kind`` names the change (``unit_saved``, ``role_saved``, ``user_saved``,
    ``membership_saved``, ``designation_created``, ``designation_ended``,
    ``calendar_corrected``, ``employees_imported``, ``password_link_issued``...);
    ``subject`` what it changed (``"unit:kecamatan-contoh"``, ``"user:budi"``).
    """

    __tablename__ = "org_change"
    __table_args__ = (Index(None, "unit_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(255))
    before_json: Mapped[str] = mapped_column(Text)
    after_json: Mapped[str] = mapped_column(Text)


class PasswordToken(Base):
    """A one-time set-password link: only the SHA-256 of its token is stored (migration 0009)."""

    __tablename__ = "password_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))


class CalendarCorrection(Base):
    """A day whose working-day status differs from the national calendar.

    ``unit_id`` NULL applies to every unit; a unit's own row overrides it.
    """

    __tablename__ = "calendar_correction"
    __table_args__ = (
        UniqueConstraint("unit_id", "day"),
        # NULLs are distinct in a unique constraint: one global row per day needs this.
        Index(
            "uq_calendar_correction_global_day",
            "day",
            unique=True,
            sqlite_where=text("unit_id IS NULL"),
            postgresql_where=text("unit_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("unit.id", ondelete="CASCADE")
    )
    day: Mapped[date] = mapped_column(Date)
    is_working_day: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(255), default="")


class CalendarHours(Base):
    """Office hours that replace the usual ones for a date range, e.g. shortened days in Ramadan.

    ``start_date``..``end_date`` are local dates of the unit, both included;
    ``weekly_json`` holds seven lists (Monday first) of ``["HH:MM", "HH:MM"]``
    opening intervals, an empty list for a closed day (``engine.calendar``
    reads it). ``unit_id`` NULL applies to every unit. Migration 0013.
    """

    __tablename__ = "calendar_hours"
    __table_args__ = (CheckConstraint("end_date >= start_date", name="date_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    weekly_json: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(String(255), default="")


class ProcessDefinition(Base):
    """One deployed version of a BPMN process (a SOP)."""

    __tablename__ = "process_definition"
    __table_args__ = (
        UniqueConstraint("process_id", "version"),
        UniqueConstraint("process_id", "sha256"),
        CheckConstraint(_in_check("unit_kind", UNIT_KINDS + ("any",)), name="unit_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per process_id
    name: Mapped[str] = mapped_column(String(255))
    unit_kind: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))  # hex digest of the file
    filename: Mapped[str] = mapped_column(String(255))
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)
    meta_json: Mapped[str] = mapped_column(Text)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProcessInstance(Base):
    """One run of a process definition in a unit; ``lock_version`` guards its state."""

    __tablename__ = "process_instance"
    __table_args__ = (
        CheckConstraint(_in_check("status", INSTANCE_STATUSES), name="status"),
        Index(None, "unit_id", "status"),
        # the auditors' search and the compliance report (migration 0006)
        Index("ix_process_instance_started", "started_at", "id"),
        Index("ix_process_instance_unit_started", "unit_id", "started_at", "id"),
        Index("ix_process_instance_completed", "completed_at", "id"),
        Index("ix_process_instance_title", "title", "id"),
        # "Saya mulai" and the search's "who started" (migration 0010)
        Index("ix_process_instance_starter", "started_by_id", "started_at", "id"),
        # the search's status and SOP filters in keyset order (migration 0008)
        Index("ix_process_instance_status_started", "status", "started_at", "id"),
        Index("ix_process_instance_definition_started", "definition_id", "started_at", "id"),
        # + on PostgreSQL only: ix_process_instance_title_trgm, GIN (title gin_trgm_ops) (POSTGRES_ONLY_INDEXES)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    title: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state_json: Mapped[str] = mapped_column(Text, deferred=True)
    serializer_version: Mapped[str] = mapped_column(String(32))
    called_definitions_json: Mapped[str] = mapped_column(Text, default="{}")
    input_json: Mapped[str] = mapped_column(Text, default="{}")
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def called_definitions(self) -> dict[str, int]:
        """``{process_id: definition_id}`` pinned for the call activities of this run."""
        return json.loads(self.called_definitions_json)

    @property
    def input_data(self) -> dict[str, Any]:
        """The data the instance was started with."""
        return json.loads(self.input_json)


class Team(Base):
    """The members of a team lane (a Tim) in one process instance.

    ``formed_by_task_id`` is the human task that named the members; it is not a
    foreign key, to avoid a cycle with ``human_task.team_id``.
    """

    __tablename__ = "team"
    __table_args__ = (UniqueConstraint("instance_id", "lane_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE")
    )
    lane_name: Mapped[str] = mapped_column(String(255))
    formed_by_task_id: Mapped[str] = mapped_column(String(36))


class TeamMember(Base):
    """A user is a member of a team."""

    __tablename__ = "team_member"
    __table_args__ = (Index(None, "user_id"),)

    team_id: Mapped[int] = mapped_column(
        ForeignKey("team.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )


class HumanTask(Base):
    """A user task that became ready: the inbox row, kept apart from the instance state.

    ``id`` is SpiffWorkflow's task UUID as a string. ``iteration`` counts how many
    times this element became ready in this instance (a review sent back with
    "tidak" makes the earlier step ready again). ``completed_at`` is when the task
    left the ready state (completed or cancelled); ``working_minutes`` the working
    time it took (office hours of the unit's calendar), set on completion.
    ``assignee_id``/``claimed_at``: who claimed the ready task of a shared lane
    ("Saya kerjakan") and since when (migration 0010); both NULL when unclaimed.
    """

    __tablename__ = "human_task"
    __table_args__ = (
        CheckConstraint(_in_check("state", TASK_STATES), name="state"),
        # the inbox reads a role's ready tasks in their order from this index (migration 0010 added ready_at, id)
        Index("ix_human_task_inbox_role", "state", "role_id", "due_at", "ready_at", "id"),
        Index("ix_human_task_inbox_team", "state", "team_id", "instance_id"),  # instance_id: migration 0010
        Index("ix_human_task_instance_state", "instance_id", "state"),
        # the compliance report and "who took part" (migration 0006)
        Index("ix_human_task_completed", "state", "completed_at"),
        Index("ix_human_task_completed_by", "completed_by_id", "instance_id"),
        # claims on shared lanes, and "Saya terlibat" / the inbox by instance (migration 0010)
        Index("ix_human_task_assignee", "assignee_id", sqlite_where=text("assignee_id IS NOT NULL"),
              postgresql_where=text("assignee_id IS NOT NULL")),
        Index("ix_human_task_longest", "state", "working_minutes"),  # the report's longest waits (migration 0008)
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE")
    )
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definition.id"))
    process_id: Mapped[str] = mapped_column(String(128))
    element_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(500))
    lane_name: Mapped[str] = mapped_column(String(255))
    role_id: Mapped[int | None] = mapped_column(ForeignKey("role.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))  # the claimer
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(16), default="ready")
    iteration: Mapped[int] = mapped_column(Integer, default=1)
    ready_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    waktu: Mapped[str | None] = mapped_column(String(32))  # ISO 8601, e.g. "PT30M"
    is_review: Mapped[bool] = mapped_column(Boolean, default=False)
    # working minutes from ready to completed on the unit's calendar (migration 0006; NULL before)
    working_minutes: Mapped[int | None] = mapped_column(Integer)


class AuditEvent(Base):
    """One entry of an instance's history. Append-only (DB triggers refuse changes)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index(None, "instance_id", "id"),
        Index("ix_audit_event_kind_keputusan", "kind", "keputusan", "instance_id"),
        # review answers by time, for the compliance report's rework rate (migration 0006)
        Index("ix_audit_event_decisions", "occurred_at", sqlite_where=text("keputusan IS NOT NULL"),
              postgresql_where=text("keputusan IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(40))  # one of AUDIT_KINDS
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    human_task_id: Mapped[str | None] = mapped_column(ForeignKey("human_task.id"))
    element_id: Mapped[str | None] = mapped_column(String(128))
    process_id: Mapped[str | None] = mapped_column(String(128))
    keputusan: Mapped[str | None] = mapped_column(String(16))  # "setuju" | "tidak"
    catatan: Mapped[str | None] = mapped_column(Text)
    data_json: Mapped[str] = mapped_column(Text, default="{}")
    # SHA-256 (32 bytes) of the previous event's chain_hash and this event's canonical
    # content (storage.chain); NULL only for a row written around the application.
    chain_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))

    @property
    def data(self) -> dict[str, Any]:
        """The event's extra data, decoded from ``data_json``."""
        return json.loads(self.data_json)


class AuditSeal(Base):
    """A link of the global chain of seals over the audit events (migration 0006).

    A seal covers the events with ``first_event_id <= id <= last_event_id``
    (``event_count`` of them) by ``events_digest``, the SHA-256 of their ids and
    chain hashes in id order; ``seal_hash`` chains it to the previous seal
    (``storage.chain``). Append-only (triggers refuse UPDATE and DELETE).
    """

    __tablename__ = "audit_seal"

    id: Mapped[int] = mapped_column(primary_key=True)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_event_id: Mapped[int] = mapped_column(Integer)
    last_event_id: Mapped[int] = mapped_column(Integer)
    event_count: Mapped[int] = mapped_column(Integer)
    events_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    seal_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditAccess(Base):
    """An auditor opened something: who (``user_id``), what (``what``, ``key``), when (migration 0006).

    ``what`` is e.g. "instance", "task", "document", "search", "report", "export";
    ``key`` its id or the query. Administrators read these rows.
    """

    __tablename__ = "audit_access"
    __table_args__ = (Index(None, "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    what: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(500))
    instance_id: Mapped[int | None] = mapped_column(Integer)


class Document(Base):
    """A step's Output document, uploaded with the completion of its human task.

    One per completion (``human_task_id`` is unique). ``version`` is the nth
    document of this element (``process_id``, ``element_id``) in this instance: a
    step redone after "tidak" adds version 2, 3, ...; nothing is overwritten
    (append-only, triggers of migration 0002). ``content`` is the file itself
    (deferred), ``sha256`` its hex digest, ``size_bytes`` its length;
    ``content_type`` is the MIME type found by sniffing the content, not the
    one the client sent; ``filename`` is sanitised.
    """

    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("human_task_id"),
        UniqueConstraint("instance_id", "process_id", "element_id", "version"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint("size_bytes >= 0", name="size_bytes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    human_task_id: Mapped[str] = mapped_column(ForeignKey("human_task.id"))
    element_id: Mapped[str] = mapped_column(String(128))
    process_id: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per element per instance
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))  # hex digest of content
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SopDraft(Base):
    """An SOP diagram being edited in the studio, saved on the server (migration 0005).

    ``base_definition_id`` is the deployed version it started from; ``revision``
    counts saves and guards them (optimistic lock: a save names the revision it
    read, and a stale one is refused, never overwriting another analyst's work).
    ``status`` is open | deployed | discarded; a deployed draft names its version
    in ``deployed_definition_id``.
    """

    __tablename__ = "sop_draft"
    __table_args__ = (
        CheckConstraint(_in_check("status", DRAFT_STATUSES), name="status"),
        CheckConstraint("revision >= 1", name="revision"),
        Index(None, "process_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(128))
    base_definition_id: Mapped[int | None] = mapped_column(ForeignKey("process_definition.id"))
    bpmn_xml: Mapped[str] = mapped_column(Text, deferred=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deployed_definition_id: Mapped[int | None] = mapped_column(ForeignKey("process_definition.id"))


class StudioEvent(Base):
    """One studio action: a draft created/saved/discarded, a deploy, a restore, instances moved.

    Who (``actor_id``), when, on which SOP (``process_id``), draft and version
    (``definition_id``), with the analyst's ``note`` (required for a deploy) and
    extra JSON ``data``. A ``deployed`` event is also how a version is known to
    come from the studio rather than from the templates in ``bpmn/``. Migration 0005.
    """

    __tablename__ = "studio_event"
    __table_args__ = (
        CheckConstraint(_in_check("kind", STUDIO_EVENT_KINDS), name="kind"),
        Index(None, "process_id", "id"),
        Index(None, "definition_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    process_id: Mapped[str] = mapped_column(String(128))
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("sop_draft.id"))
    definition_id: Mapped[int | None] = mapped_column(ForeignKey("process_definition.id"))
    note: Mapped[str | None] = mapped_column(Text)
    data_json: Mapped[str] = mapped_column(Text, default="{}")

    @property
    def data(self) -> dict[str, Any]:
        """The event's extra data, decoded from ``data_json``."""
        return json.loads(self.data_json)


# --- Jobs, notifications and follow-up policy (issue 8, migration 0007) --------

JOB_STATES = ("pending", "running", "done", "failed")
NOTIFICATION_KINDS = ("task_ready", "task_returned", "task_reminder", "task_due", "task_escalated",
                      "task_reassigned", "claim_reassigned")
EMAIL_MODES = ("immediate", "digest", "off")


class Job(Base):
    """One unit of work for ``alur worker``: a reminder, an escalation, an e-mail, a webhook call.

    ``key`` is the job's idempotency key (unique: the same job is never queued
    twice). A worker claims a due row (``state`` pending, ``run_at`` passed, or
    ``running`` with an expired lease ``locked_until``), setting a fresh
    ``claim_token``; it finishes the job only while it still holds that token, in
    the transaction that makes the job's effects. ``unconfirmed_sends`` counts
    external sends (SMTP, webhook) begun but not yet recorded: a worker killed
    mid-send leaves 1, and the job is then sent at most once more.
    """

    __tablename__ = "job"
    __table_args__ = (
        CheckConstraint(_in_check("state", JOB_STATES), name="state"),
        UniqueConstraint("key"),
        Index(None, "state", "run_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload_json: Mapped[str] = mapped_column(Text, default="{}")
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=10)
    claim_token: Mapped[str | None] = mapped_column(String(36))
    locked_by: Mapped[str | None] = mapped_column(String(255))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unconfirmed_sends: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def payload(self) -> dict[str, Any]:
        """The job's arguments, decoded from ``payload_json``."""
        return json.loads(self.payload_json)


class Notification(Base):
    """A message to one user: a new step, a step returned for correction, a reminder, an escalation.

    ``kind`` is one of :data:`NOTIFICATION_KINDS`; ``read_at`` is set when the
    user marks it read; ``emailed_at`` when the worker has sent it by e-mail
    (alone or in a digest). ``data_json`` holds what the text needs (step name,
    instance title, due time).
    """

    __tablename__ = "notification"
    __table_args__ = (
        CheckConstraint(_in_check("kind", NOTIFICATION_KINDS), name="kind"),
        Index(None, "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    human_task_id: Mapped[str | None] = mapped_column(ForeignKey("human_task.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    data_json: Mapped[str] = mapped_column(Text, default="{}")

    @property
    def data(self) -> dict[str, Any]:
        """The notification's data, decoded from ``data_json``."""
        return json.loads(self.data_json)


class NotificationPreference(Base):
    """How a user wants notifications by e-mail: ``email_mode`` immediate, daily digest or off."""

    __tablename__ = "notification_preference"
    __table_args__ = (CheckConstraint(_in_check("email_mode", EMAIL_MODES), name="email_mode"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(255))
    email_mode: Mapped[str] = mapped_column(String(16), default="immediate")


class UnitPolicy(Base):
    """A unit's reminder, escalation and webhook policy; a unit without a row uses the defaults.

    ``reminder_percent``: remind the holders when this share of the Waktu has
    passed (1-99); ``remind_when_due``: remind again at the due time;
    ``escalate_after_minutes``: escalate when overdue by this many working
    minutes on the unit's calendar; ``webhook_url``/``webhook_secret``: POST
    each notification event as JSON signed with HMAC-SHA256 (no URL: no webhook).
    """

    __tablename__ = "unit_policy"
    __table_args__ = (
        CheckConstraint("reminder_percent BETWEEN 1 AND 99", name="reminder_percent"),
        CheckConstraint("escalate_after_minutes >= 0", name="escalate_after_minutes"),
    )

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)
    reminder_percent: Mapped[int] = mapped_column(Integer)
    remind_when_due: Mapped[bool] = mapped_column(Boolean)
    escalate_after_minutes: Mapped[int] = mapped_column(Integer)
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(255))


class UnitPolicyChange(Base):
    """One change of a unit's follow-up policy: who (``actor_id``), when, the policy before and after.

    Rows are only appended (``storage.notifications.record_policy_change``).
    ``before_json``/``after_json`` hold the policy's fields; the webhook secret
    is never stored here, only whether one was set (``webhook_secret_set``) and
    whether it was changed. Migration 0011.
    """

    __tablename__ = "unit_policy_change"
    __table_args__ = (Index(None, "unit_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    before_json: Mapped[str] = mapped_column(Text)
    after_json: Mapped[str] = mapped_column(Text)

    @property
    def before(self) -> dict[str, Any]:
        """The policy before the change, decoded from ``before_json``."""
        return json.loads(self.before_json)

    @property
    def after(self) -> dict[str, Any]:
        """The policy after the change, decoded from ``after_json``."""
        return json.loads(self.after_json)
