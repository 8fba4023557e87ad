"""The myTracker emulator's synthetic events: the Events and selector dictionaries, the apps,
partners and countries the rows come from, and the generator that makes an export's rows
(deterministic per seed, event and day)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
"""The Events dictionary."""

PAYMENT_EVENTS = frozenset({"payments", "userPayments", "testPayments", "trialPayments", "userTrialPayments"})
"""Events that take ``isVerified`` and ``idPurchaseType`` (and carry revenue)."""

CUSTOM_EVENTS = frozenset({"customEvents", "userCustomEvents"})
"""Events that take ``eventName[]`` and ``eventNameInvert``."""

AD_MONETIZATION_EVENTS = frozenset({"adMonetization", "userAdMonetization"})
"""Events that take ``idAdMediator``."""

SEGMENT_EVENTS = frozenset({"hits", "installs"})
"""Events that take ``idSegment``."""

SELECTORS = {
    "idApp": "app id",
    "idAccount": "account id",
    "idProject": "project id",
    "idCampaign": "campaign id",
    "idAd": "tracking link id",
    "idPartner": "partner id",
    "idPartnerTitle": "partner name",
    "idCountry": "country id",
    "idAdEventTypeTitle": "click or view",
    "tsEvent": "event time (unix s)",
    "tsClick": "click time (unix s)",
    "tsView": "view time (unix s)",
    "dtEvent": "event time, local text",
    "advertisingId": "advertising id",
    "customUserId": "user id",
    "revenue": "revenue",
    "isVerified": "payment verified (0/1)",
    "idPurchaseType": "purchase type",
    "eventName": "custom event name",
    "idAdMediator": "ad mediator",
    "idSegment": "segment id",
    "rooted": "jailbreak / root (0/1)",
}
"""The selectors the emulator can serve, with what each column holds."""

APPS = (1, 2, 3)
"""App ids the synthetic events belong to."""

SDK_KEYS = {1: "00004399666566289441", 2: "00004399666566289442", 3: "00004399666566289443"}
"""The SDK key of each app (the ``SDKKey`` filter)."""

PARTNERS = {10000: "Organic", 10006: "VK Ads", 10008: "Partnér Ünïcode", 10012: "Mail, Inc."}
"""Partner ids and names (``idPartnerTitle``; one needs CSV quoting, one is not ASCII)."""

COUNTRIES = (188, 200, 215, 56, 43)
"""Country ids the synthetic events come from."""

CUSTOM_NAMES = ("level_up", "tutorial_done", "purchase_click", "share")
"""Custom event names (``eventName``)."""


def generate(spec: dict[str, Any], *, seed: int, rows_per_day: int) -> pa.Table:
    """The rows of an export of ``spec`` (see :func:`~dataferry.emulator.mytracker.params.parse`),
    with exactly the requested selectors as columns."""
    event_no = EVENTS.index(spec["event"])
    first_day, last_day = spec["start"] // 86400, spec["end"] // 86400
    blocks = [_day(seed, rows_per_day, event_no, d) for d in range(first_day, last_day + 1)] if rows_per_day else []
    cols = {k: np.concatenate([b[k] for b in blocks]) if blocks else np.array([], dtype=_DTYPES[k]) for k in _DTYPES}
    keep = (cols["tsEvent"] >= spec["start"]) & (cols["tsEvent"] <= spec["end"])
    if spec["avail"] is not None:
        keep &= (cols["tsAvailability"] >= spec["avail"][0]) & (cols["tsAvailability"] <= spec["avail"][1])
    f = spec["filters"]
    if f["idApp"] or spec["sdk_keys"]:
        by_key = [a for a, k in SDK_KEYS.items() if k in spec["sdk_keys"]]
        keep &= np.isin(cols["idApp"], f["idApp"] + by_key)  # myTracker ORs idApp and SDKKey
    for name in ("idAccount", "idAd", "idCampaign", "idCountry", "idProject", "idPartner"):
        if f[name]:
            keep &= np.isin(cols[name], f[name])
    for name, value in spec["singles"].items():
        keep &= cols[name] == value
    if spec["event_names"]:
        hit = np.isin(cols["eventName"], spec["event_names"])
        keep &= ~hit if spec["invert"] else hit
    picked = {k: v[keep] for k, v in cols.items()}
    out = {}
    for s in spec["selectors"]:
        if s == "dtEvent":
            out[s] = _local_text(picked["tsEvent"], spec["zone"])
        elif s == "idPartnerTitle":
            out[s] = pa.array([PARTNERS[int(p)] for p in picked["idPartner"]], type=pa.string())
        else:
            out[s] = pa.array(picked[s])
    return pa.table(out)


def _day(seed: int, n: int, event_no: int, day: int) -> dict[str, np.ndarray]:
    """``n`` rows of event ``event_no`` on ``day`` (days since the epoch), every column."""
    rng = np.random.default_rng([seed, event_no, day])
    ts = day * 86400 + np.sort(rng.integers(0, 86400, n))
    app = np.array(APPS)[rng.integers(0, len(APPS), n)]
    partners = np.array(list(PARTNERS))
    revenue = np.round(rng.gamma(2.0, 2.5, n), 2) if EVENTS[event_no] in PAYMENT_EVENTS else np.zeros(n)
    return {
        "tsEvent": ts.astype(np.int64),
        "idApp": app.astype(np.int64),
        "idAccount": np.where(app == 3, 11, 10).astype(np.int64),
        "idProject": (200 + app).astype(np.int64),
        "idCampaign": (300 + rng.integers(1, 6, n)).astype(np.int64),
        "idAd": (87000 + rng.integers(1, 20, n)).astype(np.int64),
        "idPartner": partners[rng.integers(0, len(partners), n)].astype(np.int64),
        "idCountry": np.array(COUNTRIES)[rng.integers(0, len(COUNTRIES), n)].astype(np.int64),
        "idAdEventTypeTitle": np.array(["click", "view"])[rng.integers(0, 2, n)].astype(object),
        "tsClick": (ts - rng.integers(60, 3 * 86400, n)).astype(np.int64),
        "tsView": (ts - rng.integers(60, 3 * 86400, n)).astype(np.int64),
        "advertisingId": np.array(
            [f"{a:016x}-{b:016x}" for a, b in zip(rng.integers(0, 2**63, n), rng.integers(0, 2**63, n), strict=True)],
            dtype=object,
        ),
        "customUserId": np.array([f"user-{u}" for u in rng.integers(1, 5000, n)], dtype=object),
        "revenue": revenue.astype(np.float64),
        "isVerified": rng.integers(0, 2, n).astype(np.int64),
        "idPurchaseType": rng.integers(1, 4, n).astype(np.int64),
        "eventName": np.array(CUSTOM_NAMES)[rng.integers(0, len(CUSTOM_NAMES), n)].astype(object),
        "idAdMediator": rng.integers(1, 4, n).astype(np.int64),
        "idSegment": rng.integers(1, 4, n).astype(np.int64),
        "rooted": (rng.random(n) < 0.05).astype(np.int64),
        "tsAvailability": (ts + rng.integers(60, 7200, n)).astype(np.int64),
        "dtEvent": np.zeros(n, dtype=np.int64),  # formatted from tsEvent at selection time
        "idPartnerTitle": np.zeros(n, dtype=np.int64),  # looked up from idPartner at selection time
    }


_DTYPES = {
    "tsEvent": np.int64,
    "idApp": np.int64,
    "idAccount": np.int64,
    "idProject": np.int64,
    "idCampaign": np.int64,
    "idAd": np.int64,
    "idPartner": np.int64,
    "idCountry": np.int64,
    "idAdEventTypeTitle": object,
    "tsClick": np.int64,
    "tsView": np.int64,
    "advertisingId": object,
    "customUserId": object,
    "revenue": np.float64,
    "isVerified": np.int64,
    "idPurchaseType": np.int64,
    "eventName": object,
    "idAdMediator": np.int64,
    "idSegment": np.int64,
    "rooted": np.int64,
    "tsAvailability": np.int64,
    "dtEvent": np.int64,
    "idPartnerTitle": np.int64,
}


def _local_text(ts: np.ndarray, zone: ZoneInfo) -> pa.Array:
    stamps = pa.array(ts.astype("datetime64[s]"), type=pa.timestamp("s", tz="UTC"))
    try:
        return pc.strftime(pc.cast(stamps, pa.timestamp("s", tz=zone.key)), format="%Y-%m-%d %H:%M:%S")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # pragma: no cover - no tz database for Arrow
        return pa.array([datetime.fromtimestamp(int(t), zone).strftime("%Y-%m-%d %H:%M:%S") for t in ts])
