"""Nothing hangs and nothing retries without bound (issue #15, class 3), and nothing the
server chooses can move a file outside its directory (class 4)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest
import responses

from dataferry import brightdata, mytracker
from dataferry.clock import FakeClock
from dataferry.constants import MAX_ATTEMPTS
from dataferry.emulator import Emulator
from dataferry.errors import DataError, RateLimited, RequestMayHaveReached, ServerError, TransportError
from dataferry.parts import Part

DATASET = "gd_l1viktl72bvl7bjuj0"
INPUTS = [{"url": "https://example.com/p/1"}]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_trigger_to_an_unreachable_host_gives_up_after_its_attempts() -> None:
    clock = FakeClock()
    bd = brightdata.Client(token="t" * 12, base_url=f"http://127.0.0.1:{closed_port()}", clock=clock)
    with pytest.raises(TransportError, match="no answer"):
        bd.trigger(DATASET, INPUTS)
    trigger_waits = len(clock.sleeps)
    # a GET gets the same budget; the trigger used to keep going for its whole 900 s busy wait
    assert trigger_waits == MAX_ATTEMPTS - 1 and sum(clock.sleeps) < 120, clock.sleeps
    with pytest.raises(TransportError):
        bd.snapshot("s_1").status()
    assert len(clock.sleeps) - trigger_waits == trigger_waits


@responses.activate
def test_too_many_running_jobs_is_still_waited_out_within_busy_wait() -> None:
    base = "https://api.brightdata.com"
    busy = {"error": "You have too many running jobs for this dataset."}
    responses.add(responses.POST, f"{base}/datasets/v3/trigger", json=busy, status=429)
    clock = FakeClock()
    bd = brightdata.Client(token="t" * 12, clock=clock)
    with pytest.raises(RateLimited):
        bd.trigger(DATASET, INPUTS, busy_wait=300)
    assert len(responses.calls) > MAX_ATTEMPTS  # 429s created nothing: waited out for 300 s
    assert 290 <= sum(clock.sleeps) <= 310


@pytest.mark.parametrize("link", ["file:///etc/passwd", "ftp://files.example.com/part-1.csv.gz", "gopher://x/1"])
def test_a_link_that_http_cannot_fetch_fails_at_once(tmp_path: Path, link: str) -> None:
    clock = FakeClock()
    mt = mytracker.Client(api_user_id="1", secret_key="s" * 12, base_url="http://127.0.0.1:9", clock=clock)
    from dataferry.cache import PartCache
    from dataferry.download import Downloader

    downloader = Downloader(mt.http, PartCache("mytracker", "1", root=tmp_path), clock=clock, job_id="1")
    with pytest.raises(DataError, match="cannot be downloaded over HTTP"):
        downloader.fetch(Part(0, link, "csv", "gzip"))
    assert clock.sleeps == []


def test_a_5xx_answer_to_a_trigger_says_the_job_may_exist(bd_emu: Emulator) -> None:
    bd_emu.faults.add("status", path="/datasets/v3/trigger", status=502)
    bd = brightdata.Client(**bd_emu.client_kwargs())
    with pytest.raises(ServerError) as caught:
        bd.trigger(DATASET, INPUTS)
    assert caught.value.maybe_created
    assert "may have acted on it" in str(caught.value)
    assert f"bd.snapshots(dataset_id={DATASET!r})" in str(caught.value.hint)
    assert sum(r.path.endswith("/trigger") for r in bd_emu.app.requests) == 1  # not re-sent


def test_a_dropped_trigger_names_where_to_look(bd_emu: Emulator) -> None:
    bd_emu.faults.add("slow", path="/datasets/v3/trigger", delay=0.6)
    bd = brightdata.Client(**bd_emu.client_kwargs(), timeout=(2.0, 0.2))
    with pytest.raises(RequestMayHaveReached) as caught:
        bd.trigger(DATASET, INPUTS)
    assert f"bd.snapshots(dataset_id={DATASET!r})" in str(caught.value.hint)


@responses.activate
@pytest.mark.parametrize("server_id", ["..", ".", "../outside", ".hidden", "a:b"])
def test_a_server_chosen_id_never_puts_a_file_outside_the_cache(tmp_path: Path, server_id: str) -> None:
    base = "https://api.brightdata.com"
    cache = tmp_path / "cache" / "nested"
    responses.add(responses.POST, f"{base}/datasets/v3/trigger", json={"snapshot_id": server_id})
    responses.add(responses.GET, f"{base}/datasets/v3/progress/{server_id}", json={"status": "ready"})
    responses.add(
        responses.GET, f"{base}/datasets/v3/snapshot/{server_id}", body="id,name\n1,a\n2,b\n", content_type="text/csv"
    )
    bd = brightdata.Client(token="t" * 12, cache_dir=cache, clock=FakeClock())
    snap = bd.trigger(DATASET, INPUTS, compress=False)
    out = tmp_path / "out"
    assert snap.to_pandas(progress=False)["name"].tolist() == ["a", "b"]
    assert [p.name for p in snap.download(out, progress=False)] == ["csv-all.csv"]
    inside = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert all(cache in p.parents or out in p.parents for p in inside), sorted(map(str, inside))
    assert all(p.parent.parent == cache / "brightdata" for p in cache.rglob("*") if p.is_file())


def test_two_ids_that_clean_up_alike_never_share_a_directory(tmp_path: Path) -> None:
    from dataferry.cache import PartCache

    a = PartCache("brightdata", "s/1", root=tmp_path)
    b = PartCache("brightdata", "s_1", root=tmp_path)
    c = PartCache("brightdata", "s:1", root=tmp_path)
    assert len({a.dir, b.dir, c.dir}) == 3


def test_a_part_name_from_the_server_stays_inside_the_download_directory(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    from dataferry.cache import safe_name

    for name in ("../../escape.csv.gz", "/abs/x.csv.gz", "..", "ok-00001.csv.gz"):
        target = (tmp_path / safe_name(name)).resolve()
        assert target.parent == tmp_path.resolve()
    assert safe_name("ok-00001.csv.gz") == "ok-00001.csv.gz"
