"""What every tool shares: one definition of the shared flags, and a user's
mistake ending a tool with one line and exit status 2, not a traceback."""

from __future__ import annotations

import sys

import pytest
from tool_runner import run_tool

from pldt_tf import cli


def test_tool_command_runs_a_module_with_this_interpreter():
    command = cli.tool_command("pldt_tf.train", workdir="w", width=0.5)
    assert command == [
        sys.executable,
        "-m",
        "pldt_tf.train",
        "--workdir=w",
        "--width=0.5",
    ]


def _assert_one_line_error(result, *fragments):
    assert result.returncode == 2, (result.stdout, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), last
    for fragment in fragments:
        assert fragment in last, last


@pytest.mark.slow
def test_expected_user_errors_are_one_line(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    existing = tmp_path / "existing"
    existing.mkdir()
    missing = str(tmp_path / "missing")
    cases = [
        (
            (
                "tools/build_tfrecords.py",
                f"--lookbook_dir={missing}",
                f"--output_dir={tmp_path / 'r'}",
            ),
            (missing, "does not exist"),
        ),
        (
            (
                "tools/build_tfrecords.py",
                f"--lookbook_dir={empty}",
                f"--output_dir={tmp_path / 'r'}",
            ),
            (str(empty), "0 usable products"),
        ),
        (
            (
                "tools/build_tfrecords.py",
                f"--lookbook_dir={empty}",
                f"--output_dir={existing}",
            ),
            (str(existing), "--overwrite"),
        ),
        (
            (
                "-m",
                "pldt_tf.train",
                "--flagfile=configs/smoke.flags",
                f"--workdir={tmp_path / 'w'}",
                "--width=-1",
            ),
            ("--width=-1.0 must be > 0",),
        ),
        (
            ("-m", "pldt_tf.evaluate", f"--workdir={missing}"),
            (missing, "not a training workdir"),
        ),
    ]
    for args, fragments in cases:
        _assert_one_line_error(run_tool(*args, timeout=120), *fragments)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "existing"]
