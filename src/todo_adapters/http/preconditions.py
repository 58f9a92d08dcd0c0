"""ETags and conditional requests (RFC 9110, section 13) over task versions.

A task's ETag is its version in quotes (``"3"``), a strong validator: every change that
alters the task moves the version.
"""

from __future__ import annotations

__all__ = ["etag", "if_match_versions", "none_match"]


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_versions(header: str | None) -> frozenset[int] | None:
    """The versions an ``If-Match`` header accepts; None when any version will do (absent or ``*``).

    If-Match compares strongly, so weak tags and tags this service never issued match
    nothing: a write carrying only those fails its precondition.
    """
    if header is None or header.strip() == "*":
        return None
    return frozenset(version for tag in header.split(",") if (version := _version(tag.strip())) is not None)


def none_match(header: str | None, version: int) -> bool:
    """Whether ``If-None-Match`` says the client already holds this version (weak comparison)."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return any(_version(tag.strip().removeprefix("W/")) == version for tag in header.split(","))


def _version(tag: str) -> int | None:
    opaque = tag[1:-1]
    if not (tag.startswith('"') and tag.endswith('"') and opaque.isascii() and opaque.isdigit() and len(opaque) < 19):
        return None
    return int(opaque)
