"""Fault injection on the wire, kind by kind, with raw ``requests``, ``http.client`` and sockets
against running emulators: what each kind does to an answer, that every vendor gets every kind,
that chaos is deterministic for a seed and survivable, that the counters count, and that the
server survives it all quietly. Nothing from dataferry's client side is used here."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import logging
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from dataferry import emulator
from dataferry.emulator import Emulator
from dataferry.emulator.chaos import DEFAULT_CHAOS_KINDS, Chaos
from dataferry.emulator.faults import Faults, html_page

DATASET = "gd_l1viktl72bvl7bjuj0"
V3 = "/datasets/v3"
FAST = {"start_after": 0.02, "ready_after": 0.1, "records_per_input": 40}
"""Bright Data snapshots ready within a tenth of a second, ~14 kB of JSON each."""


# -- helpers ---------------------------------------------------------------------------------------------
class Wire:
    """Raw HTTP against one Bright Data emulator and one ready snapshot."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.headers = {"Authorization": f"Bearer {emu.credentials['token']}"}
        answer = requests.post(
            f"{emu.base_url}{V3}/trigger",
            params={"dataset_id": DATASET},
            headers=self.headers,
            json=[{"url": "https://shop.example.com/p/1"}, {"url": "https://shop.example.com/p/2"}],
            timeout=10,
        )
        self.sid = answer.json()["snapshot_id"]
        deadline = time.monotonic() + 10
        while self.get(f"{V3}/progress/{self.sid}").json()["status"] != "ready":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        self.download = f"{V3}/snapshot/{self.sid}"
        self.plain = self.get(self.download, params={"format": "json"}).content
        self.packed = self.get(self.download, params={"format": "json", "compress": "true"}).content
        assert len(self.plain) > 10_000 and self.packed[:2] == b"\x1f\x8b"

    def get(self, path: str, *, timeout: Any = 10, **kw: Any) -> requests.Response:
        headers = {**self.headers, **kw.pop("headers", {})}
        return requests.get(self.emu.base_url + path, headers=headers, timeout=timeout, **kw)

    def raw(self, path: str, headers: dict[str, str] | None = None) -> tuple[bytes, bytes, BaseException | None]:
        """``(head, body, how it ended)`` of a GET read straight off a socket (``None``: a clean EOF)."""
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: 127.0.0.1:{self.emu.server.port}",
            "Connection: close",
            *(f"{k}: {v}" for k, v in {**self.headers, **(headers or {})}.items()),
        ]
        data, ended = b"", None
        with socket.create_connection(("127.0.0.1", self.emu.server.port), timeout=10) as s:
            s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            try:
                while chunk := s.recv(65536):
                    data += chunk
            except OSError as exc:
                ended = exc
        head, _, body = data.partition(b"\r\n\r\n")
        return head, body, ended

    def packed_path(self) -> str:
        return f"{self.download}?format=json&compress=true"


def header(head: bytes, name: str) -> str | None:
    for line in head.decode("latin-1").split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


@pytest.fixture(scope="module")
def server() -> Iterator[Emulator]:
    with emulator.serve("brightdata", **FAST) as emu:
        yield emu


@pytest.fixture
def wire(server: Emulator) -> Iterator[Wire]:
    """A fresh ready snapshot on the module's emulator; faults and counts are cleared after."""
    yield Wire(server)
    server.faults.clear()
    server.faults.reset_counts()


# -- answers: status, body, reset before the headers, slow -------------------------------------------------
def test_a_429_storm_with_retry_after_in_seconds_then_the_real_answer(wire: Wire) -> None:
    wire.emu.faults.add("status", path="/progress/", status=429, retry_after=2, times=3)
    for _ in range(3):
        limited = wire.get(f"{V3}/progress/{wire.sid}")
        assert (limited.status_code, limited.headers["Retry-After"]) == (429, "2")
        assert limited.json() == {"error": "Too many requests"}
    assert wire.get(f"{V3}/progress/{wire.sid}").json()["status"] == "ready"
    assert wire.emu.faults.injected == {"status": 3}


def test_retry_after_as_an_http_date_and_429_without_any_hint(wire: Wire) -> None:
    wire.emu.faults.add("status", path="/progress/", status=429, retry_after_date=30)
    wire.emu.faults.add("status", path="/progress/", status=429)
    dated = wire.get(f"{V3}/progress/{wire.sid}")
    when = parsedate_to_datetime(dated.headers["Retry-After"]).timestamp()
    assert dated.status_code == 429 and dated.headers["Retry-After"].endswith(" GMT")
    assert 20 < when - time.time() < 40
    bare = wire.get(f"{V3}/progress/{wire.sid}")
    assert bare.status_code == 429 and "Retry-After" not in bare.headers


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_burst_in_the_vendor_shape_or_as_a_proxy_page(wire: Wire, status: int) -> None:
    wire.emu.faults.add("status", path=r"/snapshot/", status=status, times=2)
    wire.emu.faults.add("status", path=r"/snapshot/", status=status, html=True, times=1)
    for _ in range(2):
        answer = wire.get(wire.download)
        assert answer.status_code == status and set(answer.json()) == {"error"}
    page = wire.get(wire.download)
    assert page.status_code == status and page.headers["Content-Type"].startswith("text/html")
    assert page.text.startswith("<html>") and str(status) in page.text
    assert wire.get(wire.download, params={"format": "json"}).content == wire.plain


def test_a_reset_before_the_headers_gives_no_status_and_does_nothing_on_the_server(wire: Wire) -> None:
    wire.emu.faults.add("reset", path=f"{V3}/trigger$")
    before = set(wire.emu.app.snapshots)
    with pytest.raises(requests.ConnectionError) as info:
        requests.post(
            f"{wire.emu.base_url}{V3}/trigger",
            params={"dataset_id": DATASET},
            headers=wire.headers,
            json=[{"url": "https://shop.example.com/p/9"}],
            timeout=10,
        )
    assert "reset" in str(info.value).lower()
    assert set(wire.emu.app.snapshots) == before
    wire.emu.faults.add("reset", path="/progress/")
    head, body, ended = wire.raw(f"{V3}/progress/{wire.sid}")
    assert (head, body) == (b"", b"") and isinstance(ended, ConnectionResetError)
    assert wire.get(f"{V3}/progress/{wire.sid}").status_code == 200


def test_slow_delays_the_headers_but_hang_sends_them_and_stalls_the_body(wire: Wire) -> None:
    wire.emu.faults.add("slow", path="/progress/", delay=3)
    with pytest.raises(requests.ReadTimeout):
        wire.get(f"{V3}/progress/{wire.sid}", timeout=(5, 1.0))
    wire.emu.faults.add("hang", path="/snapshot/", delay=4)
    answer = wire.get(wire.download, params={"format": "json"}, timeout=(5, 1.0), stream=True)
    assert answer.status_code == 200 and answer.headers["Content-Length"] == str(len(wire.plain))
    with pytest.raises(requests.ConnectionError, match="timed out"):
        answer.content  # noqa: B018
    assert wire.emu.faults.injected == {"slow": 1, "hang": 1}


def test_a_hang_ends_with_the_whole_body_for_a_patient_client(wire: Wire) -> None:
    wire.emu.faults.add("hang", path="/snapshot/", delay=0.3)
    started = time.monotonic()
    assert wire.get(wire.download, params={"format": "json"}).content == wire.plain
    assert time.monotonic() - started >= 0.15


def test_body_answers_html_where_csv_was_expected_and_an_error_object_where_an_array_was(wire: Wire) -> None:
    wire.emu.faults.add("body", path="/snapshot/", html=html_page("Just a moment...", "Checking your browser"))
    page = wire.get(wire.download, params={"format": "csv"})
    assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>Just a moment...</title>" in page.text and "Checking your browser" in page.text
    wire.emu.faults.add("body", path="/snapshot/", json={"error": "Snapshot is building", "status": "building"})
    building = wire.get(wire.download, params={"format": "json"})
    assert building.status_code == 200 and building.json() == {"error": "Snapshot is building", "status": "building"}
    wire.emu.faults.add("body", path="/snapshot/", data=b"\0" * 64, content_type="text/csv", status=200)
    nul = wire.get(wire.download, params={"format": "csv"})
    assert nul.content == b"\0" * 64 and nul.headers["Content-Type"] == "text/csv"
    wire.emu.faults.add("body", path="/snapshot/", html="Bad gateway", status=502, retry_after=5)
    proxy = wire.get(wire.download)
    assert (proxy.status_code, proxy.headers["Retry-After"]) == (502, "5") and "<h1>Bad gateway</h1>" in proxy.text
    assert wire.get(wire.download, params={"format": "json"}).content == wire.plain


def test_body_flips_a_ready_job_back_to_building_for_a_while(wire: Wire) -> None:
    flip = {"snapshot_id": wire.sid, "dataset_id": DATASET, "status": "building"}
    wire.emu.faults.add("body", path=f"/progress/{wire.sid}$", json=flip, times=2)
    seen = [wire.get(f"{V3}/progress/{wire.sid}").json()["status"] for _ in range(3)]
    assert seen == ["building", "building", "ready"]


def test_faults_refuse_unknown_kinds_and_parameters() -> None:
    faults = Faults()
    with pytest.raises(ValueError, match="unknown fault kind 'explode'"):
        faults.add("explode")
    with pytest.raises(ValueError, match="takes no after"):
        faults.add("drop", after=10)
    with pytest.raises(ValueError, match="exactly one of json=, text=, html=, data="):
        faults.add("body", status=502)
    with pytest.raises(ValueError, match="exactly one of extra=, less="):
        faults.add("lie_length")
    with pytest.raises(ValueError, match="needs a kind"):
        faults.arm([{"path": "/x"}])
    assert len(faults) == 0


# -- bodies: drop, reset mid-body, truncate, corrupt, lie_length, trickle ------------------------------------
def test_a_reset_mid_body_sends_exactly_the_bytes_asked_then_an_rst(wire: Wire) -> None:
    wire.emu.faults.add("reset", path="/snapshot/", after_bytes=5000)
    head, body, ended = wire.raw(f"{wire.download}?format=json")
    assert head.startswith(b"HTTP/1.1 200") and header(head, "Content-Length") == str(len(wire.plain))
    assert body == wire.plain[:5000] and isinstance(ended, ConnectionResetError)
    wire.emu.faults.add("reset", path="/snapshot/", after_bytes=0.5)  # a fraction of the body
    conn = http.client.HTTPConnection("127.0.0.1", wire.emu.server.port, timeout=10)
    conn.request("GET", f"{wire.download}?format=json", headers=wire.headers)
    answer = conn.getresponse()
    with pytest.raises(ConnectionResetError):
        got = b""
        while chunk := answer.read1(65536):
            got += chunk
    assert got == wire.plain[: len(wire.plain) // 2]
    conn.close()


def test_a_drop_is_a_clean_close_unlike_a_reset(wire: Wire) -> None:
    wire.emu.faults.add("drop", path="/snapshot/", after_bytes=3000)
    head, body, ended = wire.raw(f"{wire.download}?format=json")
    assert header(head, "Content-Length") == str(len(wire.plain)) and body == wire.plain[:3000] and ended is None
    wire.emu.faults.add("drop", path="/snapshot/", after_bytes=3000)
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        wire.get(wire.download, params={"format": "json"})


def test_body_faults_act_on_json_status_answers_too(wire: Wire) -> None:
    wire.emu.faults.add("drop", path="/progress/", after_bytes=10)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        wire.get(f"{V3}/progress/{wire.sid}")
    wire.emu.faults.add("corrupt", path="/progress/", at=0, count=1)
    damaged = wire.get(f"{V3}/progress/{wire.sid}")
    assert damaged.status_code == 200 and damaged.content[:1] == bytes([ord("{") ^ 0xFF])
    with pytest.raises(ValueError):
        damaged.json()


def test_a_fault_waits_for_an_answer_it_can_act_on(wire: Wire) -> None:
    fault = wire.emu.faults.add("drop", path="/", after_bytes=1000)
    assert wire.get(f"{V3}/progress/{wire.sid}").status_code == 200  # ~100 bytes: left alone
    assert wire.get(f"{V3}/progress/s_missing").status_code == 404  # errors are left alone
    assert (fault.hits, len(wire.emu.faults), wire.emu.faults.injected) == (0, 1, {})
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        wire.get(wire.download, params={"format": "json"})
    assert (fault.hits, len(wire.emu.faults), wire.emu.faults.injected) == (1, 0, {"drop": 1})


def test_an_armed_drop_is_used_up_by_the_next_download_even_one_too_short_to_cut(wire: Wire) -> None:
    fault = wire.emu.faults.add("drop", path="/snapshot/", after_bytes=10**7, times=1)
    assert wire.get(wire.download, params={"format": "json"}).content == wire.plain  # nothing to cut
    assert fault.hits == 1 and len(wire.emu.faults) == 0  # but spent, as drops always were


def test_truncate_is_honestly_labelled_and_gzip_only_spares_plain_bodies(wire: Wire) -> None:
    fault = wire.emu.faults.add("truncate", path="/snapshot/", keep=0.4, gzip_only=True)
    assert wire.get(wire.download, params={"format": "json"}).content == wire.plain
    assert fault.hits == 0
    cut = wire.get(wire.packed_path())
    assert cut.content == wire.packed[: int(len(wire.packed) * 0.4)]
    assert cut.headers["Content-Length"] == str(len(cut.content))
    with pytest.raises(EOFError):
        gzip.decompress(cut.content)
    wire.emu.faults.add("truncate", path="/snapshot/", keep=1000)
    ranged = wire.get(wire.download, params={"format": "json"}, headers={"Range": "bytes=500-"})
    assert ranged.status_code == 206 and ranged.headers["Content-Range"] == "bytes 500-999/1000"
    assert ranged.content == wire.plain[500:1000]


def test_corrupt_flips_bytes_in_the_middle_same_length_and_gzip_notices(wire: Wire) -> None:
    wire.emu.faults.add("corrupt", path="/snapshot/", count=6)
    bad = wire.get(wire.packed_path()).content
    assert len(bad) == len(wire.packed) and bad != wire.packed
    diff = [i for i, (a, b) in enumerate(zip(bad, wire.packed, strict=True)) if a != b]
    middle = len(wire.packed) // 2
    assert diff == list(range(middle, middle + 6))
    with pytest.raises((OSError, EOFError, zlib.error)):
        gzip.decompress(bad)
    # a range that does not cover the flipped bytes is served intact, and the fault stays armed
    fault = wire.emu.faults.add("corrupt", path="/snapshot/", at=100, count=4)
    tail = wire.get(wire.packed_path(), headers={"Range": "bytes=1000-"})
    assert tail.content == wire.packed[1000:] and fault.hits == 0
    head = wire.get(wire.packed_path(), headers={"Range": "bytes=0-199"})
    assert head.content[100:104] == bytes(b ^ 0xFF for b in wire.packed[100:104]) and fault.hits == 1


def test_lie_length_extra_announces_more_than_it_sends(wire: Wire) -> None:
    wire.emu.faults.add("lie_length", path="/snapshot/", extra=500)
    head, body, ended = wire.raw(f"{wire.download}?format=json")
    assert header(head, "Content-Length") == str(len(wire.plain) + 500) and body == wire.plain and ended is None
    wire.emu.faults.add("lie_length", path="/snapshot/", extra=1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        wire.get(wire.download, params={"format": "json"})


def test_lie_length_less_sends_only_what_it_announced_and_nothing_shows_it(wire: Wire) -> None:
    wire.emu.faults.add("lie_length", path="/snapshot/", less=700)
    short = wire.get(wire.download, params={"format": "json"})  # no error at all
    assert short.status_code == 200 and short.content == wire.plain[:-700]
    assert short.headers["Content-Length"] == str(len(wire.plain) - 700)
    wire.emu.faults.add("lie_length", path="/snapshot/", less=700)
    ranged = wire.get(wire.packed_path(), headers={"Range": "bytes=0-"})
    total = len(wire.packed)
    assert ranged.headers["Content-Range"] == f"bytes 0-{total - 1}/{total}"  # the only hint left
    with pytest.raises(EOFError):
        gzip.decompress(ranged.content)


def test_trickle_delivers_at_about_the_rate_asked(wire: Wire) -> None:
    size = len(wire.plain)
    rate = size / 0.8  # the body in about 0.8 s
    wire.emu.faults.add("trickle", path="/snapshot/", rate=rate)
    started = time.monotonic()
    assert wire.get(wire.download, params={"format": "json"}).content == wire.plain
    assert time.monotonic() - started >= 0.5 * size / rate
    wire.emu.faults.add("trickle", path="/snapshot/", seconds=0.6, after_bytes=size // 2)
    started = time.monotonic()
    _head, body, ended = wire.raw(f"{wire.download}?format=json")
    assert body == wire.plain and ended is None and time.monotonic() - started >= 0.3


def test_trickle_then_drop_compose(wire: Wire) -> None:
    wire.emu.faults.add("trickle", path="/snapshot/", seconds=0.3)
    wire.emu.faults.add("drop", path="/snapshot/", after_bytes=4000)
    _head, body, ended = wire.raw(f"{wire.download}?format=json")
    assert body == wire.plain[:4000] and ended is None
    assert wire.emu.faults.injected == {"trickle": 1, "drop": 1}


# -- ranges -----------------------------------------------------------------------------------------------------
def test_range_416_refuses_a_satisfiable_range(wire: Wire) -> None:
    wire.emu.faults.add("range_416", path="/snapshot/")
    plain = wire.get(wire.download, params={"format": "json"})  # no Range: left alone
    assert plain.status_code == 200
    refused = wire.get(wire.download, params={"format": "json"}, headers={"Range": "bytes=0-99"})
    assert refused.status_code == 416 and refused.headers["Content-Range"] == f"bytes */{len(wire.plain)}"
    again = wire.get(wire.download, params={"format": "json"}, headers={"Range": "bytes=0-99"})
    assert again.status_code == 206 and again.content == wire.plain[:100]


def test_ignore_range_answers_the_whole_body(wire: Wire) -> None:
    wire.emu.faults.add("ignore_range", path="/snapshot/")
    whole = wire.get(wire.download, params={"format": "json"}, headers={"Range": "bytes=100-"})
    assert whole.status_code == 200 and whole.content == wire.plain and "Content-Range" not in whole.headers


# -- expire -----------------------------------------------------------------------------------------------------
def test_expire_answers_bright_datas_expired_snapshot_once(wire: Wire) -> None:
    wire.emu.faults.add("expire", path="/snapshot/")
    assert wire.get(f"{V3}/progress/{wire.sid}").json()["status"] == "ready"
    gone = wire.get(wire.download, params={"format": "json"})
    assert (gone.status_code, gone.json()) == (400, {"error": "Snapshot is expired"})
    assert wire.get(wire.download, params={"format": "json"}).content == wire.plain


def test_expire_kills_a_mytracker_link_between_get_json_and_the_download(
    start_emulator: Callable[..., Emulator],
) -> None:
    from dataferry.emulator.mytracker import sign

    emu = start_emulator("mytracker", step_seconds=0.01, steps=1, rows_per_day=20, rate_limits=False)

    def call(method: str, url: str, **params: str) -> requests.Response:
        prepared = requests.Request(
            method, url if url.startswith("http") else emu.base_url + url, params=params
        ).prepare()
        signature = sign(emu.credentials["secret_key"], method, prepared.url)
        prepared.headers["Authorization"] = f"AuthHMAC {emu.credentials['api_user_id']}:{signature}"
        with requests.Session() as s:
            return s.send(prepared, timeout=10)

    export = call(
        "POST",
        "/api/raw/v1/export/create.json",
        event="installs",
        selectors="idApp,tsEvent",
        dateFrom="2026-11-01",
        dateTo="2026-11-02",
    ).json()["data"]["idRawExport"]
    time.sleep(0.05)
    link = call("GET", "/api/raw/v1/export/get.json", idRawExport=export).json()["data"]["files"][0]["link"]
    emu.faults.add("expire", path="/storage/download/", times=2)
    for _ in range(2):
        dead = call("GET", link)
        assert dead.status_code == 404 and "expired" in dead.json()["data"]["error"]["detail"]
    again = call("GET", "/api/raw/v1/export/get.json", idRawExport=export).json()["data"]["files"][0]["link"]
    assert gzip.decompress(call("GET", again).content).startswith(b'"idApp","tsEvent"\n')
    assert emu.faults.injected == {"expire": 2}


# -- every vendor, every kind --------------------------------------------------------------------------------------
@pytest.mark.parametrize("vendor", list(emulator.VENDORS))
def test_every_vendor_gets_every_kind(start_emulator: Callable[..., Emulator], vendor: str) -> None:
    emu = start_emulator(vendor)
    url = emu.base_url + "/any/where"
    emu.faults.add("status", path="/any/", status=503)
    refused = requests.get(url, timeout=10)
    own_error = emu.app.error(503, "Service unavailable").get_data()
    assert refused.status_code == 503 and refused.content == own_error  # the vendor's own shape
    emu.faults.add("reset", path="/any/")
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=10)
    records = [{"id": n, "name": "x" * 50} for n in range(40)]
    emu.faults.add("body", path="/any/", json=records, times=3)
    emu.faults.add("drop", path="/any/", after_bytes=100)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(url, timeout=10)
    emu.faults.add("lie_length", path="/any/", extra=10)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(url, timeout=10)
    emu.faults.add("trickle", path="/any/", seconds=0.2)
    assert requests.get(url, timeout=10).json() == records
    assert emu.faults.injected == {"status": 1, "reset": 1, "body": 3, "drop": 1, "lie_length": 1, "trickle": 1}


# -- counting -----------------------------------------------------------------------------------------------------
def test_counts_are_exact_under_concurrent_requests(wire: Wire) -> None:
    fault = wire.emu.faults.add("status", path="/progress/", status=503, times=None)
    codes: list[int] = []

    def hammer() -> None:
        with requests.Session() as s:
            codes.extend(
                s.get(f"{wire.emu.base_url}{V3}/progress/{wire.sid}", headers=wire.headers, timeout=10).status_code
                for _ in range(15)
            )

    threads = [threading.Thread(target=hammer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [503] * 90
    assert fault.hits == 90 and wire.emu.faults.injected == {"status": 90}
    assert [i.kind for i in wire.emu.faults.injections] == ["status"] * 90
    wire.emu.faults.clear()
    assert wire.emu.faults.injected == {"status": 90}  # counts survive clear()
    wire.emu.faults.reset_counts()
    assert wire.emu.faults.injected == {} and wire.emu.faults.injections == []


# -- chaos -----------------------------------------------------------------------------------------------------------
def run_sequence(wire: Wire, rounds: int = 12) -> list[tuple[str, str, str]]:
    """The same GETs every time; what each one met, as ``(path, outcome, fault)``."""
    seen = []
    paths = [f"{V3}/progress/{wire.sid}", wire.packed_path(), f"{V3}/snapshot/{wire.sid}/parts"]
    for _ in range(rounds):
        for path in paths:
            before = len(wire.emu.faults.injections)
            try:
                outcome = str(wire.get(path, timeout=(5, 5)).status_code)
            except requests.RequestException as exc:
                outcome = type(exc).__name__
            after = wire.emu.faults.injections[before:]
            seen.append((path, outcome, ",".join(f"{i.kind}{sorted(i.params.items())}" for i in after)))
    return seen


def test_chaos_is_deterministic_for_a_seed(wire: Wire) -> None:
    kinds = ("status", "reset", "drop", "corrupt", "lie_length")
    wire.emu.faults.chaos(seed=7, rate=0.5, kinds=kinds)
    first = run_sequence(wire)
    wire.emu.faults.chaos(seed=7, rate=0.5, kinds=kinds)  # a new chaos: the draws start over
    second = run_sequence(wire)
    wire.emu.faults.chaos(seed=8, rate=0.5, kinds=kinds)
    other = run_sequence(wire)
    assert first == second
    assert other != first
    faulted = [f for _, _, f in first if f]
    assert 5 <= len(faulted) <= 27 and len({f.split("[")[0] for f in faulted}) >= 2


def test_chaos_draws_do_not_depend_on_how_requests_interleave() -> None:
    keys = [("GET", f"/p/{n}", f"part={n % 3}") for n in range(30)]
    one, two = Chaos(seed=3, rate=0.4), Chaos(seed=3, rate=0.4)
    in_order = {k: [one.draw(*k) for _ in range(4)] for k in keys}
    shuffled: dict[tuple[str, str, str], list[Any]] = {k: [] for k in keys}
    for _ in range(4):
        for k in reversed(keys):
            shuffled[k].append(two.draw(*k))
    assert in_order == shuffled


def test_chaos_never_faults_more_than_streak_requests_in_a_row() -> None:
    chaos = Chaos(seed=1, rate=1.0, kinds=("status", "drop"), streak=3)
    for n in range(20):
        draws = [chaos.draw("GET", f"/x/{n}") for _ in range(12)]
        runs = "".join("F" if d else "." for d in draws)
        assert "FFFF" not in runs and runs.startswith("FFF.")
        statuses = [d for d in draws if d and d[0] == "status"]
        assert all(s[1]["status"] in (429, 500, 502, 503, 504) for s in statuses)


def test_chaos_rate_and_what_it_leaves_alone() -> None:
    chaos = Chaos(seed=11, rate=0.1, kinds=("drop", "reset", "trickle"))
    drawn = sum(chaos.draw("GET", f"/files/{n}") is not None for n in range(3000))
    assert 0.08 * 3000 < drawn < 0.12 * 3000
    assert all(chaos.draw("POST", f"/trigger/{n}") is None for n in range(200))  # GETs only by default
    ranges = Chaos(seed=0, rate=1.0, kinds=("ignore_range",))
    assert ranges.draw("GET", "/f") is None and ranges.draw("GET", "/g", ranged=True) == ("ignore_range", {})
    only = Chaos(seed=0, rate=1.0, paths=r"/snapshot/")
    assert only.draw("GET", "/progress/1") is None and only.draw("GET", "/snapshot/1") is not None
    with pytest.raises(ValueError, match="cannot draw body"):
        Chaos(kinds=("body",))
    with pytest.raises(ValueError, match="between 0 and 1"):
        Chaos(rate=2)


def test_default_chaos_kinds_are_survivable_and_mytracker_adds_expire(start_emulator: Callable[..., Emulator]) -> None:
    assert not {"range_416", "body", "expire"} & set(DEFAULT_CHAOS_KINDS)
    assert start_emulator("brightdata").faults.chaos().kinds == DEFAULT_CHAOS_KINDS
    assert start_emulator("mytracker").faults.chaos().kinds == (*DEFAULT_CHAOS_KINDS, "expire")
    assert "gzip_only" in Chaos(seed=0, rate=1.0, kinds=("corrupt",)).draw("GET", "/f")[1]  # type: ignore[index]


def test_a_client_with_streak_plus_one_attempts_always_gets_the_data_through_chaos(wire: Wire) -> None:
    wire.emu.faults.chaos(seed=5, rate=1.0)  # every kind of the default set, as often as allowed
    for _ in range(6):
        for _attempt in range(4):
            try:
                answer = wire.get(wire.packed_path(), timeout=(5, 5))
                if answer.status_code == 200 and gzip.decompress(answer.content) == wire.plain:
                    break
            except (requests.RequestException, OSError, EOFError, zlib.error):
                pass
        else:
            raise AssertionError(f"4 attempts were not enough: {wire.emu.faults.injections[-4:]}")
        # POSTs are never drawn: a trigger always goes through
        assert (
            requests.post(
                f"{wire.emu.base_url}{V3}/trigger",
                params={"dataset_id": DATASET},
                headers=wire.headers,
                json=[{"url": "https://shop.example.com/p/3"}],
                timeout=10,
            ).status_code
            == 200
        )
    injected = wire.emu.faults.injected
    # at least 3 of every 4 requests of a key are faulted at rate 1 (the 4th after a streak is clean)
    assert sum(injected.values()) == len(wire.emu.faults.injections) >= 4
    assert all(i.origin == "chaos" for i in wire.emu.faults.injections)


# -- per server, and the server survives -------------------------------------------------------------------------
def test_faults_and_chaos_armed_when_the_emulator_starts(start_emulator: Callable[..., Emulator]) -> None:
    emu = start_emulator(
        "brightdata",
        faults=[{"kind": "status", "path": "/snapshots$", "status": 503, "times": 2}],
        chaos={"rate": 1.0, "kinds": ["status"], "paths": "/progress/"},
        fault_seed=4,
    )
    headers = {"Authorization": f"Bearer {emu.credentials['token']}"}
    listing = f"{emu.base_url}{V3}/snapshots?dataset_id={DATASET}"
    assert [requests.get(listing, headers=headers, timeout=10).status_code for _ in range(3)] == [503, 503, 200]
    progress = requests.get(f"{emu.base_url}{V3}/progress/s_x", headers=headers, timeout=10)
    assert progress.status_code in (429, 500, 502, 503, 504)
    assert [i.origin for i in emu.faults.injections] == ["armed", "armed", "chaos"]


def test_the_server_survives_every_kind_and_logs_nothing_alarming(
    wire: Wire, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    faults = wire.emu.faults
    for kind, params in [
        ("reset", {}),
        ("reset", {"after_bytes": 100}),
        ("drop", {"after_bytes": 10}),
        ("lie_length", {"extra": 5}),
        ("corrupt", {}),
        ("truncate", {}),
        ("trickle", {"seconds": 0.1}),
    ]:
        faults.add(kind, path="/snapshot/", **params)
        with contextlib.suppress(requests.RequestException):
            wire.get(wire.download, params={"format": "json"})
    faults.add("trickle", path="/snapshot/", rate=2000)  # the client walks away mid-trickle
    walked = wire.get(wire.download, params={"format": "json"}, stream=True)
    assert len(next(walked.iter_content(50))) == 50
    walked.close()
    faults.add("hang", path="/snapshot/", delay=0.5)
    with pytest.raises(requests.RequestException):  # the client gives up on the stalled body
        wire.get(wire.download, params={"format": "json"}, timeout=(5, 0.1), stream=True).content  # noqa: B018
    time.sleep(0.7)
    assert wire.get(wire.download, params={"format": "json"}).content == wire.plain
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception" not in err
    assert any("connection dropped: emulator fault" in r.getMessage() for r in caplog.records)


# -- the temporary data directory -----------------------------------------------------------------------------------
def test_stop_removes_the_data_directory_the_emulator_made_but_never_a_given_one(tmp_path: Path) -> None:
    emu = emulator.start("brightdata", **FAST)
    own = Path(emu.app.data_dir)
    Wire(emu)  # downloads, so files are written there
    assert own.is_dir() and any(own.rglob("*.gz"))
    emu.stop()
    assert not own.exists()
    emu.app.close()  # twice is harmless

    given = tmp_path / "keep"
    with emulator.serve("brightdata", data_dir=given, **FAST) as kept:
        Wire(kept)
    assert given.is_dir() and any(given.rglob("*.gz"))


def test_an_emulator_that_cannot_listen_leaves_no_directory_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(OSError, match="in use"):
            emulator.start("woosmap", port=busy.getsockname()[1])
    assert list(tmp_path.iterdir()) == []
