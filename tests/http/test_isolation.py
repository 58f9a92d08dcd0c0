"""A task never leaks across users: another user's task id answers exactly like a missing one."""

from __future__ import annotations

import pytest

from tests.http.conftest import Api

MISSING_TASK = "00000000-0000-7000-8000-0000000000ff"

WRITES = [
    ("GET", "", None),
    ("PUT", "", {"title": "stolen"}),
    ("PATCH", "", {"title": "stolen", "completed": True}),
    ("PATCH", "/complete", None),
    ("PATCH", "/complete", {"completed": True}),
    ("DELETE", "", None),
]


@pytest.mark.parametrize(("method", "suffix", "body"), WRITES)
async def test_another_users_task_answers_like_a_missing_one_and_stays_unchanged(
    api: Api, method: str, suffix: str, body: dict[str, object] | None
) -> None:
    await api.register("ada")
    await api.register("grace")
    graces = await api.create("grace", "Grace's secret", description="private")

    foreign = await api.client.request(method, f"/api/ada/tasks/{graces['id']}{suffix}", json=body)
    missing = await api.client.request(method, f"/api/ada/tasks/{MISSING_TASK}{suffix}", json=body)

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"]["code"] == missing.json()["error"]["code"] == "TASK_NOT_FOUND"
    assert "Grace" not in foreign.text
    assert (await api.get("grace", graces["id"])).json() == graces


async def test_a_list_shows_only_the_owners_tasks(api: Api) -> None:
    await api.register("ada")
    await api.register("grace")
    adas = await api.create("ada", "milk for ada")
    await api.create("grace", "milk for grace")
    response = await api.client.get("/api/ada/tasks", params={"q": "milk"})
    assert response.json() == [adas]
