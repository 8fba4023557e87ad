"""create.json parameters: every documented one on the wire, and clear errors before sending."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import responses

from dataferry.clock import FakeClock
from dataferry.errors import InvalidArgument
from dataferry.providers.mytracker import Client
from dataferry.providers.mytracker.params import create_params

NOV_20 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp()


def params(event: str = "payments", selectors: object = ("idApp", "tsEvent"), **kw: object) -> list[tuple[str, str]]:
    kw.setdefault("now", NOV_20)
    if not {"date_from", "ts_from", "availability_ts_from"} & kw.keys():
        kw.update(date_from="2026-11-01", date_to="2026-11-07")
    return create_params(event, selectors, **kw)  # type: ignore[arg-type]


def test_every_documented_parameter_reaches_the_wire() -> None:
    wire = create_params(
        "payments",
        ["idApp", "tsEvent", "revenue"],
        now=NOV_20,
        date_from="2026-11-01",
        date_to=date(2026, 11, 7),
        availability_ts_from=1_793_000_000,
        availability_ts_to=1_793_100_000,
        timezone="UTC",
        id_app=[1, 2],
        sdk_key="00004399666566289449,00004399666566289448",
        id_account=3,
        id_ad=[87877, 464746],
        id_campaign="66,14",
        id_country=(188, 200),
        id_project=[234],
        id_partner=[10006],
        is_verified=True,
        id_purchase_type=1,
        rooted=False,
    )
    assert wire == [
        ("event", "payments"),
        ("selectors", "idApp,tsEvent,revenue"),
        ("dateFrom", "2026-11-01"),
        ("dateTo", "2026-11-07"),
        ("availabilityTsFrom", "1793000000"),
        ("availabilityTsTo", "1793100000"),
        ("timezone", "UTC"),
        ("idApp", "1,2"),
        ("SDKKey", "00004399666566289449,00004399666566289448"),
        ("idAccount", "3"),
        ("idAd", "87877,464746"),
        ("idCampaign", "66,14"),
        ("idCountry", "188,200"),
        ("idProject", "234"),
        ("idPartner", "10006"),
        ("isVerified", "1"),
        ("idPurchaseType", "1"),
        ("rooted", "0"),
    ]


def test_custom_event_names_are_sent_as_an_array_with_their_invert_flag() -> None:
    wire = params("customEvents", "eventName,tsEvent", event_name=["level_up", "a,b"], event_name_invert=True)
    assert ("eventName[]", "level_up") in wire and ("eventName[]", "a,b") in wire
    assert ("eventNameInvert", "1") in wire


def test_timestamps_accept_unix_seconds_and_aware_datetimes() -> None:
    wire = params(ts_from=datetime(2026, 11, 1, tzinfo=UTC), ts_to=1_793_500_000)
    assert ("tsFrom", "1793491200") in wire and ("tsTo", "1793500000") in wire
    ads = params("adMonetization", "idApp", id_ad_mediator=2)
    hits = params("hits", "idApp", id_segment=7)
    assert ("idAdMediator", "2") in ads and ("idSegment", "7") in hits


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"event": "payment"}, ["unknown event 'payment'", "did you mean 'payments'"]),
        ({"event": ""}, ["event is required"]),
        ({"selectors": []}, ["selectors is empty"]),
        ({"selectors": " , "}, ["selectors is empty"]),
        ({"selectors": ["idApp", "ts Event"]}, ["'ts Event' is not a selector name"]),
        ({"selectors": ["idApp", "idApp"]}, ["idApp given more than once"]),
        ({"date_from": "2026-11-07", "date_to": "2026-11-01"}, ["date_from 2026-11-07 is after date_to 2026-11-01"]),
        (
            {"date_from": "2026-11-01", "date_to": "2026-11-21"},
            ["date_to 2026-11-21 is in the future", "today is 2026-11-20 in Europe/Moscow"],
        ),
        ({"date_from": "1969-12-31", "date_to": "2026-11-01"}, ["before 1970-01-01"]),
        ({"date_from": "01.11.2026", "date_to": "2026-11-07"}, ["date_from must be a date like"]),
        ({"date_from": datetime(2026, 11, 1), "date_to": "2026-11-07"}, ["not a datetime"]),  # noqa: DTZ001 - refused
        ({"date_from": "2026-11-01"}, ["date_from= needs date_to= too"]),
        ({"ts_from": 1_793_000_000, "ts_to": NOV_20 + 60}, ["is in the future"]),
        ({"ts_from": 1_793_500_000, "ts_to": 1_793_000_000}, ["ts_from 1793500000 is after ts_to 1793000000"]),
        ({"ts_from": datetime(2026, 11, 1), "ts_to": 1_793_500_000}, ["naive datetime"]),  # noqa: DTZ001 - refused
        ({"date_from": "2026-11-01", "date_to": "2026-11-02", "ts_from": 1, "ts_to": 2}, ["not both"]),
        (
            {"availability_ts_from": NOV_20 - 7200, "availability_ts_to": NOV_20 - 3600},
            ["more than 3 hours in the past"],
        ),
        ({"timezone": "Mars/Olympus"}, ["not a known IANA timezone"]),
        ({"event": "installs", "is_verified": True}, ["is_verified= only applies to the events", "payments"]),
        ({"event": "installs", "id_purchase_type": 1}, ["id_purchase_type= only applies"]),
        ({"event": "payments", "event_name": "level_up"}, ["event_name= only applies", "customEvents"]),
        ({"event": "customEvents", "event_name_invert": True}, ["give event_name= too"]),
        ({"event": "payments", "id_ad_mediator": 1}, ["id_ad_mediator= only applies", "adMonetization"]),
        ({"event": "payments", "id_segment": 1}, ["id_segment= only applies", "hits"]),
        ({"id_app": ["one"]}, ["id_app: 'one' is not an id"]),
        ({"id_app": [True]}, ["id_app: True is not an id"]),
        ({"id_app": []}, ["id_app is empty"]),
        ({"rooted": 2}, ["rooted must be True/False"]),
    ],
)
def test_bad_parameters_are_named_with_what_would_be_right(kw: dict[str, object], words: list[str]) -> None:
    event = kw.pop("event", "payments")
    selectors = kw.pop("selectors", ("idApp", "tsEvent"))
    with pytest.raises(InvalidArgument) as info:
        params(event, selectors, **kw)  # type: ignore[arg-type]
    for word in words:
        assert word in str(info.value)


def test_no_period_at_all_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="a period is required"):
        create_params("installs", ["idApp"], now=NOV_20)


def test_today_is_read_in_the_requested_timezone() -> None:
    late_evening_utc = datetime(2026, 11, 20, 22, 30, tzinfo=UTC).timestamp()  # already Nov 21 in Moscow
    wire = create_params("installs", ["idApp"], date_from="2026-11-21", date_to="2026-11-21", now=late_evening_utc)
    assert ("dateTo", "2026-11-21") in wire
    with pytest.raises(InvalidArgument, match=r"today is 2026-11-20 in UTC"):
        create_params(
            "installs", ["idApp"], date_from="2026-11-21", date_to="2026-11-21", timezone="UTC", now=late_evening_utc
        )


@responses.activate
def test_client_validates_with_its_own_clock_before_sending_anything() -> None:
    clock = FakeClock(wall=NOV_20)
    mt = Client(api_user_id="1", secret_key="s3cr3t-key", clock=clock)
    with pytest.raises(InvalidArgument, match="is in the future"):
        mt.create_export("installs", ["idApp"], date_from="2026-11-20", date_to="2026-11-22")
    with pytest.raises(InvalidArgument, match="unknown event"):
        mt.create_export("installz", ["idApp"], date_from="2026-11-01", date_to="2026-11-02")
    with pytest.raises(InvalidArgument, match="recreate_attempts"):
        mt.create_export("installs", ["idApp"], date_from="2026-11-01", date_to="2026-11-02", recreate_attempts=-1)
    with pytest.raises(InvalidArgument, match="export_id must be a positive integer"):
        mt.export("abc")
    assert len(responses.calls) == 0
