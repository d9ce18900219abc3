"""Faults that real disks and buckets produce end in one line and lose
nothing: a full disk, a damaged record shard, a damaged checkpoint, a damaged
export, and damaged or missing files the tools read (pldt_tf.faults)."""

from __future__ import annotations

import dataclasses
import filecmp
import glob
import os
import shutil
import subprocess

import numpy as np
import pytest
import tensorflow as tf
from tool_runner import run_tool
from train_fixtures import tiny_config

from pldt_tf import errors, faults
from pldt_tf.training import fit
from pldt_tf.training import workdir as workdir_lib

SMOKE = "--flagfile=configs/smoke.flags"


def _last_line(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line]
    return lines[-1] if lines else ""


def _assert_one_line_error(result, *parts: str) -> str:
    assert result.returncode in (1, 2), result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    line = _last_line(result)
    assert line.startswith("error: "), result.stderr[-3000:]
    for part in parts:
        assert part in line, line
    return line


def _temp_leftovers(workdir) -> list[str]:
    return glob.glob(os.path.join(str(workdir), "checkpoints", "*_temp*"))


@pytest.fixture(scope="module")
def checkpointed(synthetic_data, tmp_path_factory):
    """A tiny workdir holding ckpt-3, ckpt-4 and ckpt-6."""
    _, records_dir = synthetic_data
    workdir = tmp_path_factory.mktemp("faults") / "workdir"
    fit.train(tiny_config(records_dir, workdir))
    names = sorted(os.listdir(workdir / "checkpoints"))
    assert "ckpt-6.index" in names and "ckpt-4.index" in names, names
    return str(workdir)


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def _cut_short(path: str) -> None:
    size = os.path.getsize(path)
    with open(path, "r+b") as file:
        file.truncate(size // 2)


def _copy(workdir: str, tmp_path) -> str:
    copy = str(tmp_path / "copy")
    shutil.copytree(workdir, copy)
    return copy


# -- a full disk --------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 7 MiB tmpfs (one smoke checkpoint is 4.8 MiB); skipped where this
    process may not mount (CI runs as root); the in-process test below
    covers the mapping there."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=7m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.slow
def test_full_disk_ends_in_one_line_and_resumes_after_space_is_freed(
    synthetic_data, small_disk
):
    _, records_dir = synthetic_data
    workdir = small_disk / "run"
    command = (SMOKE, f"--records_dir={records_dir}", f"--workdir={workdir}")
    result = run_tool("-m", "pldt_tf.train", *command)
    line = _assert_one_line_error(
        result,
        f"no space left on the disk of {workdir}",
        "the last complete checkpoint, ckpt-2, is kept",
        "python -m pldt_tf.train",
        f"--workdir={workdir}",
    )
    assert result.returncode == 2, line
    assert not _temp_leftovers(workdir)  # removed at once: it holds space
    assert tf.train.latest_checkpoint(str(workdir / "checkpoints")).endswith("ckpt-2")
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    result = run_tool("-m", "pldt_tf.train", *command)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Resuming from" in result.stdout and "ckpt-2" in result.stdout
    assert (workdir / "train_summary.json").is_file()
    assert not _temp_leftovers(workdir)


def test_full_disk_in_process(synthetic_data, tmp_path, monkeypatch):
    """The same mapping with the checkpoint writer faked: the second save
    fails as TensorFlow's SaveV2 does on a full disk, leaving its _temp."""
    _, records_dir = synthetic_data
    saves = []
    real_save = tf.train.CheckpointManager.save

    def save(manager, checkpoint_number=None, **kwargs):
        saves.append(checkpoint_number)
        if len(saves) == 2:
            os.makedirs(
                os.path.join(manager.directory, f"ckpt-{checkpoint_number}_temp")
            )
            raise tf.errors.ResourceExhaustedError(
                None, None, f"{manager.directory}/x_temp; No space left on device"
            )
        return real_save(manager, checkpoint_number=checkpoint_number, **kwargs)

    monkeypatch.setattr(tf.train.CheckpointManager, "save", save)
    config = tiny_config(records_dir, tmp_path / "w")
    with pytest.raises(errors.UserError) as raised:
        fit.train(config)
    message = str(raised.value)
    assert "no space left on the disk of" in message
    assert "the last complete checkpoint, ckpt-2, is kept" in message
    assert not _temp_leftovers(config.workdir)


def test_out_of_space_is_recognised_and_nothing_else():
    full = tf.errors.ResourceExhaustedError(None, None, "x; No space left on device")
    assert faults.is_out_of_space(full)
    assert faults.is_out_of_space(OSError(28, "No space left on device"))
    # Out of memory is a ResourceExhaustedError too, and not a full disk.
    assert not faults.is_out_of_space(
        tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")
    )
    assert not faults.is_out_of_space(OSError(13, "Permission denied"))


def test_full_disk_while_building_records_leaves_nothing(
    synthetic_data, tmp_path, monkeypatch
):
    from pldt_tf.data import lookbook, records

    data_dir, _ = synthetic_data
    data = lookbook.read_folder(os.path.join(data_dir, "lookbook"))
    real = tf.io.TFRecordWriter

    class FullDisk(real):
        def write(self, record):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(tf.io, "TFRecordWriter", FullDisk)
    output = tmp_path / "records"
    with pytest.raises(errors.UserError, match="no space left on the disk of"):
        records.build_records(data, str(output))
    assert not output.exists() and os.listdir(tmp_path) == []


# -- damaged records ----------------------------------------------------------


def _damaged_records(records_dir: str, tmp_path) -> tuple[str, str]:
    copy = str(tmp_path / "records")
    shutil.copytree(records_dir, copy)
    (shard,) = sorted(glob.glob(os.path.join(copy, "triplets-train-*")))[:1]
    data = bytearray(_read(shard))
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    with open(shard, "wb") as file:
        file.write(data)
    return copy, os.path.basename(shard)


@pytest.mark.slow
def test_a_damaged_shard_is_named_by_training_and_by_the_check(
    synthetic_data, tmp_path
):
    records_dir, shard = _damaged_records(synthetic_data[1], tmp_path)
    workdir = tmp_path / "w"
    result = run_tool(
        "-m",
        "pldt_tf.train",
        SMOKE,
        f"--records_dir={records_dir}",
        f"--workdir={workdir}",
    )
    _assert_one_line_error(
        result,
        f"damaged records in {records_dir}: {shard} (corrupted record at",
        "python tools/build_tfrecords.py --lookbook_dir=",
        f"--output_dir={records_dir} --overwrite",
    )
    assert not workdir.exists()  # stopped before anything was written
    check = run_tool("tools/build_tfrecords.py", f"--verify={records_dir}")
    _assert_one_line_error(check, f"{shard} (corrupted record at")
    good = run_tool("tools/build_tfrecords.py", f"--verify={synthetic_data[1]}")
    assert good.returncode == 0, good.stderr[-2000:]
    assert "all readable and as dataset.json counts" in good.stdout


def test_a_shard_damaged_during_training_is_named(synthetic_data, tmp_path):
    records_dir, shard = _damaged_records(synthetic_data[1], tmp_path)
    config = tiny_config(records_dir, tmp_path / "w")
    error = tf.errors.DataLossError(None, None, "corrupted record at 12")
    stopped = fit.training_stopped(error, config, config.workdir)
    assert isinstance(stopped, errors.UserError)
    assert f"{shard} (corrupted record at" in str(stopped)
    assert fit.training_stopped(ValueError("other"), config, config.workdir) is None


def test_missing_shard_short_count_and_damaged_dataset_json(synthetic_data, tmp_path):
    copy = str(tmp_path / "records")
    shutil.copytree(synthetic_data[1], copy)
    shards = sorted(glob.glob(os.path.join(copy, "products-*")))
    os.remove(shards[0])
    report = faults.check_records(copy)
    assert report["missing"] == [
        {"file": os.path.basename(shards[0]), "reason": "not found"}
    ]
    with pytest.raises(errors.UserError, match="not found"):
        faults.verify_records(copy)
    shutil.rmtree(copy)
    shutil.copytree(synthetic_data[1], copy)
    # A shard that reads but holds fewer records than dataset.json says.
    (shard,) = sorted(glob.glob(os.path.join(copy, "triplets-test-*")))[:1]
    first = next(iter(tf.data.TFRecordDataset(shard)))
    with tf.io.TFRecordWriter(shard) as writer:
        writer.write(first.numpy())
    (problem,) = faults.check_records(copy)["wrong_count"]
    assert problem["file"] == "test triplet shards"
    assert problem["reason"].startswith("1 records, dataset.json says")
    with open(os.path.join(copy, "dataset.json"), "w") as file:
        file.write("")
    with pytest.raises(errors.UserError, match=r"dataset.json is empty: .*--overwrite"):
        faults.check_records(copy)


# -- damaged checkpoints ------------------------------------------------------


@pytest.mark.slow
def test_resume_falls_back_from_a_cut_short_checkpoint(checkpointed, tmp_path):
    workdir = _copy(checkpointed, tmp_path)
    data = os.path.join(workdir, "checkpoints", "ckpt-6.data-00000-of-00001")
    _cut_short(data)
    damaged_bytes = _read(data)
    config = tiny_config(
        workdir_lib.load_config(workdir).records_dir, workdir, epochs=3
    )
    result = fit.train(config)
    assert result.first_step == 4 and result.steps == 9
    kept = os.path.join(workdir, "checkpoints", "damaged")
    assert _read(os.path.join(kept, os.path.basename(data))) == damaged_bytes
    assert os.path.isfile(os.path.join(kept, "ckpt-6.index"))
    assert tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints")).endswith(
        "ckpt-9"
    )


def test_resume_says_which_checkpoint_it_skipped(checkpointed, tmp_path, capsys):
    workdir = _copy(checkpointed, tmp_path)
    _cut_short(os.path.join(workdir, "checkpoints", "ckpt-6.data-00000-of-00001"))
    model = workdir_lib.load_model_and_step(checkpointed)[0]  # any model of it
    config = dataclasses.replace(workdir_lib.load_config(workdir), workdir=workdir)
    fit._restore(config, tf.train.Checkpoint(model=model))
    out = capsys.readouterr().out
    assert "skipped damaged checkpoint ckpt-6 (IndexError: Read less bytes" in out
    assert "its files are kept in" in out and out.rstrip().endswith("ckpt-4")
    assert int(model.converter_optimizer.iterations.numpy()) == 4


def test_a_relative_workdir_restores_and_falls_back(
    checkpointed, tmp_path, monkeypatch
):
    """Workdirs are usually named relative to the working folder (the
    demo's workdirs/demo): its checkpoints restore, and a fallback rewrites
    the index with names relative to the checkpoint folder."""
    _copy(checkpointed, tmp_path)
    monkeypatch.chdir(tmp_path)
    assert workdir_lib.load_model_and_step("copy")[1] == 6
    _cut_short(os.path.join("copy", "checkpoints", "ckpt-6.data-00000-of-00001"))
    assert workdir_lib.load_model_and_step("copy")[1] == 4
    model = workdir_lib.load_model_and_step(checkpointed)[0]
    config = dataclasses.replace(workdir_lib.load_config("copy"), workdir="copy")
    fit._restore(config, tf.train.Checkpoint(model=model))
    with open(os.path.join("copy", "checkpoints", "checkpoint")) as file:
        index = file.read()
    assert 'model_checkpoint_path: "ckpt-4"' in index
    assert "/" not in index
    monkeypatch.chdir(os.path.join(tmp_path, "copy"))
    assert workdir_lib.load_model_and_step(".")[1] == 4


def test_evaluate_and_export_load_the_newest_checkpoint_that_restores(
    checkpointed, tmp_path, caplog
):
    workdir = _copy(checkpointed, tmp_path)
    _cut_short(os.path.join(workdir, "checkpoints", "ckpt-6.data-00000-of-00001"))
    before = sorted(os.listdir(os.path.join(workdir, "checkpoints")))
    model, step = workdir_lib.load_model_and_step(workdir)
    assert step == 4
    reference, _ = workdir_lib.load_model_and_step(
        checkpointed, os.path.join(checkpointed, "checkpoints", "ckpt-4")
    )
    for got, want in zip(
        model.converter.weights, reference.converter.weights, strict=True
    ):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    # A reader moves nothing.
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == before
    with pytest.raises(errors.UserError, match="ckpt-6 does not restore"):
        workdir_lib.load_model_and_step(
            workdir, os.path.join(workdir, "checkpoints", "ckpt-6")
        )


def test_no_checkpoint_restores_names_them_all_and_keeps_them(checkpointed, tmp_path):
    workdir = _copy(checkpointed, tmp_path)
    for data in glob.glob(os.path.join(workdir, "checkpoints", "*.data-*")):
        _cut_short(data)
    before = {
        name: _read(os.path.join(workdir, "checkpoints", name))
        for name in os.listdir(os.path.join(workdir, "checkpoints"))
    }
    with pytest.raises(errors.UserError) as raised:
        workdir_lib.load_model_and_step(workdir)
    message = str(raised.value)
    assert "no checkpoint in" in message
    for name in ("ckpt-3", "ckpt-4", "ckpt-6"):
        assert name in message
    after = {
        name: _read(os.path.join(workdir, "checkpoints", name))
        for name in os.listdir(os.path.join(workdir, "checkpoints"))
    }
    assert after == before


# -- damaged exports and workdir files -----------------------------------------


@pytest.mark.slow
def test_a_cut_short_export_is_one_line(exported, synthetic_data, tmp_path):
    _, version = exported
    copy = str(tmp_path / "export" / "7")
    shutil.copytree(version, copy)
    _cut_short(os.path.join(copy, "saved_model.pb"))
    photos = os.path.join(synthetic_data[0], "lookbook")
    result = run_tool(
        "-m",
        "pldt_tf.transfer",
        f"--model={os.path.dirname(copy)}",
        f"--input={photos}",
        f"--output={tmp_path / 'out'}",
    )
    _assert_one_line_error(
        result,
        f"the export {copy} is damaged",
        f"python -m pldt_tf.export --workdir=WORKDIR --export_dir={tmp_path} "
        "--model_name=export",
    )
    assert filecmp.cmp(
        os.path.join(version, "fingerprint.pb"), os.path.join(copy, "fingerprint.pb")
    )


def test_an_empty_config_json_is_one_line(checkpointed, tmp_path):
    workdir = _copy(checkpointed, tmp_path)
    with open(os.path.join(workdir, "config.json"), "w") as file:
        file.write("")
    with pytest.raises(errors.UserError, match=r"config.json is empty: .*--workdir"):
        workdir_lib.load_config(workdir)
