"""Debian's Chromium for the browser tests (driven by Playwright, never downloaded by
``playwright install``). With ``CI=true`` a missing Chromium fails the test; elsewhere
it is skipped with the reason."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
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


def chromium_path() -> str:
    """Debian's Chromium, or fail (in CI) or skip (elsewhere)."""
    found = os.environ.get("HAZELKIT_CHROMIUM") or shutil.which("chromium")
    if found:
        return found
    reason = "Chromium is not installed (apt-get install chromium)"
    if IN_CI:
        pytest.fail(f"the browser test is required in CI: {reason}")
    pytest.skip(reason)
