"""The model server's listening sockets: one per worker, all on one port (SO_REUSEPORT).

:func:`bind_socket` makes a listening socket with ``IPPROTO_TCP``, so asyncio sets TCP_NODELAY on
the connections it accepts (uvicorn's own multi-worker socket does not, and Nagle's algorithm then
adds ~40 ms to every keep-alive response; see benchmarks/README.md). :class:`ReusePortSupervisor`
is uvicorn's worker supervisor, handing each worker a socket of its own. ml_code.serving.serve
uses both; this module needs uvicorn, so it runs on a developer's machine, never in the image.
"""

from __future__ import annotations

import socket

import uvicorn


def bind_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A listening TCP socket (port 0 picks a free one); IPPROTO_TCP so TCP_NODELAY gets set.

    ``reuse_port``: SO_REUSEPORT, so more sockets can listen on the same port and the kernel
    spreads incoming connections over them (one per worker; see ReusePortSupervisor).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class ReusePortSupervisor(uvicorn.supervisors.Multiprocess):
    """uvicorn's supervisor (a dead worker is replaced, SIGHUP restarts, SIGTTIN/SIGTTOU resize),
    but each worker it starts listens on a socket of its own, all bound to one port with
    SO_REUSEPORT.

    Why: with one shared socket, whichever worker wakes first accepts every connection waiting
    (asyncio accepts until the queue is empty), so a client's keep-alive connections, opened
    together, mostly land on one worker and the other idles (seen with ``ss``: 8 of 8 on one
    worker; 1-row throughput swung between ~3,000 and ~5,500 req/s from run to run). With a socket
    per worker the kernel picks the socket for each new connection by a hash of its addresses,
    so connections spread over the workers whatever their timing.

    Every time uvicorn starts a worker it reads ``self.sockets``, which here hands out a new
    listening socket (the first one: the socket the port was bound with). The worker inherits
    it at start; the supervisor closes its own copy on its next tick, so a dead worker's socket
    leaves the group with it (new connections then hash to the live ones; connections still
    queued on it are reset, as a dead worker's are with a shared socket).
    """

    def __init__(self, config: uvicorn.Config, first: socket.socket) -> None:
        self._address: tuple[str, int] = first.getsockname()[:2]
        self._unused = [first]
        self._handed_out: list[socket.socket] = []
        super().__init__(config, sockets=[])

    @property
    def sockets(self) -> list[socket.socket]:
        """A listening socket for the worker about to start (read once per worker by uvicorn)."""
        sock = self._unused.pop() if self._unused else bind_socket(*self._address, reuse_port=True)
        self._handed_out.append(sock)
        return [sock]

    @sockets.setter
    def sockets(self, _value: list[socket.socket]) -> None:
        pass  # uvicorn's __init__ stores the shared sockets; each worker gets its own instead

    def keep_subprocess_alive(self) -> None:
        # Workers started so far have inherited their sockets (spawn passes them at start()).
        while self._handed_out:
            self._handed_out.pop().close()
        super().keep_subprocess_alive()
