"""Arrow → the other in-memory targets: polars DataFrames and DuckDB tables or relations.

Both are optional dependencies (``dataferry[polars]``, ``dataferry[duckdb]``); a missing one
is a :class:`~dataferry.errors.MissingExtra` raised before anything is downloaded
(:func:`need`). Both take Arrow without copying where the library allows: polars adopts the
Arrow buffers, a DuckDB relation scans the Arrow table in place; a DuckDB *table* is DuckDB's
own copy (that is what a table is).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pyarrow as pa

from dataferry.errors import InvalidArgument
from dataferry.storage import require

IF_EXISTS = ("fail", "replace", "append")
"""What :func:`to_duckdb` does when the table exists, as in ``pandas.DataFrame.to_sql``."""


def need(library: str) -> ModuleType:
    """The optional library (``"polars"`` or ``"duckdb"``), or :class:`MissingExtra`.

    Example:
        >>> need("polars").__name__
        'polars'
    """
    if library not in ("polars", "duckdb"):
        raise InvalidArgument(f"no in-memory target {library!r}")
    return require(library, library, f"to_{library}()")


def to_polars(table: pa.Table, *, rechunk: bool = False) -> Any:
    """An Arrow table as a polars DataFrame (zero-copy for most types).

    Args:
        table: the table.
        rechunk: make each column one contiguous chunk (a copy; faster later scans).

    Example:
        >>> to_polars(pa.table({"id": [1, 2]})).shape
        (2, 1)
    """
    pl = need("polars")
    return pl.from_arrow(table, rechunk=rechunk)


def quote(name: str) -> str:
    """A SQL identifier, quoted for DuckDB.

    Example:
        >>> quote("order items")
        '"order items"'
    """
    return '"' + name.replace('"', '""') + '"'


def to_duckdb(table: pa.Table, con: Any = None, name: str | None = None, *, if_exists: str = "fail") -> Any:
    """An Arrow table in DuckDB: a relation over it, or a table.

    Args:
        table: the Arrow table.
        con: a ``duckdb.DuckDBPyConnection`` (default: DuckDB's default connection).
        name: create (or fill) this table; ``None`` returns a relation that scans ``table`` in
            place, without copying.
        if_exists: ``"fail"``, ``"replace"`` or ``"append"`` when the table exists.

    Returns:
        A ``duckdb.DuckDBPyRelation`` (of the new table when ``name`` is given).

    Raises:
        InvalidArgument: an unknown ``if_exists``, or the table exists and ``if_exists="fail"``.

    Example:
        >>> import duckdb
        >>> con = duckdb.connect()
        >>> to_duckdb(pa.table({"id": [1, 2]}), con, "products").fetchall()
        [(1,), (2,)]
    """
    duckdb = need("duckdb")
    if if_exists not in IF_EXISTS:
        raise InvalidArgument(f"if_exists={if_exists!r} is not one of {IF_EXISTS}")
    con = con if con is not None else duckdb.default_connection()
    if name is None:
        return con.from_arrow(table)
    exists = bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchall()[0][0])
    if exists and if_exists == "fail":
        raise InvalidArgument(f"DuckDB table {name!r} already exists; pass if_exists='replace' or 'append'")
    view = f"__dataferry_{id(table):x}"
    con.register(view, table)
    try:
        if exists and if_exists == "append":
            con.execute(f"INSERT INTO {quote(name)} BY NAME SELECT * FROM {quote(view)}")
        else:
            verb = "CREATE OR REPLACE TABLE" if exists else "CREATE TABLE"
            con.execute(f"{verb} {quote(name)} AS SELECT * FROM {quote(view)}")
    finally:
        con.unregister(view)
    return con.table(quote(name))
