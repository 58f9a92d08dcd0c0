"""The value rules of the domain: what a title, a description, an email and a user id may be.

Each ``clean_*`` function takes raw input and returns the stored form or raises
``InvalidValue`` with a reason a person can act on. ``FieldCollector`` gathers the reasons
for several fields so that one ``ValidationFailed`` names every bad field at once.

The ``*_PATTERN`` constants state the same rules as regular expressions that mean the same
in Python and in JSON Schema (ECMA-262), so API documents can publish them exactly; a
property test holds each pattern to its function.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Final, TypeVar, cast

from todo_core.errors import ValidationFailed

__all__ = [
    "DESCRIPTION_MAX_LENGTH",
    "DESCRIPTION_PATTERN",
    "EMAIL_MAX_LENGTH",
    "EMAIL_PATTERN",
    "IDEMPOTENCY_KEY_PATTERN",
    "SEARCH_PATTERN",
    "TITLE_MAX_LENGTH",
    "TITLE_PATTERN",
    "USER_ID_MAX_LENGTH",
    "USER_ID_PATTERN",
    "FieldCollector",
    "InvalidValue",
    "clean_description",
    "clean_email",
    "clean_idempotency_key",
    "clean_title",
    "clean_user_id",
    "email_key",
    "refuse_unstorable",
]

TITLE_MAX_LENGTH: Final = 255
DESCRIPTION_MAX_LENGTH: Final = 10_000
USER_ID_MAX_LENGTH: Final = 64
EMAIL_MAX_LENGTH: Final = 254

# What str.strip() removes (str.isspace()), and the control characters (category Cc).
_SPACE: Final = r"\t\n\u000b\u000c\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_CONTROL: Final = r"\u0000-\u001f\u007f-\u009f"
# 1 to 255 characters between optional surrounding whitespace, none of them a control.
_TRIMMED_TEXT: Final = rf"[^{_SPACE}{_CONTROL}](?:[^{_CONTROL}]{{0,{TITLE_MAX_LENGTH - 2}}}[^{_SPACE}{_CONTROL}])?"
TITLE_PATTERN: Final = rf"^[{_SPACE}]*{_TRIMMED_TEXT}[{_SPACE}]*$"
SEARCH_PATTERN: Final = rf"^[{_SPACE}]*(?:{_TRIMMED_TEXT})?[{_SPACE}]*$"
DESCRIPTION_PATTERN: Final = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
USER_ID_PATTERN: Final = r"^[A-Za-z0-9._-]{1,64}$"
# The practical shape of an address: a local part of 1-64 RFC 5322 "atext" characters and
# dots (not first or last), and a domain of LDH labels (internationalised domains travel
# as punycode) ending in a letter-led top-level label. At most 254 characters in all.
_ATEXT: Final = "A-Za-z0-9!#$%&'*+/=?^_`{|}~-"
_ATEXT_OR_DOT: Final = "A-Za-z0-9!#$%&'*+/=?^_`{|}~.-"
EMAIL_PATTERN: Final = (
    rf"^[{_ATEXT}](?:[{_ATEXT_OR_DOT}]{{0,62}}[{_ATEXT}])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
)
# What fits in an HTTP header unchanged: 1-255 printable ASCII characters.
IDEMPOTENCY_KEY_PATTERN: Final = r"^[\u0020-\u007e]{1,255}$"
_USER_ID = re.compile(USER_ID_PATTERN)
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
_EMAIL = re.compile(EMAIL_PATTERN)
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
    """A plausible address of at most 254 characters. Stored as given, compared case-insensitively."""
    if len(raw) > EMAIL_MAX_LENGTH:
        raise InvalidValue(f"must be at most {EMAIL_MAX_LENGTH} characters")
    if not _EMAIL.fullmatch(raw):
        raise InvalidValue("must be an email address such as ada@example.com, without surrounding spaces")
    return raw


def clean_user_id(raw: str) -> str:
    """1-64 letters, digits, '-', '_' or '.': UUIDs and auth-provider ids both fit."""
    if not _USER_ID.fullmatch(raw):
        raise InvalidValue("must be 1-64 characters of letters, digits, '-', '_' or '.'")
    return raw


def clean_idempotency_key(raw: str) -> str:
    """1-255 printable ASCII characters, compared exactly."""
    if not _IDEMPOTENCY_KEY.fullmatch(raw):
        raise InvalidValue("must be 1-255 printable ASCII characters, such as a UUID")
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
