"""Where ``make serve`` unpacks a model.tar.gz: a cache keyed by the archive's content.

Before, each run extracted the archive to a fresh temp dir and removed it on a clean exit, so
every killed server (Ctrl-C twice, SIGKILL, a closed terminal) left a copy behind in /tmp.
Now the archive is unpacked once per content into

    $XDG_CACHE_HOME/mlops-platform/models/<sha256 of the archive>/   (default ~/.cache/...)

(``MLOPS_MODEL_CACHE`` names another folder) and served from there by every later run of the
same archive. Extraction goes to a hidden temp sibling that is renamed into place only once
complete, so an entry is either whole or absent; two servers starting together both extract and
the second rename loses harmlessly.

Pruning, each time a model is served: entries beyond the MAX_ENTRIES most recently served are
removed, oldest first, and so are temp siblings older than STALE_PARTIAL_SECONDS (an
extraction killed halfway). An entry a running server holds (a shared ``flock`` on its lock
file, taken for the server's lifetime and dropped by the kernel when the process dies, however
it dies) is never removed: its worker processes may still need to load it after a restart.
So whatever is killed when, the cache holds at most MAX_ENTRIES idle entries.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final, TextIO

CACHE_ENV: Final = "MLOPS_MODEL_CACHE"
MAX_ENTRIES: Final = 5
STALE_PARTIAL_SECONDS: Final = 3600
_PARTIAL: Final = ".partial-"
_LOCKS: Final = ".locks"


def cache_root() -> Path:
    """$MLOPS_MODEL_CACHE, else $XDG_CACHE_HOME/mlops-platform/models, else ~/.cache/..."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlops-platform" / "models"


def archive_digest(archive: Path) -> str:
    """sha256 of the archive's bytes (the cache key)."""
    digest = hashlib.sha256()
    with archive.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def extracted(archive: Path, root: Path | None = None) -> Iterator[Path]:
    """The archive's content as a cached folder, held (not prunable) until the context exits.

    Raises tarfile.TarError for a bad archive, OSError when the cache cannot be written.
    """
    root = root or cache_root()
    (root / _LOCKS).mkdir(parents=True, exist_ok=True)
    key = archive_digest(archive)
    entry = root / key
    with _held(root / _LOCKS / key):  # before extracting: a concurrent prune must skip it
        if not entry.is_dir():
            _extract(archive, root, entry)
        os.utime(entry)  # most recently served
        prune(root)
        yield entry


def prune(root: Path, keep: int = MAX_ENTRIES, now: float | None = None) -> list[Path]:
    """Remove idle entries beyond the ``keep`` most recently served, and stale partial
    extractions; returns what was removed. Entries held by a running server stay."""
    now = time.time() if now is None else now
    removed = []
    entries = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), key=_mtime, reverse=True
    )
    for entry in entries[keep:]:
        if _remove_unless_held(root / _LOCKS / entry.name, entry):
            removed.append(entry)
    for partial in root.glob(f"{_PARTIAL}*"):
        if now - _mtime(partial) > STALE_PARTIAL_SECONDS:
            shutil.rmtree(partial, ignore_errors=True)
            removed.append(partial)
    for lock in (root / _LOCKS).iterdir():  # entries removed by hand leave their lock file
        if not (root / lock.name).exists():
            _remove_unless_held(lock, root / lock.name)
    return removed


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # removed by another server's prune meanwhile
        return 0.0


def _extract(archive: Path, root: Path, entry: Path) -> None:
    partial = Path(tempfile.mkdtemp(prefix=_PARTIAL, dir=root))
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(partial, filter="data")  # "data" refuses absolute paths, links out, devices
        try:
            partial.rename(entry)
        except OSError:  # another server renamed the same content first
            if not entry.is_dir():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)


@contextlib.contextmanager
def _held(lock_path: Path) -> Iterator[TextIO]:
    """A shared lock on ``lock_path`` (the file a pruner may replace: retried until the lock is
    on the file that is at the path)."""
    while True:
        with lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH)
            with contextlib.suppress(FileNotFoundError):
                if os.stat(lock_path).st_ino == os.fstat(lock.fileno()).st_ino:
                    yield lock
                    return


def _remove_unless_held(lock_path: Path, entry: Path) -> bool:
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a running server serves it
        shutil.rmtree(entry, ignore_errors=True)
        lock_path.unlink(missing_ok=True)
        return True
