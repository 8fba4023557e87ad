"""What list endpoints return: every page, lazily, as records or as a DataFrame."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from typing import Any

from dataferry.errors import DataError

Page = tuple[list[dict[str, Any]], bool]
"""One page: its records and whether another page follows."""


class Listing:
    """The records of a paged list endpoint, fetched page by page on first use.

    Args:
        fetch: ``fetch(page_index)`` → ``(records, more)``; ``page_index`` counts from 0.
        title: what the listing is (for reprs).
        secret_fields: dotted column names masked in :meth:`to_pandas` (defence in depth; the
            client already masks them in the records).

    Example:
        >>> pages = {0: ([{"id": 1}], True), 1: ([{"id": 2}], False)}
        >>> Listing(pages.__getitem__).to_list()
        [{'id': 1}, {'id': 2}]
    """

    def __init__(self, fetch: Callable[[int], Page], *, title: str = "records",
                 transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        self._fetch = fetch
        self._records: list[dict[str, Any]] | None = None
        self.title = title
        self._transform = transform
        self.pages = 0

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
        """Every record as a DataFrame; nested objects become ``a.b`` columns when ``flatten``."""
        import pandas as pd

        records = self.to_list()
        if flatten:
            return pd.json_normalize(records, sep=sep) if records else pd.DataFrame()
        return pd.DataFrame.from_records(records)

    def __repr__(self) -> str:
        n = "?" if self._records is None else str(len(self._records))
        return f"<Listing {self.title}: {n} records>"

    def _repr_html_(self) -> str:
        df = self.to_pandas()
        head = f"<p><b>{html.escape(self.title)}</b>: {len(df)} records</p>"
        return head + df.head(20).to_html(max_cols=12, notebook=True)


def page_number_pages(fetch_page: Callable[[int], tuple[list[dict[str, Any]], int]], *, first: int = 1) -> Callable[[int], Page]:
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


def next_page_pages(fetch_page: Callable[[int], dict[str, Any]], key: str, *, vendor: str,
                    limit: int | None = None) -> Callable[[int], Page]:
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
        >>> answers = {1: {"datasets": [{"id": 1}], "pagination": {"page": 1, "next": 2}},
        ...            2: {"datasets": [{"id": 2}], "pagination": {"page": 2, "next": None}}}
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
            raise DataError(f"{vendor} page {number} points to page {following} as the next one; stopping "
                            "rather than skipping or repeating records")
        if limit is not None:
            records = records[: max(0, limit - seen[0])]
            seen[0] += len(records)
            if seen[0] >= limit:
                return records, False
        return records, following is not None

    return fetch
