"""Running the repository's command-line tools from tests."""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_tool(
    script: str, *args: str, timeout: float | None = 300
) -> subprocess.CompletedProcess:
    """``python <script> <args>`` from the repository root (``script`` relative
    to it, e.g. ``tools/code_probe.py``), output captured as text, cut off
    after ``timeout`` seconds (None: never)."""
    return subprocess.run(
        [sys.executable, script, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
