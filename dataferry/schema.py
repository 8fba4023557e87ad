"""One schema for all parts: a column empty in one part and numeric in the next must not
break the file.

Rules, per column, over every part that has it:

- a column that is null everywhere in a part takes the type it has elsewhere;
- integers and floats widen to float; other compatible types widen as Arrow permits
  (e.g. timestamp units, struct fields added);
- anything irreconcilable (numbers in one part, text in another) becomes text, nested
  values as JSON;
- a column missing from a part is null there; column order is first appearance.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import pyarrow as pa


def common_type(types: Iterable[pa.DataType]) -> pa.DataType:
    """The narrowest type every value of ``types`` fits in.

    Example:
        >>> common_type([pa.null(), pa.int64(), pa.float64()])
        DataType(double)
        >>> common_type([pa.int64(), pa.string()])
        DataType(string)
    """
    distinct: list[pa.DataType] = []
    for t in types:
        if not pa.types.is_null(t) and t not in distinct:
            distinct.append(t)
    if not distinct:
        return pa.null()
    if len(distinct) == 1:
        return distinct[0]
    try:
        merged = pa.unify_schemas([pa.schema([pa.field("x", t)]) for t in distinct], promote_options="permissive")
        return merged.field("x").type
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pa.large_string() if any(pa.types.is_large_string(t) for t in distinct) else pa.string()


def unify(schemas: Iterable[pa.Schema]) -> pa.Schema:
    """One schema covering every part's schema (see the module rules)."""
    order: dict[str, list[pa.DataType]] = {}
    for schema in schemas:
        for f in schema:
            order.setdefault(f.name, []).append(f.type)
    return pa.schema([pa.field(name, common_type(types)) for name, types in order.items()])


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns, order and types (missing ones null)."""
    if table.schema.equals(schema):
        return table
    columns = []
    for f in schema:
        if f.name in table.column_names:
            columns.append(cast_column(table.column(f.name), f.type))
        else:
            columns.append(pa.nulls(table.num_rows, type=f.type))
    return pa.Table.from_arrays(columns, schema=schema)


def cast_column(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    """Cast one column; nested or otherwise uncastable values to text become JSON."""
    if column.type == target:
        return column
    try:
        return column.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        if not pa.types.is_string(target) and not pa.types.is_large_string(target):
            raise
        values = column.to_pylist()
        return pa.chunked_array(
            [pa.array([None if v is None else v if isinstance(v, str) else _json(v) for v in values], type=target)]
        )


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=False)


def needs_widening(current: pa.Schema, incoming: pa.Schema) -> bool:
    """Whether data already written with ``current`` must change to fit ``incoming``."""
    return not unify([current, incoming]).equals(current)
