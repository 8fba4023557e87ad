"""The engine's view of a remote job's state, shared by every vendor.

Each vendor maps its own status strings onto :class:`JobState`; anything it does not know
counts as still running, so a new status on the vendor's side never breaks a wait.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class JobState(str, enum.Enum):
    """Where a remote job is."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """``True`` for done, failed and cancelled."""
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True)
class JobStatus:
    """One observation of a remote job.

    Attributes:
        state: the engine's state.
        raw: the vendor's own status string (``"running"``, ``"In progress"``...).
        message: the vendor's message (failure reason, current step...), verbatim.
        progress: server-side completion in ``[0, 1]`` when the vendor gives a figure.
        retry_after: seconds the vendor suggested before asking again.
        detail: the vendor's full answer (secrets masked).

    Example:
        >>> JobStatus(JobState.RUNNING, "running").finished
        False
    """

    state: JobState
    raw: str = ""
    message: str | None = None
    progress: float | None = None
    retry_after: float | None = None
    detail: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def finished(self) -> bool:
        """Whether the job has reached a final state."""
        return self.state.finished

    def describe(self) -> str:
        """A short human line: ``running 64% – fetching``."""
        text = self.raw or self.state.value
        if self.progress is not None:
            text += f" {self.progress:.0%}"
        if self.message:
            text += f" – {self.message}"
        return text


def state_from(raw: str | None, table: dict[str, JobState], default: JobState = JobState.RUNNING) -> JobState:
    """Map a vendor status string through ``table`` (case-insensitive); unknown → ``default``.

    Example:
        >>> state_from("READY", {"ready": JobState.DONE})
        <JobState.DONE: 'done'>
        >>> state_from("digesting", {"ready": JobState.DONE})
        <JobState.RUNNING: 'running'>
    """
    if raw is None:
        return default
    return table.get(str(raw).strip().lower(), default)
