"""Deterministic synthetic records, and the files the emulators serve them in.

Records are generated in fixed blocks seeded by ``(seed, block)``, so a given snapshot holds
the same records whatever ``batch_size`` or part a client asks for, and a part of any size is
produced without building the rows before it. They exercise what real exports contain:
nested objects and lists, nulls, unicode, integers, floats, booleans and ISO timestamps.
"""

from __future__ import annotations

import gzip
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

BLOCK = 1000
"""Rows per generation block (a multiple of :data:`ERROR_EVERY`)."""

ERROR_EVERY = 50
"""One slot in this many is a failed page (kept only with ``include_errors``)."""

BASE_TS = 1_793_491_200  # 2026-11-01T00:00:00Z
"""Timestamp of the first generated record."""

TITLES = (
    "Café crème",
    "Größenverstellbar Stuhl",
    "東京 tea set",
    "naïve poster",
    "🚲 city bike",
    "Smörgåsbord tray",
    "Ñandú plush",
    "Ørsted lamp",
    "Łódź scarf",
    "São Paulo mug",
)
CATEGORIES = ("home", "kitchen", "outdoor", "toys", "books", "garden", "sports", "audio")
SELLERS = ("Acme GmbH", "Nordic Goods AB", "Żabka Sp. z o.o.", "Kōbō KK", "Émile & Fils")
COUNTRIES = ("DE", "SE", "PL", "JP", "FR", "US", "BR")
CURRENCIES = ("EUR", "USD", "GBP", "JPY", "SEK")


def iso(ts: np.ndarray) -> list[str]:
    """Epoch seconds → ``2026-11-01T00:00:07.000Z`` strings."""
    return [s + ".000Z" for s in np.datetime_as_string(ts.astype("datetime64[s]"), unit="s")]


def _block(kind: str, seed: int, block: int, inputs: Sequence[dict[str, Any]]) -> pa.Table:
    rng = np.random.default_rng([seed & 0xFFFFFFFF, block])
    i = np.arange(block * BLOCK, (block + 1) * BLOCK)
    n = len(i)
    which = i % max(1, len(inputs))
    echo = [inputs[int(k)] for k in which] if inputs else [{"url": "https://example.com/"}] * n
    if kind == "drift":
        return _drift_block(rng, i, block, echo)
    price = np.round(rng.gamma(2.0, 20.0, n), 2)
    price_null = rng.random(n) < 0.05
    rating = np.round(rng.uniform(1.0, 5.0, n), 1)
    rating_null = rng.random(n) < 0.1
    ncat = rng.integers(0, 4, n)
    cat_pick = rng.integers(0, len(CATEGORIES), (n, 3))
    seller = rng.integers(0, len(SELLERS), n)
    failed = (i % ERROR_EVERY) == 7
    cols: dict[str, Any] = {
        "url": [f"{e.get('url', 'https://example.com/search')}#item-{x}" for e, x in zip(echo, i, strict=False)],
        "product_id": [f"P{seed % 100000:05d}-{x:08d}" for x in i],
        "title": [f"{TITLES[x % len(TITLES)]} №{x}" for x in i],
        "price": pa.array(price, mask=price_null | failed),
        "currency": [CURRENCIES[x % len(CURRENCIES)] for x in i],
        "rating": pa.array(rating, mask=rating_null | failed),
        "reviews_count": pa.array(rng.integers(0, 50_000, n), mask=failed),
        "in_stock": pa.array(rng.random(n) < 0.8, mask=failed),
        "categories": pa.array(
            [None if f else [CATEGORIES[c] for c in cp[:k]] for f, cp, k in zip(failed, cat_pick, ncat, strict=False)],
            type=pa.list_(pa.string()),
        ),
        "seller": pa.array(
            [
                None if f else {"name": SELLERS[s], "id": int(1000 + s), "country": COUNTRIES[s % len(COUNTRIES)]}
                for f, s in zip(failed, seller, strict=False)
            ],
            type=pa.struct([("name", pa.string()), ("id", pa.int64()), ("country", pa.string())]),
        ),
        "scraped_at": iso(BASE_TS + i * 7),
        "input": pa.array(echo),
        "error": pa.array(["Page not found" if f else None for f in failed], type=pa.string()),
        "error_code": pa.array(["dead_page" if f else None for f in failed], type=pa.string()),
    }
    return pa.table(cols).append_column("_failed", pa.array(failed))


def _drift_block(rng: np.random.Generator, i: np.ndarray, block: int, echo: list[dict[str, Any]]) -> pa.Table:
    n = len(i)
    cols: dict[str, Any] = {
        "id": i.astype(np.int64),
        # all-null in the first block, numeric afterwards
        "discount": pa.nulls(n) if block == 0 else pa.array(np.round(rng.uniform(0, 0.5, n), 3)),
        # integers in the first block, text afterwards
        "sku": pa.array(i.astype(np.int64)) if block == 0 else pa.array([f"SKU-{x}" for x in i]),
        # integers first, then floats
        "weight": pa.array(rng.integers(1, 100, n)) if block == 0 else pa.array(np.round(rng.uniform(1, 100, n), 2)),
        "label": [f"ünïcode {x}" for x in i],
        "input": pa.array(echo),
    }
    if block > 0:
        cols["extra"] = [f"x{x}" for x in i]  # a column that appears only in later blocks
    return pa.table(cols).append_column("_failed", pa.array(np.zeros(n, dtype=bool)))


class RecordSource:
    """The records of one job: ``count`` slots of dataset ``kind`` generated with ``seed``.

    Args:
        kind: ``"products"`` or ``"drift"``.
        seed: the job's seed.
        slots: how many records are attempted (failed pages included).
        inputs: the trigger inputs, echoed in each record's ``input`` field.
        include_errors: keep the failed-page records (with ``error``/``error_code``).
    """

    def __init__(
        self, kind: str, seed: int, slots: int, inputs: Sequence[dict[str, Any]] = (), include_errors: bool = False
    ) -> None:
        self.kind = kind
        self.seed = seed
        self.slots = max(0, int(slots))
        self.inputs = [dict(x) for x in inputs if isinstance(x, dict)]
        self.include_errors = include_errors

    def _kept_per_block(self) -> int:
        if self.include_errors or self.kind == "drift":
            return BLOCK
        return BLOCK - BLOCK // ERROR_EVERY

    def __len__(self) -> int:
        kept = self._kept_per_block()
        full, rest = divmod(self.slots, BLOCK)
        tail = rest if kept == BLOCK else sum(1 for x in range(rest) if x % ERROR_EVERY != 7)
        return full * kept + tail

    def pieces(self, start: int = 0, count: int | None = None) -> list[pa.Table]:
        """Records ``start`` … ``start + count`` (all by default) as one table per block.

        Blocks of the ``drift`` kind disagree on types, so they are kept apart.
        """
        total = len(self)
        count = total - start if count is None else min(count, total - start)
        if count <= 0:
            return [self._finish(_block(self.kind, self.seed, 0, self.inputs).slice(0, 0))]
        kept = self._kept_per_block()
        first, last = start // kept, (start + count - 1) // kept
        pieces = []
        for b in range(first, last + 1):
            t = _block(self.kind, self.seed, b, self.inputs)
            t = t.slice(0, max(0, min(BLOCK, self.slots - b * BLOCK)))
            if not (self.include_errors or self.kind == "drift"):
                t = t.filter(pc.invert(t.column("_failed")))
            lo = start - b * kept if b == first else 0
            hi = min(t.num_rows, start + count - b * kept)
            pieces.append(self._finish(t.slice(lo, max(0, hi - lo))))
        return pieces

    def table(self, start: int = 0, count: int | None = None) -> pa.Table:
        """Records ``start`` … ``start + count`` as one Arrow table (types that disagree
        between blocks become text)."""
        return concat_pieces(self.pieces(start, count))

    def _finish(self, table: pa.Table) -> pa.Table:
        table = table.drop_columns(["_failed"])
        if self.kind != "drift" and not self.include_errors:
            table = table.drop_columns(["error", "error_code"])
        return table

    def records(self, start: int = 0, count: int | None = None) -> list[dict[str, Any]]:
        """The records as JSON-ready dicts (what the JSON formats serve)."""
        return [r for piece in self.pieces(start, count) for r in piece.to_pylist()]


def concat_pieces(pieces: Sequence[pa.Table]) -> pa.Table:
    """Blocks as one table; a column whose types disagree between blocks becomes text."""
    try:
        return pa.concat_tables(pieces, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    types: dict[str, list[pa.DataType]] = {}
    for p in pieces:
        for f in p.schema:
            types.setdefault(f.name, []).append(f.type)
    target = {}
    for name, ts in types.items():
        try:
            target[name] = (
                pa.unify_schemas([pa.schema([(name, t)]) for t in ts], promote_options="permissive").field(0).type
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            target[name] = pa.string()
    fixed = [
        pa.table(
            {n: (p.column(n).cast(t) if n in p.column_names else pa.nulls(p.num_rows, t)) for n, t in target.items()}
        )
        for p in pieces
    ]
    return pa.concat_tables(fixed)


def _jsonify_nested(table: pa.Table) -> pa.Table:
    out = table
    for idx, f in enumerate(table.schema):
        if pa.types.is_nested(f.type):
            values = [None if v is None else json.dumps(v, ensure_ascii=False) for v in table.column(idx).to_pylist()]
            out = out.set_column(idx, pa.field(f.name, pa.string()), pa.array(values, type=pa.string()))
    return out


def encode(data: pa.Table | Sequence[pa.Table], fmt: str) -> bytes:
    """Serialise records as ``csv`` (nested values as JSON text), ``json`` (an array) or
    ``ndjson``/``jsonl`` (one object per line). ``data`` is a table or a list of pieces
    (JSON formats keep each piece's own types)."""
    fmt = fmt.lower()
    pieces = [data] if isinstance(data, pa.Table) else list(data)
    if fmt == "csv":
        import io

        table = concat_pieces(pieces)
        sink = io.BytesIO()
        if table.num_columns:
            pacsv.write_csv(
                _jsonify_nested(table),
                sink,
                write_options=pacsv.WriteOptions(include_header=True, quoting_style="needed"),
            )
        return sink.getvalue()
    rows = [r for piece in pieces for r in piece.to_pylist()]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False).encode()
    if fmt in ("ndjson", "jsonl"):
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    raise ValueError(f"unknown format {fmt!r}")


def gzip_bytes(data: bytes) -> bytes:
    """gzip ``data`` (ISA-L when installed: fast enough for multi-GB test snapshots)."""
    try:
        from isal import igzip

        return igzip.compress(data, compresslevel=1)
    except ImportError:  # pragma: no cover
        return gzip.compress(data, compresslevel=1)


class FileCache:
    """Generated files on disk, built once under a lock and served from there."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, name: str, build: Any) -> Path:
        """The file ``name``, calling ``build() -> bytes`` the first time."""
        path = self.root / name
        if path.exists():
            return path
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(path.name + ".tmp")
                tmp.write_bytes(build())
                os.replace(tmp, path)
        return path
