from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from todo_core import KEEP, TOGGLE, Task, TaskChanges

CREATED = datetime(2026, 1, 1, tzinfo=UTC)
LATER = CREATED + timedelta(hours=1)
MUCH_LATER = CREATED + timedelta(hours=2)


def a_task() -> Task:
    return Task.new(id=UUID(int=1), user_id="ada", title="Write", description="notes", now=CREATED)


def test_a_new_task_is_open_at_version_1() -> None:
    task = a_task()
    assert (task.completed, task.completed_at, task.version) == (False, None, 1)
    assert task.created_at == task.updated_at == CREATED


def test_completing_sets_completed_at_and_reopening_clears_it() -> None:
    done = a_task().apply(TaskChanges(completed=True), now=LATER)
    assert (done.completed, done.completed_at, done.updated_at, done.version) == (True, LATER, LATER, 2)
    reopened = done.apply(TaskChanges(completed=False), now=MUCH_LATER)
    assert (reopened.completed, reopened.completed_at, reopened.version) == (False, None, 3)


def test_toggling_flips_completion() -> None:
    task = a_task().apply(TaskChanges(completed=TOGGLE), now=LATER)
    assert task.completed
    assert not task.apply(TaskChanges(completed=TOGGLE), now=MUCH_LATER).completed


def test_editing_a_completed_task_keeps_its_completion_time() -> None:
    done = a_task().apply(TaskChanges(completed=True), now=LATER)
    edited = done.apply(TaskChanges(title="Rewrite", completed=True), now=MUCH_LATER)
    assert (edited.title, edited.completed_at, edited.updated_at) == ("Rewrite", LATER, MUCH_LATER)


def test_description_is_kept_unless_changed_and_cleared_by_none() -> None:
    task = a_task()
    assert task.apply(TaskChanges(title="Other"), now=LATER).description == "notes"
    assert task.apply(TaskChanges(description=None), now=LATER).description is None
    assert TaskChanges().description is KEEP


def test_a_change_that_alters_nothing_leaves_version_and_time_alone() -> None:
    task = a_task()
    assert task.apply(TaskChanges(title="Write", description="notes", completed=False), now=LATER) is task
    assert task.apply(TaskChanges(), now=LATER) is task
