from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from todo_core import SortField, StatusFilter, Task, TaskOrder, TaskQuery, ValidationFailed
from todo_core.listing import lowercase

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def a_task(title: str = "Write", *, completed: bool = False, description: str | None = None) -> Task:
    task = Task.new(id=UUID(int=7), user_id="ada", title=title, description=description, now=WHEN)
    return task._replace(completed=completed)


def test_defaults_list_everything_newest_first_fifty_at_a_time() -> None:
    query = TaskQuery.parse()
    assert query.status is StatusFilter.ALL
    assert query.order == TaskOrder(SortField.CREATED, descending=True)
    assert (query.search, query.limit, query.after) == (None, 50, None)


def test_every_bad_parameter_is_named_in_one_error() -> None:
    with pytest.raises(ValidationFailed) as raised:
        TaskQuery.parse(status="done", sort="priority", limit=201, search="x" * 256)
    assert set(raised.value.fields) == {"status", "sort", "limit", "q"}


def test_a_cursor_resumes_after_the_task_it_was_made_from() -> None:
    query = TaskQuery.parse(sort="title")
    task = a_task("Écrire")
    resumed = TaskQuery.parse(sort="title", cursor=query.cursor_after(task))
    assert resumed.after is not None
    assert (resumed.after.key, resumed.after.task_id) == ("Écrire", task.id)


def test_a_cursor_is_refused_for_another_sort_status_or_search() -> None:
    cursor = TaskQuery.parse(sort="-created", status="pending").cursor_after(a_task())
    for other in ({"sort": "created", "status": "pending"}, {"status": "all"}, {"status": "pending", "search": "x"}):
        with pytest.raises(ValidationFailed, match="other sort, status or q"):
            TaskQuery.parse(cursor=cursor, **other)


@pytest.mark.parametrize("cursor", ["garbage", "W10", "x" * 3000, "WzEsIngiLCJub3QtYS1kYXRlIiwiMSJd"])
def test_a_forged_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(ValidationFailed, match="cursor"):
        TaskQuery.parse(cursor=cursor)


def test_search_matches_title_or_description_ignoring_case() -> None:
    query = TaskQuery.parse(search="  MILK ")
    assert query.search == "MILK"
    assert query.matches(a_task("Buy milk"))
    assert query.matches(a_task("Shop", description="Oat Milk"))
    assert not query.matches(a_task("Shop"))


def test_status_filters_by_completion() -> None:
    assert TaskQuery.parse(status="pending").matches(a_task(completed=False))
    assert not TaskQuery.parse(status="pending").matches(a_task(completed=True))
    assert TaskQuery.parse(status="completed").matches(a_task(completed=True))


def test_a_blank_search_means_no_search() -> None:
    assert TaskQuery.parse(search="   ").search is None


@pytest.mark.parametrize(
    ("text", "lowered"),
    [("ÉCOLE", "école"), ("ΟΔΟΣ", "οδοσ"), ("İstanbul", "istanbul"), ("Straße", "straße"), ("ǅ", "ǆ")],
)
def test_lowercase_maps_one_code_point_at_a_time_as_postgresql_does(text: str, lowered: str) -> None:
    assert lowercase(text) == lowered
    assert len(lowercase(text)) == len(text)


def test_an_empty_cursor_starts_at_the_first_page() -> None:
    assert TaskQuery.parse(cursor="").after is None
