"""Style cannot drift: ruff lint and format checks run with the tests."""

from __future__ import annotations

from tool_runner import run_tool


def test_ruff_lint_is_clean():
    result = run_tool("-m", "ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = run_tool("-m", "ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr
