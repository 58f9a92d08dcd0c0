"""Hostile text in every place that takes text: stored exactly as the rules say, or refused with 400 naming the
field; never a 500, and never a change to what was stored before.

Every case states its outcome by hand instead of asking the rules module, so a rule that drifts fails here
instead of being copied into the expectation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_from_bytes

import pytest
from httpx import Response

from tests.http.conftest import Api, assert_error

JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Hostile:
    """A string, and what each place makes of it: the stored title (None when refused), and whether a
    description and a search (``q``) accept it."""

    text: str
    title: str | None
    description: bool
    search: bool


def accepted(text: str) -> Hostile:
    return Hostile(text, text.strip(), description=True, search=True)


def refused(text: str, *, description: bool = False) -> Hostile:
    return Hostile(text, None, description=description, search=False)


CORPUS = {
    "single and double quotes": accepted("it's a \"quoted\" 'title'"),
    "backslashes and escape lookalikes": accepted(r"C:\new\table \\server \" \u0000 \x00 \n"),
    "sql injection": accepted("'; DROP TABLE tasks; --"),
    "sql tautology": accepted("\" OR 1=1; -- ' OR ''='"),
    "like and regex wildcards": accepted("100% _done_ [a-z]* .*"),
    "nul byte": refused("nul\x00byte"),
    "trailing nul byte": refused("trailing nul\x00"),
    "ansi escape sequence": refused("\x1b[31mred\x1b[0m"),
    "bell": refused("ding\x07"),
    "delete": refused("del\x7fete"),
    "c1 next line": refused("next\x85line"),
    "vertical tab and form feed": refused("page\x0cbreak\x0bhere"),
    "line breaks and a tab inside": refused("two\nlines\tand a tab\r\n", description=True),
    "surrounding whitespace and line breaks": Hostile(
        " \t\r\n padded title \n\u3000", "padded title", description=True, search=True
    ),
    "emoji and zwj sequences": accepted("👩‍👩‍👧‍👦 family, 🏳️‍🌈 flag, 👍🏽 thumb"),
    "four-byte characters": accepted("𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠜎 𝕏"),
    "right-to-left override": accepted("invoice\u202efdp.exe"),
    "right-to-left marks": accepted("\u200fשלום עולם\u200f"),
    "zero-width space inside": accepted("zero\u200bwidth"),
    "only a zero-width space": accepted("\u200b"),
    "byte order mark": accepted("\ufeffbom"),
    "combining characters": accepted("e\u0301 is not \u00e9; Z\u0351\u036ba\u0310l\u0307g\u0367o"),
    "a leading combining mark": accepted("\u0301starts with a combining mark"),
    "noncharacters and private use": accepted("\ufffe\uffff\U0010ffff\ue000"),
    "255 four-byte characters": accepted("𝔘" * 255),
    "256 four-byte characters": Hostile("𝔘" * 256, None, description=True, search=False),
}
CASES = [pytest.param(case, id=name) for name, case in CORPUS.items()]

# JSON string literals, as raw bytes: Python's json module cannot write a lone surrogate escape, and no str
# holds invalid UTF-8.
SURROGATE_ESCAPES = {
    "lone high surrogate": b'"\\ud800"',
    "lone low surrogate": b'"\\udc00"',
    "high surrogate between letters": b'"a\\ud800b"',
    "two high surrogates": b'"\\ud83d\\ud83d"',
    "reversed surrogate pair": b'"\\ude00\\ud83d"',
}
INVALID_UTF8 = {
    "overlong slash": b"\xc0\xaf",
    "overlong three-byte nul": b"\xe0\x80\x80",
    "encoded surrogate": b"\xed\xa0\x80",
    "byte ff": b"\xff",
    "lone continuation byte": b"\x80",
    "truncated sequence": b"\xe2\x82",
    "beyond U+10FFFF": b"\xf4\x90\x80\x80",
}


@pytest.fixture
async def sentinel(api: Api) -> dict[str, Any]:
    """User 'ada' and one ordinary task of hers, created first; no hostile request may change it."""
    await api.register("ada")
    return await api.create("ada", "Sentinel", description="Left alone")


async def assert_untouched(api: Api, sentinel: dict[str, Any]) -> None:
    response = await api.get("ada", sentinel["id"])
    assert (response.status_code, response.json()) == (200, sentinel)
    assert response.headers["etag"] == f'"{sentinel["version"]}"'


async def post_json(api: Api, url: str, body: bytes, method: str = "POST") -> Response:
    return await api.client.request(method, url, content=body, headers=JSON_HEADERS)


async def search(api: Api, text: str) -> Response:
    return await api.client.get("/api/ada/tasks", params={"q": text, "limit": 200})


async def assert_search_finds(api: Api, case: Hostile, expected_ids: list[str]) -> None:
    """``q`` equal to the case's text finds exactly ``expected_ids``, or is refused naming ``q``."""
    response = await search(api, case.text)
    if not case.search:
        assert "q" in assert_error(response, 400, "VALIDATION_ERROR")
        return
    assert response.status_code == 200, response.text
    assert sorted(task["id"] for task in response.json()) == sorted(expected_ids)


async def walk(api: Api, url: str) -> list[dict[str, Any]]:
    """Every task of a list, following ``Link: rel="next"`` from page to page."""
    seen: list[dict[str, Any]] = []
    for _ in range(50):  # a bound, so that a cursor which never advances fails instead of looping forever
        response = await api.client.get(url)
        assert response.status_code == 200, response.text
        seen.extend(response.json())
        url = response.links.get("next", {}).get("url")
        if url is None:
            return seen
    pytest.fail(f"the pages never ended; seen so far: {[task['title'] for task in seen]}")


@pytest.mark.parametrize("case", CASES)
async def test_a_hostile_title_is_stored_trimmed_and_found_or_refused_by_name(
    api: Api, sentinel: dict[str, Any], case: Hostile
) -> None:
    as_utf8 = json.dumps({"title": case.text}, ensure_ascii=False).encode()
    as_escapes = json.dumps({"title": case.text}, ensure_ascii=True).encode()
    created = []
    for body in (as_utf8, as_escapes):
        response = await post_json(api, "/api/ada/tasks", body)
        if case.title is None:
            assert "title" in assert_error(response, 400, "VALIDATION_ERROR")
            continue
        assert response.status_code == 201, response.text
        task = response.json()
        assert task["title"] == case.title
        assert (await api.get("ada", task["id"])).json() == task
        created.append(task["id"])
    await assert_search_finds(api, case, created)
    await assert_untouched(api, sentinel)


@pytest.mark.parametrize("case", CASES)
async def test_a_hostile_description_is_stored_exactly_and_found_or_refused_by_name(
    api: Api, sentinel: dict[str, Any], case: Hostile
) -> None:
    response = await api.client.post("/api/ada/tasks", json={"title": "Described", "description": case.text})
    created = []
    if case.description:
        assert response.status_code == 201, response.text
        task = response.json()
        assert task["description"] == case.text
        assert (await api.get("ada", task["id"])).json() == task
        created.append(task["id"])
    else:
        assert "description" in assert_error(response, 400, "VALIDATION_ERROR")
    await assert_search_finds(api, case, created)
    await assert_untouched(api, sentinel)


@pytest.mark.parametrize("case", CASES)
async def test_patching_in_a_hostile_title_stores_it_trimmed_or_changes_nothing(
    api: Api, sentinel: dict[str, Any], case: Hostile
) -> None:
    before = await api.create("ada", "Before")
    url = f"/api/ada/tasks/{before['id']}"
    response = await api.client.patch(url, json={"title": case.text}, headers={"If-Match": '"1"'})
    if case.title is None:
        assert "title" in assert_error(response, 400, "VALIDATION_ERROR")
        assert (await api.client.get(url)).json() == before
    else:
        assert response.status_code == 200, response.text
        after = response.json()
        assert (after["title"], after["version"], after["description"]) == (case.title, 2, None)
        assert (await api.client.get(url)).json() == after
    await assert_search_finds(api, case, [before["id"]] if case.title is not None else [])
    await assert_untouched(api, sentinel)


@pytest.mark.parametrize("case", CASES)
async def test_hostile_text_is_refused_as_a_user_id_in_the_body_and_every_path_and_as_an_email(
    api: Api, sentinel: dict[str, Any], case: Hostile
) -> None:
    response = await api.client.post("/api/users", json={"id": case.text, "email": "eve@example.com"})
    assert "id" in assert_error(response, 400, "VALIDATION_ERROR")
    response = await api.client.post("/api/users", json={"id": "eve", "email": case.text})
    assert "email" in assert_error(response, 400, "VALIDATION_ERROR")
    user = quote(case.text, safe="")
    for method, url, body in [
        ("GET", f"/api/{user}/tasks", None),
        ("POST", f"/api/{user}/tasks", {"title": "Planted"}),
        ("GET", f"/api/{user}/tasks/{sentinel['id']}", None),
        ("PATCH", f"/api/{user}/tasks/{sentinel['id']}", {"title": "Hijacked"}),
        ("DELETE", f"/api/{user}/tasks/{sentinel['id']}", None),
        ("GET", f"/api/users/{user}", None),
        ("DELETE", f"/api/users/{user}", None),
    ]:
        response = await api.client.request(method, url, json=body)
        assert "user_id" in assert_error(response, 400, "VALIDATION_ERROR"), f"{method} {url}"
    assert [task["id"] for task in (await api.client.get("/api/ada/tasks")).json()] == [sentinel["id"]]
    assert_error(await api.client.get("/api/users/eve"), 404, "USER_NOT_FOUND")
    await assert_untouched(api, sentinel)


EMAILS = {
    "an apostrophe": ("o'brien@example.com", "o'brien@example.com"),
    "sql in the local part": ("'OR'1'='1'--@example.com", "'OR'1'='1'--@example.com"),
    "percent and underscore": ("100%_sure@example.com", "100%_sure@example.com"),
    "surrounding whitespace": (" \tgrace@example.com\r\n", None),
    "sql after the address": ("grace@example.com'; DROP TABLE users; --", None),
    "a nul byte": ("grace@example.com\x00", None),
    "a line break before the at": ("grace\n@example.com", None),
    "a cyrillic letter in the domain": ("grace@exаmple.com", None),
    "a four-byte character": ("𝔘@example.com", None),
    "a right-to-left override": ("grace@example.com\u202e", None),
    "a zero-width space": ("gr\u200bace@example.com", None),
    "a combining mark": ("gra\u0301ce@example.com", None),
    "a quoted local part": ('"grace hopper"@example.com', None),
    "a percent-encoded at": ("grace%40example.com", None),
}


@pytest.mark.parametrize(("email", "stored"), [pytest.param(*pair, id=name) for name, pair in EMAILS.items()])
async def test_a_hostile_email_is_stored_as_given_or_refused_by_name(
    api: Api, sentinel: dict[str, Any], email: str, stored: str | None
) -> None:
    response = await api.client.post("/api/users", json={"id": "grace", "email": email})
    if stored is None:
        assert "email" in assert_error(response, 400, "VALIDATION_ERROR")
        assert_error(await api.client.get("/api/users/grace"), 404, "USER_NOT_FOUND")
    else:
        assert response.status_code == 201, response.text
        assert response.json()["email"] == stored
        assert (await api.client.get("/api/users/grace")).json() == response.json()
    await assert_untouched(api, sentinel)


def bodies_with(literal: bytes, task_id: str) -> list[tuple[str, str, bytes, str]]:
    """(method, url, body, field) for every text field of every write, ``literal`` as that field's value."""
    return [
        ("POST", "/api/ada/tasks", b'{"title": ' + literal + b"}", "title"),
        ("POST", "/api/ada/tasks", b'{"title": "Fine", "description": ' + literal + b"}", "description"),
        ("PATCH", f"/api/ada/tasks/{task_id}", b'{"title": ' + literal + b"}", "title"),
        ("PATCH", f"/api/ada/tasks/{task_id}", b'{"description": ' + literal + b"}", "description"),
        ("PUT", f"/api/ada/tasks/{task_id}", b'{"title": ' + literal + b"}", "title"),
        ("POST", "/api/users", b'{"email": "eve@example.com", "id": ' + literal + b"}", "id"),
        ("POST", "/api/users", b'{"id": "eve", "email": ' + literal + b"}", "email"),
    ]


async def assert_refused_everywhere(api: Api, sentinel: dict[str, Any], literal: bytes) -> None:
    for method, url, body, field in bodies_with(literal, sentinel["id"]):
        response = await post_json(api, url, body, method)
        # A body that does not decode as JSON text can only be blamed as a whole.
        details = assert_error(response, 400, "VALIDATION_ERROR")
        assert {field, "body"} & set(details), f"{method} {url} {body!r}: {details}"
    assert [task["id"] for task in (await api.client.get("/api/ada/tasks")).json()] == [sentinel["id"]]
    assert_error(await api.client.get("/api/users/eve"), 404, "USER_NOT_FOUND")
    await assert_untouched(api, sentinel)


@pytest.mark.parametrize("literal", [pytest.param(raw, id=name) for name, raw in SURROGATE_ESCAPES.items()])
async def test_a_lone_surrogate_escape_is_refused_in_every_field_and_stores_nothing(
    api: Api, sentinel: dict[str, Any], literal: bytes
) -> None:
    await assert_refused_everywhere(api, sentinel, literal)


@pytest.mark.parametrize("raw", [pytest.param(raw, id=name) for name, raw in INVALID_UTF8.items()])
async def test_invalid_utf8_in_a_body_is_refused_in_every_field_and_stores_nothing(
    api: Api, sentinel: dict[str, Any], raw: bytes
) -> None:
    await assert_refused_everywhere(api, sentinel, b'"' + raw + b'"')


@pytest.mark.parametrize("raw", [pytest.param(raw, id=name) for name, raw in INVALID_UTF8.items()])
async def test_invalid_utf8_in_a_url_is_refused_or_searched_harmlessly(
    api: Api, sentinel: dict[str, Any], raw: bytes
) -> None:
    encoded = quote_from_bytes(raw, safe="")
    response = await api.client.get(f"/api/ada/tasks?q={encoded}")
    if response.status_code != 200:
        assert "q" in assert_error(response, 400, "VALIDATION_ERROR")
    response = await api.client.get(f"/api/{encoded}/tasks")
    assert "user_id" in assert_error(response, 400, "VALIDATION_ERROR")
    response = await api.client.post(f"/api/{encoded}/tasks", json={"title": "Planted"})
    assert "user_id" in assert_error(response, 400, "VALIDATION_ERROR")
    await assert_untouched(api, sentinel)


async def test_after_the_whole_corpus_only_accepted_text_is_stored_and_the_first_task_is_unchanged(
    api: Api, sentinel: dict[str, Any]
) -> None:
    patched = await api.create("ada", "Patched")
    patched_url = f"/api/ada/tasks/{patched['id']}"
    expected = [(sentinel["title"], sentinel["description"])]
    patched_title = patched["title"]
    for case in CORPUS.values():
        response = await api.client.post("/api/ada/tasks", json={"title": case.text})
        assert response.status_code == (400 if case.title is None else 201), response.text
        if case.title is not None:
            expected.append((case.title, None))
        response = await api.client.post("/api/ada/tasks", json={"title": "Described", "description": case.text})
        assert response.status_code == (201 if case.description else 400), response.text
        if case.description:
            expected.append(("Described", case.text))
        response = await api.client.patch(patched_url, json={"title": case.text})
        assert response.status_code == (400 if case.title is None else 200), response.text
        patched_title = patched_title if case.title is None else case.title
        assert (await search(api, case.text)).status_code == (200 if case.search else 400)
        assert (await api.client.post("/api/users", json={"id": case.text, "email": case.text})).status_code == 400
    for literal in SURROGATE_ESCAPES.values():
        for method, url, body, _ in bodies_with(literal, patched["id"]):
            assert (await post_json(api, url, body, method)).status_code == 400
    expected.append((patched_title, None))
    stored = [(task["title"], task["description"]) for task in await walk(api, "/api/ada/tasks?limit=7")]
    assert sorted(stored) == sorted(expected)
    await assert_untouched(api, sentinel)


@pytest.mark.parametrize(
    ("q", "expected"),
    [("%", ["100% done"]), ("_", ["snake_case"]), ("\\", ["back\\slash"]), ("'", ["it's"]), ('"', ['say "hi"']),
     ("%_", []), (".*", []), ("[a-z]", []), ("'--", [])],
)  # fmt: skip
async def test_search_treats_wildcards_quotes_and_backslashes_as_plain_text(
    api: Api, sentinel: dict[str, Any], q: str, expected: list[str]
) -> None:
    for title in ("100% done", "snake_case", "back\\slash", "it's", 'say "hi"', "plain"):
        await api.create("ada", title)
    response = await search(api, q)
    assert response.status_code == 200, response.text
    assert [task["title"] for task in response.json()] == expected


async def test_next_page_links_carry_a_hostile_search_intact(api: Api, sentinel: dict[str, Any]) -> None:
    needle = "a&b=c#d +%2F ?𝔘'\u202e"
    created = [await api.create("ada", f"{needle} {n}") for n in range(3)]
    await api.create("ada", "a&b=c")
    seen = await walk(api, f"/api/ada/tasks?limit=1&q={quote(needle, safe='')}")
    assert seen == created[::-1]
    await assert_untouched(api, sentinel)


@pytest.mark.parametrize(("length", "status"), [(10_000, 201), (10_001, 400)])
async def test_a_description_is_measured_in_characters_not_bytes(
    api: Api, sentinel: dict[str, Any], length: int, status: int
) -> None:
    description = "𠜎" * length
    response = await api.client.post("/api/ada/tasks", json={"title": "Long", "description": description})
    assert response.status_code == status, response.text
    if status == 201:
        assert (await api.get("ada", response.json()["id"])).json()["description"] == description
    else:
        assert "description" in assert_error(response, 400, "VALIDATION_ERROR")
    await assert_untouched(api, sentinel)


@pytest.mark.parametrize("user_id", [".", ".."])
async def test_a_user_id_that_no_url_can_reach_is_refused(api: Api, user_id: str) -> None:
    response = await api.client.post("/api/users", json={"id": user_id, "email": "dots@example.com"})
    assert "id" in assert_error(response, 400, "VALIDATION_ERROR")


async def test_paging_by_title_shows_every_task_once_whatever_its_case_mapping(
    api: Api, sentinel: dict[str, Any]
) -> None:
    # 'İ' and a final 'Σ' lowercase differently under Unicode's full and simple mappings.
    titles = ["İa", "ib", "ΟΔΟΣ", "ω"]
    for title in titles:
        await api.create("ada", title)
    for sort in ("title", "-title"):
        seen = [task["title"] for task in await walk(api, f"/api/ada/tasks?sort={sort}&limit=1")]
        assert sorted(seen) == sorted([*titles, "Sentinel"]), sort


async def test_searching_in_lowercase_finds_a_greek_title_in_capitals(api: Api, sentinel: dict[str, Any]) -> None:
    task = await api.create("ada", "ΟΔΟΣ")
    response = await search(api, "οδος")
    assert [found["id"] for found in response.json()] == [task["id"]]
