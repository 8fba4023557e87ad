"""What list endpoints return: every page, lazily, as records or as a DataFrame."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from dataferry.errors import DataError
from dataferry.redact import MASK

Page = tuple[list[dict[str, Any]], bool]
"""One page: its records and whether another page follows."""


class Listing:
    """The records of a paged list endpoint, fetched page by page on first use.

    The one listing type of every vendor: iterate for records, ``to_list()``, or
    ``to_pandas()`` for a DataFrame.

    Args:
        fetch: ``fetch(page_index)`` → ``(records, more)``; ``page_index`` counts from 0
            (build it with :func:`page_number_pages`, :func:`skip_limit_pages`,
            :func:`next_page_pages` or use :func:`nb_pages_listing`).
        title: what the listing is (for reprs).
        transform: applied to each record (masking).
        keep_nested: top-level fields ``to_pandas`` keeps as one column of dicts instead of
            flattening them (free-form payloads).
        secret_columns: dotted columns whose non-null values ``to_pandas`` masks (defence in
            depth; the client already masks them in the records).
        timestamps: dotted columns ``to_pandas`` parses as UTC datetimes (left as text if a
            value does not parse).

    Attributes:
        pages: how many pages were read.
        total: the record count the API announced, when it does (set by the builder).
        window: the date window the API applied, when it says (Algolia runs and events).

    Example:
        >>> pages = {0: ([{"id": 1}], True), 1: ([{"id": 2}], False)}
        >>> Listing(pages.__getitem__).to_list()
        [{'id': 1}, {'id': 2}]
    """

    def __init__(
        self,
        fetch: Callable[[int], Page],
        *,
        title: str = "records",
        transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        keep_nested: Sequence[str] = (),
        secret_columns: Sequence[str] = (),
        timestamps: Sequence[str] = (),
    ) -> None:
        self._fetch = fetch
        self._records: list[dict[str, Any]] | None = None
        self.title = title
        self._transform = transform
        self.keep_nested = tuple(keep_nested)
        self.secret_columns = tuple(secret_columns)
        self.timestamps = tuple(timestamps)
        self.pages = 0
        self.total: int | None = None
        self.window: dict[str, str] | None = None

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._records is not None:
            yield from self._records
            return
        records: list[dict[str, Any]] = []
        index = 0
        while True:
            page, more = self._fetch(index)
            self.pages = index + 1
            for r in page:
                r = self._transform(r) if self._transform else r
                records.append(r)
                yield r
            if not more:
                break
            index += 1
        self._records = records

    def to_list(self) -> list[dict[str, Any]]:
        """Every record (all pages)."""
        if self._records is None:
            for _ in self:
                pass
        assert self._records is not None
        return list(self._records)

    def __len__(self) -> int:
        return len(self.to_list())

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.to_list()[i]

    def to_pandas(self, *, flatten: bool = True, sep: str = ".") -> Any:
        """Every record (all pages) as a DataFrame.

        Args:
            flatten: nested objects become ``a.b`` columns (fields in ``keep_nested`` stay whole).
            sep: the separator of flattened column names.

        Returns:
            A ``pandas.DataFrame``; ``timestamps`` columns are ``datetime64[ns, UTC]``.
        """
        import pandas as pd

        records = self.to_list()
        if not records:
            return pd.DataFrame()
        if not flatten:
            frame = pd.DataFrame.from_records(records)
        else:
            kept = {
                name: [r.get(name) for r in records] for name in self.keep_nested if any(name in r for r in records)
            }
            rest = [{k: v for k, v in r.items() if k not in kept} for r in records] if kept else records
            frame = pd.json_normalize(rest, sep=sep)
            for name, values in kept.items():
                frame[name] = pd.Series(values, dtype=object)
        secret = {c.replace(".", sep) for c in self.secret_columns}
        stamps = {c.replace(".", sep) for c in self.timestamps}
        for column in frame.columns:
            if str(column) in secret:
                frame[column] = frame[column].map(lambda v: v if v is None or v != v else MASK)
            elif str(column) in stamps:
                frame[column] = _timestamps(frame[column])
        return frame

    def __repr__(self) -> str:
        n = "?" if self._records is None else str(len(self._records))
        return f"<Listing {self.title}: {n} records>"

    def _repr_html_(self) -> str:
        df = self.to_pandas()
        head = f"<p><b>{html.escape(self.title)}</b>: {len(df)} records</p>"
        return head + df.head(20).to_html(max_cols=12, notebook=True)


def _timestamps(column: Any) -> Any:
    import pandas as pd

    try:
        return pd.to_datetime(column, utc=True, format="ISO8601")
    except (ValueError, TypeError):
        return column


def page_number_pages(
    fetch_page: Callable[[int], tuple[list[dict[str, Any]], int]], *, first: int = 1
) -> Callable[[int], Page]:
    """Adapts ``fetch_page(page_number)`` → ``(records, nb_pages)`` for :class:`Listing`.

    It stops at ``nb_pages``, never on a short page.
    """

    def fetch(index: int) -> Page:
        number = first + index
        records, nb_pages = fetch_page(number)
        return records, number < nb_pages + first - 1

    return fetch


def skip_limit_pages(fetch_page: Callable[[int, int], list[dict[str, Any]]], *, limit: int) -> Callable[[int], Page]:
    """Adapts ``fetch_page(skip, limit)`` → records for :class:`Listing`; stops on a short page
    (the only end signal a skip/limit API gives)."""

    def fetch(index: int) -> Page:
        records = fetch_page(index * limit, limit)
        return records, len(records) >= limit

    return fetch


def next_page_pages(
    fetch_page: Callable[[int], dict[str, Any]], key: str, *, vendor: str, limit: int | None = None
) -> Callable[[int], Page]:
    """Adapts ``fetch_page(page_number)`` → the decoded answer with a ``key`` list and
    ``pagination.next`` (Woosmap), for :class:`Listing`.

    It follows ``pagination.next`` to the end (never stops on a short page), and stops early
    once ``limit`` records were read.

    Args:
        fetch_page: sends one request for page ``n`` (counting from 1).
        key: the answer's list field (``"datasets"``, ``"features"``).
        vendor: for messages.
        limit: stop after this many records (``None``: every page).

    Raises:
        DataError: an answer without the list, or a ``next`` that does not move forward.

    Example:
        >>> answers = {
        ...     1: {"datasets": [{"id": 1}], "pagination": {"page": 1, "next": 2}},
        ...     2: {"datasets": [{"id": 2}], "pagination": {"page": 2, "next": None}},
        ... }
        >>> Listing(next_page_pages(answers.__getitem__, "datasets", vendor="woosmap")).to_list()
        [{'id': 1}, {'id': 2}]
    """
    seen = [0]

    def fetch(index: int) -> Page:
        number = index + 1
        answer = fetch_page(number)
        records = answer.get(key) if isinstance(answer, dict) else None
        if not isinstance(records, list):
            raise DataError(f"{vendor} answered page {number} without a {key!r} list: {str(answer)[:200]}")
        following = (answer.get("pagination") or {}).get("next")
        if following is not None and following != number + 1:
            raise DataError(
                f"{vendor} page {number} points to page {following} as the next one; stopping "
                "rather than skipping or repeating records"
            )
        if limit is not None:
            records = records[: max(0, limit - seen[0])]
            seen[0] += len(records)
            if seen[0] >= limit:
                return records, False
        return records, following is not None

    return fetch


def nb_pages_listing(
    fetch_page: Callable[[int], dict[str, Any]], key: str, *, vendor: str, title: str, **listing: Any
) -> Listing:
    """A :class:`Listing` that asks for page 1, 2, ... until the answer's ``pagination.nbPages``
    (Algolia); ``total`` and ``window`` come from the first page.

    Args:
        fetch_page: ``fetch_page(page_number)`` → the decoded answer of one page.
        key: the answer's list field (``"tasks"``, ``"runs"``...).
        vendor, title: for messages and reprs.
        **listing: more :class:`Listing` arguments (``transform``, ``keep_nested``...).

    Raises:
        DataError: an answer without the list or without ``pagination`` (when iterated).

    Example:
        >>> answers = {n: {"tasks": [{"taskID": f"t{n}"}], "pagination": {"nbPages": 2}} for n in (1, 2)}
        >>> " ".join(t["taskID"] for t in nb_pages_listing(answers.__getitem__, "tasks", vendor="x", title="tasks"))
        't1 t2'
    """
    holder: list[Listing] = []

    def fetch(number: int) -> tuple[list[dict[str, Any]], int]:
        answer = fetch_page(number)
        records = answer.get(key) if isinstance(answer, dict) else None
        pagination = answer.get("pagination") if isinstance(answer, dict) else None
        if not isinstance(records, list) or not isinstance(pagination, dict) or "nbPages" not in pagination:
            raise DataError(
                f"{vendor}: page {number} of {title} has no '{key}' list or no pagination: {str(answer)[:200]}"
            )
        if number == 1:
            holder[0].total = pagination.get("nbItems")
            holder[0].window = answer.get("window")
        return records, int(pagination["nbPages"])

    holder.append(Listing(page_number_pages(fetch), title=title, **listing))
    return holder[0]


def one_page_listing(records: Any, *, vendor: str, title: str, **listing: Any) -> Listing:
    """A :class:`Listing` of records already fetched in one answer (a search endpoint).

    Raises:
        DataError: ``records`` is not a list.

    Example:
        >>> len(one_page_listing([{"taskID": "t1"}], vendor="x", title="tasks found"))
        1
    """
    if not isinstance(records, list):
        raise DataError(f"{vendor}: {title} answer is not a list: {str(records)[:200]}")
    return Listing(lambda index: (records, False), title=title, **listing)
