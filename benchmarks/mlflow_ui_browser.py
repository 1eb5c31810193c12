"""Debian's headless Chromium, run once per page: the rendered DOM, or a PNG screenshot.

The flags are the ones this machine needs (no sandbox as root, no GPU, and no background
connections: the closed network refuses them); each run gets a new empty profile. The page is a
single-page app that renders after its API calls answer, so each run is given a *virtual time*
budget: Chromium advances the page's clock only while no request is pending, and dumps or shoots
once the budget is spent. A page that is not rendered yet is tried again with twice the budget
(:func:`rendered_dom`).
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Final

CHROMIUM: Final = Path("/usr/bin/chromium")
FLAGS: Final = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip
WINDOW: Final = "1600,1000"
#: a run's page lays its metrics table out below the fold of WINDOW
TALL_WINDOW: Final = "1600,1700"
#: virtual milliseconds for the first try; each retry doubles it
FIRST_BUDGET_MS: Final = 10_000
TRIES: Final = 3
#: wall-clock limit of one Chromium run
TIMEOUT_S: Final = 180


class BrowserError(RuntimeError):
    """Chromium is missing or failed."""


def chromium() -> Path:
    """The Chromium binary; raises BrowserError naming how to install it."""
    if not CHROMIUM.exists():
        raise BrowserError(
            f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium, "
            "or make mlflow-ui-check, which does)"
        )
    return CHROMIUM


def _run(url: str, budget_ms: int, *extra: str, window: str = WINDOW) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="mlflow-ui-chromium-") as profile:
        command = [
            str(chromium()), *FLAGS, f"--user-data-dir={profile}", f"--window-size={window}",
            f"--virtual-time-budget={budget_ms}", *extra, url,
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise BrowserError(f"chromium exited {done.returncode} on {url}:\n{done.stderr[-2000:]}")
    return done


def dump_dom(url: str, budget_ms: int = FIRST_BUDGET_MS) -> str:
    """The page's DOM, serialized, once ``budget_ms`` of virtual time has passed."""
    return _run(url, budget_ms, "--dump-dom").stdout


def screenshot(url: str, path: Path, budget_ms: int = FIRST_BUDGET_MS, window: str = WINDOW) -> Path:
    """A PNG of the page (``window`` sized) at ``path``; raises BrowserError if none was written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    _run(url, budget_ms, f"--screenshot={path.resolve()}", "--hide-scrollbars", window=window)
    if not path.exists() or path.stat().st_size == 0:
        raise BrowserError(f"chromium wrote no screenshot of {url} to {path}")
    return path


def rendered_dom(url: str, problems: Callable[[str], list[str]]) -> tuple[str, list[str], int]:
    """The page's DOM, tried with FIRST_BUDGET_MS, then twice that, TRIES times in all, until
    ``problems(dom)`` finds none. Returns the last DOM, its problems and the budget it had."""
    budget = FIRST_BUDGET_MS
    for attempt in range(TRIES):
        budget = FIRST_BUDGET_MS * 2**attempt
        dom = dump_dom(url, budget)
        found = problems(dom)
        if not found:
            return dom, [], budget
    return dom, found, budget
