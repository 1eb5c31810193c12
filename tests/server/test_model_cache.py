"""Where make serve unpacks a model.tar.gz: once per archive content, reused, and pruned so that
killed servers leave nothing behind that grows without bound."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from serving_models import build_model, tar_model

from ml_code.serving import model_cache
from ml_code.serving.client import invoke
from ml_code.serving.serve import serve_subprocess


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model(tmp_path_factory.mktemp("binary"), "binary")


def archive_with(model_dir: Path, path: Path, note: str) -> Path:
    """The model's archive plus a note.txt, so each note makes another archive content."""
    copy = path.parent / f"{path.name}.d"
    shutil.copytree(model_dir, copy)
    (copy / "note.txt").write_text(note)
    return tar_model(copy, path)


def entries(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if not p.name.startswith("."))


def test_the_same_archive_is_unpacked_once_and_reused(
    model_dir: Path, tmp_path: Path, cache_dir: Path
) -> None:
    archive = tar_model(model_dir, tmp_path / "model.tar.gz")
    with model_cache.extracted(archive) as first:
        marker = (first / "xgboost-model.json").stat().st_ino
    with model_cache.extracted(archive) as second:
        assert second == first == cache_dir / model_cache.archive_digest(archive)
        assert (second / "xgboost-model.json").stat().st_ino == marker  # the same files, not a re-extraction
    assert entries(cache_dir) == [first]
    assert not list(cache_dir.glob(".partial-*"))


def test_another_content_gets_another_entry(model_dir: Path, tmp_path: Path, cache_dir: Path) -> None:
    one = archive_with(model_dir, tmp_path / "one.tar.gz", "one")
    two = archive_with(model_dir, tmp_path / "two.tar.gz", "two")
    with model_cache.extracted(one) as a, model_cache.extracted(two) as b:
        assert a != b
        assert (a / "note.txt").read_text() == "one"
        assert (b / "note.txt").read_text() == "two"


KILLED_SERVER = """
import os, signal, sys
from pathlib import Path
from ml_code.serving import model_cache
with model_cache.extracted(Path(sys.argv[1])):
    os.kill(os.getpid(), signal.SIGKILL)  # killed while serving: no cleanup runs
"""


def test_killed_servers_leave_a_bounded_cache(model_dir: Path, tmp_path: Path, cache_dir: Path) -> None:
    # GIVEN servers of more distinct archives than the cache keeps, each killed while serving,
    # and an extraction killed halfway an hour ago
    limit = model_cache.MAX_ENTRIES
    for n in range(limit + 3):
        archive = archive_with(model_dir, tmp_path / f"m{n}.tar.gz", str(n))
        run = subprocess.run([sys.executable, "-c", KILLED_SERVER, str(archive)], check=False)
        assert run.returncode == -signal.SIGKILL
        time.sleep(0.01)  # distinct mtimes: the order they were served in
    stale = cache_dir / ".partial-killed"
    (stale / "code").mkdir(parents=True)
    hour_ago = time.time() - model_cache.STALE_PARTIAL_SECONDS - 60
    os.utime(stale, (hour_ago, hour_ago))
    assert len(entries(cache_dir)) == limit  # each run already pruned what it could
    # WHEN another model is served
    with model_cache.extracted(archive_with(model_dir, tmp_path / "last.tar.gz", "last")):
        pass
    # THEN the cache keeps only the most recently served entries, and no partial extraction
    kept = entries(cache_dir)
    assert len(kept) == limit
    assert {(p / "note.txt").read_text() for p in kept} == {"last", *(str(n) for n in range(4, limit + 3))}
    assert not stale.exists()
    assert len(list((cache_dir / ".locks").iterdir())) == limit  # no lock file outlives its entry


HOLDER = """
import sys, time
from pathlib import Path
from ml_code.serving import model_cache
with model_cache.extracted(Path(sys.argv[1])):
    print("serving", flush=True)
    time.sleep(600)
"""


def test_a_model_being_served_is_never_pruned(model_dir: Path, tmp_path: Path, cache_dir: Path) -> None:
    # GIVEN a server still serving the oldest entry
    held = archive_with(model_dir, tmp_path / "held.tar.gz", "held")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(held)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "serving\n"
        held_entry = cache_dir / model_cache.archive_digest(held)
        # WHEN more models than the cache keeps are served after it
        for n in range(model_cache.MAX_ENTRIES + 1):
            with model_cache.extracted(archive_with(model_dir, tmp_path / f"n{n}.tar.gz", str(n))):
                pass
        # THEN its entry is still there
        assert held_entry.is_dir()
    finally:
        holder.kill()
        holder.wait()
    # and once that server is gone, the next prune removes it
    model_cache.prune(cache_dir)
    assert not held_entry.exists()


def test_make_serve_killed_leaves_nothing_in_the_temp_dir(
    model_dir: Path, tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN make serve on an archive, with its temp dir watched
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    archive = tar_model(model_dir, tmp_path / "model.tar.gz")
    with serve_subprocess(archive, workers=1) as url:
        assert invoke(url, b"", "text/csv").status == 400
        # WHEN it is killed outright
        for pid in server_pids(url):
            os.kill(pid, signal.SIGKILL)
    # THEN nothing of the model is in the temp dir; the cache holds one entry, reused next time
    assert not any(temp.rglob("xgboost-model.json"))
    assert len(entries(cache_dir)) == 1
    with serve_subprocess(archive, workers=1) as url:
        assert invoke(url, b"", "text/csv").status == 400
    assert len(entries(cache_dir)) == 1


def server_pids(url: str) -> list[int]:
    from sockets import listening, socket_inodes  # noqa: PLC0415

    port = int(url.rsplit(":", 1)[1])
    listeners = listening(port)
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if socket_inodes(int(proc.name)) & listeners:
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids
