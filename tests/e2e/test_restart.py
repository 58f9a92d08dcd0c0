"""What a restart keeps: everything when the service stores in PostgreSQL, nothing when it stores in memory."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.server import running_server

# An empty TODO_DATABASE_URL means "in memory" whatever the developer's shell exports.
IN_MEMORY = {"TODO_DATABASE_URL": ""}


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return dict(response.json())


def everything_ada_has(client: httpx.Client, task_ids: list[str]) -> dict[str, Any]:
    """Ada's user, her task list, and each task with its ETag, as a client reads them."""
    user = client.get("/api/users/ada")
    listing = client.get("/api/ada/tasks")
    assert (user.status_code, listing.status_code) == (200, 200)
    tasks = {}
    for task_id in task_ids:
        response = client.get(f"/api/ada/tasks/{task_id}")
        assert response.status_code == 200, response.text
        tasks[task_id] = (response.headers["etag"], response.json())
    return {"user": user.json(), "listing": listing.json(), "tasks": tasks}


@pytest.mark.postgres
def test_users_and_tasks_stored_in_postgres_survive_a_restart(postgres_url: str) -> None:
    database = {"TODO_DATABASE_URL": postgres_url}
    with running_server(env=database) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
        created(client.post("/api/users", json={"id": "ada", "email": "Ada@Example.com"}))
        milk = created(client.post("/api/ada/tasks", json={"title": "Buy milk"}))
        readme = created(
            client.post("/api/ada/tasks", json={"title": "Write the README", "description": "with a\nlist"})
        )
        trip = created(client.post("/api/ada/tasks", json={"title": "Plan the trip ✈"}))
        task_ids = [milk["id"], readme["id"], trip["id"]]

        completing = client.patch(f"/api/ada/tasks/{milk['id']}/complete", json={"completed": True})
        assert completing.status_code == 200, completing.text
        renaming = client.patch(f"/api/ada/tasks/{trip['id']}", json={"title": "Plan the summer trip ✈"})
        assert renaming.status_code == 200, renaming.text

        before = everything_ada_has(client, task_ids)

    with running_server(env=database) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
        after = everything_ada_has(client, task_ids)

    assert after == before
    # The comparison above is only worth something if the state before was the one we built.
    assert before["user"]["email"] == "Ada@Example.com"
    assert {task["id"] for task in before["listing"]} == set(task_ids)
    shown = {task_id: (etag, task["title"], task["completed"]) for task_id, (etag, task) in before["tasks"].items()}
    assert shown == {
        milk["id"]: ('"2"', "Buy milk", True),
        readme["id"]: ('"1"', "Write the README", False),
        trip["id"]: ('"2"', "Plan the summer trip ✈", False),
    }
    assert before["tasks"][milk["id"]][1]["completed_at"] is not None
    assert before["tasks"][readme["id"]][1]["description"] == "with a\nlist"


def test_users_and_tasks_held_in_memory_are_gone_after_a_restart() -> None:
    with running_server(env=IN_MEMORY) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
        created(client.post("/api/users", json={"id": "ada", "email": "ada@example.com"}))
        task = created(client.post("/api/ada/tasks", json={"title": "Buy milk"}))
        assert client.get("/api/users/ada").status_code == 200

    with running_server(env=IN_MEMORY) as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
        user = client.get("/api/users/ada")
        task_lookup = client.get(f"/api/ada/tasks/{task['id']}")

    assert (user.status_code, user.json()["error"]["code"]) == (404, "USER_NOT_FOUND")
    assert (task_lookup.status_code, task_lookup.json()["error"]["code"]) == (404, "TASK_NOT_FOUND")
