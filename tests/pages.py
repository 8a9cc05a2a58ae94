"""Test helper: a page as headless Chromium sees it (the student's --html page, say)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def chromium_dom(page: Path, profile: Path) -> str:
    """The page's DOM after headless Chromium loaded it (skips where Chromium is absent:
    .ci/run installs it)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed (.ci/run installs it)")
    p = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", f"--user-data-dir={profile}", "--dump-dom",
                        page.as_uri()], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    return p.stdout
