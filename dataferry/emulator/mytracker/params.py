"""The parameters of myTracker's ``create.json``, read and checked as the API does: the event,
the selectors, one period (dates in a time zone, timestamps, or an availability window), the id
filters and the event-specific ones, multi-value parameters as ``1,2`` or ``idApp[]=1&idApp[]=2``.

Example:
    >>> from werkzeug.datastructures import MultiDict
    >>> spec = parse(
    ...     MultiDict({"event": "installs", "selectors": "idApp,tsEvent", "tsFrom": "0", "tsTo": "86399"}),
    ...     now=1_800_000_000,
    ... )
    >>> spec["selectors"], spec["start"], spec["end"]
    (['idApp', 'tsEvent'], 0, 86399)
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dataferry.emulator.mytracker.data import (
    AD_MONETIZATION_EVENTS,
    CUSTOM_EVENTS,
    EVENTS,
    PAYMENT_EVENTS,
    SEGMENT_EVENTS,
    SELECTORS,
)

AVAILABILITY_DELAY = 3 * 3600
"""availabilityTsTo must be this many seconds in the past."""


class ParamError(ValueError):
    """A create.json parameter is wrong (answered 400 with this detail)."""


def parse(q: Any, now: float) -> dict[str, Any]:
    """The export a ``create.json`` query asks for, as of ``now``.

    Returns:
        the event, selectors, ``start`` / ``end`` (epoch seconds), the filters, and ``wire``:
        the parameters as given, normalised (the same export, the same ``wire``).

    Raises:
        ParamError: a parameter is missing or wrong (the message is the 400's detail).
    """
    wire: dict[str, list[str]] = {}
    event = (q.get("event") or "").strip()
    if not event:
        raise ParamError("The event parameter is required")
    if event not in EVENTS:
        raise ParamError(f"Unknown event: {event}")
    selectors = _multi(q, "selectors")
    if not selectors:
        raise ParamError("The selectors parameter is required")
    unknown = [s for s in selectors if s not in SELECTORS]
    if unknown:
        raise ParamError(f"Unknown selectors for event {event}: {', '.join(unknown)}")
    wire["event"], wire["selectors"] = [event], selectors
    tz_name = (q.get("timezone") or "Europe/Moscow").strip()
    try:
        zone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ParamError(f"Unknown timezone: {tz_name}") from None
    start, end = None, None
    has = {
        name: bool(q.get(name))
        for name in ("dateFrom", "dateTo", "tsFrom", "tsTo", "availabilityTsFrom", "availabilityTsTo")
    }
    for a, b in (("dateFrom", "dateTo"), ("tsFrom", "tsTo"), ("availabilityTsFrom", "availabilityTsTo")):
        if has[a] != has[b]:
            raise ParamError(f"{a} and {b} must be given together")
    if has["dateFrom"] and has["tsFrom"]:
        raise ParamError("Give either dateFrom and dateTo or tsFrom and tsTo")
    if not (has["dateFrom"] or has["tsFrom"] or has["availabilityTsFrom"]):
        raise ParamError(
            "A period is required: dateFrom and dateTo, tsFrom and tsTo, or availabilityTsFrom and availabilityTsTo"
        )
    if has["dateFrom"]:
        first, last = _parse_date(q, "dateFrom"), _parse_date(q, "dateTo")
        if first < date(1970, 1, 1):
            raise ParamError("dateFrom cannot be less than 1970-01-01")
        if last > datetime.fromtimestamp(now, zone).date():
            raise ParamError("dateTo cannot be more than the current date")
        if first > last:
            raise ParamError("dateFrom must not be more than dateTo")
        start = int(datetime.combine(first, datetime.min.time(), zone).timestamp())
        end = int(datetime.combine(last + timedelta(days=1), datetime.min.time(), zone).timestamp()) - 1
        wire["dateFrom"], wire["dateTo"] = [first.isoformat()], [last.isoformat()]
        wire["timezone"] = [zone.key]
    if has["tsFrom"]:
        start, end = _parse_int(q, "tsFrom"), _parse_int(q, "tsTo")
        if end > now:
            raise ParamError("tsTo cannot be more than the current timestamp")
        if start > end:
            raise ParamError("tsFrom must not be more than tsTo")
        wire["tsFrom"], wire["tsTo"] = [str(start)], [str(end)]
    avail = None
    if has["availabilityTsFrom"]:
        a_from, a_to = _parse_int(q, "availabilityTsFrom"), _parse_int(q, "availabilityTsTo")
        if a_to >= now - AVAILABILITY_DELAY:
            raise ParamError("availabilityTsTo must be less than the current timestamp minus 3 hours")
        if a_from > a_to:
            raise ParamError("availabilityTsFrom must not be more than availabilityTsTo")
        avail = (a_from, a_to)
        wire["availabilityTsFrom"], wire["availabilityTsTo"] = [str(a_from)], [str(a_to)]
        if start is None:  # events reach myTracker after they happen: look back from the window
            start, end = max(0, a_from - 86400), a_to
    filters: dict[str, list[int]] = {}
    for name in ("idApp", "idAccount", "idAd", "idCampaign", "idCountry", "idProject", "idPartner"):
        filters[name] = _ids(q, name)
        if filters[name]:
            wire[name] = [str(v) for v in filters[name]]
    sdk_keys = _multi(q, "SDKKey")
    if any(not k.isdigit() for k in sdk_keys):
        raise ParamError("SDKKey must be a list of SDK keys (digits)")
    if sdk_keys:
        wire["SDKKey"] = sdk_keys
    singles: dict[str, int] = {}
    for name, allowed, what in (
        ("isVerified", PAYMENT_EVENTS, "payments events"),
        ("idPurchaseType", PAYMENT_EVENTS, "payments events"),
        ("idAdMediator", AD_MONETIZATION_EVENTS, "ad monetization events"),
        ("idSegment", SEGMENT_EVENTS, "events hits and installs"),
        ("rooted", None, ""),
    ):
        if q.get(name) not in (None, ""):
            if allowed is not None and event not in allowed:
                raise ParamError(f"{name} is only available for {what}")
            singles[name] = _parse_int(q, name)
            wire[name] = [str(singles[name])]
    for name in ("isVerified", "rooted"):
        if name in singles and singles[name] not in (0, 1):
            raise ParamError(f"{name} must be 0 or 1")
    names = [n for n in q.getlist("eventName[]") + q.getlist("eventName") if n != ""]
    invert = q.get("eventNameInvert")
    if (names or invert not in (None, "")) and event not in CUSTOM_EVENTS:
        raise ParamError("eventName is only available for events customEvents and userCustomEvents")
    if invert not in (None, "", "0", "1"):
        raise ParamError("eventNameInvert must be 0 or 1")
    if names:
        wire["eventName"] = names
    if invert not in (None, ""):
        wire["eventNameInvert"] = [invert]
    return {
        "event": event,
        "selectors": selectors,
        "start": start,
        "end": end,
        "avail": avail,
        "zone": zone,
        "filters": filters,
        "sdk_keys": sdk_keys,
        "singles": singles,
        "event_names": names,
        "invert": invert == "1",
        "idApp": filters["idApp"],
        "wire": wire,
    }


def _multi(q: Any, name: str) -> list[str]:
    values = list(q.getlist(name)) + list(q.getlist(f"{name}[]"))
    return [v.strip() for item in values for v in str(item).split(",") if v.strip()]


def _ids(q: Any, name: str) -> list[int]:
    values = _multi(q, name)
    if any(not v.isdigit() for v in values):
        raise ParamError(f"{name} must be a list of integers")
    return [int(v) for v in values]


def _parse_int(q: Any, name: str) -> int:
    value = (q.get(name) or "").strip()
    if not value.isdigit():
        raise ParamError(f"{name} must be an integer")
    return int(value)


def _parse_date(q: Any, name: str) -> date:
    value = (q.get(name) or "").strip()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ParamError(f"{name} must be a date in the format YYYY-MM-DD") from None
