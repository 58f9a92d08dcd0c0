"""Responses leave `todo serve` in one write, byte for byte what uvicorn would have sent.

Driven through uvicorn's real protocol on a real socket: what a client reads must not
change, whatever the response (with a body, without one, HEAD, 100 Continue first).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn

from todo_adapters.wire import OneWriteHttpToolsProtocol

pytestmark = pytest.mark.anyio

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await receive()
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if scope["path"] == "/empty":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    answer = b"echo:" + body if body else b"hello"
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(answer)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


@asynccontextmanager
async def serving() -> AsyncIterator[int]:
    """uvicorn with the one-write protocol on a free port, for the length of the block."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    config = uvicorn.Config(app, port=free, http=OneWriteHttpToolsProtocol, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    running = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn has no event to wait on)
        await asyncio.sleep(0.01)
    try:
        yield free
    finally:
        server.should_exit = True
        await running


async def exchange(port: int, *requests: bytes) -> list[bytes]:
    """Send each request on one connection and read its answer before the next."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answers = []
    for request in requests:
        writer.write(request)
        await writer.drain()
        answers.append(await asyncio.wait_for(read_response(reader, bodyless=request.startswith(b"HEAD")), 5))
    writer.close()
    await writer.wait_closed()
    return answers


async def read_response(reader: asyncio.StreamReader, *, bodyless: bool = False) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    if bodyless or head.startswith(b"HTTP/1.1 100"):
        return head
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
    )
    return head + (await reader.readexactly(length) if length else b"")


async def test_a_response_with_a_body_arrives_whole() -> None:
    async with serving() as port:
        (answer,) = await exchange(port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b"\r\n\r\nhello")


async def test_responses_without_body_bytes_are_not_held_back() -> None:
    async with serving() as port:
        head, empty, after = await exchange(
            port,
            b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n",
            b"GET /empty HTTP/1.1\r\nHost: t\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: t\r\n\r\n",
        )
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"content-length: 5\r\n" in head
    assert empty.startswith(b"HTTP/1.1 204 No Content\r\n")
    assert after.endswith(b"hello")


async def test_100_continue_is_sent_before_the_body_is() -> None:
    async with serving() as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST / HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        await writer.drain()
        assert await asyncio.wait_for(read_response(reader), 5) == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(b"abc")
        answer = await asyncio.wait_for(read_response(reader), 5)
        writer.close()
        await writer.wait_closed()
    assert answer.endswith(b"echo:abc")
