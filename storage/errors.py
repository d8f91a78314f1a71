"""The one exception tree of Alur.

Every error Alur raises on purpose derives from :class:`AlurError`; `web/` maps
each branch to an HTTP status in one place. Messages are Bahasa Indonesia first,
then English after a slash.

::

    AlurError                      base of every error Alur raises on purpose
    ├── DeployError                a BPMN file cannot be deployed (attrs: file, element_id, line)
    │   └── UnsafeExpressionError  condition/script uses something outside the safe subset
    ├── NotFoundError              (key attribute: the id or name looked up)
    │   ├── ProcessNotFound
    │   ├── InstanceNotFound
    │   ├── TaskNotFound
    │   ├── UserNotFound
    │   ├── UnitNotFound
    │   └── DraftNotFound          a studio draft
    ├── ConflictError
    │   ├── TaskAlreadyCompleted   "tugas sudah diselesaikan"
    │   ├── StaleInstanceError     optimistic lock lost
    │   ├── TaskClaimedError       a shared step is being worked on by someone else (attrs: by, since)
    │   ├── StaleDraftError        a draft was saved by someone else since it was read (who, when)
    │   ├── NewSopRefused          a draft of a new SOP: id already deployed, draft open, or no grant
    │   └── JobLeaseLost           a worker's claim on a job expired and was taken over
    ├── PermissionDeniedError      user does not hold the task's lane
    ├── InvalidTaskDataError       e.g. catatan missing for "tidak", unknown team member
    │   └── InvalidFieldError      one named field is wrong (control character, too long)
    ├── ProcessExecutionError      the engine could not run the next part of the process
    │   │                          (a condition or script failed); nothing was changed
    │   └── ExpressionLimitError   an expression built too large a value or took too many steps
    ├── CalendarError              bad Waktu text / duration
    ├── SopImportError             an SOP document cannot be imported (no table, scanned, encrypted,
    │                              too large, malformed; attrs: page)
    └── DeliveryError              an e-mail or webhook could not be delivered (attr: ambiguous)
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "AlurError",
    "CalendarError",
    "ConflictError",
    "DeliveryError",
    "DeployError",
    "DraftNotFound",
    "ExpressionLimitError",
    "InstanceNotFound",
    "InvalidFieldError",
    "InvalidTaskDataError",
    "NewSopRefused",
    "JobLeaseLost",
    "NotFoundError",
    "PermissionDeniedError",
    "ProcessExecutionError",
    "ProcessNotFound",
    "SopImportError",
    "StaleDraftError",
    "StaleInstanceError",
    "TaskAlreadyCompleted",
    "TaskClaimedError",
    "TaskNotFound",
    "UnitNotFound",
    "UnsafeExpressionError",
    "UserNotFound",
]


class AlurError(Exception):
    """Base of every error Alur raises on purpose."""


class DeployError(AlurError):
    """A BPMN file cannot be deployed.

    ``file`` is the file name, ``element_id`` the BPMN element at fault and
    ``line`` its 1-based line in the XML; each is ``None`` when unknown.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        element_id: str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.element_id = element_id
        self.line = line

    def __str__(self) -> str:
        """Render as ``file:line (element_id): message``, leaving out unknown parts."""
        where = self.file or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"baris/line {self.line}"
        if self.element_id:
            where = f"{where} ({self.element_id})" if where else self.element_id
        return f"{where}: {self.message}" if where else self.message


class UnsafeExpressionError(DeployError):
    """A condition or script uses something outside the safe expression subset."""


class NotFoundError(AlurError):
    """A record looked up by id or name does not exist; ``key`` is what was looked up."""

    label = "Data / record"

    def __init__(self, key: object, message: str | None = None) -> None:
        self.key = key
        if message is None:
            id_label, en_label = self.label.split(" / ")
            message = f"{id_label} {key!r} tidak ditemukan / {en_label} not found"
        super().__init__(message)


class ProcessNotFound(NotFoundError):
    """No process definition with that id or process id."""

    label = "Definisi proses / process definition"


class InstanceNotFound(NotFoundError):
    """No process instance with that id."""

    label = "Instans proses / process instance"


class TaskNotFound(NotFoundError):
    """No human task with that id."""

    label = "Tugas / task"


class UserNotFound(NotFoundError):
    """No user with that id or username."""

    label = "Pengguna / user"


class UnitNotFound(NotFoundError):
    """No unit (office) with that id or code."""

    label = "Unit kerja / unit"


class DraftNotFound(NotFoundError):
    """No studio draft with that id."""

    label = "Draf SOP / SOP draft"


class ConflictError(AlurError):
    """The action collides with a concurrent change; reload and try again."""


class TaskAlreadyCompleted(ConflictError):
    """The human task is no longer ready: someone else completed (or cancelled) it."""

    def __init__(self, task_id: str | None = None) -> None:
        self.task_id = task_id
        super().__init__(
            "Tugas sudah diselesaikan oleh pengguna lain / task already completed"
        )


class TaskClaimedError(ConflictError):
    """A ready task of a shared lane is claimed by someone else ("sedang dikerjakan oleh ...").

    ``by`` is the claimer's full name, ``since`` when they claimed it (aware UTC).
    """

    def __init__(self, task_id: str, *, by: str, since: datetime) -> None:
        self.task_id = task_id
        self.by = by
        self.since = since
        super().__init__(f"Langkah ini sedang dikerjakan oleh {by}; hanya dia yang dapat menyelesaikan atau "
                         f"melepaskannya / task claimed by {by}")


class StaleInstanceError(ConflictError):
    """The process instance changed since it was read (optimistic lock lost)."""

    def __init__(self, instance_id: int, expected_version: int) -> None:
        self.instance_id = instance_id
        self.expected_version = expected_version
        super().__init__(
            f"Instans proses {instance_id} telah diubah oleh pengguna lain "
            f"(versi {expected_version} sudah usang) / process instance changed "
            f"concurrently (version {expected_version} is stale)"
        )


class StaleDraftError(ConflictError):
    """A draft was saved (or deployed, discarded) by someone else since it was read.

    ``updated_by_id`` and ``updated_at`` say whose save came first and when;
    ``revision`` is the draft's current revision, ``status`` open|deployed|discarded.
    """

    def __init__(self, draft_id: int, *, updated_by_id: int, updated_at: datetime, revision: int,
                 status: str) -> None:
        self.draft_id = draft_id
        self.updated_by_id = updated_by_id
        self.updated_at = updated_at
        self.revision = revision
        self.status = status
        super().__init__(
            f"Draf {draft_id} telah disimpan orang lain (revisi {revision}) / draft saved concurrently")


class NewSopRefused(ConflictError):
    """A draft of a new (undeployed) SOP cannot be created or deployed.

    ``reason`` is ``deployed`` (the process id is already a deployed SOP: open it as
    a new version of that SOP instead), ``draft_open`` (an open draft of that new
    SOP exists: ``draft_id``) or ``no_grant`` (no ``analis_proses`` grant covers the
    unit kind). The message is Indonesian, for the analyst.
    """

    def __init__(self, message: str, *, reason: str, process_id: str, draft_id: int | None = None) -> None:
        self.reason = reason
        self.process_id = process_id
        self.draft_id = draft_id
        super().__init__(message)


class PermissionDeniedError(AlurError):
    """The user does not hold the lane (role or team) of the task."""


class InvalidTaskDataError(AlurError):
    """Data submitted for a task is invalid (catatan missing, unknown team member...)."""


class ProcessExecutionError(AlurError):
    """The engine could not run the process on from a step (start or completion); nothing was changed.

    Raised for a diagram that deployed but fails when run: a condition no branch
    satisfies, a variable no step set, an expression past its bounds. The
    caller's transaction is rolled back, so the task stays ready. ``element_id``
    is the BPMN element that failed, when known.
    """

    def __init__(self, message: str, *, element_id: str | None = None) -> None:
        super().__init__(message)
        self.element_id = element_id


class ExpressionLimitError(ProcessExecutionError):
    """An expression built a value past the size bounds, or evaluated too many steps.

    Bounds are in :mod:`engine.expressions` (characters, elements, bits, steps).
    """


class InvalidFieldError(InvalidTaskDataError):
    """One field of the data is wrong; ``field`` names it (``"title"``, ``"catatan"``...).

    ``problem`` says what is wrong with it; ``str()`` is ``"field: problem"``.
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class CalendarError(AlurError):
    """A Waktu text or duration cannot be understood."""


class SopImportError(AlurError):
    """An SOP document (PDF, XLSX, text) cannot be turned into a draft diagram.

    The message says why in Bahasa Indonesia (no table found, a scanned image that
    needs OCR, encrypted, too many pages, malformed or oversized file); ``page`` is
    the 1-based page at fault when there is one. Nothing is stored.
    """

    def __init__(self, message: str, *, page: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.page = page

    def __str__(self) -> str:
        """The message, prefixed by the page when known."""
        return f"halaman {self.page}: {self.message}" if self.page is not None else self.message


class JobLeaseLost(ConflictError):
    """A worker no longer holds the job it was running: its lease expired and another worker claimed it."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        super().__init__(f"Klaim atas job {job_id} sudah berakhir / lease on job {job_id} was lost")


class DeliveryError(AlurError):
    """An e-mail or webhook call failed. ``ambiguous``: it may have been delivered all the same."""

    def __init__(self, message: str, *, ambiguous: bool = False) -> None:
        self.ambiguous = ambiguous
        super().__init__(message)
