"""A token that verified is trusted again without a new check: never past its exp or ttl,
under another key, or after it failed."""

from __future__ import annotations

import pytest

from todo_adapters.http.tokens import Caller, InvalidToken, VerifiedTokens

NOW = 1_800_000_000.0
KEY, OTHER_KEY = object(), object()


class Checks:
    """A stand-in for the signature and claims check, counting how often it runs."""

    def __init__(self, caller: Caller | None) -> None:
        self.caller = caller
        self.runs = 0

    def __call__(self) -> Caller:
        self.runs += 1
        if self.caller is None:
            raise InvalidToken("The token's signature does not verify.")
        return self.caller


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def test_a_token_that_verified_is_trusted_again_without_a_new_check() -> None:
    verified = VerifiedTokens(clock=Clock())
    check = Checks(Caller("ada", None, expires_at=NOW + 600))

    answers = [verified.verify("token-a", KEY, check) for _ in range(3)]

    assert answers == [Caller("ada", None, expires_at=NOW + 600)] * 3
    assert check.runs == 1


def test_a_remembered_token_is_checked_again_once_it_expires() -> None:
    clock = Clock()
    verified = VerifiedTokens(clock=clock)
    verified.verify("token-a", KEY, Checks(Caller("ada", None, expires_at=NOW + 60)))

    clock.now = NOW + 60
    with pytest.raises(InvalidToken):
        verified.verify("token-a", KEY, Checks(None))


def test_a_remembered_token_is_checked_again_after_the_ttl_even_before_it_expires() -> None:
    clock = Clock()
    verified = VerifiedTokens(ttl=30, clock=clock)
    verified.verify("token-a", KEY, Checks(Caller("ada", None, expires_at=NOW + 3600)))

    clock.now = NOW + 30
    check = Checks(Caller("ada", None, expires_at=NOW + 3600))
    verified.verify("token-a", KEY, check)
    assert check.runs == 1


def test_a_token_is_checked_again_under_another_key() -> None:
    verified = VerifiedTokens(clock=Clock())
    verified.verify("token-a", KEY, Checks(Caller("ada", None, expires_at=NOW + 600)))

    with pytest.raises(InvalidToken):
        verified.verify("token-a", OTHER_KEY, Checks(None))


def test_a_token_that_failed_is_checked_every_time() -> None:
    verified = VerifiedTokens(clock=Clock())
    check = Checks(None)

    for _ in range(3):
        with pytest.raises(InvalidToken):
            verified.verify("forged", KEY, check)
    assert check.runs == 3


def test_at_most_capacity_tokens_are_remembered_the_oldest_forgotten_first() -> None:
    verified = VerifiedTokens(capacity=2, clock=Clock())
    for token in ("token-a", "token-b", "token-c"):
        verified.verify(token, KEY, Checks(Caller(token, None, expires_at=NOW + 600)))

    first, last = Checks(Caller("token-a", None, expires_at=NOW + 600)), Checks(None)
    verified.verify("token-a", KEY, first)
    verified.verify("token-c", KEY, last)
    assert (first.runs, last.runs) == (1, 0)
