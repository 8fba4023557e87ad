"""myTracker: raw data exports (create, wait, download the expiring ``.csv.gz`` parts).

Example (needs an account, or an emulator's ``base_url``)::

    from dataferry import mytracker

    mt = mytracker.Client(api_user_id="77658", secret_key="...")
    export = mt.create_export(
        event="payments", selectors=["idApp", "tsEvent", "revenue"], date_from="2026-11-01", date_to="2026-11-07"
    )
    export.wait().to_parquet("payments.parquet")
    mt.export(4).to_pandas()  # re-attach to an existing export id

Wiring (``ERRORS``, ``QUOTAS``, ``HmacAuth``, the env var names...) stays importable from its
module (``dataferry.providers.mytracker.client``, ``.auth``, ``.params``, ``.export``).
"""

from dataferry.providers.mytracker.client import Client
from dataferry.providers.mytracker.errors import ExportInterrupted, ExportNotCancellable, ExportRefused
from dataferry.providers.mytracker.export import Export
from dataferry.providers.mytracker.params import EVENTS

__all__ = [
    "EVENTS",
    "Client",
    "Export",
    "ExportInterrupted",
    "ExportNotCancellable",
    "ExportRefused",
]
