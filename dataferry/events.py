"""A side channel for notices from deep in the stack ("rate limited, waiting 12 s").

The HTTP layer cannot know which progress display is on screen; the display registers itself
here for the duration of a wait or a download, and notices reach it. Without a listener a
notice goes to the ``dataferry`` logger only.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Callable, Iterator

log = logging.getLogger("dataferry")

_listener: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar(
    "dataferry_listener", default=None
)


def notice(message: str) -> None:
    """Tell the user something in passing (already free of secrets)."""
    log.info(message)
    listener = _listener.get()
    if listener is not None:
        listener(message)


@contextlib.contextmanager
def listening(listener: Callable[[str], None]) -> Iterator[None]:
    """Route notices raised in this context (and threads started with its copy) to ``listener``."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
