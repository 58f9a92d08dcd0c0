"""Worker processes listening on one port each get their share of the connections."""

from __future__ import annotations

import pickle
import socket
from multiprocessing.reduction import ForkingPickler

import pytest

from todo_adapters.listeners import PortShare, spreads_connections

pytestmark = pytest.mark.skipif(not spreads_connections(), reason="the kernel balances SO_REUSEPORT sockets on Linux")

CLIENTS = 200


def as_a_worker_receives_it(share: PortShare) -> socket.socket:
    """What a worker process gets when uvicorn hands it the supervisor's socket (spawn pickles it)."""
    received: socket.socket = pickle.loads(ForkingPickler.dumps(share))
    return received


def test_each_worker_listens_on_a_socket_of_its_own_on_the_supervisors_port() -> None:
    with PortShare.bind_to("127.0.0.1", 0) as share:
        first, second = as_a_worker_receives_it(share), as_a_worker_receives_it(share)
        with first, second:
            assert first.fileno() != second.fileno()
            assert first.getsockname() == second.getsockname() == share.getsockname()


def test_a_worker_that_accepts_first_does_not_take_every_waiting_connection() -> None:
    with PortShare.bind_to("127.0.0.1", 0) as share:
        workers = [as_a_worker_receives_it(share) for _ in range(2)]
        for worker in workers:
            worker.listen(CLIENTS)
            worker.setblocking(False)
        clients = [socket.create_connection(share.getsockname()) for _ in range(CLIENTS)]
        # Each worker in turn accepts until nothing is waiting for it, as uvloop does when it
        # wakes: on one shared socket the first would take all the connections.
        accepted = [len(accept_all(worker)) for worker in workers]
        for sock in (*clients, *workers):
            sock.close()
    assert sum(accepted) == CLIENTS
    # The kernel hashes each connection's addresses to a socket: about half each. Fewer than 60
    # of 200 happens about once in 150 million runs.
    assert min(accepted) >= 60, accepted


def accept_all(listener: socket.socket) -> list[socket.socket]:
    connections = []
    while True:
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            return connections
        connection.close()
        connections.append(connection)


def test_the_supervisors_socket_is_handed_no_connections() -> None:
    with PortShare.bind_to("127.0.0.1", 0) as share, socket.socket() as client, pytest.raises(ConnectionRefusedError):
        client.connect(share.getsockname())  # bound, not listening: nobody would accept it there


def test_a_port_in_use_by_another_server_is_refused() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        with pytest.raises(OSError, match="in use"):
            PortShare.bind_to("127.0.0.1", other.getsockname()[1])
