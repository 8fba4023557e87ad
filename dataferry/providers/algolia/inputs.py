"""Typed request inputs: every variant (authentication, source, destination, trigger) is a
:class:`dataferry.payload.Payload` (the one typed-payload mechanism, shared with Bright Data's
delivery targets) whose fields also carry their type, allowed values and checks.

A variant checks itself on creation, turns into the JSON the API expects with
:meth:`Input.to_wire`, masks its secrets in ``repr``, and checks plain dicts written with the
API's own field names through :meth:`Input.validate`.

Example:
    >>> from dataferry.providers.algolia import AuthBasic
    >>> AuthBasic(username="reader", password="hunter22")
    AuthBasic(username='reader', password=***)
    >>> AuthBasic(username="reader", password="hunter22").to_wire()
    {'username': 'reader', 'password': 'hunter22'}
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from dataferry.errors import InvalidArgument
from dataferry.payload import Check, Payload, Wire, wire
from dataferry.redact import MASK

__all__ = [
    "Check",
    "Input",
    "Wire",
    "article",
    "each_matches",
    "fits_any",
    "objects_with",
    "pick",
    "strings",
    "url",
    "wire",
]


@dataclass(frozen=True, kw_only=True, repr=False)
class Input(Payload):
    """Base of every typed input.

    Class attributes:
        kind: the ``type`` value this variant belongs to (``"basic"``, ``"csv"``...).
        family: what it is the input of, for messages (``"authentication"``, ``"source"``).
        where: the request field it is sent as (``"input"``, ``"trigger"``).
    """

    kind: ClassVar[str] = ""
    family: ClassVar[str] = "input"
    where: ClassVar[str] = "input"

    def __post_init__(self) -> None:
        self.validate(
            {w.name: getattr(self, attr) for attr, w in self.wire_fields() if getattr(self, attr) is not None},
            python_names=True,
        )

    # -- declaration ----------------------------------------------------------------------
    @classmethod
    def label(cls) -> str:
        """``"a 'basic' authentication input"``: how messages name this variant."""
        return (
            f"{article(cls.kind)} {cls.kind!r} {cls.family} input"
            if cls.kind
            else f"{article(cls.family)} {cls.family} input"
        )

    # -- checking -----------------------------------------------------------------------------
    @classmethod
    def validate(
        cls, data: Mapping[str, Any], *, where: str | None = None, partial: bool = False, python_names: bool = False
    ) -> dict[str, Any]:
        """Check a dict written with the API's field names.

        Args:
            data: the input as the API expects it (``{"appID": ..., "apiKey": ...}``).
            where: how messages name the object (default :attr:`where`).
            partial: an update: required fields may be missing.
            python_names: also name the Python argument in messages (``appID (app_id=)``).

        Returns:
            The input without ``None`` values.

        Raises:
            InvalidArgument: naming the first field that is unknown, missing or wrong.
        """
        where = where or cls.where
        if not isinstance(data, Mapping):
            raise InvalidArgument(f"{where} must be an object (a dict) for {cls.label()}, got {type(data).__name__}")
        fields = {w.name: (attr, w) for attr, w in cls.wire_fields()}
        for key in data:
            if key not in fields:
                raise InvalidArgument(
                    f"{where}.{key} is not a field of {cls.label()}; allowed: {', '.join(fields) or 'none'}"
                )
        clean = {k: v for k, v in data.items() if v is not None}
        for name, (attr, w) in fields.items():
            shown = f"{where}.{name}" + (f" ({attr}=)" if python_names and attr != name else "")
            if name not in clean:
                if w.required and not partial:
                    raise InvalidArgument(f"{shown} is required for {cls.label()}")
                continue
            problem = _problem(clean[name], w)
            if problem:
                raise InvalidArgument(f"{shown} {problem}")
        return clean

    # -- use ----------------------------------------------------------------------------------
    @classmethod
    def from_wire(cls, data: Mapping[str, Any], *, where: str | None = None) -> Input:
        """Build the variant from a dict written with the API's field names (checked)."""
        clean = cls.validate(data, where=where)
        by_wire = {w.name: attr for attr, w in cls.wire_fields()}
        return cls(**{by_wire[k]: v for k, v in clean.items()})

    def __repr__(self) -> str:
        shown = []
        for attr, w in self.wire_fields():
            value = getattr(self, attr)
            if value is not None:
                shown.append(f"{attr}={MASK if w.secret else repr(value)}")
        return f"{type(self).__name__}({', '.join(shown)})"


def article(word: str) -> str:
    """``"an"`` before a vowel, else ``"a"``.

    Example:
        >>> article("oauth"), article("csv")
        ('an', 'a')
    """
    return "an" if word[:1].lower() in "aeiou" else "a"


def _problem(value: Any, w: Wire) -> str | None:
    kinds: tuple[type, ...] = w.kind if isinstance(w.kind, tuple) else () if w.kind is None else (w.kind,)
    ok = not kinds or any(isinstance(value, k) and not (k is int and isinstance(value, bool)) for k in kinds)
    if not ok:
        names = " or ".join(_json_name(k) for k in kinds)
        shown = MASK if w.secret else repr(value)
        return f"must be {names}, got {type(value).__name__} {shown}"
    if w.choices is not None and value not in w.choices:
        return f"must be one of {', '.join(map(str, w.choices))}, got {value!r}"
    if isinstance(value, str) and not value.strip() and (w.required or w.secret):
        return "must not be empty"
    if w.check is not None:
        return w.check(value)
    return None


def _json_name(kind: type) -> str:
    return {
        str: "a string",
        int: "an integer",
        bool: "true or false",
        list: "a list",
        dict: "an object",
        float: "a number",
    }.get(kind, kind.__name__)


# -- reusable checks -------------------------------------------------------------------------
def strings(value: Any) -> str | None:
    """Check: a list of strings.

    Example:
        >>> strings(["a", 1])
        'must be a list of strings; 1 is not one'
    """
    bad = [v for v in value if not isinstance(v, str)]
    return f"must be a list of strings; {bad[0]!r} is not one" if bad else None


def each_matches(pattern: str, example: str) -> Check:
    """Check: a list of strings that all match ``pattern``.

    Example:
        >>> each_matches(r"[a-z]{2}", "fr")(["fr", "FR"])
        "must match [a-z]{2} (e.g. 'fr'); 'FR' does not"
    """
    rx = re.compile(pattern)

    def check(value: Any) -> str | None:
        problem = strings(value)
        if problem:
            return problem
        bad = [v for v in value if not rx.fullmatch(v)]
        return f"must match {pattern} (e.g. {example!r}); {bad[0]!r} does not" if bad else None

    return check


def objects_with(*required: str) -> Check:
    """Check: a list of objects that each have ``required`` string fields.

    Example:
        >>> objects_with("namespace", "key")([{"namespace": "n"}])
        '[0] needs the string field(s) key'
    """

    def check(value: Any) -> str | None:
        for n, item in enumerate(value):
            if not isinstance(item, Mapping):
                return f"[{n}] must be an object, got {item!r}"
            missing = [k for k in required if not isinstance(item.get(k), str)]
            if missing:
                return f"[{n}] needs the string field(s) {', '.join(missing)}"
        return None

    return check


def url(value: Any) -> str | None:
    """Check: an http(s) URL.

    Example:
        >>> url("ftp://example.com/a.csv")
        "must be an http(s) URL, got 'ftp://example.com/a.csv'"
    """
    return None if re.match(r"^https?://\S+$", value) else f"must be an http(s) URL, got {value!r}"


def pick(
    variants: Sequence[type[Input]],
    kind: str | None,
    data: Any,
    *,
    family: str,
    where: str = "input",
    partial: bool = False,
) -> tuple[str | None, dict[str, Any], list[str]]:
    """Resolve the input of a typed resource: a variant object, or a dict for a known type.

    Args:
        variants: the variant classes of the family.
        kind: the resource ``type`` the caller gave, or ``None`` to take it from the variant.
        data: a variant instance or a dict with the API's field names.
        family: ``"authentication"``, ``"source"``... for messages.
        where: how messages name the object.
        partial: an update (required fields may be missing).

    Returns:
        ``(type, wire dict, secrets)``.

    Raises:
        InvalidArgument: unknown type, type and variant disagree, or a field is wrong.

    Example:
        >>> from dataferry.providers.algolia.auth_inputs import AUTH_INPUTS
        >>> pick(AUTH_INPUTS, "apiKey", {"key": "k-12345"}, family="authentication")
        ('apiKey', {'key': 'k-12345'}, ['k-12345'])
    """
    by_kind = {v.kind: v for v in variants}
    if isinstance(data, Input):
        if type(data) not in variants:
            raise InvalidArgument(
                f"{where} is {type(data).__name__}, which is not {article(family)} {family} input; "
                f"use one of {', '.join(v.__name__ for v in variants)}"
            )
        if kind is not None and kind != data.kind:
            raise InvalidArgument(f"type={kind!r} does not match {where}={type(data).__name__} (type {data.kind!r})")
        return data.kind, data.to_wire(), data.secrets()
    if kind is None:
        raise InvalidArgument(f"type is required when {where} is a dict; one of {', '.join(by_kind)}")
    variant = by_kind.get(kind)
    if variant is None:
        raise InvalidArgument(f"type={kind!r} is not {article(family)} {family} type; one of {', '.join(by_kind)}")
    clean = variant.validate(data, where=where, partial=partial)
    secrets = [str(clean[w.name]) for _, w in variant.wire_fields() if w.secret and w.name in clean]
    return kind, clean, secrets


def fits_any(variants: Sequence[type[Input]], data: Any, *, family: str, where: str = "input") -> dict[str, Any]:
    """Check a partial update whose variant is not known: its fields must all belong to one
    variant, and be right for it.

    Raises:
        InvalidArgument: no variant has all these fields, or a value is wrong.

    Example:
        >>> from dataferry.providers.algolia.auth_inputs import AUTH_INPUTS
        >>> fits_any(AUTH_INPUTS, {"password": "s3cret-pass"}, family="authentication")
        {'password': 's3cret-pass'}
    """
    if isinstance(data, Input):
        if type(data) not in variants:
            raise InvalidArgument(f"{where} is {type(data).__name__}, which is not {article(family)} {family} input")
        return data.to_wire()
    if not isinstance(data, Mapping):
        raise InvalidArgument(f"{where} must be an object (a dict), got {type(data).__name__}")
    for variant in variants:
        names = {w.name for _, w in variant.wire_fields()}
        if set(data) <= names:
            return variant.validate(data, where=where, partial=True)
    known = sorted({w.name for v in variants for _, w in v.wire_fields()})
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise InvalidArgument(
            f"{where}.{unknown[0]} is not a field of any {family} input; known fields: {', '.join(known)}"
        )
    raise InvalidArgument(
        f"{where} mixes fields of different {family} types ({', '.join(sorted(data))}); pass type= to say which"
    )
