"""benchmarks/rss_launcher.py: a host's peak RSS is its own, not its parent's, and its exit and
stop behave as the scale benchmark needs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.scale_hosts import LAUNCHER

#: A command that allocates ``MB`` megabytes, touches them, and exits.
ALLOCATE = "import sys; b = bytearray(int(sys.argv[1]) * 2**20); b[::4096] = b'x' * len(b[::4096])"


def _launch(rss_file: Path, *command: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-I", "-S", str(LAUNCHER), str(rss_file), *command])


def _peak_mb(rss_file: Path) -> float:
    return int(rss_file.read_text(encoding="utf-8")) / 1024


def test_a_child_reaped_directly_reports_its_parents_peak() -> None:
    """Why the launcher exists: without it, a small command reads as big as this test process."""
    big = bytearray(300 * 2**20)
    big[::4096] = b"x" * len(big[::4096])
    proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", "pass"])
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    assert usage.ru_maxrss / 1024 >= 300
    del big


def test_the_launcher_reports_the_commands_own_peak(tmp_path: Path) -> None:
    big = bytearray(300 * 2**20)  # this process is big; the commands below are not
    big[::4096] = b"x" * len(big[::4096])
    small, large = tmp_path / "small", tmp_path / "large"
    for rss_file, megabytes in ((small, "1"), (large, "120")):
        proc = _launch(rss_file, sys.executable, "-I", "-S", "-c", ALLOCATE, megabytes)
        assert proc.wait(timeout=30) == 0
    del big
    assert _peak_mb(small) < 60, _peak_mb(small)
    assert 120 <= _peak_mb(large) < 120 + 60, _peak_mb(large)


def test_the_launcher_exits_as_its_command_did(tmp_path: Path) -> None:
    proc = _launch(tmp_path / "rss", sys.executable, "-I", "-S", "-c", "raise SystemExit(3)")
    assert proc.wait(timeout=30) == 3
    killed = _launch(tmp_path / "rss2", sys.executable, "-I", "-S", "-c", "import os; os.abort()")
    assert killed.wait(timeout=30) == 128 + signal.SIGABRT


def test_sigterm_stops_the_command_and_the_launcher(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    sleeper = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    proc = _launch(tmp_path / "rss", sys.executable, "-I", "-S", "-c", sleeper)
    deadline = time.monotonic() + 30
    while not (pid_file.is_file() and pid_file.read_text()):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    command = int(pid_file.read_text())
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGKILL
    assert not Path(f"/proc/{command}").exists()  # reaped by the launcher, not left running
