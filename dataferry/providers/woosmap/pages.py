"""Woosmap's paging (``page`` / ``per_page`` in, ``pagination.next`` out) adapted for
:class:`~dataferry.listing.Listing`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dataferry.errors import DataError
from dataferry.listing import Page


def next_page_pages(fetch_page: Callable[[int], dict[str, Any]], key: str, *, limit: int | None = None
                    ) -> Callable[[int], Page]:
    """Adapts ``fetch_page(page_number)`` → the decoded answer, for :class:`~dataferry.listing.Listing`.

    It follows ``pagination.next`` to the end (never stops on a short page), and stops early
    once ``limit`` records were read.

    Args:
        fetch_page: sends one request for page ``n`` (counting from 1).
        key: the answer's list field (``"datasets"``, ``"features"``).
        limit: stop after this many records (``None``: every page).

    Raises:
        DataError: an answer without the list, or a ``next`` that does not move forward.

    Example:
        >>> answers = {1: {"datasets": [{"id": 1}], "pagination": {"page": 1, "next": 2}},
        ...            2: {"datasets": [{"id": 2}], "pagination": {"page": 2, "next": None}}}
        >>> from dataferry.listing import Listing
        >>> Listing(next_page_pages(answers.__getitem__, "datasets")).to_list()
        [{'id': 1}, {'id': 2}]
    """
    seen = [0]

    def fetch(index: int) -> Page:
        number = index + 1
        answer = fetch_page(number)
        records = answer.get(key) if isinstance(answer, dict) else None
        if not isinstance(records, list):
            raise DataError(f"woosmap answered page {number} without a {key!r} list: {str(answer)[:200]}")
        following = (answer.get("pagination") or {}).get("next")
        if following is not None and following != number + 1:
            raise DataError(f"woosmap page {number} points to page {following} as the next one; stopping "
                            "rather than skipping or repeating records")
        if limit is not None:
            records = records[: max(0, limit - seen[0])]
            seen[0] += len(records)
            if seen[0] >= limit:
                return records, False
        return records, following is not None

    return fetch
