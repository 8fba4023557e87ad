"""Paged Algolia lists: ``page`` / ``itemsPerPage`` walked to ``nbPages``, as records or as
a DataFrame with sensible columns.

``to_pandas`` flattens nested objects into dotted columns (``trigger.type``, ``input.url``,
``progress.receivedNbOfEvents``), keeps free-form payloads (an event's ``data``) as one
column of dicts, parses the RFC 3339 timestamps into UTC datetimes, and masks any
authentication secret that is not ``null``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dataferry.errors import DataError
from dataferry.listing import Listing, page_number_pages
from dataferry.providers.algolia.enums import AUTH_SECRET_FIELDS
from dataferry.redact import MASK

TIMESTAMP_COLUMNS = ("createdAt", "updatedAt", "publishedAt", "startedAt", "finishedAt", "deletedAt",
                     "trigger.lastRun", "trigger.nextRun", "cursor")
"""Columns parsed as UTC datetimes by ``to_pandas`` (left as text if any value does not parse)."""

FetchPage = Callable[[int], dict[str, Any]]


class AlgoliaListing(Listing):
    """A :class:`~dataferry.listing.Listing` of Algolia records.

    Args:
        fetch: ``fetch(page_index)`` → ``(records, more)``, see :func:`paged`.
        title: what the listing holds.
        transform: applied to each record (masking).
        keep_nested: top-level fields kept as one column of dicts instead of flattened.
        secret_columns: dotted columns whose non-null values are masked in ``to_pandas``.

    Attributes:
        window: the ``{startDate, endDate}`` the API used (runs and events), once fetched.
        total: ``nbItems`` as the first page reported it, once fetched.

    Example:
        >>> listing = single([{"taskID": "t1", "trigger": {"type": "onDemand"}}], title="tasks")
        >>> list(listing.to_pandas().columns)
        ['taskID', 'trigger.type']
    """

    def __init__(self, fetch: Callable[[int], tuple[list[dict[str, Any]], bool]], *, title: str,
                 transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                 keep_nested: Sequence[str] = (), secret_columns: Sequence[str] = ()) -> None:
        super().__init__(fetch, title=title, transform=transform)
        self.keep_nested = tuple(keep_nested)
        self.secret_columns = tuple(secret_columns)
        self.window: dict[str, str] | None = None
        self.total: int | None = None

    def to_pandas(self, *, flatten: bool = True, sep: str = ".") -> Any:
        """Every record (all pages) as a DataFrame.

        Args:
            flatten: nested objects become ``a.b`` columns (free-form payloads stay whole).
            sep: the separator of flattened column names.

        Returns:
            A ``pandas.DataFrame``; timestamps are ``datetime64[ns, UTC]``.

        Example::

            ing.tasks(enabled=True).to_pandas()[["taskID", "trigger.type", "action"]]
        """
        import pandas as pd

        records = self.to_list()
        if not records:
            return pd.DataFrame()
        if not flatten:
            frame = pd.DataFrame.from_records(records)
        else:
            kept = {name: [r.get(name) for r in records] for name in self.keep_nested if any(name in r for r in records)}
            rest = [{k: v for k, v in r.items() if k not in kept} for r in records]
            frame = pd.json_normalize(rest, sep=sep)
            for name, values in kept.items():
                frame[name] = pd.Series(values, dtype=object)
        for column in frame.columns:
            if str(column).split(sep)[-1] in AUTH_SECRET_FIELDS and str(column) in self._secret_names(sep):
                frame[column] = frame[column].map(lambda v: v if v is None or v != v else MASK)
            elif str(column).replace(sep, ".") in TIMESTAMP_COLUMNS:
                frame[column] = _timestamps(frame[column])
        return frame

    def _secret_names(self, sep: str) -> set[str]:
        return {c.replace(".", sep) for c in self.secret_columns}

    def __repr__(self) -> str:
        n = "?" if self._records is None else str(len(self._records))
        return f"<algolia {self.title}: {n} records>"


def _timestamps(column: Any) -> Any:
    import pandas as pd

    try:
        return pd.to_datetime(column, utc=True, format="ISO8601")
    except (ValueError, TypeError):
        return column


def paged(fetch_page: FetchPage, key: str, *, title: str, transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
          keep_nested: Sequence[str] = (), secret_columns: Sequence[str] = ()) -> AlgoliaListing:
    """A listing that asks for page 1, 2, ... until the answer's ``pagination.nbPages``.

    Args:
        fetch_page: ``fetch_page(page_number)`` → the decoded answer of one page.
        key: the answer's list field (``"tasks"``, ``"runs"``...).
        title, transform, keep_nested, secret_columns: see :class:`AlgoliaListing`.

    Raises:
        DataError: an answer without the list or without ``pagination`` (when iterated).

    Example:
        >>> answers = {n: {"tasks": [{"taskID": f"t{n}"}], "pagination": {"nbPages": 2}} for n in (1, 2)}
        >>> " ".join(t["taskID"] for t in paged(answers.__getitem__, "tasks", title="tasks"))
        't1 t2'
    """
    holder: list[AlgoliaListing] = []

    def fetch(number: int) -> tuple[list[dict[str, Any]], int]:
        answer = fetch_page(number)
        records = answer.get(key) if isinstance(answer, dict) else None
        pagination = answer.get("pagination") if isinstance(answer, dict) else None
        if not isinstance(records, list) or not isinstance(pagination, dict) or "nbPages" not in pagination:
            raise DataError(f"algolia: page {number} of {title} has no '{key}' list or no pagination: "
                            f"{str(answer)[:200]}")
        listing = holder[0]
        if number == 1:
            listing.total = pagination.get("nbItems")
            listing.window = answer.get("window")
        return records, int(pagination["nbPages"])

    listing = AlgoliaListing(page_number_pages(fetch), title=title, transform=transform,
                             keep_nested=keep_nested, secret_columns=secret_columns)
    holder.append(listing)
    return listing


def single(records: list[dict[str, Any]], *, title: str, transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
           secret_columns: Sequence[str] = ()) -> AlgoliaListing:
    """A listing of records already fetched in one answer (the search endpoints).

    Raises:
        DataError: ``records`` is not a list.

    Example:
        >>> len(single([{"taskID": "t1"}], title="tasks found"))
        1
    """
    if not isinstance(records, list):
        raise DataError(f"algolia: {title} answer is not a list: {str(records)[:200]}")
    return AlgoliaListing(lambda index: (records, False), title=title, transform=transform,
                          secret_columns=secret_columns)
