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


def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets process ``pid`` holds."""
    links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
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
            links = [os.readlink(fd) for fd in (proc / "fd").iterdir()]
        except OSError:  # gone, or not ours to read
            continue
        for link in links:
            if link in wanted:
                owner[wanted[link]] = int(proc.name)
    return owner
