"""Woosmap Datasets API: create datasets, import them, wait on the import within Woosmap's
rate limits, read the steps and log entries, query the features.

Example:
    >>> from dataferry import woosmap
    >>> wm = woosmap.Client(private_key="...")  # doctest: +SKIP
    >>> ds = wm.create_dataset(name="stores", url="https://example.com/stores.geojson")  # doctest: +SKIP
    >>> run = ds.import_()  # doctest: +SKIP
    >>> run.wait()  # raises ImportFailed with the error entries  # doctest: +SKIP
    >>> run.to_pandas()  # the log entries with their steps      # doctest: +SKIP
    >>> wm.datasets().to_pandas()  # doctest: +SKIP

Wiring (``ERRORS``, ``RATE_LIMITS``, ``DEFAULT_BASE_URL``, ``KEY_ENV``...) stays importable
from its module (``dataferry.providers.woosmap.client``, ``.params``).
"""

from dataferry.providers.woosmap.client import Client
from dataferry.providers.woosmap.dataset import Dataset
from dataferry.providers.woosmap.errors import ImportFailed, NoImportRun
from dataferry.providers.woosmap.run import ImportRun

__all__ = ["Client", "Dataset", "ImportFailed", "ImportRun", "NoImportRun"]
