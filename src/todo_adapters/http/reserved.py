"""User ids the HTTP API keeps out of circulation because no URL can reach them."""

from __future__ import annotations

from typing import Final

__all__ = ["RESERVED_USER_IDS"]

# "/api/users/..." is the user routes' own path, and clients remove "." and ".." segments
# from URLs before sending them (RFC 3986), so users with these ids could never reach their
# tasks. Registration refuses them, and so does token verification.
RESERVED_USER_IDS: Final = frozenset({"users", ".", ".."})
