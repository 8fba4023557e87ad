"""HMAC-SHA1 request signing, proven by the documentation's own test vector."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote

import requests
import responses

from dataferry.http import ErrorMap, HttpClient
from dataferry.providers.mytracker.auth import HmacAuth, baseline, percent_encode, signature

DOC_USER = "77658"
DOC_SECRET = "72d2erEtbynf6f7ZYTsYKnb7"
DOC_URL = "https://tracker.my.com/api/raw/v1/export/get.json?idReport=4"


def _expected(secret: str, method: str, url: str, body: str | bytes = "") -> str:
    line = f"{method}&{quote(url, safe='~')}&{quote(body, safe='~')}"
    return base64.b64encode(hmac.new(secret.encode(), line.encode(), hashlib.sha1).digest()).decode()


def test_documentation_test_vector() -> None:
    assert baseline("GET", DOC_URL) == (
        "GET&https%3A%2F%2Ftracker.my.com%2Fapi%2Fraw%2Fv1%2Fexport%2Fget.json%3FidReport%3D4&"
    )
    assert signature(DOC_SECRET, "GET", DOC_URL) == "PqrQR8zsgQU9Qcocjp6T6hnjF8Y="


def test_header_carries_user_id_and_signature_of_the_prepared_request() -> None:
    auth = HmacAuth(DOC_USER, DOC_SECRET)
    prepared = requests.Request(
        "GET", "https://tracker.my.com/api/raw/v1/export/get.json", params={"idReport": 4}
    ).prepare()
    auth(prepared)
    assert prepared.url == DOC_URL
    assert prepared.headers["Authorization"] == "AuthHMAC 77658:PqrQR8zsgQU9Qcocjp6T6hnjF8Y="


def test_percent_encoding_leaves_only_unreserved_characters() -> None:
    assert percent_encode("a-b_c.d~e f/g,h[]=&+") == "a-b_c.d~e%20f%2Fg%2Ch%5B%5D%3D%26%2B"


def test_form_body_is_part_of_the_signature() -> None:
    auth = HmacAuth(DOC_USER, DOC_SECRET)
    url = "https://tracker.my.com/api/raw/v1/export/create.json"
    one = requests.Request("POST", url, data=[("event", "installs"), ("idApp", "1,2")]).prepare()
    two = requests.Request("POST", url, data=[("event", "installs"), ("idApp", "1,3")]).prepare()
    auth(one)
    auth(two)
    assert one.body == "event=installs&idApp=1%2C2"
    assert one.headers["Authorization"] == f"AuthHMAC {DOC_USER}:{_expected(DOC_SECRET, 'POST', url, one.body)}"
    assert one.headers["Authorization"] != two.headers["Authorization"]


@responses.activate
def test_session_signs_the_exact_url_sent_including_query_and_other_hosts() -> None:
    responses.get("https://tracker.my.com/api/raw/v1/export/get.json", json={"code": 200, "data": {}})
    responses.get("https://rawdata.hb.bizmrg.com/storage/download/raw/4.payment.abc.0.csv.gz", body=b"x")
    http = HttpClient("mytracker", "https://tracker.my.com", HmacAuth(DOC_USER, DOC_SECRET), ErrorMap("mytracker"))
    http.request("GET", "/api/raw/v1/export/get.json", params=[("idRawExport", "4"), ("x", "a b,c")])
    http.request("GET", "https://rawdata.hb.bizmrg.com/storage/download/raw/4.payment.abc.0.csv.gz?auth=1")
    for call in responses.calls:
        sent = call.request
        assert sent.headers["Authorization"] == f"AuthHMAC {DOC_USER}:{_expected(DOC_SECRET, 'GET', sent.url)}"
    assert responses.calls[0].request.url.endswith("?idRawExport=4&x=a+b%2Cc")
    assert responses.calls[1].request.url.endswith("0.csv.gz?auth=1")


def test_secret_is_masked_in_repr_and_listed_for_redaction() -> None:
    auth = HmacAuth(DOC_USER, DOC_SECRET)
    assert DOC_SECRET not in repr(auth)
    assert repr(auth) == "HmacAuth(api_user_id='77658', secret_key=***)"
    assert auth.secrets == (DOC_SECRET,)
