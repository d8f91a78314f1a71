"""Studio drafts: save, conflict, deploy, restore — never a silent overwrite.

- A draft starts from a deployed version (``base_version``) or from a restored
  one, and is saved on the server (autosave every few seconds from the modeler).
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

from engine.deploy import deploy_sources, parse_bpmn
from engine.sop import BPMN_NS
from storage import definitions, drafts, instances, org, studio_log
from storage.errors import DeployError, InvalidTaskDataError, ProcessNotFound, StaleDraftError
from storage.models import SopDraft

__all__ = [
    "MAX_NOTE_CHARS", "DeployOutcome", "DraftView", "conflict_of", "create_draft", "deploy_draft",
    "discard_draft", "get_draft", "open_drafts", "restore_version", "save_draft",
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
    """Store a new open draft of a deployed SOP.

    Raises ``ProcessNotFound``, ``DeployError`` (unsafe XML, another process id), ``InvalidTaskDataError``.
    """
    at = _now(now)
    user = org.get_user_by_username(session, username)
    versions = {d.version: d.id for d in definitions.list_versions(session, process_id)}
    if not versions:
        raise ProcessNotFound(process_id)
    if base_version is not None and base_version not in versions:
        raise InvalidTaskDataError(f"Versi {base_version} dari {process_id} tidak ada")
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

    Raises ``InvalidTaskDataError`` (no note, note over 2000 characters, nothing
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
