"""A listening socket per worker process, all on one port, so that the kernel spreads connections evenly.

uvicorn's worker processes share the one listening socket their supervisor binds. Whichever
worker wakes first accepts every connection waiting on it, so a burst of new connections lands
mostly on one worker, and a connection stays with the worker that accepted it: the benchmark's
1,000 simulated users were seen split 747 / 253 between two workers. The busier worker then
queues requests while the other has CPU to spare.

With ``SO_REUSEPORT`` (Linux 3.9 and later) each worker listens on a socket of its own bound to
the same address, and the kernel hashes each new connection to one of them: an even spread,
whatever the workers are doing when the connections arrive. Only processes of the same user
can join a port this way. The price: connections still waiting to be accepted by a worker that
dies are reset instead of going to another (Linux 5.14 and later hand them over when
``net.ipv4.tcp_migrate_req`` is 1); uvicorn starts a replacement, which joins the port.
"""

from __future__ import annotations

import socket
import sys
from typing import Any, TypeVar

__all__ = ["PortShare", "spreads_connections"]

S = TypeVar("S", bound=socket.socket)


def spreads_connections() -> bool:
    """Whether this system balances connections across sockets sharing a port (Linux does; macOS does not)."""
    return sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


class PortShare(socket.socket):
    """Holds ``host:port`` for the supervisor (bound, never listening, so it is handed no connections);
    handed to a worker process, it arrives there as that worker's own socket bound to the same address.

    uvicorn gives the supervisor's sockets to each worker by pickling them: ``__reduce__`` is
    where a worker gets a fresh socket instead of a copy of the shared one.
    """

    @classmethod
    def bind_to(cls, host: str, port: int) -> PortShare:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return _bound_shared(cls(family, socket.SOCK_STREAM), (host, port))

    def __reduce__(self) -> tuple[Any, ...]:
        return _worker_socket, (self.family, self.getsockname())


def _worker_socket(family: socket.AddressFamily, address: tuple[Any, ...]) -> socket.socket:
    return _bound_shared(socket.socket(family, socket.SOCK_STREAM), address)


def _bound_shared(sock: S, address: tuple[Any, ...]) -> S:
    """``sock`` bound to ``address`` in a way other sockets of this user may bind too; closed if that fails."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock
