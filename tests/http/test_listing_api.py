from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.http.conftest import Api, assert_error


@pytest.fixture
async def ada(api: Api) -> str:
    return str((await api.register("ada"))["id"])


async def test_a_list_is_a_json_array_newest_first(api: Api, ada: str) -> None:
    first, second = await api.create(ada, "First"), await api.create(ada, "Second")
    response = await api.client.get(f"/api/{ada}/tasks")
    assert (response.status_code, response.json()) == (200, [second, first])
    assert "link" not in response.headers


async def test_link_headers_walk_every_page_once(api: Api, ada: str) -> None:
    created = [await api.create(ada, f"Task {n}") for n in range(5)]
    url: str | None = f"/api/{ada}/tasks?limit=2&status=all"
    seen = []
    while url:
        response = await api.client.get(url)
        assert response.status_code == 200
        seen.extend(response.json())
        url = response.links.get("next", {}).get("url")
        if url:
            query = parse_qs(urlsplit(url).query)
            assert (query["limit"], query["status"]) == (["2"], ["all"])
    assert seen == created[::-1]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("title", ["apple", "Banana", "cherry"]), ("-title", ["cherry", "Banana", "apple"]),
     ("created", ["Banana", "apple", "cherry"]), ("-created", ["cherry", "apple", "Banana"]),
     ("updated", ["apple", "cherry", "Banana"]), ("-updated", ["Banana", "cherry", "apple"])],
)  # fmt: skip
async def test_each_sort_order(api: Api, ada: str, sort: str, expected: list[str]) -> None:
    banana = await api.create(ada, "Banana")
    await api.create(ada, "apple")
    await api.create(ada, "cherry")
    await api.client.patch(f"/api/{ada}/tasks/{banana['id']}", json={"description": "touched last"})
    response = await api.client.get(f"/api/{ada}/tasks", params={"sort": sort})
    assert [t["title"] for t in response.json()] == expected


async def test_status_and_q_filter_the_list(api: Api, ada: str) -> None:
    milk = await api.create(ada, "Buy milk")
    await api.create(ada, "Read", description="A book about MILKING")
    await api.create(ada, "Walk")
    await api.client.patch(f"/api/{ada}/tasks/{milk['id']}/complete")

    async def titles(**params: str) -> list[str]:
        return [t["title"] for t in (await api.client.get(f"/api/{ada}/tasks", params=params)).json()]

    assert await titles(status="completed") == ["Buy milk"]
    assert await titles(status="pending") == ["Walk", "Read"]
    assert await titles(q="milk") == ["Read", "Buy milk"]
    assert await titles(q="milk", status="pending") == ["Read"]
    assert await titles(q="nothing like it") == []


async def test_a_list_for_an_unknown_user_answers_404(api: Api) -> None:
    assert_error(await api.client.get("/api/nobody/tasks"), 404, "USER_NOT_FOUND")


@pytest.mark.parametrize(
    ("params", "fields"),
    [({"limit": "0"}, {"limit"}), ({"limit": "201"}, {"limit"}), ({"limit": "ten"}, {"limit"}),
     ({"sort": "priority"}, {"sort"}), ({"status": "done"}, {"status"}), ({"cursor": "forged"}, {"cursor"}),
     ({"q": "x" * 256}, {"q"}), ({"q": "nul\x00"}, {"q"}), ({"sort": "--title", "status": "x"}, {"sort", "status"})],
)  # fmt: skip
async def test_bad_list_parameters_answer_400_naming_each(
    api: Api, ada: str, params: dict[str, str], fields: set[str]
) -> None:
    response = await api.client.get(f"/api/{ada}/tasks", params=params)
    assert set(assert_error(response, 400, "VALIDATION_ERROR")) == fields


async def test_a_cursor_from_another_sort_is_refused(api: Api, ada: str) -> None:
    for n in range(3):
        await api.create(ada, f"Task {n}")
    next_url = (await api.client.get(f"/api/{ada}/tasks?limit=1")).links["next"]["url"]
    cursor = parse_qs(urlsplit(next_url).query)["cursor"][0]
    response = await api.client.get(f"/api/{ada}/tasks", params={"cursor": cursor, "sort": "title"})
    assert "cursor" in assert_error(response, 400, "VALIDATION_ERROR")
