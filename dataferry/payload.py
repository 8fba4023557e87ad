"""Typed request payloads: the one mechanism every vendor declares its structured request
objects with (Bright Data's delivery targets, Algolia's authentication / source / destination
inputs and triggers).

A payload is a frozen dataclass whose fields carry their wire name and whether they are
secret (:func:`wire`). :meth:`Payload.to_wire` turns it into the JSON the API expects (fields
left ``None`` are omitted, nested payloads become objects), :meth:`Payload.secrets` lists the
secret values it holds (nested ones too) so the client masks them before sending, and a
secret field never shows in the dataclass ``repr``.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Login(Payload):
    ...     user: str = wire("userName", required=True)
    ...     password: str = wire("pass", required=True, secret=True)
    >>> Login("ann", "s3cret").to_wire(), Login("ann", "s3cret").secrets(), Login("ann", "s3cret")
    ({'userName': 'ann', 'pass': 's3cret'}, ['s3cret'], Login(user='ann'))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Check = Callable[[Any], "str | None"]
"""A value check: ``None`` when the value is fine, else what is wrong with it."""


@dataclass(frozen=True)
class Wire:
    """How one field of a payload appears on the wire.

    Attributes:
        name: the API's field name (``appID``, ``aws-secret-key``).
        kind: the JSON type(s) accepted (``str``, ``int``, ``bool``, ``list``, ``dict``), for
            payloads that check their fields generically; ``None``: not checked here.
        required: whether the API requires it (on create).
        secret: masked in reprs, errors and logs.
        choices: the allowed values, when the spec closes the set.
        check: a further check returning what is wrong, or ``None``.
    """

    name: str
    kind: type | tuple[type, ...] | None = None
    required: bool = False
    secret: bool = False
    choices: tuple[Any, ...] | None = None
    check: Check | None = None


def wire(
    name: str,
    kind: type | tuple[type, ...] | None = None,
    *,
    required: bool = False,
    secret: bool = False,
    choices: Sequence[Any] | None = None,
    check: Check | None = None,
) -> Any:
    """Declare a dataclass field of a :class:`Payload` (required fields have no default, the
    others default to ``None``; a secret field is left out of the ``repr``).

    Example:
        >>> wire("appID", str, required=True).metadata["wire"].name
        'appID'
    """
    meta = {"wire": Wire(name, kind, required, secret, tuple(choices) if choices else None, check)}
    if required:
        return dataclasses.field(metadata=meta, repr=not secret)
    return dataclasses.field(default=None, metadata=meta, repr=not secret)


class Payload:
    """Base of the typed payloads (subclasses are frozen dataclasses)."""

    @classmethod
    def wire_fields(cls) -> list[tuple[str, Wire]]:
        """``(python attribute, Wire)`` for every field, in declaration order (a field declared
        without :func:`wire` goes on the wire under its own name)."""
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        return [(f.name, f.metadata.get("wire") or Wire(f.name)) for f in fields if f.init]

    def to_wire(self) -> dict[str, Any]:
        """The JSON object the API expects (fields left ``None`` are omitted)."""
        return {w.name: plain(getattr(self, attr)) for attr, w in self.wire_fields() if getattr(self, attr) is not None}

    def secrets(self) -> list[str]:
        """The secret values it holds, nested payloads included (registered for masking before
        it is sent)."""
        found: list[str] = []
        for attr, w in self.wire_fields():
            value = getattr(self, attr)
            if isinstance(value, Payload):
                found.extend(value.secrets())
            elif w.secret and value is not None and value != "":
                found.append(str(value))
        return found


def plain(value: Any) -> Any:
    """A field's wire value: a nested payload as its object, a tuple as a list."""
    if isinstance(value, Payload):
        return value.to_wire()
    if isinstance(value, tuple):
        return list(value)
    return value
