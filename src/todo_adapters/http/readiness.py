"""Whether the service can serve data now, with a log line each time the answer changes."""

from __future__ import annotations

import logging

from todo_adapters.postgres import PostgresStorage, Readiness
from todo_core import Storage

__all__ = ["ReadinessProbe"]

logger = logging.getLogger("todo.readiness")


class ReadinessProbe:
    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._last: Readiness | None = None

    async def check(self) -> Readiness:
        state = await self._storage.readiness() if isinstance(self._storage, PostgresStorage) else Readiness(True)
        if state != self._last:
            if state.ready:
                logger.info("ready to serve")
            else:
                logger.warning("not ready: %s", "; ".join(state.reasons))
            self._last = state
        return state
