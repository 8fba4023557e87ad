"""A progress renderer for tests: keeps every state it is drawn with and the state it closed on."""

from __future__ import annotations

from dataferry.progress import ProgressState


class Recorder:
    def __init__(self) -> None:
        self.states: list[ProgressState] = []
        self.closed: ProgressState | None = None

    def draw(self, state: ProgressState) -> None:
        self.states.append(state)

    def close(self, state: ProgressState) -> None:
        self.closed = state
