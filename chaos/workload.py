"""The clients: each creates distinct tasks, one idempotency key per intended task, and retries
the same request until it is acknowledged with a 201 or the run ends. ``History`` records
what was sent and what was acknowledged, for the checker."""

from __future__ import annotations

import asyncio
import bisect
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

__all__ = ["Anomaly", "History", "Intent", "run_client"]

_BACKOFF_FIRST: Final = 0.05
_BACKOFF_MOST: Final = 0.5
_EVIDENCE_KEPT: Final = 50
_IMPATIENT_TIMEOUT: Final = (0.001, 0.03)


@dataclass(frozen=True, slots=True)
class Intent:
    """One task a client means to create, exactly once, whatever happens to its requests."""

    user_id: str
    title: str
    key: str

    @property
    def body(self) -> dict[str, str]:
        return {"title": self.title, "description": f"chaos run, Idempotency-Key {self.key}"}


@dataclass(frozen=True, slots=True)
class Anomaly:
    """An answer the product's contract does not allow here: evidence for a bug report."""

    at: float
    title: str
    key: str
    status: int
    body: str


@dataclass
class History:
    """What the clients sent and what the service acknowledged, with times on one clock."""

    started: float = field(default_factory=time.monotonic)
    sent: dict[str, Intent] = field(default_factory=dict)
    """Every intended task some request was sent for, by title."""
    acknowledged: dict[str, str] = field(default_factory=dict)
    """Task id answered with 201, by title."""
    replayed: int = 0
    """201 answers that replayed an earlier attempt under the same key."""
    retries: Counter[str] = field(default_factory=Counter)
    anomalies: list[Anomaly] = field(default_factory=list)
    anomaly_count: int = 0
    in_flight: set[str] = field(default_factory=set)
    _ack_times: list[float] = field(default_factory=list)

    def now(self) -> float:
        """Seconds since the run started."""
        return time.monotonic() - self.started

    def first_ack_after(self, moment: float) -> float | None:
        """When the first 201 at or after ``moment`` arrived, if one did."""
        index = bisect.bisect_left(self._ack_times, moment)
        return self._ack_times[index] if index < len(self._ack_times) else None

    def acknowledge(self, intent: Intent, task_id: str, *, replayed: bool) -> None:
        self.acknowledged[intent.title] = task_id
        self.replayed += replayed
        self._ack_times.append(self.now())

    def note_anomaly(self, intent: Intent, status: int, body: str) -> None:
        self.anomaly_count += 1
        if len(self.anomalies) < _EVIDENCE_KEPT:
            self.anomalies.append(Anomaly(self.now(), intent.title, intent.key, status, body[:2000]))


async def run_client(
    number: int,
    *,
    base_url: str,
    user_id: str,
    token: str,
    request_timeout: float,
    impatience: float,
    history: History,
    stop: asyncio.Event,
) -> None:
    """Create tasks one after the other until ``stop`` is set; finish the one under way first.

    A share ``impatience`` of the requests give up after a few milliseconds, so that some time
    out while the server carries on: their retries meet REQUEST_IN_PROGRESS and replays.
    """
    rng = random.Random(number)  # noqa: S311 -- jitter and impatience, not secrets
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=request_timeout) as http:
        sequence = 0
        while not stop.is_set():
            sequence += 1
            intent = Intent(user_id=user_id, title=f"{user_id} task {sequence:07d}", key=str(uuid.uuid4()))
            await _until_acknowledged(http, intent, history, rng, impatience)


async def _until_acknowledged(
    http: httpx.AsyncClient, intent: Intent, history: History, rng: random.Random, impatience: float
) -> None:
    """Send the same request, under the same key, until it is answered 201. A cancelled
    client leaves the intent unacknowledged: it may or may not exist, but only once."""
    history.sent[intent.title] = intent
    history.in_flight.add(intent.title)
    backoff = _BACKOFF_FIRST
    try:
        while True:
            impatient = rng.random() < impatience
            timeout = rng.uniform(*_IMPATIENT_TIMEOUT) if impatient else http.timeout
            outcome = await _attempt(http, intent, history, timeout)
            if outcome == "timeout" and impatient:
                outcome = "timeout (impatient client)"
            if outcome is None:
                return
            history.retries[outcome] += 1
            await asyncio.sleep(backoff * rng.uniform(0.5, 1.5))
            backoff = min(backoff * 2, _BACKOFF_MOST)
    finally:
        history.in_flight.discard(intent.title)


async def _attempt(
    http: httpx.AsyncClient, intent: Intent, history: History, patience: float | httpx.Timeout
) -> str | None:
    """One request; None once acknowledged, else why it must be retried."""
    try:
        response = await http.post(
            f"/api/{intent.user_id}/tasks", json=intent.body, headers={"Idempotency-Key": intent.key}, timeout=patience
        )
    except httpx.TimeoutException:
        return "timeout"
    except httpx.TransportError:
        return "connection error"
    return _judge(response, intent, history)


def _judge(response: httpx.Response, intent: Intent, history: History) -> str | None:
    code = _error_code(response)
    if response.status_code == 201:
        task = _json(response)
        if not isinstance(task, dict) or task.get("title") != intent.title or not task.get("id"):
            history.note_anomaly(intent, 201, response.text)  # an acknowledgement of something else
            return "201 for another request"
        history.acknowledge(intent, task["id"], replayed=response.headers.get("Idempotent-Replayed") == "true")
        return None
    if response.status_code == 503 and code == "SERVICE_UNAVAILABLE":
        return "503 SERVICE_UNAVAILABLE" if "Retry-After" in response.headers else "503 without Retry-After"
    if response.status_code == 409 and code == "REQUEST_IN_PROGRESS":
        return "409 REQUEST_IN_PROGRESS"
    # Nothing else is expected: record it, and keep retrying, which the key makes safe.
    history.note_anomaly(intent, response.status_code, response.text)
    return f"{response.status_code} {code or ''}".strip()


def _error_code(response: httpx.Response) -> str | None:
    body = _json(response)
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
