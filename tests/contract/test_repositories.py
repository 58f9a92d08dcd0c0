"""The repository contract: every storage adapter must pass every case here, unchanged.

Runs once per adapter through the parametrized ``storage`` fixture; when a case passes on
one adapter and fails on another, the adapters disagree and the slower one is wrong.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from todo_core import (
    KEEP,
    TOGGLE,
    EmailTaken,
    PagePosition,
    PreconditionFailed,
    SortField,
    StatusFilter,
    Storage,
    Task,
    TaskChanges,
    TaskNotFound,
    TaskOrder,
    TaskQuery,
    User,
    UserIdTaken,
    UserNotFound,
)
from todo_core.listing import ordering_key, sort_value

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def user(user_id: str = "ada", email: str | None = None) -> User:
    return User(id=user_id, email=email or f"{user_id}@example.com", created_at=T0)


def task(number: int, *, user_id: str = "ada", title: str | None = None, created: float | None = None,
         description: str | None = None, completed: bool = False) -> Task:  # fmt: skip
    moment = at(number if created is None else created)
    return Task(
        id=UUID(int=0x7 << 76 | 0b10 << 62 | number),
        user_id=user_id,
        title=title or f"Task {number:03d}",
        description=description,
        completed=completed,
        completed_at=moment if completed else None,
        created_at=moment,
        updated_at=moment,
        version=1,
    )


async def add_users(storage: Storage, *user_ids: str) -> None:
    async with storage.unit_of_work() as uow:
        for user_id in user_ids:
            await uow.users.add(user(user_id))


async def add_tasks(storage: Storage, *tasks: Task) -> None:
    async with storage.unit_of_work() as uow:
        for item in tasks:
            await uow.tasks.add(item)


async def listed(storage: Storage, query: TaskQuery, user_id: str = "ada") -> list[Task]:
    async with storage.unit_of_work() as uow:
        found = await uow.tasks.list(user_id, query)
    assert found is not None
    return found


async def stored(storage: Storage, task_id: UUID, user_id: str = "ada") -> Task | None:
    async with storage.unit_of_work() as uow:
        return await uow.tasks.get(user_id, task_id)


# Users


async def test_a_user_reads_back_exactly_as_stored(storage: Storage) -> None:
    ada = User(id="ada-1.x_Z", email="Ada.Lovelace@Example.com", created_at=T0)
    async with storage.unit_of_work() as uow:
        await uow.users.add(ada)
        assert await uow.users.get("ada-1.x_Z") == ada
        assert await uow.users.get("ADA-1.X_Z") is None
        assert await uow.users.get("nobody") is None


async def test_a_user_id_can_be_registered_once(storage: Storage) -> None:
    await add_users(storage, "ada")
    async with storage.unit_of_work() as uow:
        with pytest.raises(UserIdTaken):
            await uow.users.add(user("ada", "other@example.com"))


async def test_an_email_can_be_registered_once_whatever_its_case(storage: Storage) -> None:
    await add_users(storage, "ada")
    async with storage.unit_of_work() as uow:
        with pytest.raises(EmailTaken):
            await uow.users.add(user("grace", "ADA@EXAMPLE.COM"))
        assert await uow.users.get("grace") is None


async def test_removing_a_user_removes_their_tasks_and_no_one_elses(storage: Storage) -> None:
    await add_users(storage, "ada", "grace")
    await add_tasks(storage, task(1), task(2, user_id="grace"))
    async with storage.unit_of_work() as uow:
        assert await uow.users.remove("ada") is True
        assert await uow.users.get("ada") is None
        assert await uow.tasks.get("ada", task(1).id) is None
        assert await uow.tasks.list("ada", TaskQuery()) is None
        assert await uow.tasks.get("grace", task(2).id) == task(2, user_id="grace")
        assert await uow.users.remove("ada") is False


async def test_a_removed_users_email_and_id_can_be_registered_again(storage: Storage) -> None:
    await add_users(storage, "ada")
    async with storage.unit_of_work() as uow:
        await uow.users.remove("ada")
        await uow.users.add(user("ada"))
        assert await uow.users.get("ada") == user("ada")


async def test_a_user_gets_an_email_or_changes_it_and_the_old_one_is_free_again(storage: Storage) -> None:
    await add_users(storage, "ada")
    async with storage.unit_of_work() as uow:
        await uow.users.add(User(id="hedy", email=None, created_at=T0))
        hedy = User(id="hedy", email="Hedy@Example.com", created_at=T0)
        assert await uow.users.set_email("hedy", "Hedy@Example.com") == hedy
        assert await uow.users.get("hedy") == hedy
        assert await uow.users.set_email("ada", "countess@example.com") == user("ada", "countess@example.com")
        await uow.users.add(user("grace", "ada@example.com"))
        assert await uow.users.get("ada") == user("ada", "countess@example.com")
        assert await uow.users.set_email("nobody", "nobody@example.com") is None
        assert await uow.users.get("nobody") is None


async def test_an_email_another_user_has_cannot_be_taken_whatever_its_case(storage: Storage) -> None:
    await add_users(storage, "ada", "grace")
    async with storage.unit_of_work() as uow:
        with pytest.raises(EmailTaken):
            await uow.users.set_email("grace", "ADA@example.com")
        assert await uow.users.get("grace") == user("grace")
        assert await uow.users.set_email("ada", "ADA@EXAMPLE.COM") == user("ada", "ADA@EXAMPLE.COM")
        with pytest.raises(EmailTaken):
            await uow.users.add(user("hedy", "ada@example.com"))


# Tasks: storing and reading


HOSTILE_TEXT = [
    "quote ' double \" backslash \\ percent % underscore _",
    "'; DROP TABLE tasks; --",
    "emoji 🚀🧑‍🚀 and 4-byte 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠜎",
    "\u202eright-to-left override\u200f mark",
    "tab\tand\nnew line\r\n",
    "Ünïcödé çåsé ß",
]


@pytest.mark.parametrize("text", HOSTILE_TEXT)
async def test_a_task_reads_back_exactly_as_stored(storage: Storage, text: str) -> None:
    await add_users(storage, "ada")
    original = Task(
        id=UUID("01950000-0000-7000-8000-00000000abcd"),
        user_id="ada",
        title=text.replace("\t", " ").replace("\n", " ").replace("\r", " ").strip(),
        description=text,
        completed=True,
        completed_at=at(5),
        created_at=at(1),
        updated_at=at(5),
        version=3,
    )
    await add_tasks(storage, original)
    assert await stored(storage, original.id) == original


async def test_a_task_cannot_be_added_for_a_user_who_does_not_exist(storage: Storage) -> None:
    async with storage.unit_of_work() as uow:
        with pytest.raises(UserNotFound):
            await uow.tasks.add(task(1, user_id="nobody"))


async def test_a_task_is_invisible_under_another_user(storage: Storage) -> None:
    await add_users(storage, "ada", "grace")
    await add_tasks(storage, task(1))
    async with storage.unit_of_work() as uow:
        assert await uow.tasks.get("grace", task(1).id) is None
        assert await listed(storage, TaskQuery(), user_id="grace") == []
        with pytest.raises(TaskNotFound):
            await uow.tasks.update("grace", task(1).id, TaskChanges(title="mine now"), now=at(9))
        with pytest.raises(TaskNotFound):
            await uow.tasks.remove("grace", task(1).id)
    assert await stored(storage, task(1).id) == task(1)


# Tasks: listing


async def test_listing_an_unknown_user_says_so_and_a_user_without_tasks_gets_an_empty_list(storage: Storage) -> None:
    await add_users(storage, "ada")
    async with storage.unit_of_work() as uow:
        assert await uow.tasks.list("nobody", TaskQuery()) is None
        assert await uow.tasks.list("ada", TaskQuery()) == []


@pytest.mark.parametrize("descending", [True, False], ids=["descending", "ascending"])
@pytest.mark.parametrize("field", list(SortField))
async def test_every_order_sorts_by_its_key_then_by_id(storage: Storage, field: SortField, descending: bool) -> None:
    await add_users(storage, "ada")
    # Pairs of tasks share a timestamp and a title (in different case) so the id must break ties.
    titles = ["banana", "Apple", "cherry", "apple", "Banana", "éclair", "Zebra", "zebra"]
    items = [task(n, title=titles[n - 1], created=n // 2) for n in range(1, 9)]
    await add_tasks(storage, *items)
    query = TaskQuery(order=TaskOrder(field, descending))
    expected = sorted(items, key=lambda t: (ordering_key(sort_value(t, field), field), t.id), reverse=descending)
    assert [t.id for t in await listed(storage, query)] == [t.id for t in expected]


async def test_titles_sort_ignoring_case(storage: Storage) -> None:
    await add_users(storage, "ada")
    await add_tasks(storage, task(1, title="banana"), task(2, title="Apple"), task(3, title="cherry"))
    ordered = await listed(storage, TaskQuery(order=TaskOrder(SortField.TITLE, descending=False)))
    assert [t.title for t in ordered] == ["Apple", "banana", "cherry"]


async def test_status_filters_by_completion(storage: Storage) -> None:
    await add_users(storage, "ada")
    await add_tasks(storage, task(1), task(2, completed=True), task(3), task(4, completed=True))
    pending = await listed(storage, TaskQuery(status=StatusFilter.PENDING))
    done = await listed(storage, TaskQuery(status=StatusFilter.COMPLETED))
    assert [t.id for t in pending] == [task(3).id, task(1).id]
    assert [t.id for t in done] == [task(4).id, task(2).id]


async def test_search_finds_text_in_title_or_description_ignoring_case(storage: Storage) -> None:
    await add_users(storage, "ada", "grace")
    await add_tasks(
        storage,
        task(1, title="Buy MILK"),
        task(2, title="Shop", description="oat milk, eggs"),
        task(3, title="Milkshake recipe", completed=True),
        task(4, title="Read"),
        task(5, user_id="grace", title="milk for grace"),
    )
    found = await listed(storage, TaskQuery(search="Milk"))
    assert [t.id for t in found] == [task(3).id, task(2).id, task(1).id]
    pending = await listed(storage, TaskQuery(search="milk", status=StatusFilter.PENDING))
    assert [t.id for t in pending] == [task(2).id, task(1).id]


@pytest.mark.parametrize("needle", ["%", "_", "\\", "50%_off", "'"])
async def test_search_treats_wildcard_characters_literally(storage: Storage, needle: str) -> None:
    await add_users(storage, "ada")
    await add_tasks(storage, task(1, title="plain words"), task(2, title="deal: 50%_off \\ it's"))
    assert [t.id for t in await listed(storage, TaskQuery(search=needle))] == [task(2).id]


async def test_search_is_case_insensitive_beyond_ascii(storage: Storage) -> None:
    await add_users(storage, "ada")
    await add_tasks(storage, task(1, title="Écrire à Zoë"), task(2, title="ecrire"))
    assert [t.id for t in await listed(storage, TaskQuery(search="ÉCRIRE À ZOË"))] == [task(1).id]


async def test_a_page_holds_at_most_limit_tasks_and_continues_after_its_position(storage: Storage) -> None:
    await add_users(storage, "ada")
    await add_tasks(storage, *(task(n) for n in range(1, 8)))
    query = TaskQuery(limit=3)
    first = await listed(storage, query)
    assert [t.id for t in first] == [task(n).id for n in (7, 6, 5)]
    last = first[-1]
    second = await listed(storage, query.continued_after(PagePosition(last.created_at, last.id)))
    assert [t.id for t in second] == [task(n).id for n in (4, 3, 2)]


@pytest.mark.parametrize("sort", ["-created", "created", "-title", "title", "-updated", "updated"])
async def test_paging_through_while_tasks_are_added_and_deleted_never_repeats_or_skips_a_survivor(
    storage: Storage, sort: str
) -> None:
    await add_users(storage, "ada")
    await add_tasks(storage, *(task(n, title=f"t{n % 5}") for n in range(1, 21)))
    query = TaskQuery.parse(sort=sort, limit=4)
    seen: list[UUID] = []
    deleted: set[UUID] = set()
    newcomer = 100
    while True:
        page = await listed(storage, query)
        seen.extend(t.id for t in page)
        if len(page) < query.limit:
            break
        # Between pages another client adds a task and deletes one not yet seen.
        newcomer += 1
        await add_tasks(storage, task(newcomer, title=f"t{newcomer % 5}", created=newcomer))
        unseen = [n for n in range(1, 21) if task(n).id not in seen and task(n).id not in deleted]
        if unseen:
            async with storage.unit_of_work() as uow:
                await uow.tasks.remove("ada", task(unseen[-1]).id)
            deleted.add(task(unseen[-1]).id)
        last = page[-1]
        query = query.continued_after(PagePosition(sort_value(last, query.order.field), last.id))
    originals = {task(n).id for n in range(1, 21)}
    assert len(seen) == len(set(seen)), "a task appeared on two pages"
    assert originals - deleted <= set(seen), "a task that existed throughout was skipped"


# Tasks: changing


async def test_an_update_applies_the_change_and_returns_the_stored_result(storage: Storage) -> None:
    await add_users(storage, "ada")
    await add_tasks(storage, task(1, description="old"))
    async with storage.unit_of_work() as uow:
        changed = await uow.tasks.update("ada", task(1).id, TaskChanges(title="New", completed=True), now=at(50))
    assert changed == task(1, description="old").apply(TaskChanges(title="New", completed=True), now=at(50))
    assert (changed.version, changed.completed_at, changed.description) == (2, at(50), "old")
    assert await stored(storage, task(1).id) == changed


async def test_an_update_can_clear_or_keep_the_description(storage: Storage) -> None:
    await add_users(storage, "ada")
    await add_tasks(storage, task(1, description="notes"))
    async with storage.unit_of_work() as uow:
        kept = await uow.tasks.update("ada", task(1).id, TaskChanges(title="x", description=KEEP), now=at(50))
        cleared = await uow.tasks.update("ada", task(1).id, TaskChanges(description=None), now=at(51))
    assert (kept.description, cleared.description, cleared.version) == ("notes", None, 3)


async def test_toggling_flips_completion_each_time(storage: Storage) -> None:
    await add_users(storage, "ada")
    await add_tasks(storage, task(1))
    async with storage.unit_of_work() as uow:
        first = await uow.tasks.update("ada", task(1).id, TaskChanges(completed=TOGGLE), now=at(50))
        second = await uow.tasks.update("ada", task(1).id, TaskChanges(completed=TOGGLE), now=at(51))
    assert (first.completed, first.completed_at, first.version) == (True, at(50), 2)
    assert (second.completed, second.completed_at, second.version) == (False, None, 3)


async def test_a_change_that_alters_nothing_keeps_version_and_timestamps(storage: Storage) -> None:
    await add_users(storage, "ada")
    await add_tasks(storage, task(1, completed=True))
    async with storage.unit_of_work() as uow:
        same = await uow.tasks.update(
            "ada", task(1).id, TaskChanges(title=task(1).title, description=None, completed=True), now=at(50)
        )
    assert same == task(1, completed=True)


async def test_an_update_at_an_expected_version_succeeds_and_at_another_is_refused(storage: Storage) -> None:
    await add_users(storage, "ada")
    await add_tasks(storage, task(1))
    async with storage.unit_of_work() as uow:
        changed = await uow.tasks.update(
            "ada", task(1).id, TaskChanges(title="v2"), now=at(50), expected_versions=frozenset({1, 7})
        )
        with pytest.raises(PreconditionFailed) as refused:
            await uow.tasks.update(
                "ada", task(1).id, TaskChanges(title="v3"), now=at(51), expected_versions=frozenset({1})
            )
    assert refused.value.current_version == 2
    assert await stored(storage, task(1).id) == changed


async def test_updating_a_missing_task_says_not_found_even_with_a_version(storage: Storage) -> None:
    await add_users(storage, "ada")
    async with storage.unit_of_work() as uow:
        with pytest.raises(TaskNotFound):
            await uow.tasks.update(
                "ada", task(1).id, TaskChanges(title="x"), now=at(1), expected_versions=frozenset({1})
            )


async def test_concurrent_toggles_each_take_effect(storage: Storage) -> None:
    await add_users(storage, "ada")
    await add_tasks(storage, task(1))

    async def toggle(n: int) -> Task:
        async with storage.unit_of_work() as uow:
            return await uow.tasks.update("ada", task(1).id, TaskChanges(completed=TOGGLE), now=at(100 + n))

    await asyncio.gather(*(toggle(n) for n in range(25)))
    final = await stored(storage, task(1).id)
    assert final is not None
    assert (final.completed, final.version) == (True, 26)


# Tasks: deleting


async def test_a_removed_task_is_gone(storage: Storage) -> None:
    await add_users(storage, "ada")
    await add_tasks(storage, task(1), task(2))
    async with storage.unit_of_work() as uow:
        await uow.tasks.remove("ada", task(1).id)
        with pytest.raises(TaskNotFound):
            await uow.tasks.remove("ada", task(1).id)
    assert await stored(storage, task(1).id) is None
    assert [t.id for t in await listed(storage, TaskQuery())] == [task(2).id]


async def test_removing_at_a_stale_version_is_refused_and_keeps_the_task(storage: Storage) -> None:
    await add_users(storage, "ada")
    await add_tasks(storage, task(1))
    async with storage.unit_of_work() as uow:
        with pytest.raises(PreconditionFailed):
            await uow.tasks.remove("ada", task(1).id, expected_versions=frozenset({2}))
        await uow.tasks.remove("ada", task(1).id, expected_versions=frozenset({1}))
    assert await stored(storage, task(1).id) is None


# Units of work


async def test_an_atomic_block_keeps_all_its_writes(storage: Storage) -> None:
    await add_users(storage, "ada")
    async with storage.unit_of_work() as uow, uow.atomic():
        await uow.tasks.add(task(1))
        await uow.tasks.update("ada", task(1).id, TaskChanges(completed=True), now=at(9))
    assert (await stored(storage, task(1).id)) is not None


async def test_an_atomic_block_that_fails_undoes_all_its_writes(storage: Storage) -> None:
    await add_users(storage, "ada")
    await add_tasks(storage, task(1))

    class Abandon(Exception):
        pass

    with pytest.raises(Abandon):  # noqa: PT012
        async with storage.unit_of_work() as uow, uow.atomic():
            await uow.users.add(user("grace"))
            await uow.users.set_email("ada", "countess@example.com")
            await uow.tasks.add(task(2))
            await uow.tasks.update("ada", task(1).id, TaskChanges(title="changed"), now=at(9))
            await uow.tasks.remove("ada", task(1).id)
            raise Abandon
    async with storage.unit_of_work() as uow:
        assert await uow.users.get("grace") is None
        assert await uow.users.get("ada") == user("ada")
        with pytest.raises(EmailTaken):
            await uow.users.add(user("hedy", "ada@example.com"))
        await uow.users.add(user("hedy", "countess@example.com"))
        assert await uow.tasks.get("ada", task(2).id) is None
        assert await uow.tasks.get("ada", task(1).id) == task(1)


async def test_a_failed_write_inside_an_atomic_block_undoes_the_earlier_ones(storage: Storage) -> None:
    await add_users(storage, "ada")
    with pytest.raises(EmailTaken):  # noqa: PT012
        async with storage.unit_of_work() as uow, uow.atomic():
            await uow.tasks.add(task(1))
            await uow.users.add(user("grace", "ada@example.com"))
    assert await stored(storage, task(1).id) is None
