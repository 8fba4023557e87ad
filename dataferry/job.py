"""The handle a user holds for a remote job: status, wait, cancel, its reprs and progress.

A vendor subclasses :class:`Job` (or :class:`~dataferry.datajob.DataJob` for a job whose
result is data in parts) and fills in a few hooks; everything a user calls is here, the same
for every vendor. A handle is re-creatable from its id alone, so a notebook can re-attach
after a kernel restart. Waiting needs no Arrow: this module does not import pyarrow.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

from dataferry.constants import WAIT_TIMEOUT
from dataferry.errors import (
    DataferryError,
    DownloadInterrupted,
    Interrupted,
    JobCancelled,
    JobFailed,
    WaitTimeout,
    first_line,
)
from dataferry.events import notice
from dataferry.progress import Reporter, Stage, make_renderer
from dataferry.progress.formatting import one_line
from dataferry.progress.panel import card_html
from dataferry.redact import scrub_auth_text
from dataferry.status import JobState, JobStatus
from dataferry.stopping import stoppable
from dataferry.wait import PollPolicy, wait_until_finished

if TYPE_CHECKING:
    from dataferry.client import VendorClient

CLIENT_DEFAULT: Any = object()
"""``progress=`` not given: the client's setting applies."""


class Job:
    """A remote job (a snapshot, an export, an import run, an ingestion run).

    Subclasses implement :meth:`_fetch_status` and, where the vendor allows it,
    :meth:`_cancel_remote`; they set :attr:`kind` and :attr:`reattach`.

    Attributes:
        id: the vendor's id for the job.
        client: the vendor client it belongs to.
        last_status: the latest :class:`~dataferry.status.JobStatus` seen, or ``None``.
        attempts: the ids this handle has named, oldest first (a job created again after a
            failure that may be repeated, see :meth:`_recreated`); ``id`` is the last.
    """

    kind: ClassVar[str] = "job"
    status_family: ClassVar[str] = "status"
    failure: ClassVar[Callable[..., JobFailed]] = JobFailed
    poll_policy: ClassVar[PollPolicy] = PollPolicy()

    def __init__(self, client: VendorClient, job_id: str, *, triggered: bool = False) -> None:
        self.client = client
        self.id = str(job_id)
        self.last_status: JobStatus | None = None
        self.attempts: list[str] = [self.id]
        self._summary_cell: int | None = None  # the notebook cell that shows this job's last summary
        self._triggered_at = client.clock.monotonic() if triggered else None

    # -- vendor hooks -------------------------------------------------------------------
    def _fetch_status(self) -> JobStatus:
        raise NotImplementedError

    def _cancel_remote(self) -> None:
        raise DataferryError(f"{self.vendor} {self.kind}s cannot be cancelled through the API")

    @property
    def reattach(self) -> str:
        """Python code that gets this job back, e.g. ``brightdata.Client().snapshot('s_…')``."""
        return f"{self.vendor}.Client().job({self.id!r})"

    def _failure(self, message: str, *, vendor: str, job_id: str, status: JobStatus, kind: str = "job") -> JobFailed:
        """The typed error the wait engine raises for a job the vendor reports failed: an instance
        of :attr:`failure`; a vendor whose error depends on the final status overrides this."""
        return self.failure(message, vendor=vendor, kind=kind, job_id=job_id, status=status)

    def _recreated(self, new_id: str, raw: str, message: str, detail: dict[str, Any] | None = None) -> JobStatus:
        """Follow the job created again in place of this one after a failure that may be repeated
        (myTracker's "Error occurred", a transient Bright Data failure with ``retrigger=``): the
        handle names ``new_id`` from now on, a 404 on it just after is forgiven, the progress
        display says so. A vendor's ``_fetch_status`` returns what this returns.

        Returns:
            A running status carrying ``message``.
        """
        self.id = str(new_id)
        self.attempts.append(self.id)
        self._triggered_at = self.client.clock.monotonic()
        notice(f"{self.vendor}: {message}")
        # no figure yet: the new job's own status says how far it is
        return JobStatus(JobState.RUNNING, raw, message, detail=detail or {"id": self.id, "status": raw})

    # -- public ----------------------------------------------------------------------------
    @property
    def vendor(self) -> str:
        """The vendor's name."""
        return self.client.vendor

    def status(self) -> JobStatus:
        """Ask the vendor for the job's status now (one request).

        Returns:
            The :class:`~dataferry.status.JobStatus`; also kept as :attr:`last_status`.
        """
        status = self._masked(self._fetch_status())
        self.last_status = status
        return status

    def _masked(self, status: JobStatus) -> JobStatus:
        """``status`` with the client's secrets masked in its texts (a vendor may echo them)."""
        redactor = getattr(getattr(self.client, "http", None), "redactor", None)
        return replace(
            status,
            raw=self._redact(status.raw),
            message=None if status.message is None else self._redact(status.message),
            detail=redactor.data(status.detail) if redactor is not None else status.detail,
        )

    def wait(
        self,
        timeout: float | None = WAIT_TIMEOUT,
        *,
        progress: Any = CLIENT_DEFAULT,
        cancel_on_interrupt: bool = False,
        background: bool = False,
    ) -> Any:
        """Wait until the job finishes, showing progress.

        Args:
            timeout: seconds before :class:`~dataferry.errors.WaitTimeout` (the job is left
                running); ``None`` waits as long as it takes.
            progress: ``"auto"``, ``"widget"``, ``"html"``, ``"tqdm"``, ``"log"``, ``"off"``,
                ``True`` / ``False``; default: the client's setting.
            cancel_on_interrupt: cancel the remote job on Ctrl-C / "interrupt kernel" (and when
                a background wait's future is cancelled).
            background: return at once with a :class:`~dataferry.background.WaitFuture` (a
                ``concurrent.futures.Future``) while the wait goes on in a worker thread; its
                panel is drawn now and keeps updating while other cells run.

        Returns:
            ``self``, so that ``job.wait().to_pandas()`` reads naturally; with
            ``background=True``, the future (``future.result()`` is ``self`` or re-raises the
            typed error; ``future.cancel()`` stops waiting).

        Raises:
            JobFailed: the vendor reports failure (its message verbatim).
            JobCancelled: the job was cancelled.
            WaitTimeout: ``timeout`` passed.
            WaitInterrupted: interrupted; the message says how to re-attach.
        """
        if background:
            from dataferry.background import wait_job_in_background

            return wait_job_in_background(
                self, timeout=timeout, progress=progress, cancel_on_interrupt=cancel_on_interrupt
            )
        if self.last_status is not None and self.last_status.state is JobState.DONE:
            return self
        with self._operation(progress) as reporter:
            self._wait(reporter, timeout, cancel_on_interrupt)
            reporter.finish(Stage.DONE, message=self.last_status.message if self.last_status else None)
        return self

    async def wait_async(
        self, timeout: float | None = WAIT_TIMEOUT, *, progress: Any = CLIENT_DEFAULT, cancel_on_interrupt: bool = False
    ) -> Job:
        """``await job.wait_async()``: :meth:`wait` without blocking the running event loop.

        The wait runs in a worker thread (see :mod:`dataferry.aio`); cancelling the awaiting
        task stops it (and cancels the remote job when ``cancel_on_interrupt=True``).
        """
        from dataferry.background import awaited

        return await awaited(
            self.wait(timeout, progress=progress, cancel_on_interrupt=cancel_on_interrupt, background=True)
        )

    def cancel(self) -> None:
        """Ask the vendor to cancel the job."""
        self._cancel_remote()
        self.last_status = JobStatus(JobState.CANCELLED, "cancelled", "cancelled by the user")

    @property
    def done(self) -> bool:
        """Whether the last status seen says the job completed successfully."""
        return self.last_status is not None and self.last_status.state is JobState.DONE

    def __repr__(self) -> str:
        state = self._shown(self.last_status.describe()) if self.last_status else "status not checked"
        return f"<{self.vendor} {self.kind} {self.id}: {state}>"

    def _repr_html_(self) -> str:
        s = self.last_status
        if s is None:
            state, tone, fraction = "not checked", "info", None
        else:
            state = s.state.value
            tone = {"done": "success", "failed": "danger", "cancelled": "warning"}.get(state, "info")
            fraction = 1.0 if s.state is JobState.DONE else s.progress
        rows = [("status", self._shown(s.raw or s.state.value) if s else "not checked yet: call .status() or .wait()")]
        if s and s.progress is not None:
            rows.append(("progress", f"{s.progress:.0%}"))
        if s and s.message:
            rows.append(("message", self._shown(s.message)))
        if s is None or s.state is not JobState.CANCELLED:
            rows.append(("re-attach", self.reattach))
        return card_html(
            vendor=self.vendor, kind=self.kind, job_id=self.id, state=state, tone=tone, fraction=fraction, rows=rows
        )

    def _ipython_display_(self) -> None:
        """In a notebook, the status card; nothing when this cell already shows the job's summary
        (``snap.wait()`` as a cell's last expression shows one card, not two)."""
        cell = _cell()
        if cell is not None and cell == self._summary_cell:
            return
        from IPython.display import display

        display({"text/html": self._repr_html_(), "text/plain": repr(self)}, raw=True)

    def _shown(self, text: str) -> str:
        """``text`` on one line with the client's secrets masked (for reprs and displays)."""
        return one_line(self._redact(text))

    def _redact(self, text: str) -> str:
        redactor = getattr(getattr(self.client, "http", None), "redactor", None)
        text = scrub_auth_text(text)
        return redactor.text(text) if redactor is not None else text

    # -- internals ----------------------------------------------------------------------
    def _policy(self) -> PollPolicy:
        floor = self.client.http.limiter.min_interval(self.status_family)
        policy = self.client.poll or self.poll_policy
        if floor > policy.floor:
            policy = replace(policy, floor=floor, initial=max(policy.initial, floor))
        return policy

    def _wait(
        self, reporter: Reporter, timeout: float | None, cancel_on_interrupt: Any, policy: PollPolicy | None = None
    ) -> JobStatus:
        """The poll loop for this job (``policy``: instead of :meth:`_policy`, e.g. a group's
        share of the client's rate; a wait started under :func:`dataferry.stopping.stopping`
        ends when its event is set)."""
        if self.last_status is not None and self.last_status.state is JobState.DONE:
            return self.last_status
        reporter.stage(Stage.SUBMITTED if self.last_status is None else Stage.RUNNING)
        return wait_until_finished(
            self.status,
            vendor=self.vendor,
            job_id=self.id,
            kind=self.kind,
            reporter=reporter,
            reattach=self.reattach,
            policy=policy or self._policy(),
            timeout=timeout,
            clock=stoppable(self.client.clock),
            triggered_at=self._triggered_at,
            cancel=self.cancel,
            cancel_on_interrupt=cancel_on_interrupt,
            rng=self.client.http.rng,
            failure=self._failure,
            identity=lambda: (self.id, self.reattach),
        )

    @contextlib.contextmanager
    def _operation(self, progress: Any, **options: Any) -> Iterator[Reporter]:
        """One user-visible operation (a wait, a download...) with its progress display.

        ``progress`` is the call's ``progress=`` (a mode name, a bool, a
        :class:`~dataferry.progress.Progress` with ``keep_widget``, a renderer), else the
        client's default. The renderer is chosen before anything else happens, so a bad
        ``progress=`` fails first. Every text shown passes through the client's redactor.
        ``options`` and a renderer's ``reporter_options`` go to the
        :class:`~dataferry.progress.Reporter` (``quiet_seconds``, ``tick``...).
        """
        chosen = self.client.progress if progress is CLIENT_DEFAULT else progress
        renderer = make_renderer(chosen)
        options = {**getattr(renderer, "reporter_options", {}), **options}
        reporter = Reporter(
            renderer,
            vendor=self.vendor,
            job_id=self.id,
            kind=self.kind,
            clock=self.client.clock,
            redact=self._redact,
            **options,
        )
        try:
            try:
                yield reporter
            except BaseException as exc:
                redactor = getattr(getattr(self.client, "http", None), "redactor", None)
                if redactor is not None:
                    redactor.scrub(exc)  # an error (and its causes) leaves with every secret masked
                raise
        except Interrupted as exc:
            stage = Stage.CANCELLED if exc.cancelled else Stage.STOPPED
            reporter.finish(stage, message=exc.message, reattach=exc.reattach)
            raise exc.short() from None
        except KeyboardInterrupt as exc:
            # Ctrl-C while the parts were read: the job itself is there, say how to get it back
            stopped = DownloadInterrupted(
                f"stopped reading the parts of {self.vendor} {self.kind} {self.id}; the {self.kind} itself is "
                f"{self.last_status.state.value if self.last_status else 'still there'}",
                job_id=self.id,
                reattach=self.reattach,
            )
            for note in getattr(exc, "__notes__", []):  # what was cleaned up on the way out
                stopped.add_note(note)
            reporter.finish(Stage.STOPPED, message=stopped.message, reattach=stopped.reattach)
            raise stopped from None
        except WaitTimeout as exc:
            reporter.finish(Stage.STOPPED, message=exc.message, reattach=self.reattach)
            raise
        except JobCancelled as exc:
            reporter.finish(Stage.CANCELLED, message=exc.message)
            raise
        except GeneratorExit:
            reporter.finish(Stage.STOPPED, message="the caller stopped reading the tables")
            raise
        except JobFailed as exc:
            reporter.finish(Stage.FAILED, message=exc.vendor_message)
            raise
        except BaseException as exc:
            reporter.finish(Stage.FAILED, message=first_line(exc))
            raise
        finally:
            if not reporter.closed:
                reporter.finish(Stage.DONE)
            if reporter.shown:
                self._summary_cell = _cell()


def _cell() -> int | None:
    """The running notebook cell's execution count, or ``None`` outside IPython."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "execution_count", None) if shell is not None else None
