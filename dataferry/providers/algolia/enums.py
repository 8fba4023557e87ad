"""The closed vocabularies of the Algolia Ingestion API v1 (the pre-v2 spec of 2024-07).

Every filter, sort key and enum value the client accepts is checked against these tuples
before a request is sent, so a typo fails with a message that lists the allowed values.
"""

from __future__ import annotations

REGIONS = ("us", "eu")
"""Analytics regions; each has its own host ``https://data.{region}.algolia.com``."""

AUTHENTICATION_TYPES = ("googleServiceAccount", "basic", "apiKey", "oauth", "algolia", "algoliaInsights")
"""``Authentication.type``: decides which ``input`` fields an authentication needs."""

PLATFORMS = ("bigcommerce", "commercetools", "shopify")
"""E-commerce platforms an authentication can be tied to (or none)."""

PLATFORM_FILTERS = (*PLATFORMS, "none")
"""Values of the ``platform`` filter of the authentication list (``none``: no platform)."""

DESTINATION_TYPES = ("search", "insights")
"""``Destination.type``: an Algolia index, or Insights events."""

RECORD_TYPES = ("product", "variant")
"""``recordType`` of an index destination fed by an e-commerce source."""

SOURCE_TYPES = (
    "bigcommerce",
    "bigquery",
    "commercetools",
    "csv",
    "docker",
    "ga4BigqueryExport",
    "json",
    "shopify",
    "sfcc",
)
"""``Source.type``."""

ACTIONS = ("replace", "save", "partial", "append")
"""``Task.action``: how records reach the index."""

TRIGGER_TYPES = ("onDemand", "schedule", "subscription", "streaming")
"""``Task.trigger.type``."""

RUN_STATUSES = ("created", "started", "idled", "finished", "skipped")
"""``Run.status`` values the spec lists (the client treats any other value as running)."""

RUN_OUTCOMES = ("success", "failure", "processing")
"""``Run.outcome`` values the spec lists."""

EVENT_STATUSES = ("created", "started", "retried", "failed", "succeeded", "critical")
"""``Event.status``."""

EVENT_TYPES = ("fetch", "record", "log", "transform")
"""``Event.type``."""

ORDERS = ("asc", "desc")
"""``order`` of every list endpoint (the API's default is ``desc``)."""

SORT_KEYS = {
    "authentications": ("name", "auth_type", "platform", "updatedAt", "createdAt"),
    "destinations": ("name", "type", "updatedAt", "createdAt"),
    "sources": ("name", "type", "updatedAt", "createdAt"),
    "tasks": ("enabled", "triggerType", "action", "updatedAt", "createdAt"),
    "runs": ("status", "updatedAt", "createdAt"),
    "events": ("status", "type", "publishedAt"),
}
"""The ``sort`` keys each list endpoint accepts."""

METHODS = ("GET", "POST")
"""HTTP methods a JSON or CSV source may use to read its file."""

CSV_MAPPING_TYPES = ("string", "integer", "float", "boolean", "json")
"""Column types of a CSV source's ``mapping``."""

BIGQUERY_DATA_TYPES = ("ga4", "ga360")
"""``dataType`` of a BigQuery source."""

DOCKER_IMAGE_TYPES = ("singer", "custom", "airbyte")
"""``imageType`` of a Docker source."""

DOCKER_REGISTRIES = ("dockerhub", "ghcr")
"""``registry`` of a Docker source."""

AUTH_SECRET_FIELDS = ("apiKey", "password", "client_secret", "privateKey", "key")
"""Fields of an authentication ``input`` that hold a secret (the API answers them ``null``)."""
