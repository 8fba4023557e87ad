"""Algolia Ingestion API v1: every resource, paged lists as DataFrames, and task runs waited
for with live event counts.

Example:
    >>> from dataferry import algolia
    >>> ing = algolia.Client(app_id="...", api_key="...", region="eu")  # doctest: +SKIP
    >>> ing.tasks(enabled=True).to_pandas()  # doctest: +SKIP
    >>> run = ing.run_task("6c02aeb1-775e-418e-870b-1faccd4b2c0f")  # doctest: +SKIP
    >>> run.wait()  # doctest: +SKIP
    >>> run.events(status=["failed", "critical"]).to_pandas()  # doctest: +SKIP

``Ingestion`` is the former name of ``Client`` (the same class). Wiring (``ERRORS``,
``RATE_LIMITS``, ``region_url``, ``AUTH_INPUTS``, ``SOURCE_INPUTS``, the env var names...)
stays importable from its module (``dataferry.providers.algolia.client``, ``.auth_inputs``...).
"""

from dataferry.providers.algolia.auth_inputs import (
    AuthAlgolia,
    AuthAlgoliaInsights,
    AuthAPIKey,
    AuthBasic,
    AuthGoogleServiceAccount,
    AuthInput,
    AuthOAuth,
)
from dataferry.providers.algolia.client import Client, Ingestion
from dataferry.providers.algolia.destination_inputs import (
    DestinationIndexName,
    DestinationIndexPrefix,
    DestinationInput,
)
from dataferry.providers.algolia.errors import RunFailed
from dataferry.providers.algolia.run import Outcome, Run
from dataferry.providers.algolia.source_inputs import (
    SourceBigCommerce,
    SourceBigQuery,
    SourceCommercetools,
    SourceCSV,
    SourceDocker,
    SourceGA4BigQueryExport,
    SourceInput,
    SourceJSON,
    SourceShopify,
)
from dataferry.providers.algolia.tasks import Task
from dataferry.providers.algolia.triggers import OnDemand, Schedule, Streaming, Subscription, Trigger

__all__ = [
    "AuthAPIKey",
    "AuthAlgolia",
    "AuthAlgoliaInsights",
    "AuthBasic",
    "AuthGoogleServiceAccount",
    "AuthInput",
    "AuthOAuth",
    "Client",
    "DestinationIndexName",
    "DestinationIndexPrefix",
    "DestinationInput",
    "Ingestion",
    "OnDemand",
    "Outcome",
    "Run",
    "RunFailed",
    "Schedule",
    "SourceBigCommerce",
    "SourceBigQuery",
    "SourceCSV",
    "SourceCommercetools",
    "SourceDocker",
    "SourceGA4BigQueryExport",
    "SourceInput",
    "SourceJSON",
    "SourceShopify",
    "Streaming",
    "Subscription",
    "Task",
    "Trigger",
]
