from __future__ import annotations

import pytest

from todo_core.rules import InvalidValue, clean_description, clean_email, clean_title, clean_user_id


def test_titles_are_trimmed_and_keep_inner_spacing() -> None:
    assert clean_title("  Buy  milk \t") == "Buy  milk"


@pytest.mark.parametrize("title", ["", "   ", "\t\n"])
def test_a_blank_title_is_refused(title: str) -> None:
    with pytest.raises(InvalidValue, match="empty"):
        clean_title(title)


def test_a_title_may_use_255_characters_after_trimming() -> None:
    assert clean_title(" " + "é" * 255 + " ") == "é" * 255
    with pytest.raises(InvalidValue, match="at most 255"):
        clean_title("x" * 256)


@pytest.mark.parametrize("title", ["line\nbreak", "nul\x00byte", "bell\x07", "lone \ud800 surrogate"])
def test_a_title_refuses_control_characters_and_unpaired_surrogates(title: str) -> None:
    with pytest.raises(InvalidValue, match="must not contain"):
        clean_title(title)


@pytest.mark.parametrize(
    "title", ["🚀 launch", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\u202eright-to-left", "quote ' \" `", "'; DROP TABLE tasks; --"]
)
def test_a_title_keeps_any_printable_text(title: str) -> None:
    assert clean_title(title) == title


def test_a_description_allows_line_breaks_and_tabs_up_to_10000_characters() -> None:
    text = "first line\n\tsecond line\r\n" + "x" * (10_000 - 26)
    assert clean_description(text) == text
    assert clean_description(None) is None
    with pytest.raises(InvalidValue, match="at most 10000"):
        clean_description("x" * 10_001)
    with pytest.raises(InvalidValue, match="U\\+0000"):
        clean_description("nul\x00")


@pytest.mark.parametrize("email", ["ada@example.com", "first.last+tag@sub.example.co.uk", "ADA@EXAMPLE.COM"])
def test_plausible_emails_are_accepted(email: str) -> None:
    assert clean_email(email) == email


@pytest.mark.parametrize(
    "email",
    ["", "ada", "ada@", "@example.com", "ada@example", "ada@@example.com", "a da@example.com", "ada@exa_mple.com",
     "ada.@example.com", f"{'a' * 65}@example.com", f"ada@{'a' * 250}.com", " ada@example.com", "ada@example.com\n"],
)  # fmt: skip
def test_implausible_emails_are_refused(email: str) -> None:
    with pytest.raises(InvalidValue):
        clean_email(email)


@pytest.mark.parametrize("user_id", ["ada", "0195f7a4-8a1e-7c3d-9b2a-4f6e8d0c1b2a", "Zx9_-.", "u" * 64])
def test_user_ids_of_letters_digits_and_punctuation_fit(user_id: str) -> None:
    assert clean_user_id(user_id) == user_id


@pytest.mark.parametrize("user_id", ["", "u" * 65, "has space", "slash/", "émile", "semi;colon"])
def test_other_user_ids_are_refused(user_id: str) -> None:
    with pytest.raises(InvalidValue):
        clean_user_id(user_id)
