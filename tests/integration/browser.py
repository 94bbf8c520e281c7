"""Headless Chromium for browser tests: Debian's /usr/bin/chromium driven by Playwright.

Never a downloaded browser: `make test` installs Debian's `chromium` (scripts/system-packages.sh).
Use the session-scoped `browser` fixture (tests/integration/conftest.py) and a new context per test;
`watch(page)` records dialogs (dismissed) and uncaught page errors so a test can assert that none happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch_chromium(playwright):
    """Launch Debian's Chromium headless (the machine's network is closed: no background traffic)."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: `apt-get install -y chromium` (make test does it)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


@dataclass
class PageWatch:
    """What a page did that a test should know about."""

    dialogs: List[str] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)


def watch(page) -> PageWatch:
    """Record (and dismiss) alert/confirm/prompt dialogs and uncaught errors of `page`."""
    seen = PageWatch()

    def on_dialog(dialog) -> None:
        seen.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    return seen


def screenshot_path(name: str) -> Path:
    """Where a test saves a screenshot for people to look at (results/ is git-ignored)."""
    RESULTS.mkdir(exist_ok=True)
    return RESULTS / name
