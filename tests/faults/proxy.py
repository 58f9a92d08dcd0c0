"""A TCP proxy between the service and PostgreSQL that the tests can break on purpose.

It runs its own asyncio loop in a background thread, so the service under test (in the
test's loop or in another process) and the test's control calls never wait on each other.
Every control method may be called from any thread and returns once the fault is in place.

Modes:

- ``forward``: bytes flow both ways, as if the proxy were not there.
- ``cut``: the database went away: every open connection is closed and the port refuses
  new ones (nothing listens).
- ``refuse``: the port accepts connections and closes them at once; none is kept open.
- ``hang``: the network stopped delivering: connections are accepted and held open without
  a byte forwarded, and open connections stop forwarding in both directions. What was held
  is delivered on ``heal``.

``heal()`` goes back to ``forward``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

__all__ = ["FaultProxy", "Mode"]

Mode = Literal["forward", "cut", "refuse", "hang"]
T = TypeVar("T")

_CHUNK = 64 * 1024
_TERMINATE = b"X\x00\x00\x00\x04"  # what a PostgreSQL client sends last when it closes a connection properly
_CONTROL_TIMEOUT = 10.0


class _Link:
    """One client connection and, once made, its connection to the server."""

    def __init__(self, client: asyncio.StreamWriter) -> None:
        self.client = client
        self.server: asyncio.StreamWriter | None = None
        self.server_ready: asyncio.Future[asyncio.StreamWriter] = asyncio.get_running_loop().create_future()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.closed = False
        self.last_from_client = b""

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for writer in (self.client, self.server):
            if writer is not None:
                writer.transport.abort()
        if not self.server_ready.done():
            self.server_ready.cancel()
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()


class FaultProxy:
    """Forwards 127.0.0.1:``port`` to ``target_host``:``target_port`` until told to fail."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self._listener: asyncio.Server | None = None
        self._reservation: socket.socket | None = None
        self._links: set[_Link] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._flowing: asyncio.Event | None = None
        self._mode: Mode = "forward"
        self.port = 0
        self.bytes_from_clients = 0
        """Bytes read from clients so far, held or forwarded: how a test sees that a query was sent."""
        self.connections_accepted = 0
        self.connections_closed_properly = 0
        """Client connections that ended with PostgreSQL's Terminate message, as a closing pool sends."""

    @classmethod
    def to(cls, database_url: str) -> FaultProxy:
        """A proxy to the server of ``database_url``."""
        parts = urlsplit(database_url)
        return cls(parts.hostname or "127.0.0.1", parts.port or 5432)

    # --- life cycle, from the test's thread ------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._start())
        return self

    def stop(self) -> None:
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=_CONTROL_TIMEOUT)
        self._loop.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def url(self, database_url: str) -> str:
        """``database_url`` with its host and port replaced by this proxy's."""
        parts = urlsplit(database_url)
        credentials, _, _ = parts.netloc.rpartition("@")
        netloc = f"{credentials}@127.0.0.1:{self.port}" if credentials else f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))

    # --- faults -------------------------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return self._mode

    @property
    def open_connections(self) -> int:
        return len(self._links)

    def forward(self) -> None:
        self._call(self._set_mode("forward"))

    heal = forward

    def cut(self) -> None:
        self._call(self._set_mode("cut"))

    def refuse(self) -> None:
        self._call(self._set_mode("refuse"))

    def hang(self) -> None:
        self._call(self._set_mode("hang"))

    blackhole = hang

    # --- inside the proxy's loop --------------------------------------------------------------

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=_CONTROL_TIMEOUT)

    async def _start(self) -> None:
        self._flowing = asyncio.Event()
        self._flowing.set()
        await self._listen()
        # The service's URL names this port, so it stays ours while nothing listens during a cut: a
        # socket bound to it but not listening keeps other processes off it, and makes connecting to it
        # fail with "connection refused", as connecting to a stopped server does.
        self._reservation = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self._reservation.bind(("127.0.0.1", self.port))

    async def _listen(self) -> None:
        self._listener = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_port=True)
        self.port = self._listener.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        await self._stop_listening()
        self._close_links()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.sleep(0)  # let the aborted transports close their sockets
        if self._reservation is not None:
            self._reservation.close()

    async def _stop_listening(self) -> None:
        if self._listener is not None:
            self._listener.close()
            await self._listener.wait_closed()
            self._listener = None

    def _close_links(self) -> None:
        for link in list(self._links):
            link.close()
        self._links.clear()

    async def _set_mode(self, mode: Mode) -> None:
        assert self._flowing is not None
        self._mode = mode
        if mode == "forward":
            if self._listener is None:
                await self._listen()
            self._flowing.set()
            return
        self._flowing.clear()
        if mode == "hang":
            return
        self._close_links()
        if mode == "cut":
            await self._stop_listening()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._flowing is not None
        self.connections_accepted += 1
        link = _Link(writer)
        if self._mode in ("cut", "refuse"):
            link.close()
            return
        self._links.add(link)
        self._track(link, asyncio.current_task())
        self._track(link, asyncio.create_task(self._pump(reader, link, to_server=True)))
        try:
            await self._flowing.wait()  # a connection accepted during a hang is held, not forwarded
            server_reader, server_writer = await asyncio.open_connection(*self._target)
        except (OSError, asyncio.CancelledError):
            self._drop(link)
            return
        if link.closed:
            server_writer.transport.abort()
            return
        link.server = server_writer
        link.server_ready.set_result(server_writer)
        self._track(link, asyncio.create_task(self._pump(server_reader, link, to_server=False)))

    def _track(self, link: _Link, task: asyncio.Task[Any] | None) -> None:
        assert task is not None
        link.tasks.add(task)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pump(self, reader: asyncio.StreamReader, link: _Link, *, to_server: bool) -> None:
        assert self._flowing is not None
        try:
            while True:
                data = await reader.read(_CHUNK)
                if not data:
                    if to_server and link.last_from_client.endswith(_TERMINATE):
                        self.connections_closed_properly += 1
                    break
                if to_server:
                    self.bytes_from_clients += len(data)
                    link.last_from_client = (link.last_from_client + data)[-len(_TERMINATE) :]
                while not self._flowing.is_set():  # held until heal; a cut or refuse closes the link
                    await self._flowing.wait()
                writer = await link.server_ready if to_server else link.client
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        self._drop(link)

    def _drop(self, link: _Link) -> None:
        link.close()
        self._links.discard(link)
