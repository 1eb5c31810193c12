"""Which process holds the server side of a TCP connection, read from outside (Linux /proc).

A client connection's server side is the socket whose local port is the server's and whose
remote port is the client's local port: /proc/net/tcp{,6} gives its inode, and the process
holding that inode has a ``socket:[inode]`` link under /proc/<pid>/fd.
"""

from __future__ import annotations

import os
from pathlib import Path

_ESTABLISHED = "01"
_LISTEN = "0A"


def _sockets(port: int, state: str) -> list[tuple[int, int]]:
    """(remote port, inode) of each socket on local ``port`` in ``state``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as handle:
            next(handle)
            for line in handle:
                fields = line.split()
                local, remote, inode = fields[1], fields[2], int(fields[9])
                if fields[3] == state and int(local.rsplit(":", 1)[1], 16) == port and inode:
                    found.append((int(remote.rsplit(":", 1)[1], 16), inode))
    return found


def _server_side_inodes(server_port: int) -> dict[int, int]:
    """client port -> inode of the server side's socket, for established connections."""
    return dict(_sockets(server_port, _ESTABLISHED))


def listening(port: int) -> set[int]:
    """Inodes of the sockets listening on ``port``."""
    return {inode for _, inode in _sockets(port, _LISTEN)}


def _fd_links(proc: Path) -> list[str]:
    """What each open file descriptor of process dir ``proc`` points at.

    A descriptor closed between listing and reading is skipped (the server opens and closes
    them all the time); raises OSError when the process itself is gone or not ours to read.
    """
    links = []
    for fd in (proc / "fd").iterdir():
        try:
            links.append(os.readlink(fd))
        except FileNotFoundError:
            continue
    return links


def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets process ``pid`` holds."""
    links = _fd_links(Path(f"/proc/{pid}"))
    return {int(link[8:-1]) for link in links if link.startswith("socket:[")}


def holders(server_port: int, client_ports: list[int]) -> dict[int, int]:
    """client port -> pid of the process holding the server side of that connection."""
    inodes = _server_side_inodes(server_port)
    wanted = {f"socket:[{inodes[p]}]": p for p in client_ports if p in inodes}
    owner: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            links = _fd_links(proc)
        except OSError:  # gone, or not ours to read
            continue
        for link in links:
            if link in wanted:
                owner[wanted[link]] = int(proc.name)
    return owner
