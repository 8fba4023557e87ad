"""The parameters of ``create.json``: checked before anything is sent, then put on the wire.

Every documented parameter is here (names as myTracker spells them on the wire):

============================  ============================  ==========================================
keyword                       wire name                     note
============================  ============================  ==========================================
``event``                     ``event``                     one of :data:`EVENTS` (required)
``selectors``                 ``selectors``                 the CSV columns, comma-joined (required)
``date_from`` / ``date_to``   ``dateFrom`` / ``dateTo``     ``YYYY-MM-DD`` in ``timezone``
``ts_from`` / ``ts_to``       ``tsFrom`` / ``tsTo``         unix seconds of the event
``availability_ts_from/_to``  ``availabilityTsFrom/To``     when events reached myTracker; ≥ 3 h old
``timezone``                  ``timezone``                  IANA name; myTracker's default Europe/Moscow
``id_app``, ``sdk_key``       ``idApp``, ``SDKKey``         OR-combined by myTracker
``id_account`` ... ``id_partner``                           comma-joined id lists
``is_verified``               ``isVerified``                payments events only
``id_purchase_type``          ``idPurchaseType``            payments events only
``event_name``                ``eventName[]``               customEvents / userCustomEvents only
``event_name_invert``         ``eventNameInvert``           0/1, with ``event_name``
``id_ad_mediator``            ``idAdMediator``              adMonetization / userAdMonetization only
``id_segment``                ``idSegment``                 hits / installs only
``rooted``                    ``rooted``                    0/1: jailbreak / root detected
============================  ============================  ==========================================

The period is given one way: dates (``date_from`` + ``date_to``) or event timestamps
(``ts_from`` + ``ts_to``); the availability window may be given with either, or alone.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dataferry.errors import InvalidArgument

EVENTS = (
    "activities",
    "adMonetization",
    "appUpdates",
    "appleSKANpostbacks",
    "customEvents",
    "deeplinks",
    "deviceAuthorisations",
    "deviceRegistrations",
    "hits",
    "installs",
    "newDevices",
    "partnerSKANpostbacks",
    "payments",
    "reengagements",
    "reinstalls",
    "sessions",
    "testPayments",
    "trialPayments",
    "newUsers",
    "userActivities",
    "userAdMonetization",
    "userAuthorisations",
    "userCustomEvents",
    "userDeeplinks",
    "userHits",
    "userPayments",
    "userReengagements",
    "userRegistrations",
    "userSessions",
    "userTrialPayments",
)
"""myTracker's Events dictionary (devices, then users), the values ``event`` accepts."""

PAYMENT_EVENTS = frozenset({"payments", "userPayments", "testPayments", "trialPayments", "userTrialPayments"})
"""Events that take ``isVerified`` and ``idPurchaseType``."""

CUSTOM_EVENTS = frozenset({"customEvents", "userCustomEvents"})
"""Events that take ``eventName[]`` and ``eventNameInvert``."""

AD_MONETIZATION_EVENTS = frozenset({"adMonetization", "userAdMonetization"})
"""Events that take ``idAdMediator``."""

SEGMENT_EVENTS = frozenset({"hits", "installs"})
"""Events that take ``idSegment``."""

DEFAULT_TIMEZONE = "Europe/Moscow"
"""The timezone myTracker reads ``dateFrom``/``dateTo`` in when none is given."""

EARLIEST_DATE = date(1970, 1, 1)
"""``dateFrom`` cannot be earlier than this."""

AVAILABILITY_DELAY = 3 * 3600.0
"""Seconds by which ``availabilityTsFrom``/``availabilityTsTo`` must lie in the past."""

ID_LISTS = (
    ("id_app", "idApp"),
    ("sdk_key", "SDKKey"),
    ("id_account", "idAccount"),
    ("id_ad", "idAd"),
    ("id_campaign", "idCampaign"),
    ("id_country", "idCountry"),
    ("id_project", "idProject"),
    ("id_partner", "idPartner"),
)
"""Multi-value filters: keyword → wire name (sent comma-joined, e.g. ``idApp=1,2``)."""

_SELECTOR = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_DIGITS = re.compile(r"^[0-9]+$")


def create_params(
    event: str,
    selectors: str | Iterable[str],
    *,
    now: float,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    ts_from: float | datetime | None = None,
    ts_to: float | datetime | None = None,
    availability_ts_from: float | datetime | None = None,
    availability_ts_to: float | datetime | None = None,
    timezone: str | None = None,
    id_app: Any = None,
    sdk_key: Any = None,
    id_account: Any = None,
    id_ad: Any = None,
    id_campaign: Any = None,
    id_country: Any = None,
    id_project: Any = None,
    id_partner: Any = None,
    is_verified: bool | int | None = None,
    id_purchase_type: int | None = None,
    event_name: str | Iterable[str] | None = None,
    event_name_invert: bool | int | None = None,
    id_ad_mediator: int | None = None,
    id_segment: int | None = None,
    rooted: bool | int | None = None,
) -> list[tuple[str, str]]:
    """Check a raw export request and return its wire parameters, in order.

    Args:
        event, selectors, ...: see the module docstring; id filters take an int, a list of
            ints or a ``"1,2"`` string.
        now: the current time (epoch seconds) from the client's clock, for "in the future".

    Returns:
        ``[(name, value), ...]`` for ``create.json``.

    Raises:
        InvalidArgument: naming the parameter that is wrong and what would be right.

    Example:
        >>> create_params(
        ...     "payments",
        ...     ["idApp", "tsEvent"],
        ...     date_from="2026-11-01",
        ...     date_to="2026-11-07",
        ...     id_app=[1, 2],
        ...     now=1_795_000_000,
        ... )  # doctest: +NORMALIZE_WHITESPACE
        [('event', 'payments'), ('selectors', 'idApp,tsEvent'),
         ('dateFrom', '2026-11-01'), ('dateTo', '2026-11-07'), ('idApp', '1,2')]
    """
    out: list[tuple[str, str]] = [("event", _event(event)), ("selectors", ",".join(_selectors(selectors)))]
    out += _period(now, date_from, date_to, ts_from, ts_to, availability_ts_from, availability_ts_to, timezone)
    given = {
        "id_app": id_app,
        "sdk_key": sdk_key,
        "id_account": id_account,
        "id_ad": id_ad,
        "id_campaign": id_campaign,
        "id_country": id_country,
        "id_project": id_project,
        "id_partner": id_partner,
    }
    for keyword, wire in ID_LISTS:
        values = _id_list(keyword, given[keyword])
        if values:
            out.append((wire, ",".join(values)))
    if is_verified is not None:
        _only_for(event, "is_verified", PAYMENT_EVENTS)
        out.append(("isVerified", _flag("is_verified", is_verified)))
    if id_purchase_type is not None:
        _only_for(event, "id_purchase_type", PAYMENT_EVENTS)
        out.append(("idPurchaseType", _one_id("id_purchase_type", id_purchase_type)))
    names = _event_names(event_name)
    if names:
        _only_for(event, "event_name", CUSTOM_EVENTS)
        out += [("eventName[]", n) for n in names]
    if event_name_invert is not None:
        _only_for(event, "event_name_invert", CUSTOM_EVENTS)
        if not names:
            raise InvalidArgument("event_name_invert= inverts the event_name= filter; give event_name= too")
        out.append(("eventNameInvert", _flag("event_name_invert", event_name_invert)))
    if id_ad_mediator is not None:
        _only_for(event, "id_ad_mediator", AD_MONETIZATION_EVENTS)
        out.append(("idAdMediator", _one_id("id_ad_mediator", id_ad_mediator)))
    if id_segment is not None:
        _only_for(event, "id_segment", SEGMENT_EVENTS)
        out.append(("idSegment", _one_id("id_segment", id_segment)))
    if rooted is not None:
        out.append(("rooted", _flag("rooted", rooted)))
    return out


# -- pieces -----------------------------------------------------------------------------------
def _event(event: Any) -> str:
    if not isinstance(event, str) or not event.strip():
        raise InvalidArgument(
            f"event is required: one of the Events dictionary, e.g. 'installs' or 'payments' (got {event!r})"
        )
    if event not in EVENTS:
        close = difflib.get_close_matches(event, EVENTS, n=1)
        if close:
            raise InvalidArgument(
                f"unknown event {event!r}; did you mean {close[0]!r}? (mytracker.EVENTS lists myTracker's events)"
            )
        raise InvalidArgument(f"unknown event {event!r}; myTracker's events are: {', '.join(EVENTS)}")
    return event


def _selectors(selectors: Any) -> list[str]:
    if isinstance(selectors, str):
        items = [s.strip() for s in selectors.split(",")]
    elif isinstance(selectors, Iterable):
        items = [s.strip() if isinstance(s, str) else s for s in selectors]
    else:
        raise InvalidArgument(f"selectors must be a list of column names or a 'a,b,c' string, got {selectors!r}")
    items = [s for s in items if s != ""]
    if not items:
        raise InvalidArgument("selectors is empty: name the columns to export, e.g. ['idApp', 'tsEvent', 'revenue']")
    for s in items:
        if not isinstance(s, str) or not _SELECTOR.match(s):
            raise InvalidArgument(f"selectors: {s!r} is not a selector name (letters and digits, e.g. 'tsEvent')")
    dupes = sorted({s for s in items if items.count(s) > 1})
    if dupes:
        raise InvalidArgument(f"selectors: {', '.join(dupes)} given more than once")
    return items


def _period(
    now: float,
    date_from: Any,
    date_to: Any,
    ts_from: Any,
    ts_to: Any,
    avail_from: Any,
    avail_to: Any,
    tz_name: str | None,
) -> list[tuple[str, str]]:
    dates = _pair("date_from", date_from, "date_to", date_to)
    stamps = _pair("ts_from", ts_from, "ts_to", ts_to)
    avail = _pair("availability_ts_from", avail_from, "availability_ts_to", avail_to)
    if dates and stamps:
        raise InvalidArgument("give the period one way: date_from/date_to or ts_from/ts_to, not both")
    if not (dates or stamps or avail):
        raise InvalidArgument(
            "a period is required: date_from= and date_to= ('YYYY-MM-DD'), or ts_from= and "
            "ts_to= (unix seconds), or availability_ts_from= and availability_ts_to="
        )
    out: list[tuple[str, str]] = []
    zone = _zone(tz_name)
    if dates:
        first, last = _date("date_from", date_from), _date("date_to", date_to)
        if first < EARLIEST_DATE:
            raise InvalidArgument(f"date_from {first} is before {EARLIEST_DATE}, the earliest date myTracker accepts")
        if first > last:
            raise InvalidArgument(f"date_from {first} is after date_to {last}; swap them")
        today = datetime.fromtimestamp(now, zone).date()
        if last > today:
            raise InvalidArgument(
                f"date_to {last} is in the future (today is {today} in {zone.key}); myTracker only exports past events"
            )
        out += [("dateFrom", first.isoformat()), ("dateTo", last.isoformat())]
    if stamps:
        first_ts, last_ts = _ts("ts_from", ts_from), _ts("ts_to", ts_to)
        if first_ts > last_ts:
            raise InvalidArgument(f"ts_from {first_ts} is after ts_to {last_ts}; swap them")
        if last_ts > now:
            raise InvalidArgument(
                f"ts_to {last_ts} ({_utc(last_ts)}) is in the future; myTracker only exports past events"
            )
        out += [("tsFrom", str(first_ts)), ("tsTo", str(last_ts))]
    if avail:
        first_av, last_av = _ts("availability_ts_from", avail_from), _ts("availability_ts_to", avail_to)
        if first_av > last_av:
            raise InvalidArgument(f"availability_ts_from {first_av} is after availability_ts_to {last_av}; swap them")
        latest = now - AVAILABILITY_DELAY
        if last_av >= latest:
            raise InvalidArgument(
                f"availability_ts_to {last_av} ({_utc(last_av)}) must be more than "
                f"{AVAILABILITY_DELAY / 3600:g} hours in the past (before {_utc(int(latest))})"
            )
        out += [("availabilityTsFrom", str(first_av)), ("availabilityTsTo", str(last_av))]
    if tz_name is not None:
        out.append(("timezone", zone.key))
    return out


def _pair(name_a: str, a: Any, name_b: str, b: Any) -> bool:
    if (a is None) != (b is None):
        missing, given = (name_b, name_a) if b is None else (name_a, name_b)
        raise InvalidArgument(f"{given}= needs {missing}= too: a period has both ends")
    return a is not None


def _zone(name: str | None) -> ZoneInfo:
    if name is None:
        return ZoneInfo(DEFAULT_TIMEZONE)
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgument(f"timezone must be an IANA name such as 'Europe/Moscow' or 'UTC', got {name!r}")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArgument(f"timezone {name!r} is not a known IANA timezone (e.g. 'Europe/Moscow', 'UTC')") from None


def _date(name: str, value: Any) -> date:
    if isinstance(value, datetime):
        raise InvalidArgument(
            f"{name} is a date: give date(…) or 'YYYY-MM-DD', not a datetime (use ts_from/ts_to for exact times)"
        )
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
                raise ValueError
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidArgument(f"{name} must be a date like '2026-11-01', got {value!r}")


def _ts(name: str, value: Any) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidArgument(f"{name} is a naive datetime; give it a timezone (tzinfo=...) or pass unix seconds")
        return int(value.timestamp())
    if isinstance(value, bool):
        raise InvalidArgument(f"{name} must be unix seconds, got {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise InvalidArgument(f"{name} must be unix seconds (≥ 0), got {value!r}")
        return int(value)
    if isinstance(value, str) and _DIGITS.match(value.strip()):
        return int(value.strip())
    raise InvalidArgument(f"{name} must be unix seconds or an aware datetime, got {value!r}")


def _utc(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _id_list(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        items: list[Any] = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, Iterable):
        items = list(value)
    else:
        items = [value]
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise InvalidArgument(f"{name}: {item!r} is not an id (give ints, or strings of digits)")
        text = str(item).strip()
        if not _DIGITS.match(text):
            raise InvalidArgument(f"{name}: {item!r} is not an id (digits only)")
        out.append(text)
    if not out:
        raise InvalidArgument(f"{name} is empty; leave it out (None) not to filter by it")
    return list(dict.fromkeys(out))


def _one_id(name: str, value: Any) -> str:
    values = _id_list(name, value)
    if len(values) != 1:
        raise InvalidArgument(f"{name} takes one value, got {value!r}")
    return values[0]


def _flag(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if value in (0, 1):
        return str(int(value))
    raise InvalidArgument(f"{name} must be True/False (or 1/0), got {value!r}")


def _event_names(value: Any) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    names = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise InvalidArgument(f"event_name: {item!r} is not a custom event name")
        names.append(item)
    if not names:
        raise InvalidArgument("event_name is empty; leave it out to export every custom event")
    return names


def _only_for(event: str, name: str, events: frozenset[str]) -> None:
    if event not in events:
        raise InvalidArgument(f"{name}= only applies to the events {', '.join(sorted(events))}, not {event!r}")
