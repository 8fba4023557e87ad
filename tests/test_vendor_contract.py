"""The one vendor contract, walked over all four vendors (docs/internals.md, "The vendor
contract"): the same client name and keywords, one meaning of ``rate_limits=``, one page-size
keyword and listing type, local handles that send nothing, ``get_<noun>`` fetches,
``to_pandas()`` on every job handle, errors in ``<vendor>/errors.py``, a pinned ``__all__``
without wiring, and ``import dataferry.<vendor>``."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import responses

import dataferry
from dataferry.client import DATA_KEYWORDS, SHARED_KEYWORDS
from dataferry.errors import ApiError, DataferryError, InvalidArgument
from dataferry.http import Rate
from dataferry.job import Job
from dataferry.listing import Listing

VENDORS = ("brightdata", "mytracker", "woosmap", "algolia")

CREDENTIALS = {
    "brightdata": {"token": "contract-token-1234"},
    "mytracker": {"api_user_id": "77658", "secret_key": "contract-secret-1234"},
    "woosmap": {"private_key": "contract-private-key-1234"},
    "algolia": {"app_id": "APPCONTRACT", "api_key": "contract-api-key-1234"},
}
"""The credential keywords of each client (offline values)."""

DATA_VENDORS = {"brightdata", "mytracker"}
"""The vendors whose jobs have data to download (they take ``cache_dir=``)."""

DID = "8c4c51f1-f6f3-43bc-b65d-7415e8ef22c0"
TID = "6c02aeb1-775e-418e-870b-1faccd4b2c0f"

HANDLES: dict[str, list[tuple[str, tuple[Any, ...]]]] = {
    "brightdata": [
        ("snapshot", ("s_m4x7enmven8djfqak",)),
        ("collection", ("j_lq3x9z0a1b2c3",)),
        ("delivery", ("d_1234",)),
    ],
    "mytracker": [("export", (4,))],
    "woosmap": [("dataset", (DID,)), ("import_run", (DID,))],
    "algolia": [("task", (TID,)), ("run", (TID,))],
}
"""``client.<noun>(id)`` of each vendor: a local handle, no request."""

FETCHES = {
    "brightdata": {"get_snapshot", "get_delivery"},
    "mytracker": {"get_export"},
    "woosmap": {"get_dataset", "get_import_run"},
    "algolia": {"get_task", "get_run", "get_authentication", "get_destination", "get_source", "get_event"},
}
"""``client.get_<noun>(id)``: one GET, the fetched object (the handle with its details read)."""

JOB_HANDLES = {
    "brightdata": ("Snapshot", "Collection", "Delivery"),
    "mytracker": ("Export",),
    "woosmap": ("ImportRun",),
    "algolia": ("Run",),
}
"""The job handles (what ``wait()`` applies to) each vendor exports."""

PUBLIC = {
    "brightdata": [
        "AliOSS",
        "AliOSSCredentials",
        "Azure",
        "AzureCredentials",
        "Build",
        "Client",
        "Collection",
        "Delivery",
        "Email",
        "GCS",
        "GCSPubSub",
        "GoogleCredentials",
        "S3",
        "S3AccessKey",
        "S3Role",
        "SFTP",
        "SFTPCredentials",
        "Snapshot",
        "SnapshotEmpty",
        "SnapshotExpired",
        "SnapshotNotReady",
        "SnapshotTooBig",
        "Snowflake",
        "SnowflakeCredentials",
        "Target",
        "TriggerTimeout",
        "Webhook",
        "trigger_many",
    ],
    "mytracker": ["Client", "EVENTS", "Export", "ExportInterrupted", "ExportNotCancellable", "ExportRefused"],
    "woosmap": ["Client", "Dataset", "ImportFailed", "ImportRun", "NoImportRun"],
    "algolia": [
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
    ],
}
"""What users use, pinned: clients, handles, errors, inputs/targets, enums."""

WIRING = (
    "ERRORS",
    "QUOTAS",
    "RATE_LIMITS",
    "HmacAuth",
    "region_url",
    "DEFAULT_BASE_URL",
    "TARGETS",
    "build_rate_limits",
    "AUTH_INPUTS",
    "SOURCE_INPUTS",
    "RECREATE_ATTEMPTS",
    "AlgoliaListing",
)
"""Names that wire a vendor up; importable from their modules, never from the vendor's face."""

ONE_ANSWER_LISTINGS = ("search_authentications", "search_destinations", "search_sources", "search_tasks")
"""Listings of one answer (a search by ids): no paging, so no page size."""


def vendor(name: str) -> Any:
    return getattr(dataferry, name)


def offline(name: str, **kw: Any) -> Any:
    return vendor(name).Client(**CREDENTIALS[name], **kw)


def public_callables(name: str) -> Iterator[tuple[str, Callable[..., Any]]]:
    """Every public method of the vendor's client and exported classes."""
    module = vendor(name)
    for cls_name in module.__all__:
        cls = getattr(module, cls_name)
        if not inspect.isclass(cls) or issubclass(cls, BaseException):
            continue
        for attr, value in inspect.getmembers(cls, inspect.isfunction):
            if not attr.startswith("_") and value.__module__.startswith("dataferry.providers."):
                yield f"{cls_name}.{attr}", value


# -- names -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", VENDORS)
def test_the_client_is_called_client(name: str) -> None:
    assert vendor(name).Client.__name__ == "Client"
    assert vendor(name).Client.vendor == name


def test_ingestion_stays_an_alias_of_the_algolia_client() -> None:
    assert vendor("algolia").Ingestion is vendor("algolia").Client


@pytest.mark.parametrize("name", VENDORS)
def test_import_dataferry_vendor_is_the_same_module(name: str) -> None:
    module = importlib.import_module(f"dataferry.{name}")
    assert module is vendor(name) is importlib.import_module(f"dataferry.providers.{name}")
    assert importlib.import_module(f"dataferry.{name}.client") is importlib.import_module(
        f"dataferry.providers.{name}.client"
    )


def test_import_dataferry_vendor_works_in_a_fresh_interpreter() -> None:
    code = (
        "import dataferry.brightdata, dataferry.mytracker, dataferry.woosmap, dataferry.algolia\n"
        "from dataferry.brightdata import Client\n"
        "from dataferry import brightdata\n"
        "print(brightdata is dataferry.brightdata and Client is brightdata.Client)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"


@pytest.mark.parametrize("name", VENDORS)
def test_all_is_pinned_sorted_and_free_of_wiring(name: str) -> None:
    names = vendor(name).__all__
    assert sorted(names) == PUBLIC[name]  # kept in ruff's RUF022 order (house rules): constants, classes, functions
    assert not set(names) & set(WIRING) and not [n for n in names if n.endswith("_ENV")]
    for n in names:
        assert getattr(vendor(name), n) is not None


@pytest.mark.parametrize("name", VENDORS)
def test_wiring_stays_importable_from_its_module(name: str) -> None:
    client_module = importlib.import_module(f"dataferry.providers.{name}.client")
    assert client_module.ERRORS.vendor == name and client_module.DEFAULT_BASE_URL.startswith("https://")


# -- the client's keywords ---------------------------------------------------------------------
@pytest.mark.parametrize("name", VENDORS)
def test_every_client_takes_the_shared_keywords(name: str) -> None:
    params = inspect.signature(vendor(name).Client).parameters
    for keyword in SHARED_KEYWORDS:
        assert keyword in params and params[keyword].kind is inspect.Parameter.KEYWORD_ONLY, keyword
    for credential in CREDENTIALS[name]:
        assert credential in params and params[credential].default is None, credential
    assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())  # **http passthrough


@pytest.mark.parametrize("name", VENDORS)
def test_cache_dir_only_where_there_is_data_to_cache(name: str, tmp_path: Any) -> None:
    params = inspect.signature(vendor(name).Client).parameters
    assert all((k in params) is (name in DATA_VENDORS) for k in DATA_KEYWORDS)
    if name in DATA_VENDORS:
        assert offline(name, cache_dir=tmp_path).cache_dir == tmp_path
    else:
        with pytest.raises(TypeError):
            offline(name, cache_dir=tmp_path)


@pytest.mark.parametrize("name", VENDORS)
def test_credentials_come_from_the_environment(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataferry.errors import ConfigurationError

    for env in (
        "BRIGHTDATA_API_TOKEN",
        "MYTRACKER_API_USER_ID",
        "MYTRACKER_SECRET_KEY",
        "WOOSMAP_PRIVATE_KEY",
        "ALGOLIA_APP_ID",
        "ALGOLIA_API_KEY",
    ):
        monkeypatch.delenv(env, raising=False)
    with pytest.raises(ConfigurationError, match="environment variable"):
        vendor(name).Client()


@pytest.mark.parametrize("name", VENDORS)
def test_base_url_and_reattach_code(name: str) -> None:
    client = offline(name, base_url="http://127.0.0.1:9")
    assert client.base_url == "http://127.0.0.1:9"
    assert client.reattach_client == f"{name}.Client(base_url='http://127.0.0.1:9')"
    assert offline(name).reattach_client == f"{name}.Client()"


# -- rate_limits= ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", VENDORS)
def test_rate_limits_has_one_meaning(name: str) -> None:
    cls = vendor(name).Client
    documented = {f: tuple(r) for f, r in cls.documented_limits.items()}
    families = list(documented) or list(cls.rate_families)
    family = families[0]
    for value in (None, True):
        limiter = offline(name, rate_limits=value).http.limiter
        assert {f: limiter.rates(f) for f in documented} == documented
    off = offline(name, rate_limits=False).http.limiter
    assert all(off.rates(f) == () and off.min_interval(f) == 0 for f in families)
    half = offline(name, rate_limits=0.5).http.limiter
    assert {f: half.rates(f) for f in documented} == {
        f: tuple(Rate(r.calls, r.per * 0.5) for r in rates) for f, rates in documented.items()
    }
    custom = offline(name, rate_limits={family: Rate(1, 2.0)}).http.limiter
    assert custom.rates(family) == (Rate(1, 2.0),)
    for other in documented:
        if other != family:
            assert custom.rates(other) == documented[other]


@pytest.mark.parametrize("name", VENDORS)
@pytest.mark.parametrize("junk", ["fast", 0, -1.0, {"no-such-family": Rate(1, 1.0)}, {"x": 5}, [Rate(1, 1.0)]])
def test_rate_limits_refuses_junk_with_a_typed_error(name: str, junk: Any) -> None:
    with pytest.raises(InvalidArgument):
        offline(name, rate_limits=junk)


# -- listings ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", VENDORS)
def test_one_page_size_keyword_and_never_per_page(name: str) -> None:
    listing_methods = 0
    for where, method in public_callables(name):
        params = inspect.signature(method).parameters
        assert "per_page" not in params, where
        if inspect.signature(method).return_annotation in ("Listing", Listing):
            listing_methods += 1
            if where.rsplit(".", 1)[-1] not in ONE_ANSWER_LISTINGS:
                assert "page_size" in params, where
    assert listing_methods >= (0 if name == "mytracker" else 1)


def _live_listings(name: str, client: Any) -> list[Any]:
    if name == "brightdata":
        return [client.snapshots("gd_l1viktl72bvl7bjuj0")]
    if name == "woosmap":
        return [client.datasets(page_size=2)]
    if name == "algolia":
        return [
            client.authentications(),
            client.destinations(),
            client.sources(),
            client.tasks(page_size=2),
            client.runs(),
            client.search_tasks([TID]),
            client.task(TID).runs(),
        ]
    return []


@pytest.mark.parametrize("name", VENDORS)
def test_every_list_method_returns_the_one_listing_type(name: str, start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator(name)
    client = vendor(name).Client(**emu.client_kwargs(), rate_limits=False)
    for listing in _live_listings(name, client):
        assert type(listing) is Listing
        listing.to_list()
        assert hasattr(listing.to_pandas(), "columns")


# -- handles and fetches -----------------------------------------------------------------------
@pytest.mark.parametrize("name", VENDORS)
def test_noun_handles_send_nothing(name: str, start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator(name)
    client = vendor(name).Client(**emu.client_kwargs(), rate_limits=False)
    before = len(emu.app.requests)
    for noun, args in HANDLES[name]:
        handle = getattr(client, noun)(*args)
        assert handle.client is client and str(args[0]) in str(handle.id), noun
        repr(handle)
    assert len(emu.app.requests) == before


@pytest.mark.parametrize("name", VENDORS)
def test_get_noun_is_the_fetch_verb(name: str) -> None:
    client = vendor(name).Client
    for verb in FETCHES[name]:
        assert callable(getattr(client, verb)), verb
    for noun, _ in HANDLES[name]:
        assert f"get_{noun}" in FETCHES[name] or noun == "collection", noun  # a collection's status is its data


def test_get_noun_sends_one_get_and_returns_the_fetched_handle(start_emulator: Callable[..., Any]) -> None:
    emu = start_emulator("algolia")
    ing = vendor("algolia").Client(**emu.client_kwargs())
    before = len(emu.app.requests)
    task = ing.get_task(TID)
    assert isinstance(task, vendor("algolia").Task) and task.info["taskID"] == TID
    assert [(r.method, r.path) for r in emu.app.requests[before:]] == [("GET", f"/1/tasks/{TID}")]


@pytest.mark.parametrize("name", VENDORS)
def test_every_job_handle_has_to_pandas(name: str) -> None:
    for cls_name in JOB_HANDLES[name]:
        cls = getattr(vendor(name), cls_name)
        assert issubclass(cls, Job) and callable(getattr(cls, "to_pandas", None)), cls_name
    exported_jobs = {
        n
        for n in vendor(name).__all__
        if inspect.isclass(getattr(vendor(name), n)) and issubclass(getattr(vendor(name), n), Job)
    }
    assert exported_jobs == set(JOB_HANDLES[name])


# -- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", VENDORS)
def test_vendor_errors_live_in_their_errors_module(name: str) -> None:
    module = importlib.import_module(f"dataferry.providers.{name}.errors")
    own = [
        v
        for v in vars(module).values()
        if inspect.isclass(v) and issubclass(v, BaseException) and v.__module__ == module.__name__
    ]
    assert own, name
    for cls in own:
        assert issubclass(cls, DataferryError) and cls.__name__ in vendor(name).__all__, cls
    exported = [getattr(vendor(name), n) for n in vendor(name).__all__]
    for cls in exported:
        if inspect.isclass(cls) and issubclass(cls, BaseException):
            assert cls.__module__ == module.__name__, cls


def test_core_errors_hold_no_vendor_error() -> None:
    import dataferry.errors as core

    assert not [n for n in vars(core) if n.startswith(("Snapshot", "Export", "Import", "Run"))]


@responses.activate
@pytest.mark.parametrize(
    "name,call,method,url,answer",
    [
        (
            "brightdata",
            lambda c: c.trigger("gd_x", [{"url": "https://example.com"}]),
            "POST",
            "https://api.brightdata.com/datasets/v3/trigger",
            {"ok": True},
        ),
        (
            "brightdata",
            lambda c: c.collect("c_x", [{"url": "https://example.com"}]),
            "POST",
            "https://api.brightdata.com/dca/trigger",
            {"start_eta": "2026-01-01T00:00:00Z"},
        ),
        (
            "mytracker",
            lambda c: c.create_export("installs", ["idApp"], date_from="2020-01-01", date_to="2020-01-02"),
            "POST",
            "https://tracker.my.com/api/raw/v1/export/create.json",
            {"code": 200, "message": "OK", "data": {}},
        ),
        (
            "woosmap",
            lambda c: c.create_dataset("stores", "https://example.com/stores.geojson"),
            "POST",
            "https://api.woosmap.com/datasets/",
            {"name": "stores"},
        ),
        (
            "algolia",
            lambda c: c.run_task(TID),
            "POST",
            f"https://data.us.algolia.com/1/tasks/{TID}/run",
            {"createdAt": "2026-01-01T00:00:00Z"},
        ),
    ],
)
def test_answered_without_an_id_is_one_error_type(
    name: str, call: Callable[[Any], Any], method: str, url: str, answer: Any
) -> None:
    responses.add(method, url, json=answer)
    client = offline(name)
    with pytest.raises(ApiError, match="has no") as caught:
        call(client)
    assert type(caught.value) is ApiError and caught.value.status == 200
    for secret in CREDENTIALS[name].values():
        assert secret not in str(caught.value) or secret.isdigit()
