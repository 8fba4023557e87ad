"""``dataferry demo``: the whole journey on the embedded Bright Data emulator.

Trigger a collection, wait for it with progress, download every part, write Parquet, read it
back, and say what happened. Runs offline in a few seconds.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import IO, Any

DEMO_DATASET = "gd_l1viktl72bvl7bjuj0"
"""The emulated dataset the demo collects."""

DEMO_INPUTS = 40
"""Inputs (product URLs) the demo triggers with."""


def run_demo(
    *,
    rows: int = 20_000,
    out: str | Path = "dataferry-demo/products.parquet",
    progress: Any = None,
    batch_size: int = 5000,
    ready_after: float = 3.0,
    stream: IO[str] | None = None,
) -> dict[str, Any]:
    """Run the demo and print a summary.

    Args:
        rows: records the emulated collection yields (roughly; failed pages are dropped).
        out: the Parquet file to write.
        progress: progress display (``None``: automatic).
        batch_size: records per downloaded part.
        ready_after: seconds the emulated collection takes.
        stream: where the summary goes (standard output by default).

    Returns:
        The figures printed: rows, columns, parts, bytes, seconds, path.
    """
    import pyarrow.parquet as pq

    from dataferry import emulator
    from dataferry.providers.brightdata import Client

    stream = stream or sys.stdout
    per_input = max(1, rows // DEMO_INPUTS)
    say = lambda text="": print(text, file=stream, flush=True)  # noqa: E731
    started = time.monotonic()
    with emulator.serve("brightdata", ready_after=ready_after, start_after=0.5, records_per_input=per_input) as emu:
        say(f"dataferry demo: Bright Data emulator on {emu.base_url}")
        bd = Client(emu.credentials["token"], base_url=emu.base_url, progress=progress)
        inputs = [{"url": f"https://shop.example.com/product/{k}"} for k in range(DEMO_INPUTS)]
        snap = bd.trigger(DEMO_DATASET, inputs, include_errors=True, batch_size=batch_size)
        say(f"triggered {DEMO_DATASET} with {len(inputs)} inputs → snapshot {snap.id}")
        snap.wait()
        parts = snap.parts(progress=False)
        path = snap.to_parquet(out, cache=False)
        expected = len(emu.app.records(snap.id))
        bd.close()
    table = pq.read_table(path)
    elapsed = time.monotonic() - started
    size = Path(path).stat().st_size
    frame = table.slice(0, 3).to_pandas()
    summary = {
        "snapshot": snap.id,
        "rows": table.num_rows,
        "columns": table.num_columns,
        "parts": len(parts),
        "bytes": size,
        "seconds": round(elapsed, 2),
        "path": str(Path(path).resolve()),
    }
    if table.num_rows != expected:
        raise SystemExit(f"demo: read back {table.num_rows} rows but the emulator holds {expected}")
    say()
    say(f"rows      {table.num_rows:,} (all {expected:,} records of the snapshot, read back from Parquet)")
    say(f"columns   {table.num_columns}: {', '.join(table.column_names)}")
    say(f"parts     {len(parts)} gzip CSV parts of up to {batch_size:,} records")
    say(f"parquet   {size:,} bytes, zstd")
    say(f"time      {elapsed:.1f} s (collection {ready_after:g} s in the emulator)")
    say(f"file      {summary['path']}")
    say()
    with _PandasDisplay():
        say(frame[["product_id", "title", "price", "currency", "scraped_at"]].to_string(index=False))
    say()
    say("next: `dataferry emulate --vendor brightdata` serves the emulator for your own notebook")
    return summary


class _PandasDisplay:
    def __enter__(self) -> None:
        import pandas as pd

        self._ctx = pd.option_context("display.width", 120, "display.max_colwidth", 40)
        self._ctx.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(*exc)
