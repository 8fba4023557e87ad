"""What every resource group of the Ingestion client shares: sending a JSON call, walking a
paged list, and keeping known secrets out of what comes back."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from dataferry.client import VendorClient
from dataferry.errors import DataError
from dataferry.listing import Listing, nb_pages_listing, one_page_listing
from dataferry.providers.algolia.params import page_size as check_page_size

TIMESTAMP_COLUMNS = (
    "createdAt",
    "updatedAt",
    "publishedAt",
    "startedAt",
    "finishedAt",
    "deletedAt",
    "trigger.lastRun",
    "trigger.nextRun",
    "cursor",
)
"""Columns parsed as UTC datetimes by ``to_pandas`` (left as text if any value does not parse)."""


class IngestionBase(VendorClient):
    """Helpers for the resource groups (authentications, destinations, sources, tasks,
    observability); the public client is :class:`~dataferry.providers.algolia.client.Client`."""

    vendor = "algolia"

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        body: Any = None,
        idempotent: bool | None = None,
        family: str = "default",
        job_id: str | None = None,
    ) -> Any:
        """Send one call and decode its JSON answer (known secrets masked)."""
        kwargs: dict[str, Any] = {"params": params, "family": family, "idempotent": idempotent, "job_id": job_id}
        if body is not None:
            kwargs["json"] = body
        response = self.http.request(method, path, **kwargs)
        return self._safe(self.http.json_of(response))

    def _object(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        """Like :meth:`_call` for an answer that must be a JSON object."""
        answer = self._call(method, path, **kw)
        if not isinstance(answer, dict):
            raise DataError(f"algolia: {method} {path} answered {str(answer)[:200]!r}, not a JSON object")
        return answer

    def _safe(self, value: Any) -> Any:
        """``value`` with every known secret value (API key, credentials sent) masked."""
        redact = self.http.redactor.text
        if isinstance(value, dict):
            return {k: self._safe(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._safe(v) for v in value]
        return redact(value) if isinstance(value, str) else value

    def _register(self, secrets: Iterable[str]) -> None:
        """Mask these values from now on (credentials about to be sent)."""
        for secret in secrets:
            self.http.redactor.add(secret)

    def _list(
        self,
        path: str,
        key: str,
        *,
        query: dict[str, Any],
        title: str,
        page_size: int,
        family: str = "default",
        transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        keep_nested: Sequence[str] = (),
        secret_columns: Sequence[str] = (),
    ) -> Listing:
        """A listing of a paged endpoint; nothing is sent until it is read."""
        size = check_page_size(page_size)

        def fetch_page(number: int) -> dict[str, Any]:
            params = {**query, "page": number, "itemsPerPage": size}
            return self._object("GET", path, params=params, family=family)

        return nb_pages_listing(
            fetch_page,
            key,
            vendor=self.vendor,
            title=title,
            transform=transform,
            keep_nested=keep_nested,
            secret_columns=secret_columns,
            timestamps=TIMESTAMP_COLUMNS,
        )

    def _search(
        self,
        path: str,
        ids_field: str,
        ids: list[str],
        *,
        title: str,
        transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        secret_columns: Sequence[str] = (),
    ) -> Listing:
        """A search by ids (read-only, so safe to retry) as a one-page listing."""
        answer = self._call("POST", path, body={ids_field: ids}, idempotent=True)
        return one_page_listing(
            answer,
            vendor=self.vendor,
            title=title,
            transform=transform,
            secret_columns=secret_columns,
            timestamps=TIMESTAMP_COLUMNS,
        )
