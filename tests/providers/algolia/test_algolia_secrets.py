"""The API key and every authentication secret stay out of reprs, errors, log lines, progress
output and DataFrames."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from dataferry.emulator.algolia import EXAMPLE_TASK_ID
from dataferry.errors import AuthenticationError, BadRequest, DataferryError
from dataferry.providers.algolia import AuthBasic, AuthGoogleServiceAccount, AuthOAuth, Client, RunFailed

from .conftest import APP, BASE, KEY, QUICK

SECRETS = {
    "password": "pw-7f3a9c11",
    "client_secret": "oauth-cs-52d1e0",
    "privateKey": "-----BEGIN PK 91ab-----",
    "apiKey": "algolia-write-88c2",
    "key": "plain-api-key-3e4f",
}
AID = "a1a1a1a1-0000-4000-8000-000000000001"


def assert_clean(text: str, *extra: str) -> None:
    for secret in (KEY, *SECRETS.values(), *extra):
        assert secret not in text


@pytest.fixture
def wire() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_reprs_show_the_app_id_but_never_the_key(unit: Client) -> None:
    for shown in (repr(unit), repr(unit.http), repr(unit.http.auth), repr(unit.run("r-1")), unit.run("r-1").reattach):
        assert_clean(shown)
    assert APP in repr(unit) and "***" in repr(unit)
    typed = [
        AuthBasic(username="u", password=SECRETS["password"]),
        AuthOAuth(url="https://o.example/t", client_id="c", client_secret=SECRETS["client_secret"]),
        AuthGoogleServiceAccount(client_email="s@p.iam", private_key=SECRETS["privateKey"]),
    ]
    for value in typed:
        assert_clean(repr(value))
        assert "***" in repr(value)


def test_secrets_the_api_returns_anyway_are_masked_everywhere(wire: responses.RequestsMock, unit: Client) -> None:
    leaky = {
        "authenticationID": AID,
        "type": "algolia",
        "name": "write",
        "createdAt": "2024-07-18T10:00:00Z",
        "input": {"appID": "APP1", "apiKey": SECRETS["apiKey"]},
    }
    other = {**leaky, "type": "basic", "input": {"username": "u", "password": SECRETS["password"]}}
    wire.add("GET", f"{BASE}/1/authentications/{AID}", json=leaky)
    wire.add(
        "GET",
        f"{BASE}/1/authentications",
        json={
            "authentications": [leaky, other],
            "pagination": {"nbPages": 1, "page": 1, "nbItems": 2, "itemsPerPage": 100},
        },
    )
    wire.add("POST", f"{BASE}/1/authentications/search", json=[leaky, other])
    assert unit.get_authentication(AID)["input"] == {"appID": "APP1", "apiKey": "***"}
    listing = unit.authentications()
    frame = listing.to_pandas()
    assert_clean(frame.to_string() + repr(listing.to_list()))
    assert set(frame["input.apiKey"].dropna()) == {"***"} and set(frame["input.password"].dropna()) == {"***"}
    found = unit.search_authentications(AID).to_pandas()
    assert_clean(found.to_string())
    assert_clean(listing._repr_html_())


def test_a_listing_masks_secret_columns_even_without_the_record_transform() -> None:
    from dataferry.listing import one_page_listing
    from dataferry.providers.algolia.authentications import SECRET_COLUMNS

    raw = one_page_listing(
        [{"input": {"username": "u", "password": SECRETS["password"]}}, {"input": {"username": "v"}}],
        vendor="algolia",
        title="authentications",
        secret_columns=SECRET_COLUMNS,
    )
    frame = raw.to_pandas()
    assert frame["input.password"].iloc[0] == "***" and frame["input.password"].isna().iloc[1]


def test_credentials_sent_in_an_input_are_masked_in_errors(wire: responses.RequestsMock, unit: Client) -> None:
    wire.add(
        "POST",
        f"{BASE}/1/authentications",
        status=400,
        json={
            "message": f"could not log in as u with password {SECRETS['password']}",
            "input": {"username": "u", "password": SECRETS["password"]},
        },
    )
    with pytest.raises(BadRequest) as caught:
        unit.create_authentication(name="feed", input=AuthBasic(username="u", password=SECRETS["password"]))
    assert_clean(str(caught.value) + repr(caught.value.body))
    assert "password ***" in str(caught.value)


def test_a_wrong_key_fails_without_showing_it(alg_emu: Any) -> None:
    wrong = "wrong-key-d41d8cd98f"
    client = Client(app_id=alg_emu.credentials["app_id"], api_key=wrong, base_url=alg_emu.base_url)
    with pytest.raises(AuthenticationError) as caught:
        client.tasks().to_list()
    assert "Invalid Application-Id or API-Key" in str(caught.value)
    assert_clean(str(caught.value) + repr(caught.value.body) + repr(client), wrong)


def test_nothing_secret_reaches_logs_or_progress(
    alg_emu: Any, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    emulator_key = alg_emu.credentials["api_key"]
    ing = Client(**alg_emu.client_kwargs(), poll=QUICK)
    ing.create_authentication(name="feed", input=AuthBasic(username="feeds", password=SECRETS["password"]))
    alg_emu.faults.add("status", path="/1/tasks", status=429, html=True, retry_after=0, times=1)
    ing.tasks().to_pandas()  # a retry notice is logged
    source = ing.create_source(type="csv", name="bad", input={"url": "https://x.example/a.csv?errors=100"})
    task = ing.get_task(EXAMPLE_TASK_ID).info
    run = ing.run_task(ing.create_task(source["sourceID"], task["destinationID"], action="save")["taskID"])
    with pytest.raises(RunFailed) as caught:
        run.wait(progress="log")
    with pytest.raises(DataferryError) as refused:  # the right key for the wrong application
        Client(app_id="OTHERAPP", api_key=emulator_key, base_url=alg_emu.base_url).tasks().to_list()
    out = capsys.readouterr()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "rate limited" in logged and "failed" in logged  # the notice and the progress lines were there
    assert_clean(logged + out.out + out.err + str(caught.value) + repr(run) + str(refused.value), emulator_key)
