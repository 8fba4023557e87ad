"""The methods bench/throughput.py times, each run in its own child process: dataferry and
the ways analysts do it by hand.

Peers (polars on each part's bytes: its HTTP reader cannot send the Authorization header the
API needs):

- naive pandas: ``pd.read_csv(url)`` per part + ``concat`` (+ ``to_parquet``);
- naive requests: ``requests.get(url).content`` → ``pd.read_csv(BytesIO)`` (+ ``to_parquet``);
- pandas' pyarrow engine: ``pd.read_csv(url, engine="pyarrow")`` per part + ``concat``;
- polars raw: ``pl.read_csv`` per part + ``concat``: no dates parsed, no pandas frame (the
  upper reference);
- polars as an analyst uses it for what dataferry gives: ``try_parse_dates=True``, then
  ``.to_pandas()``; for Parquet, eager (``read_csv`` + ``write_parquet``) and lazy streaming
  (``scan_csv(...).sink_parquet(...)``), both with dates parsed;
- the local ceiling: ISA-L gunzip + ``pyarrow.csv.read_csv`` on the same files already on
  disk, two at a time;
- NDJSON: dataferry vs ``pd.read_json(lines=True)`` vs polars ``read_ndjson``.

Every method takes the run's context (``ctx``: the emulator's URL and token, the snapshot, its
parts) and returns the rows it read.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any


def urls(ctx: dict[str, Any], fmt: str) -> list[str]:
    base = (
        f"{ctx['base_url']}/datasets/v3/snapshot/{ctx['snapshot']}?format={fmt}&compress=true&batch_size={ctx['batch']}"
    )
    return [f"{base}&part={k + 1}" for k in range(ctx["parts"])]


def headers(ctx: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {ctx['token']}"}


def _raw_parts(ctx: dict[str, Any], fmt: str) -> list[bytes]:
    """Each part's gzip bytes, read from the raw stream (what polars is handed)."""
    import requests

    out = []
    for u in urls(ctx, fmt):
        with requests.get(u, headers=headers(ctx), stream=True, timeout=300) as r:
            out.append(r.raw.read())
    return out


def m_dataferry(ctx: dict[str, Any], what: str, fmt: str = "csv") -> int:
    from dataferry.providers.brightdata import Client

    bd = Client(base_url=ctx["base_url"], token=ctx["token"], progress="off")
    snap = bd.snapshot(ctx["snapshot"], format=fmt, batch_size=ctx["batch"])
    if what == "arrow":
        return snap.to_arrow(cache=False).num_rows
    if what == "pandas":
        return len(snap.to_pandas(cache=False))
    out = Path(ctx["out"]) / "dataferry.parquet"
    snap.to_parquet(out, cache=False)
    import pyarrow.parquet as pq

    return pq.ParquetFile(out).metadata.num_rows


def m_naive_pandas(ctx: dict[str, Any], parquet: bool = False, engine: str | None = None) -> int:
    import pandas as pd

    extra = {"engine": engine} if engine else {}
    frames = [pd.read_csv(u, compression="gzip", storage_options=headers(ctx), **extra) for u in urls(ctx, "csv")]
    df = pd.concat(frames, ignore_index=True)
    if parquet:
        df.to_parquet(Path(ctx["out"]) / "naive.parquet")
    return len(df)


def m_naive_requests(ctx: dict[str, Any], parquet: bool = False) -> int:
    import pandas as pd
    import requests

    frames = []
    for u in urls(ctx, "csv"):
        content = requests.get(u, headers=headers(ctx), timeout=300).content
        frames.append(pd.read_csv(io.BytesIO(content), compression="gzip"))
    df = pd.concat(frames, ignore_index=True)
    if parquet:
        df.to_parquet(Path(ctx["out"]) / "naive.parquet")
    return len(df)


def m_polars(ctx: dict[str, Any], then: str = "", fmt: str = "csv", dates: bool = False) -> int:
    """``then``: ``""`` (the polars frame), ``"pandas"`` (``.to_pandas()``), ``"parquet"``."""
    import polars as pl

    frames = []
    for data in _raw_parts(ctx, fmt):
        if fmt == "csv":
            frames.append(pl.read_csv(io.BytesIO(data), try_parse_dates=dates))
        else:
            import gzip

            frames.append(pl.read_ndjson(io.BytesIO(gzip.decompress(data))))
    df = pl.concat(frames, how="diagonal_relaxed")
    if then == "pandas":
        return len(df.to_pandas())
    if then == "parquet":
        df.write_parquet(Path(ctx["out"]) / "polars.parquet")
    return df.height


def m_polars_sink(ctx: dict[str, Any]) -> int:
    """polars' lazy streaming Parquet path: ``scan_csv(parts).sink_parquet(file)``."""
    import polars as pl

    out = Path(ctx["out"]) / "polars-sink.parquet"
    pl.scan_csv(_raw_parts(ctx, "csv"), try_parse_dates=True).sink_parquet(out)
    return pl.scan_parquet(out).select(pl.len()).collect().item()


def m_pandas_ndjson(ctx: dict[str, Any]) -> int:
    import pandas as pd
    import requests

    frames = []
    for u in urls(ctx, "ndjson"):
        content = requests.get(u, headers=headers(ctx), timeout=300).content
        frames.append(pd.read_json(io.BytesIO(content), lines=True, compression="gzip"))
    return len(pd.concat(frames, ignore_index=True))


def m_ceiling(ctx: dict[str, Any]) -> int:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from isal import igzip

    def one(path: str) -> pa.Table:
        with igzip.open(path, "rb") as f:
            return pacsv.read_csv(f, read_options=pacsv.ReadOptions(block_size=ctx["ceiling_block"]))

    with ThreadPoolExecutor(2) as pool:
        tables = list(pool.map(one, ctx["local_files"]))
    return sum(t.num_rows for t in tables)


DF_ARROW = (
    "pyarrow",
    "pyarrow.csv",
    "pyarrow.json",
    "pyarrow.parquet",
    "requests",
    "isal.igzip",
    "dataferry.providers.brightdata",
    "dataferry.job",
)
"""What dataferry's Arrow and Parquet paths load (they never import pandas)."""
DF = ("pandas", *DF_ARROW)
PD = ("pandas", "pyarrow", "pyarrow.parquet", "requests")
PL = ("polars", "requests")
PL_PD = ("polars", "requests", "pandas", "pyarrow")
CEIL = ("pyarrow", "pyarrow.csv", "isal.igzip")

METHODS: dict[str, tuple[Any, tuple[Any, ...], tuple[str, ...]]] = {
    "dataferry_to_arrow": (m_dataferry, ("arrow",), DF_ARROW),
    "dataferry_to_pandas": (m_dataferry, ("pandas",), DF),
    "dataferry_to_parquet": (m_dataferry, ("parquet",), DF_ARROW),
    "naive_pandas_read_csv_url": (m_naive_pandas, (False,), PD),
    "naive_requests_content": (m_naive_requests, (False,), PD),
    "naive_pandas_to_parquet": (m_naive_pandas, (True,), PD),
    "naive_requests_to_parquet": (m_naive_requests, (True,), PD),
    "pandas_read_csv_pyarrow": (m_naive_pandas, (False, "pyarrow"), PD),
    "polars_read_csv_raw": (m_polars, (), PL),
    "polars_dates_to_pandas": (m_polars, ("pandas", "csv", True), PL_PD),
    "polars_write_parquet": (m_polars, ("parquet", "csv", True), PL),
    "polars_sink_parquet": (m_polars_sink, (), PL),
    "local_ceiling_isal_pyarrow": (m_ceiling, (), CEIL),
    "ndjson_dataferry_to_pandas": (m_dataferry, ("pandas", "ndjson"), DF),
    "ndjson_dataferry_to_arrow": (m_dataferry, ("arrow", "ndjson"), DF_ARROW),
    "ndjson_pandas_read_json": (m_pandas_ndjson, (), PD),
    "ndjson_polars_read_ndjson": (m_polars, ("", "ndjson"), PL),
    "dataferry_to_parquet_4x": (m_dataferry, ("parquet",), DF_ARROW),
}
"""name → (function, arguments, modules imported before the clock starts). A name ending in
``_4x`` runs on the snapshot four times as large."""

SPARSE = frozenset(
    {"ndjson_pandas_read_json", "naive_requests_content", "naive_requests_to_parquet", "dataferry_to_parquet_4x"}
)
"""Methods run in every --sparse-every-th round only: the slowest peers (pandas' NDJSON reader
takes ~40 s at 300 MB), the peers no target uses, and the memory run at 4N (peak RSS hardly
varies between rounds)."""
