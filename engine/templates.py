"""The diagrams in ``bpmn/`` as templates: deploying them never silently replaces a studio version.

``bpmn/`` holds the SOPs Alur ships; an office's own versions are made in the
studio and live in its database. :func:`deploy_templates` (``alur init``, ``alur
deploy`` of ``bpmn/``, an upgrade of Alur) deploys each template as usual, except
an SOP whose newest version was deployed from the studio and differs from the
template: that SOP is left as it is and listed in ``kept``, unless ``force``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from engine.deploy import DeployedProcess, deploy_sources, parse_bpmn
from engine.sop import BPMN_NS
from storage import definitions, org, studio_log
from storage.errors import DeployError

__all__ = ["KeptVersion", "TemplateDeployment", "deploy_templates", "template_files"]


@dataclass(frozen=True)
class KeptVersion:
    """An SOP whose studio version was kept instead of its template: version, who, and the file."""

    process_id: str
    version: int
    deployed_by: str
    filename: str


@dataclass(frozen=True)
class TemplateDeployment:
    """What deploying the templates did: versions deployed (or unchanged) and studio versions kept."""

    deployed: list[DeployedProcess] = field(default_factory=list)
    kept: list[KeptVersion] = field(default_factory=list)


def template_files(directory: Path) -> dict[str, bytes]:
    """``{filename: bytes}`` of every ``*.bpmn`` in ``directory``. Raises ``DeployError`` if there is none."""
    files = sorted(directory.glob("*.bpmn"))
    if not files:
        raise DeployError(f"Tidak ada berkas .bpmn di {directory}")
    return {f.name: f.read_bytes() for f in files}


def deploy_templates(session: Session, sources: Mapping[str, bytes], *, force: bool = False) -> TemplateDeployment:
    """Deploy template files ``{filename: bytes}``, keeping newer studio versions unless ``force``.

    A file is kept back when one of its processes has a newest version that came
    from the studio (a ``deployed`` studio event) with other bytes than the file.
    Raises ``DeployError`` as :func:`engine.deploy.deploy_sources` does.
    """
    kept: list[KeptVersion] = []
    chosen: dict[str, bytes] = {}
    for name, data in sources.items():
        tree = parse_bpmn(data, name)
        sha = hashlib.sha256(data).hexdigest()
        file_kept = []
        for process in tree.iterfind(f"{{{BPMN_NS}}}process"):
            latest = definitions.latest(session, process.get("id") or "")
            if latest is None or latest.sha256 == sha:
                continue
            event = studio_log.deploy_events(session, [latest.id]).get(latest.id)
            if event is not None:
                by = org.get_user(session, event.actor_id).username
                file_kept.append(KeptVersion(latest.process_id, latest.version, by, name))
        if file_kept and not force:
            kept.extend(file_kept)
        else:
            chosen[name] = data
    deployed = deploy_sources(session, chosen) if chosen else []
    return TemplateDeployment(deployed=deployed, kept=kept)
