"""wait_all and as_completed over 20 jobs of three vendors against their emulators: finish
order against the emulators' timings, status requests within each vendor's documented rate
(measured from the emulators' request logs), a failing job leaving the others intact, one
overall deadline (issue #19, items 1 and 3)."""

from __future__ import annotations

import time

import pytest

import dataferry
from dataferry.groups import GroupFailed, GroupTimeout, JobGroup
from dataferry.status import JobState

from .conftest import Vendors, most_in_window, timed

STATUS_PATHS = {
    "bd_fast": "/datasets/v3/progress/",
    "bd_slow": "/datasets/v3/progress/",
    "mt": "/api/raw/v1/export/get.json",
    "alg": "/1/runs/",
}


def test_wait_all_waits_for_twenty_jobs_of_three_vendors_within_their_rates(vendors: Vendors) -> None:
    logs = {name: timed(emu) for name, emu in vendors.emus.items()}
    jobs, _ = vendors.jobs()
    started = time.monotonic()
    group = dataferry.wait_all(jobs, timeout=60, progress="off")
    took = time.monotonic() - started
    assert isinstance(group, JobGroup) and list(group) == jobs
    assert all(o.ok for o in group.outcomes) and all(j.last_status.state is JobState.DONE for j in jobs)
    assert took < 15, took  # the slowest job (5 s of emulator time, 3.6 s myTracker floor) bounds it
    polls = {
        n: log.matching(lambda r, p=STATUS_PATHS[n]: r.method == "GET" and r.path.startswith(p))
        for n, log in logs.items()
    }
    # myTracker's documented per-user quotas: 10 a second, 100 a minute (every API call counts)
    mt_calls = logs["mt"].matching(lambda r: r.path.startswith("/api/"))
    assert most_in_window(mt_calls, 1.0) <= 10 and most_in_window(mt_calls, 60.0) <= 100
    # Algolia observability: 200 per 30 s (both runs and events count)
    assert most_in_window(polls["alg"], 30.0) <= 200
    # the client's own rate: with 5 jobs sharing 10/s, no more than 10 status calls in any second
    assert most_in_window(polls["mt"], 1.0) <= 10
    for name, times in polls.items():
        rate = len(times) / max(took, 1e-9)
        print(
            f"{name}: {len(times)} status requests in {took:.1f} s ({rate:.1f}/s), "
            f"most in 1 s: {most_in_window(times, 1.0)}"
        )


def test_as_completed_yields_in_the_order_the_emulators_finish_them(vendors: Vendors) -> None:
    jobs, tier = vendors.jobs()
    seen, at = [], []
    started = time.monotonic()
    for job in dataferry.as_completed(jobs, timeout=60, progress="off"):
        assert job.last_status.state is JobState.DONE
        seen.append(job)
        at.append(time.monotonic() - started)
    assert sorted(j.id for j in seen) == sorted(j.id for j in jobs)
    tiers = [tier[j.id] for j in seen]
    assert tiers == sorted(tiers), list(zip(tiers, [round(a, 2) for a in at], strict=True))
    slow = [a for j, a in zip(seen, at, strict=True) if tier[j.id] == "4 bd-slow"]
    assert min(slow) >= 4.5  # none seen done before the emulator made it ready


def test_a_failing_job_leaves_the_others_intact(vendors: Vendors) -> None:
    jobs, _ = vendors.jobs(fail=True)
    broken = jobs[2]
    group = dataferry.wait_all(jobs, timeout=60, progress="off", raise_on_failure=False)
    states = [o.state for o in group.outcomes]
    assert states.count("failed") == 1 and group.outcome(broken).state == "failed"
    assert "Crawl failed: blocked" in str(group.outcome(broken).error)
    assert states.count("done") == 19 and len(group.succeeded) == 19 and group.failed[0].job is broken
    with pytest.raises(GroupFailed, match=r"1 of 20 jobs did not finish[\s\S]*Crawl failed: blocked") as caught:
        dataferry.wait_all(jobs, timeout=60, progress="off")
    assert caught.value.failed[0].job is broken and len(caught.value.outcomes) == 20
    assert isinstance(caught.value.__cause__, dataferry.JobFailed)
    # as_completed with raise_on_failure=False yields every job, the failed one too
    assert len(list(dataferry.as_completed(jobs, progress="off", raise_on_failure=False))) == 20


def test_one_overall_deadline_for_the_whole_group(vendors: Vendors) -> None:
    jobs, tier = vendors.jobs()
    started = time.monotonic()
    with pytest.raises(GroupTimeout, match=r"5 of 20 jobs still running") as caught:
        dataferry.wait_all(jobs, timeout=2.5, progress="off")
    assert 2.3 < time.monotonic() - started < 4.5
    assert {tier[j.id] for j in caught.value.pending} == {"4 bd-slow"}
    assert "dataferry.wait_all([brightdata.Client(" in caught.value.hint
    finished = [o for o in caught.value.outcomes if o.ok]
    assert len(finished) == 15


def test_bad_arguments_fail_before_anything_is_sent(vendors: Vendors) -> None:
    with pytest.raises(dataferry.InvalidArgument, match="dataferry jobs"):
        dataferry.JobGroup(["s_123"])
    jobs, _ = vendors.jobs()
    with pytest.raises(dataferry.InvalidArgument, match="progress"):
        dataferry.wait_all(jobs, progress="fancy")
    with pytest.raises(dataferry.InvalidArgument, match="no data"):
        dataferry.group(jobs).to_pandas()
