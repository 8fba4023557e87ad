"""Bright Data's failure messages (a snapshot's ``error_message`` when its progress says
``failed``), classified: may a new trigger succeed, is the result simply empty, or will it
fail again?

The messages are those of ../shared/seeds/brightdata-datasets-v3-errors.txt ("Monitor
progress"); they are matched case-insensitively at the start of the message (several carry
details after a fixed head: "Input validation failed: …", "Account is new, … URL").

=================================================================  ==========  =====================
message                                                            kind        a new trigger…
=================================================================  ==========  =====================
Something went wrong. Our team is looking into it.                 transient   may succeed
Internal Server Error                                              transient   may succeed
Failed to download response                                        transient   may succeed
Failed to trigger collector                                        transient   may succeed
Failed to deliver snapshot                                         transient   may succeed
Snapshot is empty                                                  empty       finds nothing again
No data found in discovery                                         empty       finds nothing again
Account is suspended                                               permanent   fails again
Account is new, please activate it in account settings. URL        permanent   fails again
Input validation failed: DETAILS                                   permanent   fails again
anything else                                                      permanent   (not re-triggered)
=================================================================  ==========  =====================

An unknown message counts as permanent: re-triggering costs money, so only the messages known
to be passing troubles are ever re-triggered (and only with ``retrigger=N``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(str, enum.Enum):
    """What a failure message means for the next attempt."""

    TRANSIENT = "transient"
    EMPTY = "empty"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class Failure:
    """One known failure message.

    Attributes:
        head: the message, or its fixed beginning.
        kind: :class:`Kind`.
        hint: what the user can do.
    """

    head: str
    kind: Kind
    hint: str


RETRIGGER_HINT = "a passing trouble on Bright Data's side: trigger the collection again (or pass retrigger=N)"

FAILURES = (
    Failure("Something went wrong. Our team is looking into it.", Kind.TRANSIENT, RETRIGGER_HINT),
    Failure("Internal Server Error", Kind.TRANSIENT, RETRIGGER_HINT),
    Failure("Failed to download response", Kind.TRANSIENT, RETRIGGER_HINT),
    Failure("Failed to trigger collector", Kind.TRANSIENT, RETRIGGER_HINT),
    Failure("Failed to deliver snapshot", Kind.TRANSIENT, RETRIGGER_HINT),
    Failure(
        "Snapshot is empty",
        Kind.EMPTY,
        "the collection found no records; pass on_empty='empty' (CLI --allow-empty) if that is a valid result",
    ),
    Failure(
        "No data found in discovery",
        Kind.EMPTY,
        "the discovery found nothing; pass on_empty='empty' (CLI --allow-empty) if that is a valid result",
    ),
    Failure("Account is suspended", Kind.PERMANENT, "the account is suspended: contact Bright Data support"),
    Failure(
        "Account is new, please activate it",
        Kind.PERMANENT,
        "activate the account in the Bright Data account settings, then trigger again",
    ),
    Failure(
        "Input validation failed",
        Kind.PERMANENT,
        "the inputs do not match the dataset: fix them (snap.input() shows what was sent) and trigger again",
    ),
)
"""Every failure message of the seed, with its kind and hint."""

UNKNOWN = Failure("", Kind.PERMANENT, "not re-triggered automatically: an unknown failure may fail again")
"""What an unknown message counts as."""


def classify(message: str | None) -> Failure:
    """The :class:`Failure` a snapshot's ``error_message`` is.

    Example:
        >>> classify("Failed to download response").kind.value
        'transient'
        >>> classify("Input validation failed: url is required").kind.value
        'permanent'
        >>> classify("no data found in discovery").kind.value
        'empty'
    """
    text = (message or "").strip().lower()
    for failure in FAILURES:
        if text.startswith(failure.head.lower()):
            return failure
    return UNKNOWN
