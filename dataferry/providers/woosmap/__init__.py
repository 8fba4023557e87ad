"""Woosmap Datasets API: create datasets, import them, wait on the import within Woosmap's
rate limits, read the steps and log entries, query the features.

Example:
    >>> from dataferry import woosmap
    >>> wm = woosmap.Client(private_key="...")                                          # doctest: +SKIP
    >>> ds = wm.create_dataset(name="stores", url="https://example.com/stores.geojson")  # doctest: +SKIP
    >>> run = ds.import_()                                                                # doctest: +SKIP
    >>> run.wait()                                   # raises ImportFailed with the error entries  # doctest: +SKIP
    >>> run.steps_frame(), run.entries_frame()                                            # doctest: +SKIP
    >>> wm.datasets().to_pandas()                                                         # doctest: +SKIP
"""

from dataferry.providers.woosmap.client import (
    DEFAULT_BASE_URL,
    ERRORS,
    KEY_ENV,
    RATE_LIMITS,
    Client,
    build_rate_limits,
)
from dataferry.providers.woosmap.dataset import Dataset
from dataferry.providers.woosmap.run import ImportFailed, ImportRun, NoImportRun

__all__ = [
    "DEFAULT_BASE_URL", "ERRORS", "KEY_ENV", "RATE_LIMITS", "Client", "Dataset", "ImportFailed", "ImportRun",
    "NoImportRun", "build_rate_limits",
]
