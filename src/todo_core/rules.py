"""The value rules of the domain: what a title, a description, an email and a user id may be.

Each ``clean_*`` function takes raw input and returns the stored form or raises
``InvalidValue`` with a reason a person can act on. ``collect`` gathers the reasons for
several fields so that one ``ValidationFailed`` names every bad field at once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Final, TypeVar, cast

from todo_core.errors import ValidationFailed

__all__ = [
    "DESCRIPTION_MAX_LENGTH",
    "EMAIL_MAX_LENGTH",
    "TITLE_MAX_LENGTH",
    "USER_ID_MAX_LENGTH",
    "FieldCollector",
    "InvalidValue",
    "clean_description",
    "clean_email",
    "clean_title",
    "clean_user_id",
    "email_key",
    "refuse_unstorable",
]

TITLE_MAX_LENGTH: Final = 255
DESCRIPTION_MAX_LENGTH: Final = 10_000
USER_ID_MAX_LENGTH: Final = 64
EMAIL_MAX_LENGTH: Final = 254

_USER_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# The practical shape of an address: RFC 5322 "atext" local parts joined by dots, and a
# domain of LDH labels (internationalised domains travel as punycode) with a dotted TLD.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
)
_LINE_BREAKS_AND_TABS: Final = frozenset("\t\n\r")

A = TypeVar("A")
R = TypeVar("R")


class InvalidValue(ValueError):
    """One value breaks its rule; the message is the reason."""


def clean_title(raw: str) -> str:
    """Trim surrounding whitespace; 1-255 characters, one line, no control characters."""
    title = raw.strip()
    if not title:
        raise InvalidValue("must not be empty or only whitespace")
    if len(title) > TITLE_MAX_LENGTH:
        raise InvalidValue(f"must be at most {TITLE_MAX_LENGTH} characters after trimming, got {len(title)}")
    refuse_unstorable(title, allowed=frozenset())
    return title


def clean_description(raw: str | None) -> str | None:
    """At most 10,000 characters; line breaks and tabs allowed, other control characters not."""
    if raw is None:
        return None
    if len(raw) > DESCRIPTION_MAX_LENGTH:
        raise InvalidValue(f"must be at most {DESCRIPTION_MAX_LENGTH} characters, got {len(raw)}")
    refuse_unstorable(raw, allowed=_LINE_BREAKS_AND_TABS)
    return raw


def clean_email(raw: str) -> str:
    """Trim; a plausible address of at most 254 characters. Stored as given, compared case-insensitively."""
    email = raw.strip()
    if len(email) > EMAIL_MAX_LENGTH:
        raise InvalidValue(f"must be at most {EMAIL_MAX_LENGTH} characters")
    local, _, _ = email.partition("@")
    if not _EMAIL.fullmatch(email) or len(local) > 64:
        raise InvalidValue("must be an email address such as ada@example.com")
    return email


def clean_user_id(raw: str) -> str:
    """1-64 letters, digits, '-', '_' or '.': UUIDs and auth-provider ids both fit."""
    if not _USER_ID.fullmatch(raw):
        raise InvalidValue("must be 1-64 characters of letters, digits, '-', '_' or '.'")
    return raw


def email_key(email: str) -> str:
    """The form two emails are compared in: equal keys mean the same mailbox to us."""
    return email.lower()


def refuse_unstorable(text: str, *, allowed: frozenset[str] = frozenset()) -> None:
    """Refuse control characters (but ``allowed``) and unpaired surrogates."""
    # Control characters break terminals and logs, NUL cannot be stored by PostgreSQL, and
    # lone surrogates cannot be encoded as UTF-8: refuse them all with a reason.
    if text.isprintable():
        return
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc" and char not in allowed:
            raise InvalidValue(f"must not contain the control character U+{ord(char):04X}")
        if category == "Cs":
            raise InvalidValue(f"must not contain the unpaired surrogate U+{ord(char):04X}")


class FieldCollector:
    """Run several ``clean_*`` rules and raise one ``ValidationFailed`` naming every failure."""

    __slots__ = ("_reasons",)

    def __init__(self) -> None:
        self._reasons: dict[str, str] = {}

    def check(self, field: str, rule: Callable[[A], R], raw: A) -> R:
        """``rule(raw)``, or a placeholder once the failure is noted: use results only after ``raise_if_any``."""
        try:
            return rule(raw)
        except InvalidValue as invalid:
            self._reasons[field] = str(invalid)
            return cast("R", None)

    def reject(self, field: str, reason: str) -> None:
        self._reasons[field] = reason

    def raise_if_any(self) -> None:
        if self._reasons:
            raise ValidationFailed(self._reasons)
