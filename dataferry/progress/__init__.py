"""Progress: one reporter fed by the engine, one renderer chosen per call."""

from dataferry.progress.choice import make_renderer, resolve_mode
from dataferry.progress.reporter import ProgressState, Renderer, Reporter, Stage

__all__ = ["ProgressState", "Renderer", "Reporter", "Stage", "make_renderer", "resolve_mode"]
