"""MultiWorkerMirroredStrategy: two worker processes on 127.0.0.1 (CPU)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest
from tool_runner import ROOT, run_tool

from pldt_tf import cli


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _cluster_env(index: int, ports: list[int]) -> dict:
    env = dict(os.environ)
    env["TF_CONFIG"] = json.dumps(
        {
            "cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
            "task": {"type": "worker", "index": index},
        }
    )
    return env


def _start_cluster(commands: list[list[str]]):
    """Starts one process per worker: (processes, their output files).

    Output goes to files, not pipes: a worker blocked on a full pipe would
    stall the collectives of the others.
    """
    ports = _free_ports(len(commands))
    logs = [tempfile.TemporaryFile("w+") for _ in commands]  # noqa: SIM115
    processes = [
        subprocess.Popen(
            command,
            env=_cluster_env(index, ports),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for index, (command, log) in enumerate(zip(commands, logs, strict=True))
    ]
    return processes, logs


def _stop(processes, logs) -> None:
    for process, log in zip(processes, logs, strict=True):
        process.kill()
        log.close()


def _run_cluster(commands: list[list[str]], timeout: int = 300) -> list[str]:
    """Runs one process per worker to the end; returns their outputs, in order."""
    processes, logs = _start_cluster(commands)
    outputs = []
    try:
        for process, log in zip(processes, logs, strict=True):
            process.wait(timeout=timeout)
            log.seek(0)
            text = log.read()
            assert process.returncode == 0, text[-3000:]
            outputs.append(text)
    finally:
        _stop(processes, logs)
    return outputs


@pytest.mark.slow
@pytest.mark.parametrize("selection", ["per_case", "per_sample"])
def test_two_workers_equal_one_process(selection, tmp_path):
    script = os.path.join(ROOT, "tests", "multi_worker_step.py")
    outputs = [str(tmp_path / f"worker{i}.npz") for i in range(2)]
    printed = _run_cluster(
        [[sys.executable, script, "worker", path, selection] for path in outputs]
    )
    assert all("replicas=2" in text for text in printed), printed
    single = str(tmp_path / "single.npz")
    result = run_tool(script, "single", single, selection)
    assert result.returncode == 0, result.stderr[-3000:]
    moved = float(re.search(r"moved=(\S+)", result.stdout)[1])
    assert moved > 1e-4  # the steps really changed the weights
    first, second, reference = (np.load(p) for p in (*outputs, single))
    assert len(first.files) == len(reference.files) > 20
    for name in reference.files:
        # Both workers apply the same all-reduced gradients.
        np.testing.assert_array_equal(first[name], second[name])
        # One process on the same global batch: equal up to round-off
        # (measured: 5e-8, float64 networks on float32 images).
        np.testing.assert_allclose(first[name], reference[name], atol=1e-6)


def _train_command(records_dir, workdir, epochs, **overrides):
    flag_values = dict(
        workdir=workdir,
        records_dir=records_dir,
        synthetic_products=0,
        width=0.0625,
        batch_size=8,
        epochs=epochs,
        decay_epochs=epochs - 1,  # resuming with another decay works
        steps_per_epoch=2,
        checkpoint_every_steps=2,
        sample_every_steps=2,
        num_samples=4,
        precision="float32",
    )
    flag_values.update(overrides)
    return cli.tool_command("pldt_tf.train", **flag_values)


@pytest.mark.slow
def test_train_tool_under_two_workers_checkpoints_from_the_chief_and_resumes(
    synthetic_data, tmp_path
):
    _, records_dir = synthetic_data
    workdir = tmp_path / "workdir"
    before = set(os.listdir(tmp_path))
    printed = _run_cluster([_train_command(records_dir, workdir, 1)] * 2)
    assert all("replicas=2" in text for text in printed), printed[0][-2000:]
    checkpoints = sorted(os.listdir(workdir / "checkpoints"))
    assert checkpoints == ["checkpoint", "ckpt-2.data-00000-of-00001", "ckpt-2.index"]
    assert set(os.listdir(tmp_path)) - before == {"workdir"}  # nothing else written
    summary = json.loads((workdir / "train_summary.json").read_text())
    assert summary["steps"] == 2

    printed = _run_cluster([_train_command(records_dir, workdir, 2)] * 2)
    for text in printed:  # both workers resumed from the chief's checkpoint
        assert re.search(r"Resuming from .*ckpt-2\b", text), text[-2000:]
    summary = json.loads((workdir / "train_summary.json").read_text())
    assert summary["steps"] == 4
    assert "ckpt-4.index" in os.listdir(workdir / "checkpoints")
    # The checkpoints load in a single process too.
    from pldt_tf.training import workdir as workdir_lib

    assert workdir_lib.load_model_and_step(str(workdir))[1] == 4


@pytest.mark.slow
def test_a_lost_worker_ends_the_others_with_one_line(synthetic_data, tmp_path):
    """SIGKILL worker 1 once the chief has checkpointed: the chief stops
    with one line naming the lost worker, the checkpoint kept and the
    command to resume, instead of a collective operation's traceback."""
    _, records_dir = synthetic_data
    workdir = tmp_path / "workdir"
    command = _train_command(
        records_dir, workdir, 1, steps_per_epoch=2000, sample_every_steps=1000
    )
    processes, logs = _start_cluster([command] * 2)
    try:
        deadline = time.time() + 240
        while not (workdir / "checkpoints" / "checkpoint").exists():
            assert time.time() < deadline and processes[0].poll() is None
            time.sleep(0.5)
        processes[1].send_signal(signal.SIGKILL)
        assert processes[0].wait(timeout=180) == 2
        logs[0].seek(0)
        text = logs[0].read()
    finally:
        _stop(processes, logs)
    last = text.strip().splitlines()[-1]
    assert last.startswith("error: lost contact with worker 1"), text[-3000:]
    assert re.search(r"nothing after checkpoint ckpt-\d+ was kept", last), last
    assert "python -m pldt_tf.train --workdir=" in last
    assert "Traceback" not in text
