"""One schema for all parts."""

from __future__ import annotations

import pyarrow as pa

from dataferry.schema import common_type, conform, needs_widening, unify


def test_null_takes_the_type_seen_elsewhere() -> None:
    assert common_type([pa.null(), pa.string()]) == pa.string()
    assert common_type([pa.null(), pa.null()]) == pa.null()


def test_int_and_float_widen_to_float() -> None:
    assert common_type([pa.int64(), pa.float64()]) == pa.float64()


def test_numbers_and_text_become_text() -> None:
    assert common_type([pa.int64(), pa.string()]) == pa.string()
    assert common_type([pa.timestamp("s", "UTC"), pa.string()]) == pa.string()
    # text already prepared for pandas (64-bit offsets) stays so
    assert common_type([pa.int64(), pa.large_string()]) == pa.large_string()
    assert common_type([pa.string(), pa.large_string()]) == pa.large_string()


def test_unify_keeps_first_appearance_order_and_adds_late_columns() -> None:
    a = pa.schema([("id", pa.int64()), ("x", pa.null())])
    b = pa.schema([("x", pa.float64()), ("id", pa.int64()), ("extra", pa.string())])
    assert unify([a, b]) == pa.schema([("id", pa.int64()), ("x", pa.float64()), ("extra", pa.string())])
    assert needs_widening(a, b) and not needs_widening(unify([a, b]), a)


def test_conform_fills_missing_columns_and_casts() -> None:
    t = pa.table({"id": [1, 2], "sku": [7, 8]})
    target = pa.schema([("id", pa.float64()), ("sku", pa.string()), ("extra", pa.string())])
    out = conform(t, target)
    assert out.schema == target
    assert out.to_pylist() == [{"id": 1.0, "sku": "7", "extra": None}, {"id": 2.0, "sku": "8", "extra": None}]


def test_nested_values_that_must_become_text_are_json() -> None:
    t = pa.table({"seller": pa.array([{"name": "Émile", "id": 1}, None])})
    out = conform(t, pa.schema([("seller", pa.string())]))
    assert out.column("seller").to_pylist() == ['{"name": "Émile", "id": 1}', None]
