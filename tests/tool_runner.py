"""Running the repository's command-line tools from tests."""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_tool(*args: str, timeout: float | None = 300) -> subprocess.CompletedProcess:
    """``python <args>`` from the repository root, output captured as text,
    cut off after ``timeout`` seconds (None: never).

    ``args`` start with a script relative to the root
    (``run_tool("tools/code_probe.py", "--workdirs=...")``) or with ``-m``
    and a module (``run_tool("-m", "pldt_tf.export", "--workdir=...")``).
    """
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
