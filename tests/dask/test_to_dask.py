"""``to_dask()`` on a real LocalCluster: one partition per part, row for row what ``to_pandas``
gives, the unified schema as ``meta``, drift named clearly, expiring links refreshed on the
worker without re-triggering anything."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from dataferry.errors import InvalidArgument, SchemaDrift
from tests.dask.conftest import DRIFT


def same_rows(ddf: Any, expected: pd.DataFrame) -> None:
    """``ddf`` holds exactly ``expected``'s rows, in order, with the same dtypes."""
    assert list(ddf.dtypes) == list(expected.dtypes)  # meta, before anything is computed
    pd.testing.assert_frame_equal(ddf.compute().reset_index(drop=True), expected)


def test_one_partition_per_part_row_for_row(snapshot: Callable[..., Any], dask_client: Any) -> None:
    snap = snapshot(records=5000, batch_size=1000)
    ddf = snap.to_dask()
    assert ddf.npartitions == len(snap.parts()) == 5
    expected = snap.to_pandas()
    assert list(ddf.dtypes) == list(ddf._meta.dtypes)
    same_rows(ddf, expected)
    assert (
        ddf.groupby("currency")
        .price.mean()
        .compute()
        .sort_index()
        .round(9)
        .equals(expected.groupby("currency").price.mean().sort_index().round(9))
    )


def test_ndjson_parts_and_the_nullable_backends(snapshot: Callable[..., Any], dask_client: Any) -> None:
    snap = snapshot(records=3000, batch_size=1000, fmt="ndjson")
    same_rows(snap.to_dask(), snap.to_pandas())
    pyarrow_backed = snap.to_dask(dtype_backend="pyarrow").compute().reset_index(drop=True)
    pd.testing.assert_frame_equal(pyarrow_backed, snap.to_pandas(dtype_backend="pyarrow"))


def test_drift_across_parts_is_unified_as_to_arrow_does(snapshot: Callable[..., Any], dask_client: Any) -> None:
    snap = snapshot(records=3000, batch_size=1000, dataset=DRIFT)
    arrow = snap.to_arrow()
    assert arrow.schema.field("sku").type == pa.string()  # a number in the first part, text later
    ddf = snap.to_dask()
    same_rows(ddf, snap.to_pandas())


def test_meta_first_names_the_column_that_drifts(snapshot: Callable[..., Any], dask_client: Any) -> None:
    snap = snapshot(records=3000, batch_size=1000, dataset=DRIFT)
    ddf = snap.to_dask(meta="first", columns=["id", "sku"])
    assert str(ddf._meta.dtypes["sku"]) == "int64"
    with pytest.raises(SchemaDrift, match="column 'sku'") as err:
        ddf.compute()
    assert err.value.column == "sku" and err.value.expected == "int64"
    assert 'meta="scan"' in str(err.value)


def test_a_given_schema_reads_nothing_up_front(snapshot: Callable[..., Any], emu: Any, dask_client: Any) -> None:
    snap = snapshot(records=2000, batch_size=1000)
    schema = snap.to_arrow().schema

    def downloads() -> int:  # the part downloads, not the listing of the parts
        return len([r for r in emu.app.requests if "/snapshot/" in r.path and not r.path.endswith("/parts")])

    before = downloads()
    ddf = snap.to_dask(meta=schema)
    assert downloads() == before
    same_rows(ddf, snap.to_pandas())


def test_without_a_distributed_client_dask_threads_read_it(snapshot: Callable[..., Any]) -> None:
    snap = snapshot(records=2000, batch_size=1000)
    same_rows(snap.to_dask(), snap.to_pandas())


def test_bad_meta_is_refused_before_anything_is_read(snapshot: Callable[..., Any]) -> None:
    snap = snapshot(records=1000, batch_size=1000)
    with pytest.raises(InvalidArgument, match="meta='all'"):
        snap.to_dask(meta="all")
    with pytest.raises(InvalidArgument, match="dtype_backend"):
        snap.to_dask(dtype_backend="numpy")


def test_expired_mytracker_links_are_refreshed_on_the_worker(
    start_emulator: Callable[..., Any], dask_client: Any
) -> None:
    from dataferry.providers.mytracker import Client
    from dataferry.wait import PollPolicy

    emu = start_emulator("mytracker", step_seconds=0.05, steps=2, rows_per_day=120, rows_per_file=250)
    with Client(**emu.client_kwargs(), poll=PollPolicy(initial=0.03, maximum=0.1, jitter=0.0), rate_limits=False) as mt:
        export = mt.create_export("installs", ["idApp", "tsEvent"], date_from="2026-11-01", date_to="2026-11-07")
        export.wait(progress="off")
        ddf = export.to_dask(meta=export.to_arrow().schema)  # built before the links die
        expected = export.to_pandas()
        emu.app.expire_links(export.id)  # dead on the server; the tasks still carry them
        creates = [r for r in emu.app.requests if r.path.endswith("/create.json")]
        gets = len([r for r in emu.app.requests if r.path.endswith("/get.json")])
        same_rows(ddf, expected)
        assert [r for r in emu.app.requests if r.path.endswith("/create.json")] == creates  # nothing re-created
        assert len([r for r in emu.app.requests if r.path.endswith("/get.json")]) > gets  # fresh links, asked for
