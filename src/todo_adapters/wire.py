"""uvicorn's httptools protocol, sending each response's header block and body in one write.

uvicorn writes a response's header block as soon as the app starts the response, then its
body in a second write: two system calls and two TCP segments for every response, and the
client wakes up twice. Here the header block waits for the body's first bytes (or for the
response to end, or the connection to close) and goes out with them. Nothing else changes:
same bytes, same order.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["OneWriteHttpToolsProtocol"]

_STATUS_LINE: Final = b"HTTP/1.1 "
_INTERIM: Final = b"HTTP/1.1 1"  # 100 Continue and the like must go out at once: the client waits for them
_END_OF_HEADERS: Final = b"\r\n\r\n"


class _HeadersWaitForBody:
    """A transport that holds a response's header block until the next write, and sends both as one."""

    __slots__ = ("_held", "_transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        if self._held is not None:
            data, self._held = self._held + data, None
        elif data.startswith(_STATUS_LINE) and data.endswith(_END_OF_HEADERS) and not data.startswith(_INTERIM):
            self._held = data
            return
        self._transport.write(data)

    def flush(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneWriteHttpToolsProtocol(HttpToolsProtocol):
    """Pass as uvicorn's ``http``: a response with a body leaves in one write."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_HeadersWaitForBody(transport))  # type: ignore[arg-type]

    def on_response_complete(self) -> None:
        # A response without body bytes (HEAD) never writes again: its header block leaves here.
        self.transport.flush()  # type: ignore[attr-defined]
        super().on_response_complete()
