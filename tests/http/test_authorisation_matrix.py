"""Who may do what to whose data: every route and method, for every caller, on every target.

The policy is stated once, in the ``*_policy`` functions below, and the matrix is every
combination of caller, route, method and target, each cell with the answer the policy gives.
For each cell, ada and grace register with their own tokens and create one task each; then the
cell's one request must get exactly that answer, and, seen through each owner's own token,
nothing the caller had no right to change may have changed: a refused request changes nothing
at all, an allowed one nothing but the caller's own data.

A test runs every cell of one route against one store, reporting every wrong cell at once.
Each cell gets users of its own (``ada-0``, ``grace-0``, then ``ada-1``, ...), so no cell can
see or disturb another's, and the order of the cells does not matter.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from httpx import Response
from litestar.testing import AsyncTestClient

from tests.tokens import AUDIENCE, ISSUER, SECRET, bearer, claims, mint_with_secret
from todo_adapters.http import create_app
from todo_adapters.settings import Settings
from todo_core import Storage

SETTINGS = Settings(jwt_secret=SECRET, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)

USERS = ("ada", "grace")
CALLERS = (None, *USERS)  # None: a request without a token
PATH_USERS = (*USERS, "hedy")  # hedy never signs up: whether a path's user exists must not change the answer
TASK_OWNERS = (*USERS, None)  # None: a task id nobody owns
MISSING_TASK = "00000000-0000-7000-8000-0000000000ff"

# Paths and bodies name users and tasks by placeholder; a cell's own ids replace them when it runs.
TASK_OF = {"ada": "{ada_task}", "grace": "{grace_task}", None: "{no_task}"}
AS_SHOWN = {"ada": "ada", "grace": "grace", "hedy": "hedy",
            "ada_task": "<ada's task>", "grace_task": "<grace's task>", "no_task": "<nobody's task>"}  # fmt: skip

PREFIXES = ("/api", "/users")  # /users/{user_id}/tasks is the deprecated alias of the task routes
TASK_OPERATIONS = [  # method, path suffix, body, status when allowed
    ("GET", "", None, 200),
    ("PUT", "", {"title": "Replaced"}, 200),
    ("PATCH", "", {"title": "Renamed"}, 200),
    ("PATCH", "", {"completed": True}, 200),
    ("PATCH", "/complete", None, 200),
    ("PATCH", "/complete", {"completed": True}, 200),
    ("DELETE", "", None, 204),
    ("OPTIONS", "", None, 204),
    ("OPTIONS", "/complete", None, 204),
]
COLLECTION_OPERATIONS = [("GET", None, 200), ("POST", {"title": "New"}, 201), ("OPTIONS", None, 204)]
USER_OPERATIONS = [  # method, body, status when allowed
    ("GET", None, 200),
    ("PATCH", {"email": "{ada}.changed@example.com"}, 200),  # unique: each cell has users of its own
    ("DELETE", None, 204),
    ("OPTIONS", None, 204),
]


@dataclass(frozen=True)
class Outcome:
    status: int
    code: str | None = None  # the error code of a refusal

    @property
    def allowed(self) -> bool:
        return self.code is None

    def __str__(self) -> str:
        return f"{self.status} {self.code or ''}".strip()


UNAUTHENTICATED = Outcome(401, "UNAUTHENTICATED")
FORBIDDEN = Outcome(403, "FORBIDDEN")
TASK_NOT_FOUND = Outcome(404, "TASK_NOT_FOUND")
USER_ID_TAKEN = Outcome(409, "USER_ID_TAKEN")


def task_policy(caller: str | None, method: str, path_user: str, task_owner: str | None, allowed: int) -> Outcome:
    """One task of a user's: a token first, then only one's own path, then only that path's tasks."""
    if caller is None:
        return UNAUTHENTICATED
    if path_user != caller:
        return FORBIDDEN  # before any lookup: the same whether the task is the path user's, another's or no one's
    if task_owner != path_user and method != "OPTIONS":  # OPTIONS tells what a path allows and looks nothing up
        return TASK_NOT_FOUND  # another user's task answers exactly as a missing one
    return Outcome(allowed)


def collection_policy(caller: str | None, path_user: str, allowed: int) -> Outcome:
    """A user's task list, and creating a task in it: a token first, then only one's own path."""
    if caller is None:
        return UNAUTHENTICATED
    if path_user != caller:
        return FORBIDDEN  # whether or not that user exists
    return Outcome(allowed)


def user_policy(caller: str | None, user: str, allowed: int) -> Outcome:
    """A user record: a token first, then only one's own."""
    return collection_policy(caller, user, allowed)


def users_path_policy(caller: str | None, allowed: int) -> Outcome:
    """``/api/users`` itself names no user: a token is all it takes (what it may register is below)."""
    return UNAUTHENTICATED if caller is None else Outcome(allowed)


def registration_policy(caller: str | None, body_id: str | None, already_registered: bool) -> Outcome:
    """``POST /api/users``: a token registers its own user only; an absent id means the caller's."""
    if caller is None:
        return UNAUTHENTICATED
    if body_id not in (None, caller):
        return FORBIDDEN
    if already_registered:
        return USER_ID_TAKEN
    return Outcome(201)


@dataclass(frozen=True)
class Cell:
    route: str  # what the cells tested together share
    caller: str | None
    method: str
    path: str
    body: dict[str, Any] | None
    expected: Outcome
    registered: tuple[str, ...] = USERS  # who has registered (and made a task) before the request

    def request(self, names: dict[str, str]) -> tuple[str, dict[str, Any] | None]:
        """The path and body with the placeholders replaced by ``names``."""
        if self.body is None:
            return self.path.format(**names), None
        body = {key: value.format(**names) if isinstance(value, str) else value for key, value in self.body.items()}
        return self.path.format(**names), body

    def __str__(self) -> str:
        path, body = self.request(AS_SHOWN)
        newcomer = " (first call)" if self.caller is not None and self.caller not in self.registered else ""
        return f"{self.caller or 'no token'}{newcomer}: {self.method} {path}{_shown(body)} -> {self.expected}"


def _shown(body: dict[str, Any] | None) -> str:
    return "" if body is None else " " + ",".join(f"{key}={value}" for key, value in body.items())


def _task_cells() -> list[Cell]:
    return [
        Cell(f"{method} {prefix}/<user>/tasks/<task>{suffix}{_shown(body)}", caller, method,
             f"{prefix}/{{{path_user}}}/tasks/{TASK_OF[task_owner]}{suffix}", body,
             task_policy(caller, method, path_user, task_owner, allowed))
        for prefix, (method, suffix, body, allowed), caller, path_user, task_owner
        in itertools.product(PREFIXES, TASK_OPERATIONS, CALLERS, USERS, TASK_OWNERS)
    ]  # fmt: skip


def _collection_cells() -> list[Cell]:
    return [
        Cell(f"{method} {prefix}/<user>/tasks{_shown(body)}", caller, method, f"{prefix}/{{{path_user}}}/tasks", body,
             collection_policy(caller, path_user, allowed))
        for prefix, (method, body, allowed), caller, path_user
        in itertools.product(PREFIXES, COLLECTION_OPERATIONS, CALLERS, PATH_USERS)
    ]  # fmt: skip


def _user_cells() -> list[Cell]:
    return [
        Cell(f"{method} /api/users/<user>", caller, method, f"/api/users/{{{user}}}", body,
             user_policy(caller, user, allowed))
        for (method, body, allowed), caller, user in itertools.product(USER_OPERATIONS, CALLERS, PATH_USERS)
    ] + [
        Cell("OPTIONS /api/users", caller, "OPTIONS", "/api/users", None, users_path_policy(caller, 204))
        for caller in CALLERS
    ]  # fmt: skip


def _registration_cells() -> list[Cell]:
    """Registering is usually a caller's first call, so each caller is tried both as a newcomer
    (only the other user exists) and after registering."""
    cells = []
    for caller, body_id in itertools.product(CALLERS, (*USERS, None)):
        email = "someone.new@example.com" if caller is None else f"{{{caller}}}.new@example.com"  # only ids clash
        body = {"email": email} if body_id is None else {"email": email, "id": f"{{{body_id}}}"}
        for already_registered in (True,) if caller is None else (True, False):
            registered = USERS if already_registered else tuple(user for user in USERS if user != caller)
            expected = registration_policy(caller, body_id, already_registered)
            cells.append(Cell("POST /api/users", caller, "POST", "/api/users", body, expected, registered))
    return cells


CELLS = _task_cells() + _collection_cells() + _user_cells() + _registration_cells()
CELLS_BY_ROUTE: dict[str, list[Cell]] = {}
for _cell in CELLS:
    CELLS_BY_ROUTE.setdefault(_cell.route, []).append(_cell)


def test_the_matrix_covers_every_route_method_caller_and_target() -> None:
    # Task routes: 9 operations x 2 prefixes x 3 callers x 2 path users x 3 tasks. Task lists: 3 operations x
    # 2 prefixes x 3 callers x 3 path users. Users: 4 operations x 3 callers x 3 users, OPTIONS /api/users x 3
    # callers, and 15 registrations (3 callers x 3 ids, the two with tokens also as newcomers).
    assert len(CELLS) == 324 + 54 + 36 + 3 + 15
    assert len({str(cell) for cell in CELLS}) == len(CELLS)
    assert len(CELLS_BY_ROUTE) == 18 + 6 + 4 + 1 + 1


def _headers(user_id: str | None) -> dict[str, str]:
    return {} if user_id is None else bearer(mint_with_secret(claims(user_id)))


async def _register_with_a_task(client: AsyncTestClient, user_id: str) -> str:
    headers = _headers(user_id)
    sign_up = {"id": user_id, "email": f"{user_id}@example.com"}
    registered = await client.post("/api/users", json=sign_up, headers=headers)
    assert registered.status_code == 201, registered.text
    created = await client.post(f"/api/{user_id}/tasks", json={"title": f"{user_id}'s task"}, headers=headers)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _everything_of(client: AsyncTestClient, user_id: str) -> dict[str, Any]:
    """The user's record, task list, and each task with its ETag, as the user's own token sees them."""
    headers = _headers(user_id)
    record = await client.get(f"/api/users/{user_id}", headers=headers)
    listing = await client.get(f"/api/{user_id}/tasks", headers=headers)
    assert (record.status_code, listing.status_code) == (200, 200), (record.text, listing.text)
    tasks = {}
    for task in listing.json():
        response = await client.get(f"/api/{user_id}/tasks/{task['id']}", headers=headers)
        assert response.status_code == 200, response.text
        tasks[task["id"]] = (response.json(), response.headers["etag"])
    return {"user": record.json(), "list": listing.json(), "tasks": tasks}


def _answer(response: Response) -> Outcome:
    if response.status_code < 400:
        return Outcome(response.status_code)
    try:
        error = response.json()["error"]
        code = str(error["code"]) if set(error) == {"code", "message", "details"} else "(a malformed error body)"
    except (ValueError, KeyError, TypeError):
        code = "(not the error body)"
    return Outcome(response.status_code, code)


def _wrong_answer(response: Response, expected: Outcome, caller_id: str | None) -> str | None:
    answer = _answer(response)
    if answer != expected:
        return f"answered {answer}: {response.text[:300]}"
    if expected == UNAUTHENTICATED and not response.headers.get("www-authenticate", "").startswith("Bearer"):
        return "answered 401 without a Bearer challenge in WWW-Authenticate"
    if expected.allowed and response.content:
        # What an allowed call answers with is the caller's own: their user, or their tasks.
        items = response.json() if isinstance(response.json(), list) else [response.json()]
        owners = {item["user_id"] if "user_id" in item else item["id"] for item in items}
        if not owners <= {caller_id}:
            return f"answered with data of {sorted(owners)}"
    return None


async def _wrongs_of(client: AsyncTestClient, cell: Cell, number: int) -> list[str]:
    """Everything that goes against the policy when this cell runs, with users of its own numbered ``number``."""
    names = {user: f"{user}-{number}" for user in PATH_USERS} | {f"{user}_task": MISSING_TASK for user in USERS}
    names["no_task"] = MISSING_TASK
    for user in cell.registered:
        names[f"{user}_task"] = await _register_with_a_task(client, names[user])
    before = {user: await _everything_of(client, names[user]) for user in cell.registered}

    caller_id = None if cell.caller is None else names[cell.caller]
    path, body = cell.request(names)
    response = await client.request(cell.method, path, json=body, headers=_headers(caller_id))

    wrongs = [f"{cell}: {wrong}"] if (wrong := _wrong_answer(response, cell.expected, caller_id)) else []
    for user in cell.registered:
        may_change = cell.expected.allowed and user == cell.caller
        if not may_change and await _everything_of(client, names[user]) != before[user]:
            wrongs.append(f"{cell}: {user}'s data changed")
    return wrongs


@pytest.mark.parametrize("route", CELLS_BY_ROUTE)
async def test_every_caller_on_every_target_gets_the_answer_the_policy_states_and_changes_nothing_it_may_not(
    storage: Storage, route: str
) -> None:
    wrongs = []
    async with AsyncTestClient(create_app(settings=SETTINGS, storage=storage)) as client:
        for number, cell in enumerate(CELLS_BY_ROUTE[route]):
            wrongs += await _wrongs_of(client, cell, number)
    assert not wrongs, "\n".join(wrongs)
