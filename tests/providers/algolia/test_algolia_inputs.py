"""Typed inputs and argument checks: a wrong value fails with a message naming the field,
before anything is sent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import responses

from dataferry.errors import InvalidArgument
from dataferry.providers.algolia import (
    AuthAlgolia,
    AuthAlgoliaInsights,
    AuthAPIKey,
    AuthBasic,
    AuthGoogleServiceAccount,
    AuthOAuth,
    Client,
    DestinationIndexName,
    DestinationIndexPrefix,
    OnDemand,
    Schedule,
    SourceBigCommerce,
    SourceBigQuery,
    SourceCommercetools,
    SourceCSV,
    SourceDocker,
    SourceGA4BigQueryExport,
    SourceJSON,
    SourceShopify,
    Streaming,
    Subscription,
)
from dataferry.providers.algolia.params import rfc3339

from .conftest import TASK_ID

SID = "51515151-0000-4000-8000-000000000003"
DID = "d1d1d1d1-0000-4000-8000-000000000002"


@pytest.fixture
def nothing_sent(unit: Client) -> Iterator[Client]:
    """The unit client; the test fails if any request leaves it."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield unit
        assert len(mock.calls) == 0


def test_each_variant_turns_into_the_wire_names() -> None:
    assert AuthGoogleServiceAccount(client_email="a@b.iam", private_key="pk-1234").to_wire() == {
        "clientEmail": "a@b.iam",
        "privateKey": "pk-1234",
    }
    assert AuthOAuth(url="https://o.example/token", client_id="i", client_secret="cs-1234", scope="r").to_wire() == {
        "url": "https://o.example/token",
        "client_id": "i",
        "client_secret": "cs-1234",
        "scope": "r",
    }
    assert AuthAlgoliaInsights(app_id="A", api_key="k-12345").to_wire() == {"appID": "A", "apiKey": "k-12345"}
    assert SourceBigQuery(project_id="p", dataset_id="d", data_type="ga4", custom_sql_request="select 1").to_wire() == {
        "projectID": "p",
        "datasetID": "d",
        "dataType": "ga4",
        "customSQLRequest": "select 1",
    }
    assert SourceGA4BigQueryExport(project_id="p", dataset_id="d", table_prefix="events_").to_wire() == {
        "projectID": "p",
        "datasetID": "d",
        "tablePrefix": "events_",
    }
    assert SourceDocker(image_type="singer", registry="ghcr", image="org/tap", configuration={"a": 1}).to_wire() == {
        "imageType": "singer",
        "registry": "ghcr",
        "image": "org/tap",
        "configuration": {"a": 1},
    }
    assert SourceCommercetools(
        url="https://ct.example", project_key="shop", locales=["fr-FR", "en"], fallback_is_in_stock_value=False
    ).to_wire() == {
        "url": "https://ct.example",
        "projectKey": "shop",
        "locales": ["fr-FR", "en"],
        "fallbackIsInStockValue": False,
    }
    assert SourceBigCommerce(
        store_hash="h", channel={"id": 1, "currencies": ["usd"]}, product_metafields=[{"namespace": "n", "key": "k"}]
    ).to_wire() == {
        "storeHash": "h",
        "channel": {"id": 1, "currencies": ["usd"]},
        "productMetafields": [{"namespace": "n", "key": "k"}],
    }
    assert SourceShopify(shop_url="https://s.example", feature_flags={"b2b": True}).to_wire() == {
        "shopURL": "https://s.example",
        "featureFlags": {"b2b": True},
    }
    assert SourceJSON(url="https://x.example/a.json", method="POST").to_wire() == {
        "url": "https://x.example/a.json",
        "method": "POST",
    }
    assert DestinationIndexPrefix(index_prefix="shop_").to_wire() == {"indexPrefix": "shop_"}
    assert [t.to_wire() for t in (OnDemand(), Subscription(), Streaming())] == [
        {"type": "onDemand"},
        {"type": "subscription"},
        {"type": "streaming"},
    ]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: AuthBasic(username="u", password=""), "input.password must not be empty"),
        (lambda: AuthOAuth(url="ftp://x", client_id="i", client_secret="s-1234"), "input.url must be an http(s) URL"),
        (lambda: AuthAPIKey(key=1234), "input.key must be a string, got int ***"),
        (
            lambda: SourceCSV(url="https://x.example/a.csv", delimiter=";;"),
            "input.delimiter must be exactly one character",
        ),
        (
            lambda: SourceCSV(url="https://x.example/a.csv", mapping={"price": "money"}),
            "input.mapping ['price'] must be one of string, integer, float, boolean, json",
        ),
        (lambda: SourceJSON(url="https://x.example/a.json", method="PUT"), "input.method must be one of GET, POST"),
        (
            lambda: SourceCommercetools(url="https://c.example", project_key="p", locales=["fr_FR"]),
            "input.locales must match",
        ),
        (
            lambda: SourceDocker(image_type="oci", registry="dockerhub", image="i", configuration={}),
            "input.imageType (image_type=) must be one of singer, custom, airbyte",
        ),
        (lambda: SourceBigQuery(project_id="p", dataset_id="d", data_type="ga5"), "input.dataType"),
        (
            lambda: SourceBigCommerce(store_hash="h", channel={"currencies": ["usd"]}),
            "input.channel needs an integer 'id'",
        ),
        (
            lambda: DestinationIndexName(index_name="p", record_type="sku"),
            "input.recordType (record_type=) must be one of",
        ),
        (lambda: Schedule(cron="every day at six"), "trigger.cron must have 5 fields"),
    ],
)
def test_typed_inputs_check_themselves(make: Callable[[], Any], message: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        make()
    assert message in str(caught.value)


def test_messages_name_the_wire_field_and_for_typed_inputs_the_argument() -> None:
    with pytest.raises(InvalidArgument, match=r"^input.apiKey is required for an 'algolia' authentication input$"):
        AuthAlgolia.from_wire({"appID": "A"})
    with pytest.raises(InvalidArgument, match=r"input.appID \(app_id=\) must be a string"):
        AuthAlgolia(app_id=7, api_key="k-12345")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        AuthAlgolia(app_id="A")  # type: ignore[call-arg]  # Python itself names the missing argument


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda c: c.create_authentication(type="basic", name="n", input={"username": "u"}),
            "input.password is required for a 'basic' authentication input",
        ),
        (
            lambda c: c.create_authentication(
                type="basic", name="n", input={"username": "u", "password": "p-1234", "otp": "1"}
            ),
            "input.otp is not a field of a 'basic' authentication input; allowed: username, password",
        ),
        (
            lambda c: c.create_authentication(type="ldap", name="n", input={}),
            "type='ldap' is not an authentication type",
        ),
        (
            lambda c: c.create_authentication(
                type="algolia", name="n", input=AuthBasic(username="u", password="p-1234")
            ),
            "type='algolia' does not match input=AuthBasic",
        ),
        (lambda c: c.create_authentication(name="n", input={"key": "k-1234"}), "type is required when input is a dict"),
        (lambda c: c.create_authentication(name="", input=AuthAPIKey(key="k-1234")), "name must be a non-empty string"),
        (
            lambda c: c.create_authentication(name="n", input=AuthAPIKey(key="k-1234"), platform="magento"),
            "platform='magento' is not one of bigcommerce, commercetools, shopify",
        ),
        (
            lambda c: c.create_authentication(name="n", input=SourceJSON(url="https://x.example")),
            "input is SourceJSON, which is not an authentication input",
        ),
        (
            lambda c: c.update_authentication("a1", input={"password": "p-1234", "appID": "A"}),
            "input mixes fields of different authentication types",
        ),
        (
            lambda c: c.update_authentication("a1", input={"pasword": "p-1234"}),
            "input.pasword is not a field of any authentication input",
        ),
        (lambda c: c.update_authentication("a1"), "nothing to update"),
        (
            lambda c: c.create_destination(type="recommend", name="n", input={"indexName": "p"}),
            "type='recommend' is not one of search, insights",
        ),
        (
            lambda c: c.create_destination(type="search", name="n", input={"index": "p"}),
            "input.index is not a field of a destination input",
        ),
        (
            lambda c: c.create_destination(type="search", name="n", input=AuthBasic(username="u", password="p-1234")),
            "input is AuthBasic, not a destination input",
        ),
        (
            lambda c: c.create_source(type="csv", name="n", input={"url": "https://x.example/a.csv", "sep": ";"}),
            (
                "input.sep is not a field of a 'csv' source input; "
                "allowed: url, uniqueIDColumn, mapping, method, delimiter"
            ),
        ),
        (lambda c: c.create_source(type="xml", name="n", input={"url": "https://x"}), "type='xml' is not one of"),
        (
            lambda c: c.create_source(type="bigquery", name="n", input={"projectID": "p"}),
            "input.datasetID is required for a 'bigquery' source input",
        ),
        (
            lambda c: c.create_source(type="sfcc", name="n", input=SourceJSON(url="https://x.example")),
            "input of a 'sfcc' source must be a dict",
        ),
        (
            lambda c: c.update_source(SID, type="commercetools", input={"projectKey": "other"}),
            "input.projectKey cannot be changed on an existing 'commercetools' source",
        ),
        (
            lambda c: c.update_source(SID, input={"projectID": "p", "url": "https://x"}),
            "input mixes fields of different source types",
        ),
        (
            lambda c: c.create_task(SID, DID, action="upsert"),
            "action='upsert' is not one of replace, save, partial, append",
        ),
        (
            lambda c: c.create_task(SID, DID, action="save", trigger="schedule"),
            "trigger.cron is required for a 'schedule' trigger input",
        ),
        (lambda c: c.create_task(SID, DID, action="save", trigger="weekly"), "trigger.type='weekly' is not one of"),
        (
            lambda c: c.create_task(SID, DID, action="save", trigger="onDemand", cron="0 6 * * *"),
            "trigger.cron is not a field of an 'onDemand' trigger input",
        ),
        (
            lambda c: c.create_task(SID, DID, action="save", trigger=OnDemand(), cron="0 6 * * *"),
            "cron= only applies to a schedule trigger",
        ),
        (
            lambda c: c.create_task(SID, DID, action="save", failure_threshold=101),
            "failure_threshold must be an integer percentage from 0 to 100",
        ),
        (lambda c: c.create_task(SID, DID, action="save", enabled="yes"), "enabled must be True or False"),
        (
            lambda c: c.create_task(SID, DID, action="save", input={"mapping": {"format": "v2", "actions": []}}),
            "input.mapping.format must be 'mappingkit/v1'",
        ),
        (
            lambda c: c.create_task(SID, DID, action="save", input={"metafields": []}),
            "input.market is required for a Shopify task input",
        ),
        (lambda c: c.create_task(SID, DID, action="save", input={"columns": []}), "input must be a streaming input"),
        (
            lambda c: c.create_task(SID, DID, action="save", cursor="last tuesday"),
            "cursor='last tuesday' is not a date",
        ),
        (lambda c: c.create_task("", DID, action="save"), "source_id is required"),
        (lambda c: c.task("../admin"), "task_id='../admin' is not an id"),
        (lambda c: c.update_task(TASK_ID, cron="hourly"), "cron must have 5 fields"),
        (lambda c: c.tasks(action=["replace", "merge"]), "action='merge' is not one of"),
        (lambda c: c.tasks(enabled="true"), "enabled must be True or False"),
        (
            lambda c: c.tasks(sort="name"),
            "sort='name' is not one of enabled, triggerType, action, updatedAt, createdAt",
        ),
        (lambda c: c.tasks(order="up"), "order='up' is not one of asc, desc"),
        (lambda c: c.tasks(page_size=500), "page_size must be an integer from 1 to 100"),
        (lambda c: c.tasks(source_id=[]), "source_id is an empty list"),
        (
            lambda c: c.runs(status="running"),
            "status='running' is not one of created, started, idled, finished, skipped",
        ),
        (lambda c: c.runs(start_date="yesterday"), "start_date='yesterday' is not a date"),
        (lambda c: c.events("r1", type="error"), "type='error' is not one of fetch, record, log, transform"),
        (lambda c: c.authentications(platform="magento"), "platform='magento' is not one of"),
        (lambda c: c.search_tasks([]), "task_ids is empty"),
    ],
)
def test_bad_arguments_fail_before_anything_is_sent(
    nothing_sent: Client, call: Callable[[Client], Any], message: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        call(nothing_sent)
    assert message in str(caught.value)


def test_secret_values_are_masked_even_in_validation_messages() -> None:
    with pytest.raises(InvalidArgument) as caught:
        AuthBasic(username="u", password=["hunter2-secret"])  # type: ignore[arg-type]
    assert "hunter2-secret" not in str(caught.value) and "***" in str(caught.value)


def test_dates_become_rfc3339_in_utc() -> None:
    assert rfc3339(date(2024, 7, 18), "d") == "2024-07-18T00:00:00Z"
    assert rfc3339(datetime(2024, 7, 18, 12, 0, 0, 250_000, tzinfo=UTC), "d") == "2024-07-18T12:00:00.250Z"
    assert rfc3339("2024-07-18T10:00:00Z", "d") == "2024-07-18T10:00:00Z"
    import pandas as pd

    assert rfc3339(pd.Timestamp("2024-07-18 14:00", tz="Europe/Paris"), "d") == "2024-07-18T12:00:00Z"
