"""How a user's tasks are listed: filters, orders, and keyset pages behind opaque cursors.

A page never uses an offset. It continues strictly after the (sort key, id) of the last
task of the previous page, so rows inserted or deleted meanwhile never shift a page,
and reading page 1,000 costs what reading page 1 does.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from uuid import UUID

from todo_core.entities import Task
from todo_core.rules import FieldCollector, InvalidValue, refuse_unstorable

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "SEARCH_MAX_LENGTH",
    "PagePosition",
    "SortField",
    "StatusFilter",
    "TaskOrder",
    "TaskPage",
    "TaskQuery",
    "lowercase",
    "ordering_key",
    "search_form",
    "sort_value",
]

DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 200
SEARCH_MAX_LENGTH: Final = 255
_CURSOR_MAX_LENGTH: Final = 2048
_CURSOR_FORMAT: Final = 1


class StatusFilter(enum.StrEnum):
    """Which tasks a list includes."""

    ALL = "all"
    PENDING = "pending"
    COMPLETED = "completed"


class SortField(enum.StrEnum):
    """What a list is ordered by; ties are broken by task id in the same direction."""

    CREATED = "created"
    UPDATED = "updated"
    TITLE = "title"


@dataclass(frozen=True, slots=True)
class TaskOrder:
    """A sort field and a direction, written ``created`` or ``-created`` (descending)."""

    field: SortField
    descending: bool

    @classmethod
    def parse(cls, text: str) -> TaskOrder:
        descending = text.startswith("-")
        try:
            return cls(SortField(text.removeprefix("-")), descending)
        except ValueError:
            choices = ", ".join(f"{f.value}, -{f.value}" for f in SortField)
            raise InvalidValue(f"must be one of {choices}") from None

    def __str__(self) -> str:
        return f"-{self.field.value}" if self.descending else self.field.value


SortKey = datetime | str

# str.lower() applies Unicode's full case mapping, which differs from the simple, one code
# point at a time mapping (PostgreSQL's lower() in a UTF-8 locale) in exactly two places:
# dotted capital I, and capital sigma at the end of a word.
_SIMPLE_CASE_EXCEPTIONS: Final = str.maketrans({"\u0130": "i", "\u03a3": "\u03c3"})


def lowercase(text: str) -> str:
    """Lowercase one code point at a time, so every storage compares text the same way."""
    return text.translate(_SIMPLE_CASE_EXCEPTIONS).lower()


def search_form(text: str) -> str:
    """How search compares text: lowercase, and final sigma as sigma, so 'οδος' finds 'ΟΔΟΣ'."""
    return lowercase(text).replace("\u03c2", "\u03c3")


def sort_value(task: Task, field: SortField) -> SortKey:
    """The value of ``field`` that a task is ordered by, as stored: its timestamp, or its title as written."""
    if field is SortField.CREATED:
        return task.created_at
    if field is SortField.UPDATED:
        return task.updated_at
    return task.title


def ordering_key(value: SortKey, field: SortField) -> SortKey:
    """What ordering compares: titles by their lowercase form, code point by code point."""
    return lowercase(value) if field is SortField.TITLE and isinstance(value, str) else value


@dataclass(frozen=True, slots=True)
class PagePosition:
    """Where the previous page ended: the sort value (as ``sort_value`` gives it) and id of its last task."""

    key: SortKey
    task_id: UUID


@dataclass(frozen=True, slots=True)
class TaskQuery:
    """What a repository lists: ``limit`` tasks in ``order`` strictly after ``after``."""

    status: StatusFilter = StatusFilter.ALL
    order: TaskOrder = TaskOrder(SortField.CREATED, descending=True)
    search: str | None = None
    limit: int = DEFAULT_PAGE_SIZE
    after: PagePosition | None = None

    @classmethod
    def parse(
        cls,
        *,
        status: str = "all",
        sort: str = "-created",
        search: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> TaskQuery:
        """Validate list parameters as a client sends them; raise one ValidationFailed naming each bad one."""
        fields = FieldCollector()
        query = cls(
            status=fields.check("status", _parse_status, status),
            order=fields.check("sort", TaskOrder.parse, sort),
            search=fields.check("q", _clean_search, search),
            limit=limit,
        )
        if not 1 <= limit <= MAX_PAGE_SIZE:
            fields.reject("limit", f"must be between 1 and {MAX_PAGE_SIZE}, got {limit}")
        fields.raise_if_any()
        if not cursor:  # an empty cursor, like an absent one, starts at the first page
            return query
        after = fields.check("cursor", query._position_from, cursor)
        fields.raise_if_any()
        return query.continued_after(after)

    def continued_after(self, position: PagePosition) -> TaskQuery:
        return TaskQuery(self.status, self.order, self.search, self.limit, position)

    def with_limit(self, limit: int) -> TaskQuery:
        return TaskQuery(self.status, self.order, self.search, limit, self.after)

    def matches(self, task: Task) -> bool:
        """Whether ``task`` passes this query's filters (not its position)."""
        if self.status is StatusFilter.PENDING and task.completed:
            return False
        if self.status is StatusFilter.COMPLETED and not task.completed:
            return False
        if self.search is None:
            return True
        needle = search_form(self.search)
        return needle in search_form(task.title) or (
            task.description is not None and needle in search_form(task.description)
        )

    def cursor_after(self, task: Task) -> str:
        """The opaque cursor of the page that follows ``task``."""
        key = sort_value(task, self.order.field)
        encoded_key = key.isoformat() if isinstance(key, datetime) else key
        payload = [_CURSOR_FORMAT, self._fingerprint(), encoded_key, str(task.id)]
        raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def _position_from(self, cursor: str) -> PagePosition:
        if len(cursor) > _CURSOR_MAX_LENGTH:
            raise InvalidValue("is not a cursor this service issued")
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            version, fingerprint, encoded_key, task_id = json.loads(raw)
            if version != _CURSOR_FORMAT or not isinstance(encoded_key, str):
                raise ValueError
            key: SortKey = encoded_key if self.order.field is SortField.TITLE else _aware(encoded_key)
            position = PagePosition(key, UUID(task_id))
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, AttributeError):
            raise InvalidValue("is not a cursor this service issued") from None
        if fingerprint != self._fingerprint():
            raise InvalidValue("belongs to a list with other sort, status or q; start again without a cursor")
        return position

    def _fingerprint(self) -> str:
        scope = f"{self.order}\0{self.status.value}\0{self.search or ''}"
        return hashlib.blake2s(scope.encode(), digest_size=6).hexdigest()


@dataclass(frozen=True, slots=True)
class TaskPage:
    """One page of a list; ``next_cursor`` is None on the last page."""

    tasks: list[Task]
    next_cursor: str | None


def _parse_status(text: str) -> StatusFilter:
    try:
        return StatusFilter(text)
    except ValueError:
        raise InvalidValue(f"must be one of {', '.join(s.value for s in StatusFilter)}") from None


def _clean_search(raw: str | None) -> str | None:
    search = (raw or "").strip()
    if not search:
        return None
    if len(search) > SEARCH_MAX_LENGTH:
        raise InvalidValue(f"must be at most {SEARCH_MAX_LENGTH} characters")
    refuse_unstorable(search)
    return search


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(text)
    return moment
