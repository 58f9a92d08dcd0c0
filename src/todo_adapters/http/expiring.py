"""A bounded memory of recent answers, each kept until its own deadline."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["ExpiringCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ExpiringCache(Generic[K, V]):
    """At most ``capacity`` entries, each forgotten at its deadline (on ``clock``); when full,
    the entry stored longest ago makes room."""

    def __init__(self, *, capacity: int, clock: Callable[[], float]) -> None:
        self._capacity = capacity
        self.clock = clock
        self._entries: dict[K, tuple[V, float]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, until = entry
        if self.clock() < until:
            return value
        del self._entries[key]
        return None

    def put(self, key: K, value: V, *, until: float) -> None:
        self._entries.pop(key, None)  # stored anew, it is the newest
        if len(self._entries) >= self._capacity:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (value, until)

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)
