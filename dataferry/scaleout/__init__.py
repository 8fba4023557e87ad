"""A job's parts on a Dask cluster: :meth:`~dataferry.datajob.DataJob.to_dask` and
``to_parquet(..., dask=client)`` (extra ``dataferry[dask]``).

- :mod:`dataferry.scaleout.tasks`: what one part's task carries (small, picklable, no
  credential), how the job's client reaches the workers (a worker plugin, never the task
  graph), and one part read on a worker into any :class:`~dataferry.output.Sink`;
- :mod:`dataferry.scaleout.dataframe`: ``to_dask``: one partition per part, ``meta`` from the
  unified schema;
- :mod:`dataferry.scaleout.writes`: download → decode → Parquet on the workers, one file per
  part, committed once by the caller.

Importing this package imports no Dask: :func:`load` does, naming the extra when it is missing.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from dataferry.storage import require

NEEDS = {"dataframe": ("dask.dataframe",), "writes": ("distributed",)}
"""Module → what it needs installed: a Parquet write runs on a cluster and has no use for
``dask.dataframe`` (whose import alone takes about a second)."""


def load(module: str, what: str) -> ModuleType:
    """``dataferry.scaleout.<module>``, once what it needs is known to be installed.

    Raises:
        MissingExtra: Dask is not installed (``pip install 'dataferry[dask]'``).
    """
    for name in NEEDS[module]:
        require(name, "dask", what)
    return importlib.import_module(f"dataferry.scaleout.{module}")
