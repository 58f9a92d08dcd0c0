from __future__ import annotations

from datetime import datetime

import pytest

from tests.http.conftest import Api, assert_error

TASK_FIELDS = {
    "id",
    "user_id",
    "title",
    "description",
    "completed",
    "completed_at",
    "created_at",
    "updated_at",
    "version",
}


@pytest.fixture
async def ada(api: Api) -> str:
    return str((await api.register("ada"))["id"])


async def test_creating_answers_201_with_location_etag_and_the_task(api: Api, ada: str) -> None:
    response = await api.client.post(f"/api/{ada}/tasks", json={"title": " Write ", "description": "notes"})
    assert response.status_code == 201
    task = response.json()
    assert set(task) == TASK_FIELDS
    assert response.headers["location"] == f"/api/ada/tasks/{task['id']}"
    assert response.headers["etag"] == '"1"'
    assert (task["title"], task["description"], task["completed"], task["completed_at"]) == (
        "Write",
        "notes",
        False,
        None,
    )
    assert (task["user_id"], task["version"]) == ("ada", 1)


async def test_timestamps_are_rfc_3339_in_utc(api: Api, ada: str) -> None:
    task = await api.create(ada)
    for field in ("created_at", "updated_at"):
        assert task[field].endswith("Z")
        assert datetime.fromisoformat(task[field]).utcoffset() is not None


async def test_creating_for_an_unknown_user_answers_404_user_not_found(api: Api) -> None:
    assert_error(await api.client.post("/api/nobody/tasks", json={"title": "x"}), 404, "USER_NOT_FOUND")


async def test_getting_answers_the_task_with_its_etag(api: Api, ada: str) -> None:
    task = await api.create(ada)
    response = await api.get(ada, task["id"])
    assert (response.status_code, response.json(), response.headers["etag"]) == (200, task, '"1"')


async def test_getting_with_the_current_etag_answers_304(api: Api, ada: str) -> None:
    task = await api.create(ada)
    for held in ('"1"', 'W/"1"', '"9", "1"', "*"):
        response = await api.client.get(f"/api/{ada}/tasks/{task['id']}", headers={"If-None-Match": held})
        assert (response.status_code, response.content, response.headers["etag"]) == (304, b"", '"1"')
    stale = await api.client.get(f"/api/{ada}/tasks/{task['id']}", headers={"If-None-Match": '"0"'})
    assert stale.status_code == 200


async def test_replacing_sets_title_and_description_and_changes_completion_only_when_given(api: Api, ada: str) -> None:
    task = await api.create(ada, "Write", description="notes")
    response = await api.client.put(f"/api/{ada}/tasks/{task['id']}", json={"title": "Rewrite"})
    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'
    body = response.json()
    assert (body["title"], body["description"], body["completed"], body["version"]) == ("Rewrite", None, False, 2)
    done = (await api.client.put(f"/api/{ada}/tasks/{task['id']}", json={"title": "Rewrite", "completed": True})).json()
    assert (done["completed"], done["completed_at"] is not None) == (True, True)


async def test_patching_changes_only_the_given_fields_and_null_clears_the_description(api: Api, ada: str) -> None:
    task = await api.create(ada, "Write", description="notes")
    url = f"/api/{ada}/tasks/{task['id']}"
    body = (await api.client.patch(url, json={"completed": True})).json()
    assert (body["title"], body["description"], body["completed"]) == ("Write", "notes", True)
    body = (await api.client.patch(url, json={"description": None})).json()
    assert (body["title"], body["description"], body["completed"]) == ("Write", None, True)
    body = (await api.client.patch(url, json={"title": "Done"})).json()
    assert (body["title"], body["version"]) == ("Done", 4)


async def test_an_empty_patch_changes_nothing(api: Api, ada: str) -> None:
    task = await api.create(ada)
    response = await api.client.patch(f"/api/{ada}/tasks/{task['id']}", json={})
    assert (response.status_code, response.json()) == (200, task)


async def test_complete_without_a_body_toggles(api: Api, ada: str) -> None:
    task = await api.create(ada)
    url = f"/api/{ada}/tasks/{task['id']}/complete"
    first = await api.client.patch(url)
    assert (first.status_code, first.json()["completed"], first.headers["etag"]) == (200, True, '"2"')
    assert first.json()["completed_at"] is not None
    second = (await api.client.patch(url)).json()
    assert (second["completed"], second["completed_at"]) == (False, None)


async def test_complete_with_a_body_sets_the_value_so_a_retry_is_harmless(api: Api, ada: str) -> None:
    task = await api.create(ada)
    url = f"/api/{ada}/tasks/{task['id']}/complete"
    first = (await api.client.patch(url, json={"completed": True})).json()
    retried = (await api.client.patch(url, json={"completed": True})).json()
    assert first == retried
    assert (retried["completed"], retried["version"]) == (True, 2)
    reopened = (await api.client.patch(url, json={"completed": False})).json()
    assert (reopened["completed"], reopened["completed_at"]) == (False, None)


async def test_deleting_answers_204_then_404(api: Api, ada: str) -> None:
    task = await api.create(ada)
    response = await api.client.delete(f"/api/{ada}/tasks/{task['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert_error(await api.get(ada, task["id"]), 404, "TASK_NOT_FOUND")
    assert_error(await api.client.delete(f"/api/{ada}/tasks/{task['id']}"), 404, "TASK_NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [("PUT", "", {"title": "x"}), ("PATCH", "", {"title": "x"}), ("PATCH", "/complete", None), ("DELETE", "", None)],
)
async def test_writes_with_a_stale_if_match_answer_412_and_change_nothing(
    api: Api, ada: str, method: str, suffix: str, body: dict[str, str] | None
) -> None:
    task = await api.create(ada)
    await api.client.patch(f"/api/{ada}/tasks/{task['id']}", json={"title": "v2"})
    current = (await api.get(ada, task["id"])).json()
    response = await api.client.request(
        method, f"/api/{ada}/tasks/{task['id']}{suffix}", json=body, headers={"If-Match": '"1"'}
    )
    assert assert_error(response, 412, "PRECONDITION_FAILED")["current_version"] == 2
    assert (await api.get(ada, task["id"])).json() == current


@pytest.mark.parametrize(
    ("method", "suffix", "body", "status"),
    [("PUT", "", {"title": "x"}, 200), ("PATCH", "", {"title": "x"}, 200), ("PATCH", "/complete", None, 200),
     ("DELETE", "", None, 204)],
)  # fmt: skip
async def test_writes_with_the_current_if_match_succeed(
    api: Api, ada: str, method: str, suffix: str, body: dict[str, str] | None, status: int
) -> None:
    task = await api.create(ada)
    response = await api.client.request(
        method, f"/api/{ada}/tasks/{task['id']}{suffix}", json=body, headers={"If-Match": '"1"'}
    )
    assert response.status_code == status


async def test_if_match_on_a_missing_task_answers_404_not_412(api: Api, ada: str) -> None:
    missing = "00000000-0000-7000-8000-0000000000ff"
    response = await api.client.put(f"/api/{ada}/tasks/{missing}", json={"title": "x"}, headers={"If-Match": '"1"'})
    assert_error(response, 404, "TASK_NOT_FOUND")


async def test_if_match_star_or_an_unknown_tag_behave_as_rfc_9110_says(api: Api, ada: str) -> None:
    task = await api.create(ada)
    url = f"/api/{ada}/tasks/{task['id']}"
    assert (await api.client.patch(url, json={"title": "a"}, headers={"If-Match": "*"})).status_code == 200
    assert (await api.client.patch(url, json={"title": "b"}, headers={"If-Match": 'W/"2"'})).status_code == 412
    assert (await api.client.patch(url, json={"title": "b"}, headers={"If-Match": '"x"'})).status_code == 412


async def test_the_deprecated_path_serves_the_same_tasks(api: Api, ada: str) -> None:
    task = await api.create(ada)
    listed = await api.client.get(f"/users/{ada}/tasks")
    assert (listed.status_code, listed.json()) == (200, [task])
    created = await api.client.post(f"/users/{ada}/tasks", json={"title": "Second"})
    assert created.status_code == 201
    assert created.headers["location"] == f"/api/{ada}/tasks/{created.json()['id']}"
    toggled = await api.client.patch(f"/users/{ada}/tasks/{task['id']}/complete")
    assert toggled.json()["completed"] is True
    assert (await api.client.delete(f"/users/{ada}/tasks/{task['id']}")).status_code == 204
