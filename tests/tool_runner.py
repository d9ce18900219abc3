"""Running the repository's command-line tools from tests."""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_tool(script: str, *args: str) -> subprocess.CompletedProcess:
    """``python <script> <args>`` from the repository root (``script`` relative
    to it, e.g. ``tools/code_probe.py``), output captured as text, 300 s cap."""
    return subprocess.run(
        [sys.executable, script, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
