"""The published patterns say exactly what the rules accept: no more, no less."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from todo_core.errors import ValidationFailed
from todo_core.listing import TaskQuery
from todo_core.rules import (
    DESCRIPTION_MAX_LENGTH,
    DESCRIPTION_PATTERN,
    EMAIL_MAX_LENGTH,
    EMAIL_PATTERN,
    SEARCH_PATTERN,
    TITLE_PATTERN,
    USER_ID_PATTERN,
    InvalidValue,
    clean_description,
    clean_email,
    clean_title,
    clean_user_id,
)

# Characters where the rules have edges: whitespace of every kind, controls, the email
# alphabet, and ordinary text.
EDGY = st.sampled_from(
    [
        *"aZ09 .-_@+'!~`{}|/=?^#$%&*\t\n\r\x0b\x0c\x1c\x1f\x00\x07\x7f\x85\x9f\xa0\u1680\u2000\u2028\u202f\u3000",
        *"éß漢🚀\u200b\u202e",
    ]
)


def texts(max_size: int) -> st.SearchStrategy[str]:
    return st.one_of(st.text(EDGY, max_size=max_size), st.text(max_size=max_size))


def accepts(rule: Callable[[str], object], value: str) -> bool:
    try:
        rule(value)
    except (InvalidValue, ValidationFailed):
        return False
    return True


def search_rule(value: str) -> None:
    TaskQuery.parse(search=value)


def email_rule(value: str) -> None:
    clean_email(value)


CASES = {
    "title": (TITLE_PATTERN, clean_title, 300, None),
    "description": (DESCRIPTION_PATTERN, clean_description, 50, DESCRIPTION_MAX_LENGTH),
    "user id": (USER_ID_PATTERN, clean_user_id, 70, None),
    "email": (EMAIL_PATTERN, email_rule, 80, EMAIL_MAX_LENGTH),
    "search": (SEARCH_PATTERN, search_rule, 300, None),
}


def published(name: str, value: str) -> bool:
    pattern, _, _, max_length = CASES[name]
    return re.fullmatch(pattern, value) is not None and (max_length is None or len(value) <= max_length)


@pytest.mark.parametrize("name", list(CASES))
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_a_pattern_matches_exactly_what_its_rule_accepts(name: str, data: st.DataObject) -> None:
    pattern, _, max_size, _ = CASES[name]
    value = data.draw(st.one_of(texts(max_size), st.from_regex(pattern, fullmatch=True)))
    assert published(name, value) == accepts(CASES[name][1], value), repr(value)


BOUNDARIES = [
    ("title", "x" * 255), ("title", "x" * 256), ("title", " \t" + "é" * 255 + "\n "), ("title", " " + "x" * 256 + " "),
    ("title", "a" + " " * 253 + "b"), ("title", "a" + " " * 254 + "b"),
    ("search", "q" * 255), ("search", "q" * 256), ("search", "   "),
    ("description", "d" * 10_000), ("description", "d" * 10_001),
    ("user id", "u" * 64), ("user id", "u" * 65),
    ("email", "a" * 64 + "@example.com"), ("email", "a" * 65 + "@example.com"),
    ("email", "a@" + ".".join(["b" * 63, "c" * 63, "d" * 63, "e" * 58])),
    ("email", "a@" + ".".join(["b" * 63, "c" * 63, "d" * 63, "e" * 59])),
]  # fmt: skip


@pytest.mark.parametrize(("name", "value"), BOUNDARIES, ids=lambda v: v if len(v) < 20 else f"{len(v)} chars")
def test_a_pattern_agrees_with_its_rule_at_the_length_limits(name: str, value: str) -> None:
    assert published(name, value) == accepts(CASES[name][1], value)
