"""Algolia Ingestion API v1: every resource, paged lists as DataFrames, and task runs waited
for with live event counts.

Example:
    >>> from dataferry import algolia
    >>> ing = algolia.Ingestion(app_id="...", api_key="...", region="eu")   # doctest: +SKIP
    >>> ing.tasks(enabled=True).to_pandas()                                 # doctest: +SKIP
    >>> run = ing.run_task("6c02aeb1-775e-418e-870b-1faccd4b2c0f")           # doctest: +SKIP
    >>> run.wait()                                                          # doctest: +SKIP
    >>> run.events(status=["failed", "critical"]).to_pandas()              # doctest: +SKIP
"""

from dataferry.providers.algolia.auth_inputs import (
    AUTH_INPUTS,
    AuthAlgolia,
    AuthAlgoliaInsights,
    AuthAPIKey,
    AuthBasic,
    AuthGoogleServiceAccount,
    AuthInput,
    AuthOAuth,
)
from dataferry.providers.algolia.client import (
    API_KEY_ENV,
    APP_ID_ENV,
    DEFAULT_BASE_URL,
    RATE_LIMITS,
    REGION_ENV,
    Client,
    Ingestion,
    region_url,
)
from dataferry.providers.algolia.destination_inputs import (
    DestinationIndexName,
    DestinationIndexPrefix,
    DestinationInput,
)
from dataferry.providers.algolia.listing import AlgoliaListing
from dataferry.providers.algolia.run import Outcome, Run, RunFailed
from dataferry.providers.algolia.source_inputs import (
    SOURCE_INPUTS,
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
from dataferry.providers.algolia.triggers import OnDemand, Schedule, Streaming, Subscription, Trigger

__all__ = [
    "API_KEY_ENV", "APP_ID_ENV", "AUTH_INPUTS", "AlgoliaListing", "AuthAPIKey", "AuthAlgolia", "AuthAlgoliaInsights",
    "AuthBasic", "AuthGoogleServiceAccount", "AuthInput", "AuthOAuth", "Client", "DEFAULT_BASE_URL",
    "DestinationIndexName", "DestinationIndexPrefix", "DestinationInput", "Ingestion", "OnDemand", "Outcome",
    "RATE_LIMITS", "REGION_ENV", "Run", "RunFailed", "SOURCE_INPUTS", "Schedule", "SourceBigCommerce",
    "SourceBigQuery", "SourceCSV", "SourceCommercetools", "SourceDocker", "SourceGA4BigQueryExport", "SourceInput",
    "SourceJSON", "SourceShopify", "Streaming", "Subscription", "Trigger", "region_url",
]
