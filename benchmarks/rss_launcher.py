"""Run a command, write its own peak RSS (kB) to a file, and exit as it did.

    python -I -S benchmarks/rss_launcher.py <rss-file> <command> [arguments...]

Why: Linux keeps in a process's ``ru_maxrss`` the peak of the address space it had before
``exec`` (``exec_mmap`` copies the old one's high-water mark). A child of the scale benchmark
starts as a copy of the benchmark (~160 MB with pandas, pyarrow and ml_code imported), so every
host measured that way reported at least ~160 MB, however little it used. Forked from this
launcher (no site packages, only ``os``/``signal``/``sys``: ~9 MB), the figure is the command's own.

SIGTERM kills the command and ends the launcher (the benchmark stops a job's other hosts so);
SIGINT is left to the command (a terminal's Ctrl-C reaches both).
"""

import os
import signal
import sys


def main() -> int:
    rss_file, command = sys.argv[1], sys.argv[2:]
    pid = os.fork()
    if pid == 0:  # pragma: no cover - replaced by the command
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGKILL))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _, status, usage = os.wait4(pid, 0)
    with open(rss_file, "w", encoding="utf-8") as out:
        out.write(f"{usage.ru_maxrss}\n")
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
