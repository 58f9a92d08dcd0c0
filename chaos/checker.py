"""The checker: read every task back, through the API and straight from the table, and compare
with the history. Acknowledged means stored exactly once; nothing is stored that nobody sent."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
import psycopg
from workload import History

__all__ = ["StoredTask", "Verdict", "check", "read_api", "read_database"]

SELECT_TASKS: Final = "SELECT user_id, id::text, title FROM tasks"
SELECT_TASK_KEYS: Final = "SELECT scope, key, outcome ->> 'id' FROM idempotency_keys WHERE outcome ->> 'kind' = 'task'"


@dataclass(frozen=True, slots=True)
class StoredTask:
    user_id: str
    id: str
    title: str


@dataclass
class Verdict:
    """The outcome of the run. It passes when every list is empty."""

    acknowledged: int
    unacknowledged: int
    """Sent but never answered 201 before the end: allowed to exist (once) or not."""
    unacknowledged_stored: int
    stored: int
    listed: int
    lost: list[dict[str, Any]] = field(default_factory=list)
    duplicated: list[dict[str, Any]] = field(default_factory=list)
    unexpected: list[dict[str, Any]] = field(default_factory=list)
    misacknowledged: list[dict[str, Any]] = field(default_factory=list)
    """An acknowledged id stored under another title than the one sent."""
    api_and_table_disagree: list[dict[str, Any]] = field(default_factory=list)
    key_records_disagree: list[dict[str, Any]] = field(default_factory=list)
    """Idempotency records and tasks not in one-to-one correspondence (they are written atomically)."""
    api_error: str | None = None
    """Why the tasks could not be read back through the API, if they could not."""

    @property
    def failures(self) -> dict[str, int]:
        return {
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
            "unexpected": len(self.unexpected),
            "misacknowledged": len(self.misacknowledged),
            "api and table disagree": len(self.api_and_table_disagree),
            "key records disagree": len(self.key_records_disagree),
            "api unreadable": int(self.api_error is not None),
        }


async def read_api(
    base_url: str, tokens: Mapping[str, str], *, request_timeout: float, within: float = 120.0
) -> list[StoredTask]:
    """Every task of every user, page by page through the ``Link`` header."""
    tasks = []
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=base_url, timeout=request_timeout) as http:
        for user_id, token in tokens.items():
            url: str | None = f"/api/{user_id}/tasks?limit=200&sort=created"
            while url is not None:
                response = await _get(http, url, token, deadline)
                tasks += [StoredTask(task["user_id"], task["id"], task["title"]) for task in response.json()]
                url = response.links.get("next", {}).get("url")
    return tasks


async def _get(http: httpx.AsyncClient, url: str, token: str, deadline: float) -> httpx.Response:
    """GET, retrying what the service may answer while it reconnects after the last restart."""
    while True:
        try:
            response = await http.get(url, headers={"Authorization": f"Bearer {token}"})
        except httpx.TransportError as error:
            problem = repr(error)
        else:
            if response.status_code == 200:
                return response
            if response.status_code != 503:
                raise RuntimeError(f"GET {url} answered {response.status_code}: {response.text}")
            problem = response.text
        if time.monotonic() > deadline:
            raise TimeoutError(f"GET {url} kept failing: {problem}")
        await asyncio.sleep(0.5)


async def read_database(url: str) -> tuple[list[StoredTask], list[tuple[str, str, str]]]:
    """Every task in the table, and every idempotency record of a task creation: (scope, key, task id)."""
    async with await psycopg.AsyncConnection.connect(url, connect_timeout=5) as connection:
        tasks = await (await connection.execute(SELECT_TASKS)).fetchall()
        keys = await (await connection.execute(SELECT_TASK_KEYS)).fetchall()
    return [StoredTask(*row) for row in tasks], [tuple(row) for row in keys]


def check(
    history: History,
    *,
    api: list[StoredTask] | None,
    table: list[StoredTask],
    keys: list[tuple[str, str, str]],
    api_error: str | None = None,
) -> Verdict:
    """Compare what was acknowledged and sent with what is stored; without ``api`` (unreadable,
    ``api_error`` says why) the table alone is checked."""
    by_id = {task.id: task for task in table}
    listed_ids = {task.id for task in api} if api is not None else set(by_id)
    stored_titles = {task.title for task in table}
    unacknowledged = set(history.sent) - set(history.acknowledged)
    verdict = Verdict(
        acknowledged=len(history.acknowledged),
        unacknowledged=len(unacknowledged),
        unacknowledged_stored=len(unacknowledged & stored_titles),
        stored=len(table),
        listed=len(api) if api is not None else 0,
        api_error=api_error,
    )
    ids_by_title = _ids_by_title(table)
    for title, task_id in sorted(history.acknowledged.items()):
        missing_from = [name for name, ids in (("table", by_id), ("api", listed_ids)) if task_id not in ids]
        if missing_from:
            verdict.lost.append(
                {"title": title, "id": task_id, "missing_from": missing_from, "stored_as": ids_by_title.get(title, [])}
            )
        elif by_id[task_id].title != title:
            verdict.misacknowledged.append({"title": title, "id": task_id, "stored_title": by_id[task_id].title})
    for source, tasks in (("table", table), ("api", api or [])):
        for title, ids in _ids_by_title(tasks).items():
            if len(ids) > 1:
                verdict.duplicated.append({"title": title, "ids": ids, "in": source})
    verdict.unexpected = [
        {"title": task.title, "id": task.id, "user_id": task.user_id}
        for task in table
        if task.title not in history.sent
    ]
    verdict.api_and_table_disagree = [
        {"id": task_id, "only_in": "table" if task_id in by_id else "api"}
        for task_id in sorted(set(by_id) ^ listed_ids)
    ]
    verdict.key_records_disagree = _key_records_disagree(table, keys)
    return verdict


def _ids_by_title(tasks: Iterable[StoredTask]) -> dict[str, list[str]]:
    ids: defaultdict[str, list[str]] = defaultdict(list)
    for task in tasks:
        ids[task.title].append(task.id)
    return ids


def _key_records_disagree(table: list[StoredTask], keys: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    stored = {task.id for task in table}
    referenced = Counter(task_id for _, _, task_id in keys)
    problems: list[dict[str, Any]] = [
        {"key": key, "scope": scope, "task_id": task_id, "problem": "records a task that is not stored"}
        for scope, key, task_id in keys
        if task_id not in stored
    ]
    problems += [
        {"task_id": task_id, "problem": f"recorded by {count} keys"}
        for task_id, count in referenced.items()
        if count > 1
    ]
    problems += [
        {"task_id": task.id, "title": task.title, "problem": "stored without an idempotency record"}
        for task in table
        if task.id not in referenced
    ]
    return problems
