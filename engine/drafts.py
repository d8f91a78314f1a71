"""Studio drafts: save, conflict, deploy, restore — never a silent overwrite.

- A draft starts from a deployed version (``base_version``) or from a restored
  one, and is saved on the server (autosave every few seconds from the modeler).
- A draft of a *new* SOP (:func:`create_new_sop_draft`, e.g. an imported SOP) has
  no base version: its process id comes from the diagram, which must not be a
  deployed SOP yet; its unit kind (``alur:sop unitKind``) must be one the
  analyst's ``analis_proses`` grants cover (``engine.studio.may_edit``). Its first
  deploy makes version 1 through the same deploy checks as any version.
- Every save names the revision it read; a stale save raises ``StaleDraftError``
  (whose save came first, when) and stores nothing: the analyst reloads theirs
  or keeps their work as a separate draft (:func:`create_draft`).
- :func:`deploy_draft` runs the engine's full deploy checks
  (:func:`engine.deploy.deploy_sources`; a ``DeployError`` names the element),
  requires a change note, and reports how many running instances stay on the
  versions they started with.
- Every create, save, discard, deploy and restore is a studio event (who, when,
  what, note; ``storage.studio_log``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from engine.access import ANALIS_PROSES, Grants
from engine.deploy import deploy_sources, parse_bpmn
from engine.sop import BPMN_NS, read_process_meta, with_unit_kind
from engine.studio import may_edit
from storage import definitions, drafts, instances, org, studio_log
from storage.errors import DeployError, InvalidTaskDataError, NewSopRefused, ProcessNotFound, StaleDraftError
from storage.models import SopDraft

__all__ = [
    "MAX_NOTE_CHARS", "DeployOutcome", "DraftView", "NewSopDraft", "conflict_of", "create_draft",
    "create_new_sop_draft", "deploy_draft", "discard_draft", "draft_sop", "get_draft", "new_sop_drafts",
    "new_sop_unit_kinds", "open_drafts", "restore_version", "save_draft",
]

MAX_NOTE_CHARS = 2000
_MAX_XML_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class DraftView:
    """A draft as the studio shows it (XML apart): author, last save, base version, revision."""

    id: int
    process_id: str
    base_version: int | None
    revision: int
    status: str
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    deployed_version: int | None


@dataclass(frozen=True)
class DeployOutcome:
    """A deploy from the studio: the new version, who, when, the note, instances left on older versions."""

    process_id: str
    version: int
    definition_id: int
    deployed_by: str
    deployed_at: datetime
    note: str
    running_on_older: int


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _view(session: Session, draft: SopDraft) -> DraftView:
    base = definitions.get(session, draft.base_definition_id).version if draft.base_definition_id else None
    deployed = (definitions.get(session, draft.deployed_definition_id).version
                if draft.deployed_definition_id else None)
    return DraftView(
        id=draft.id, process_id=draft.process_id, base_version=base, revision=draft.revision,
        status=draft.status, created_by=org.get_user(session, draft.created_by_id).username,
        created_at=draft.created_at, updated_by=org.get_user(session, draft.updated_by_id).username,
        updated_at=draft.updated_at, deployed_version=deployed)


def _checked_xml(process_id: str, xml: str) -> str:
    """The draft XML if it is safe BPMN whose one executable process is ``process_id``."""
    if not isinstance(xml, str) or not xml.strip():
        raise InvalidTaskDataError("Diagram kosong (empty diagram)")
    data = xml.encode("utf-8")
    if len(data) > _MAX_XML_BYTES:
        raise InvalidTaskDataError(f"Diagram terlalu besar ({len(data)} byte, maksimum {_MAX_XML_BYTES})")
    tree = parse_bpmn(data, f"{process_id}.bpmn")
    ids = [p.get("id") for p in tree.iterfind(f"{{{BPMN_NS}}}process") if p.get("isExecutable") != "false"]
    if ids != [process_id]:
        raise DeployError(f"Diagram harus memuat tepat satu proses {process_id!r}; ditemukan {ids} "
                          f"(the process id of an SOP never changes)", file=f"{process_id}.bpmn")
    return xml


def open_drafts(session: Session, process_id: str) -> list[DraftView]:
    """Open drafts of an SOP, most recently saved first."""
    return [_view(session, d) for d in drafts.list_open(session, process_id)]


def get_draft(session: Session, draft_id: int) -> tuple[DraftView, str]:
    """A draft and its BPMN XML. Raises ``DraftNotFound``."""
    draft = drafts.get(session, draft_id)
    return _view(session, draft), draft.bpmn_xml


def create_draft(session: Session, *, process_id: str, xml: str, username: str, base_version: int | None,
                 now: datetime | None = None, restored_from: int | None = None) -> DraftView:
    """Store a new open draft of a deployed SOP (``base_version`` None: its latest version).

    Raises ``ProcessNotFound``, ``DeployError`` (unsafe XML, another process id), ``InvalidTaskDataError``.
    """
    at = _now(now)
    user = org.get_user_by_username(session, username)
    versions = {d.version: d.id for d in definitions.list_versions(session, process_id)}
    if not versions:
        raise ProcessNotFound(process_id)
    if base_version is not None and base_version not in versions:
        raise InvalidTaskDataError(f"Versi {base_version} dari {process_id} tidak ada")
    if base_version is None:  # a draft of a deployed SOP always names its base; None marks a new SOP
        base_version = max(versions)
    draft = drafts.create(session, process_id=process_id, bpmn_xml=_checked_xml(process_id, xml),
                          base_definition_id=versions.get(base_version) if base_version else None,
                          user_id=user.id, at=at)
    kind = "restored" if restored_from is not None else "draft_created"
    studio_log.append(session, kind=kind, actor_id=user.id, process_id=process_id, at=at, draft_id=draft.id,
                      definition_id=versions.get(restored_from) if restored_from else None,
                      data={"base_version": base_version, "restored_from": restored_from})
    return _view(session, draft)


def save_draft(session: Session, draft_id: int, *, xml: str, revision: int, username: str,
               now: datetime | None = None) -> DraftView:
    """Save a draft read at ``revision``. Raises ``StaleDraftError`` (nothing stored), ``DraftNotFound``."""
    at = _now(now)
    user = org.get_user_by_username(session, username)
    draft = drafts.get(session, draft_id)
    new_revision = drafts.save(session, draft_id, expected_revision=revision,
                               bpmn_xml=_checked_xml(draft.process_id, xml), user_id=user.id, at=at)
    studio_log.append(session, kind="draft_saved", actor_id=user.id, process_id=draft.process_id, at=at,
                      draft_id=draft_id, data={"revision": new_revision, "bytes": len(xml.encode("utf-8"))})
    return _view(session, drafts.get(session, draft_id))


def conflict_of(session: Session, exc: StaleDraftError) -> dict[str, object]:
    """What a stale save collided with, for the analyst: whose save, when, revision, status."""
    return {"draft_id": exc.draft_id, "updated_by": org.get_user(session, exc.updated_by_id).username,
            "updated_at": exc.updated_at.isoformat(), "revision": exc.revision, "status": exc.status}


def discard_draft(session: Session, draft_id: int, *, revision: int, username: str,
                  now: datetime | None = None) -> None:
    """Close an open draft without deploying it. Raises ``StaleDraftError``, ``DraftNotFound``."""
    at = _now(now)
    user = org.get_user_by_username(session, username)
    draft = _current(session, draft_id, revision)
    drafts.set_status(session, draft, "discarded")
    studio_log.append(session, kind="draft_discarded", actor_id=user.id, process_id=draft.process_id, at=at,
                      draft_id=draft_id)


def _current(session: Session, draft_id: int, revision: int) -> SopDraft:
    draft = drafts.get(session, draft_id)
    if draft.revision != revision or draft.status != "open":
        raise StaleDraftError(draft_id, updated_by_id=draft.updated_by_id, updated_at=draft.updated_at,
                              revision=draft.revision, status=draft.status)
    return draft


def deploy_draft(session: Session, draft_id: int, *, revision: int, note: str, username: str,
                 now: datetime | None = None) -> DeployOutcome:
    """Deploy a draft as the SOP's next version, with a required change ``note``.

    A draft of a new SOP deploys as version 1; ``NewSopRefused`` when its process id
    was deployed meanwhile. Raises ``InvalidTaskDataError`` (no note, note over 2000 characters, nothing
    changed), ``DeployError`` (the engine's deploy checks, at the element),
    ``StaleDraftError`` (saved by someone else since), ``DraftNotFound``.
    """
    at = _now(now)
    note = (note or "").strip()
    if not note:
        raise InvalidTaskDataError("Catatan perubahan wajib diisi (a change note is required)")
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidTaskDataError(f"Catatan perubahan paling panjang {MAX_NOTE_CHARS} karakter")
    user = org.get_user_by_username(session, username)
    draft = _current(session, draft_id, revision)
    _checked_xml(draft.process_id, draft.bpmn_xml)
    if draft.base_definition_id is None and definitions.list_versions(session, draft.process_id):
        raise NewSopRefused(
            f"SOP dengan id proses {draft.process_id!r} sudah di-deploy sejak draf baru ini dibuat: buka SOP itu di "
            f"Studio dan jadikan perubahan ini versi barunya", reason="deployed", process_id=draft.process_id)
    (deployed,) = [d for d in deploy_sources(session, {f"{draft.process_id}.bpmn": draft.bpmn_xml.encode("utf-8")})
                   if d.process_id == draft.process_id]
    if not deployed.created:
        raise InvalidTaskDataError(f"Tidak ada perubahan: diagram sama dengan versi {deployed.version}")
    drafts.set_status(session, draft, "deployed", deployed_definition_id=deployed.definition_id)
    studio_log.append(session, kind="deployed", actor_id=user.id, process_id=draft.process_id, at=at,
                      draft_id=draft_id, definition_id=deployed.definition_id, note=note,
                      data={"version": deployed.version})
    older = [d.id for d in definitions.list_versions(session, draft.process_id) if d.id != deployed.definition_id]
    running = sum(c.get("running", 0) for c in instances.counts_by_definition(session, older).values())
    return DeployOutcome(process_id=draft.process_id, version=deployed.version, definition_id=deployed.definition_id,
                         deployed_by=username, deployed_at=at, note=note, running_on_older=running)


def restore_version(session: Session, process_id: str, version: int, *, username: str,
                    now: datetime | None = None) -> DraftView:
    """A new open draft holding the XML of ``version`` (recorded as ``restored``). Raises ``ProcessNotFound``."""
    row = next((d for d in definitions.list_versions(session, process_id) if d.version == version), None)
    if row is None:
        raise ProcessNotFound(f"{process_id} v{version}")
    xml = definitions.get(session, row.id).bpmn_xml
    latest = definitions.latest(session, process_id)
    return create_draft(session, process_id=process_id, xml=xml, username=username,
                        base_version=latest.version if latest else version, now=now, restored_from=version)


@dataclass(frozen=True)
class NewSopDraft:
    """An open draft of an SOP not deployed yet: the draft, the SOP's name and unit kind (from its XML)."""

    draft: DraftView
    name: str
    unit_kind: str


def draft_sop(xml: str, filename: str = "draf.bpmn") -> tuple[str, str, str]:
    """``(process id, name, unit kind)`` of the one executable process of a draft's XML.

    Raises ``DeployError`` (unsafe XML, not exactly one executable process).
    """
    tree = parse_bpmn(xml.encode("utf-8") if isinstance(xml, str) else b"", filename)
    found = [p for p in tree.iterfind(f"{{{BPMN_NS}}}process") if p.get("isExecutable") != "false"]
    if len(found) != 1 or not found[0].get("id"):
        raise DeployError(f"Diagram harus memuat tepat satu proses yang dapat dijalankan; ditemukan {len(found)}",
                          file=filename)
    meta = read_process_meta(found[0])
    return meta.process_id, meta.name, meta.unit_kind


def new_sop_unit_kinds(session: Session, grants: Grants) -> list[str]:
    """The unit kinds a holder of ``grants`` may start a new SOP for (``any`` only with a grant over every unit)."""
    kinds = sorted({u.kind for u in org.list_units(session)})
    allowed = [k for k in kinds if may_edit(session, grants, k)]
    if grants.scope(ANALIS_PROSES) is None:
        allowed.append("any")
    return allowed


def _with_unit_kind(xml: str, unit_kind: str) -> str:
    """``xml`` with ``alur:sop unitKind`` of its executable process set to ``unit_kind``."""
    return with_unit_kind(parse_bpmn(xml.encode("utf-8"), "draf.bpmn"), unit_kind).decode("utf-8")


def create_new_sop_draft(session: Session, *, xml: str, username: str, grants: Grants,
                         unit_kind: str | None = None, now: datetime | None = None) -> DraftView:
    """Store an open draft of a new SOP (no base version), e.g. one read by ``engine.sop_import``.

    The process id and name come from the diagram; ``unit_kind`` (when given)
    replaces the diagram's ``alur:sop unitKind``. Raises ``NewSopRefused``
    (``deployed``: the process id is a deployed SOP; ``draft_open``: an open draft
    of this new SOP exists; ``no_grant``: no ``analis_proses`` grant covers the
    unit kind), ``DeployError`` (unsafe XML), ``InvalidTaskDataError``.
    """
    at = _now(now)
    if unit_kind is not None:
        xml = _with_unit_kind(_checked_xml(draft_sop(xml)[0], xml), unit_kind)
    process_id, name, kind = draft_sop(xml)
    _checked_xml(process_id, xml)
    latest = definitions.latest(session, process_id)
    if latest is not None:
        raise NewSopRefused(
            f"Id proses {process_id!r} sudah dipakai SOP yang di-deploy ({latest.name}, v{latest.version}): "
            f"draf ini dapat dibuka sebagai versi baru SOP itu", reason="deployed", process_id=process_id)
    if not may_edit(session, grants, kind):
        where = "semua unit" if kind == "any" else f"unit berjenis {kind!r}"
        raise NewSopRefused(f"Anda tidak memiliki hak analis proses untuk {where}: draf {name!r} tidak dibuat",
                            reason="no_grant", process_id=process_id)
    existing = next((d for d in drafts.list_open(session, process_id) if d.base_definition_id is None), None)
    if existing is not None:
        raise NewSopRefused(f"Sudah ada draf baru #{existing.id} untuk id proses {process_id!r}: buka draf itu, "
                            f"atau buang dahulu sebelum membuat yang lain", reason="draft_open",
                            process_id=process_id, draft_id=existing.id)
    user = org.get_user_by_username(session, username)
    draft = drafts.create(session, process_id=process_id, bpmn_xml=xml, base_definition_id=None, user_id=user.id,
                          at=at)
    studio_log.append(session, kind="draft_created", actor_id=user.id, process_id=process_id, at=at,
                      draft_id=draft.id, data={"base_version": None, "new_sop": True, "unit_kind": kind})
    return _view(session, draft)


def new_sop_drafts(session: Session) -> list[NewSopDraft]:
    """Open drafts of SOPs not deployed yet ("Draf baru" in the catalogue), most recently saved first."""
    deployed = {row.process_id for row in definitions.list_latest(session)}
    result = []
    for row in drafts.list_open(session):
        if row.base_definition_id is not None or row.process_id in deployed:
            continue
        _pid, name, kind = draft_sop(drafts.get(session, row.id).bpmn_xml)
        result.append(NewSopDraft(_view(session, row), name, kind))
    return result
