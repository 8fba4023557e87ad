"""myTracker: raw data exports (create, wait, download the expiring ``.csv.gz`` parts).

Example (needs an account, or an emulator's ``base_url``)::

    from dataferry import mytracker
    mt = mytracker.Client(api_user_id="77658", secret_key="...")
    export = mt.create_export(event="payments", selectors=["idApp", "tsEvent", "revenue"],
                              date_from="2026-11-01", date_to="2026-11-07")
    export.wait().to_parquet("payments.parquet")
    mt.export(4).to_pandas()                      # re-attach to an existing export id
"""

from dataferry.providers.mytracker.auth import HmacAuth
from dataferry.providers.mytracker.client import (
    API_USER_ID_ENV,
    DEFAULT_BASE_URL,
    ERRORS,
    QUOTAS,
    SECRET_KEY_ENV,
    Client,
)
from dataferry.providers.mytracker.errors import ExportInterrupted, ExportNotCancellable, ExportRefused
from dataferry.providers.mytracker.export import RECREATE_ATTEMPTS, Export
from dataferry.providers.mytracker.params import EVENTS

__all__ = [
    "API_USER_ID_ENV", "DEFAULT_BASE_URL", "ERRORS", "EVENTS", "QUOTAS", "RECREATE_ATTEMPTS", "SECRET_KEY_ENV",
    "Client", "Export", "ExportInterrupted", "ExportNotCancellable", "ExportRefused", "HmacAuth",
]
