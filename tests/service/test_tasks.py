from __future__ import annotations

from uuid import UUID

import pytest

from tests.support import START, TickingClock
from todo_core import (
    PreconditionFailed,
    Task,
    TaskNotFound,
    TaskQuery,
    TaskService,
    UserNotFound,
    UserService,
    ValidationFailed,
)


@pytest.fixture
async def ada(users: UserService) -> str:
    return (await users.register_user("ada@example.com", user_id="ada")).id


async def test_a_created_task_is_open_trimmed_and_stamped_by_the_clock(
    tasks: TaskService, ada: str, clock: TickingClock
) -> None:
    task = await tasks.create_task(ada, "  Write the README  ", "In English")
    assert (task.title, task.description, task.completed, task.version) == ("Write the README", "In English", False, 1)
    assert task.created_at == task.updated_at == clock.now
    assert task.id == UUID("00000000-0000-7000-8000-000000000001")
    assert await tasks.get_task(ada, task.id) == task


async def test_creating_names_every_bad_field(tasks: TaskService, ada: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await tasks.create_task(ada, "  ", "x" * 10_001)
    assert set(refused.value.fields) == {"title", "description"}


async def test_creating_for_an_unknown_user_says_the_user_is_missing(tasks: TaskService) -> None:
    with pytest.raises(UserNotFound):
        await tasks.create_task("nobody", "Write")


async def test_a_missing_task_is_not_found(tasks: TaskService, ada: str) -> None:
    with pytest.raises(TaskNotFound):
        await tasks.get_task(ada, UUID(int=42))


async def test_replacing_sets_title_and_description_and_keeps_completion_unless_given(
    tasks: TaskService, ada: str
) -> None:
    task = await tasks.create_task(ada, "Write", "notes")
    await tasks.set_completion(ada, task.id, True)
    replaced = await tasks.replace_task(ada, task.id, title="Rewrite")
    assert (replaced.title, replaced.description, replaced.completed) == ("Rewrite", None, True)
    reopened = await tasks.replace_task(ada, task.id, title="Rewrite", completed=False)
    assert (reopened.completed, reopened.completed_at) == (False, None)


async def test_updating_changes_only_the_given_fields(tasks: TaskService, ada: str) -> None:
    task = await tasks.create_task(ada, "Write", "notes")
    updated = await tasks.update_task(ada, task.id, completed=True)
    assert (updated.title, updated.description, updated.completed) == ("Write", "notes", True)
    cleared = await tasks.update_task(ada, task.id, description=None)
    assert (cleared.title, cleared.description, cleared.completed) == ("Write", None, True)


async def test_setting_completion_twice_is_the_same_as_once(tasks: TaskService, ada: str) -> None:
    task = await tasks.create_task(ada, "Write")
    once = await tasks.set_completion(ada, task.id, True)
    twice = await tasks.set_completion(ada, task.id, True)
    assert once == twice
    assert once.version == 2


async def test_toggling_flips_completion(tasks: TaskService, ada: str) -> None:
    task = await tasks.create_task(ada, "Write")
    assert (await tasks.toggle_completion(ada, task.id)).completed
    assert not (await tasks.toggle_completion(ada, task.id)).completed


async def test_a_write_based_on_a_stale_version_is_refused_and_changes_nothing(tasks: TaskService, ada: str) -> None:
    task = await tasks.create_task(ada, "Write")
    first = await tasks.update_task(ada, task.id, title="Mine", expected_versions=frozenset({1}))
    with pytest.raises(PreconditionFailed) as refused:
        await tasks.update_task(ada, task.id, title="Theirs", expected_versions=frozenset({1}))
    with pytest.raises(PreconditionFailed):
        await tasks.toggle_completion(ada, task.id, expected_versions=frozenset({1}))
    with pytest.raises(PreconditionFailed):
        await tasks.delete_task(ada, task.id, expected_versions=frozenset({1}))
    assert refused.value.current_version == 2
    assert await tasks.get_task(ada, task.id) == first


async def test_deleting_removes_the_task(tasks: TaskService, ada: str) -> None:
    task = await tasks.create_task(ada, "Write")
    await tasks.delete_task(ada, task.id)
    with pytest.raises(TaskNotFound):
        await tasks.get_task(ada, task.id)
    with pytest.raises(TaskNotFound):
        await tasks.delete_task(ada, task.id)


async def test_pages_follow_their_cursors_to_the_end(tasks: TaskService, ada: str) -> None:
    created = [await tasks.create_task(ada, f"Task {n}") for n in range(7)]
    seen: list[Task] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await tasks.list_tasks(ada, TaskQuery.parse(limit=3, cursor=cursor))
        seen.extend(page.tasks)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert seen == created[::-1]


async def test_an_exactly_full_last_page_has_no_next_cursor(tasks: TaskService, ada: str) -> None:
    for n in range(3):
        await tasks.create_task(ada, f"Task {n}")
    page = await tasks.list_tasks(ada, TaskQuery.parse(limit=3))
    assert (len(page.tasks), page.next_cursor) == (3, None)


async def test_listing_an_unknown_user_says_the_user_is_missing(tasks: TaskService) -> None:
    with pytest.raises(UserNotFound):
        await tasks.list_tasks("nobody")


async def test_a_task_keeps_its_completion_time_through_edits(
    tasks: TaskService, ada: str, clock: TickingClock
) -> None:
    task = await tasks.create_task(ada, "Write")
    done = await tasks.set_completion(ada, task.id, True)
    edited = await tasks.update_task(ada, task.id, title="Written")
    assert done.completed_at is not None
    assert done.completed_at > START
    assert edited.completed_at == done.completed_at
    assert edited.updated_at > done.updated_at
