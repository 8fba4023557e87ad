"""Progress: one reporter fed by the engine, one renderer chosen per call.

The wait engine, the downloader and the decoder send events to a :class:`Reporter`, which
throttles them and forwards a consistent :class:`ProgressState` to exactly one renderer:

* ``widget`` — an ipywidgets panel in a Jupyter kernel, swapped for a static HTML summary at
  the end (:mod:`dataferry.progress.widget`);
* ``html`` — the same panel as HTML updated in place, for kernels without ipywidgets
  (:mod:`dataferry.progress.html`);
* ``tqdm`` — a terminal bar; ``log`` — plain lines for CI and scripts; ``off`` — nothing
  (:mod:`dataferry.progress.renderers`).

:func:`make_renderer` picks one (see :mod:`dataferry.progress.choice`).
"""

from dataferry.progress.choice import MODES, Progress, make_renderer, resolve_mode
from dataferry.progress.reporter import ProgressState, Renderer, Reporter, Stage

__all__ = ["MODES", "Progress", "ProgressState", "Renderer", "Reporter", "Stage", "make_renderer", "resolve_mode"]
