"""What every tool shares: one definition of the shared flags, and a user's
mistake ending a tool with one line and exit status 2, not a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from tool_runner import ROOT, run_tool

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
        (  # a check of the data pipeline's, through the tool
            (
                "-m",
                "pldt_tf.train",
                "--flagfile=configs/smoke.flags",
                f"--workdir={tmp_path / 'w'}",
                "--hard_negatives=1.5",
            ),
            ("--hard_negatives=1.5 must lie in [0, 1]",),
        ),
        (  # absl's own check of a flag's value
            ("-m", "pldt_tf.export", f"--workdir={missing}", "--version=-1"),
            ("--version=-1", "not a non-negative integer"),
        ),
    ]
    for args, fragments in cases:
        _assert_one_line_error(run_tool(*args, timeout=120), *fragments)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "existing"]


SMOKE = os.path.join(ROOT, "configs", "smoke.flags")
# Every refusal of the training tool: (flags, what its one line says).
TRAIN_REFUSALS = [
    (["--method=gan"], "--method"),
    (["--selection=random"], "--selection"),
    (["--upsampling=bilinear"], "--upsampling"),
    (["--converter_loss=hinge"], "--converter_loss"),
    (["--precision=float8"], "--precision"),
    (["--width=0"], "--width=0.0 must be > 0"),
    (["--batch_size=0"], "--batch_size=0 must be > 0"),
    (["--epochs=0"], "--epochs=0 must be > 0"),
    (["--learning_rate=0"], "--learning_rate=0.0 must be > 0"),
    (["--checkpoint_every_steps=0"], "--checkpoint_every_steps=0 must be > 0"),
    (["--keep_checkpoints=0"], "--keep_checkpoints=0 must be > 0"),
    (["--sample_every_steps=0"], "--sample_every_steps=0 must be > 0"),
    (["--num_samples=0"], "--num_samples=0 must be > 0"),
    (["--decay_epochs=2"], "--decay_epochs=2 must lie in [0, --epochs=2)"),
    (["--steps_per_epoch=0"], "--steps_per_epoch must be > 0"),
    (["--hard_negatives=1.5"], "--hard_negatives=1.5 must lie in [0, 1]"),
    (["--hard_negative_pool=0"], "--hard_negative_pool=0 must be >= 1"),
    (
        ["--direction=product_to_human", "--negatives=stored"],
        "--negatives=stored holds product images",
    ),
    (
        ["--hard_negatives=0.5", "--negatives=stored"],
        "--hard_negatives draws colour-matched product images",
    ),
    (["--synthetic_colors=mauve"], "--synthetic_colors"),
    (["--pixel_loss=l2"], "--pixel_loss"),
    (["--pixel_weight=100"], "--pixel_weight=100 weighs no pixel term"),
    (["--pixel_loss=l1"], "--pixel_weight=0 must be > 0 with --pixel_loss=l1"),
    (["--pixel_loss=l1", "--pixel_weight=-1"], "--pixel_weight=-1 must be > 0"),
    (
        ["--method=c_mse", "--pixel_loss=l1", "--pixel_weight=1"],
        "--method=c_mse already trains by a pixel loss alone",
    ),
    (
        ["--feature_matching_weight=10", "--selection=per_sample"],
        "needs --selection=per_case (got per_sample)",
    ),
    (["--discriminator_learning_rate=-1"], "--discriminator_learning_rate=-1.0"),
    (["--flagfile=/nonexistent.flags"], "/nonexistent.flags"),
]


def _train_in_process(argv: list[str], capsys) -> tuple[int, str]:
    """Runs the training tool's flag parsing and main as ``cli.run`` does,
    in this process: (exit status, stderr)."""
    import logging

    from absl import flags

    import pldt_tf.train as train  # defines the flags (once per process)

    was_parsed = flags.FLAGS.is_parsed()
    # Parsing sets absl's logger to --verbosity's level: restore it after,
    # for the tests that read INFO lines.
    absl_level = logging.getLogger("absl").level
    flags.FLAGS.unparse_flags()
    try:
        with pytest.raises(SystemExit) as ended:
            cli.guarded(train.main)(cli.parse_flags(["train", *argv]))
    finally:
        flags.FLAGS.unparse_flags()
        if was_parsed:
            flags.FLAGS.mark_as_parsed()
        logging.getLogger("absl").setLevel(absl_level)
    return ended.value.code, capsys.readouterr().err


@pytest.mark.parametrize(("args", "message"), TRAIN_REFUSALS)
def test_every_training_refusal_is_one_line(args, message, capsys, tmp_path):
    argv = [f"--flagfile={SMOKE}", f"--workdir={tmp_path / 'w'}", *args]
    status, stderr = _train_in_process(argv, capsys)
    assert status == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert message in lines[0]
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--workdir="], "--workdir is required"),
        (["--workdir=w", "--pairs_csv=shop.csv"], "--pairs_csv needs --records_dir"),
    ],
)
def test_training_usage_errors_are_one_line(argv, message, capsys):
    status, stderr = _train_in_process(argv, capsys)
    assert status == 2
    assert stderr.strip().splitlines() == [stderr.strip()]
    assert message in stderr


CONSOLE_SCRIPTS = ("train", "evaluate", "export", "serve", "transfer", "benchmark")


def test_console_scripts_are_the_python_m_tools():
    """pip install -e . puts pldt-<tool> on PATH, each the tool's ``run``."""
    from importlib import metadata

    scripts = {e.name: e for e in metadata.entry_points(group="console_scripts")}
    for tool in CONSOLE_SCRIPTS:
        entry = scripts[f"pldt-{tool}"]
        assert entry.value == f"pldt_tf.{tool}:run"
        # Not imported here: two tools' flags share names in one process.
        with open(os.path.join(ROOT, "pldt_tf", f"{tool}.py")) as file:
            assert "\ndef run() -> None:" in file.read(), tool


@pytest.mark.slow
def test_a_console_script_runs_from_any_folder(tmp_path):
    # pip puts the script beside the interpreter that installed it.
    script = shutil.which(
        "pldt-export", path=os.path.dirname(sys.executable)
    ) or shutil.which("pldt-export")
    assert script, "pip install -e . installs pldt-export"
    result = subprocess.run(
        [script, "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "--export_dir" in result.stdout
    missing = subprocess.run(
        [script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert missing.returncode != 0 and "--workdir" in missing.stderr
