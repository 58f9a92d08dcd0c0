from __future__ import annotations

from todo_core import UUIDv7Factory


def test_ids_are_version_7_rfc_9562_uuids() -> None:
    new_id = UUIDv7Factory()
    uuid = new_id()
    assert uuid.version == 7
    assert uuid.variant == "specified in RFC 4122"


def test_ids_carry_their_creation_millisecond() -> None:
    new_id = UUIDv7Factory(now_ms=lambda: 1_767_225_600_000)
    assert new_id().int >> 80 == 1_767_225_600_000


def test_ids_strictly_increase_even_within_one_millisecond() -> None:
    new_id = UUIDv7Factory(now_ms=lambda: 1_767_225_600_000)
    ids = [new_id() for _ in range(10_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_ids_keep_increasing_when_the_clock_steps_back() -> None:
    times = iter([2_000, 1_000, 1_000])
    new_id = UUIDv7Factory(now_ms=lambda: next(times))
    first, second, third = new_id(), new_id(), new_id()
    assert first < second < third
