"""The training workdir: comparing two runs (the check that a change of code
leaves training unchanged), in-process and through tools/compare_runs.py."""

from __future__ import annotations

import json
import shutil

import pytest
from tool_runner import run_tool
from train_fixtures import tiny_config

from pldt_tf import errors
from pldt_tf.training import fit
from pldt_tf.training import workdir as workdir_lib


@pytest.fixture(scope="module")
def two_runs(synthetic_data, tmp_path_factory):
    """The same tiny config trained twice into two workdirs."""
    _, records_dir = synthetic_data
    parent = tmp_path_factory.mktemp("twice")
    return [
        fit.train(tiny_config(records_dir, parent / name)).workdir
        for name in ("first", "second")
    ]


def _tampered_copy(workdir, destination):
    shutil.copytree(workdir, destination)
    grid = destination / "final_samples.png"
    data = bytearray(grid.read_bytes())
    data[-20] ^= 1  # one bit of the image data
    grid.write_bytes(bytes(data))
    summary_path = destination / "train_summary.json"
    summary = json.loads(summary_path.read_text())
    summary["validation"]["rmse"] += 1e-6
    summary_path.write_text(json.dumps(summary))
    return str(destination)


def test_the_same_config_trains_to_identical_runs(two_runs):
    assert workdir_lib.compare_runs(*two_runs) == []


def test_compare_runs_reports_a_changed_grid_and_figure(two_runs, tmp_path):
    first, second = two_runs
    tampered = _tampered_copy(second, tmp_path / "tampered")
    differences = workdir_lib.compare_runs(first, tampered)
    assert "final_samples.png: not byte-identical" in differences
    assert any(
        d.startswith("validation/rmse: differs by up to 1e-06") for d in differences
    )
    # A tolerance forgives the figure, never the grid.
    assert workdir_lib.compare_runs(first, tampered, tolerance=1e-3) == [
        "final_samples.png: not byte-identical"
    ]


def test_compare_runs_names_a_workdir_that_did_not_finish(two_runs, tmp_path):
    with pytest.raises(errors.MissingInputError, match="not a finished training"):
        workdir_lib.compare_runs(two_runs[0], str(tmp_path))


@pytest.mark.slow
def test_compare_runs_tool_exit_status(two_runs, tmp_path):
    first, second = two_runs
    same = run_tool(
        "tools/compare_runs.py", f"--baseline={first}", f"--candidate={second}"
    )
    assert same.returncode == 0, same.stderr
    assert "identical" in same.stdout
    tampered = _tampered_copy(second, tmp_path / "tampered")
    changed = run_tool(
        "tools/compare_runs.py", f"--baseline={first}", f"--candidate={tampered}"
    )
    assert changed.returncode == 1
    assert "final_samples.png: not byte-identical" in changed.stdout
    missing = run_tool(
        "tools/compare_runs.py", f"--baseline={first}", f"--candidate={tmp_path}"
    )
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
    assert missing.stderr.strip().splitlines()[-1].startswith("error: ")
