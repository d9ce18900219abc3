"""The training tool end to end: smoke run, resume, kill and restart, flags."""

from __future__ import annotations

import dataclasses
import glob
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import tensorflow as tf
from tool_runner import ROOT, run_tool
from train_fixtures import tiny_config

from pldt_tf import config as config_lib
from pldt_tf import model as model_lib
from pldt_tf.data import prepare
from pldt_tf.training import devices, factory, fit
from pldt_tf.training import workdir as workdir_lib


@pytest.fixture(scope="module")
def smoke_run(synthetic_data, tmp_path_factory):
    _, records_dir = synthetic_data
    workdir = tmp_path_factory.mktemp("train") / "smoke"
    config = tiny_config(records_dir, workdir)
    return config, fit.train(config)


def test_smoke_run_fills_the_workdir(smoke_run):
    config, result = smoke_run
    workdir = config.workdir
    assert result.steps == 6
    with open(os.path.join(workdir, "config.json")) as file:
        assert json.load(file)["width"] == 0.0625
    assert os.path.isfile(result.final_samples)
    assert glob.glob(os.path.join(workdir, "samples", "step_*.png"))
    assert glob.glob(os.path.join(workdir, "logs", "events.out.tfevents.*"))
    assert result.checkpoint.endswith("ckpt-6")
    assert 0.0 < result.validation["rmse"] < 1.0
    assert result.health_violations == 0
    with open(os.path.join(workdir, "train_summary.json")) as file:
        summary = json.load(file)
    assert "val_c_ssim" in summary["history"]


def test_tensorboard_logs_hold_losses_and_images(smoke_run):
    config, _ = smoke_run
    tags = set()
    for path in glob.glob(os.path.join(config.workdir, "logs", "events.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(value.tag for value in event.summary.value)
    assert {"loss/converter", "loss/real_fake", "loss/domain", "samples"} <= tags
    assert {"d_domain/unassociated", "learning_rate", "images_per_second"} <= tags
    assert {"validation/rmse", "validation/c_ssim"} <= tags


def test_resume_continues_step_count_and_schedule(smoke_run):
    config, _ = smoke_run
    longer = dataclasses.replace(config, epochs=3)
    result = fit.train(longer)
    assert result.steps == 9
    assert result.checkpoint.endswith("ckpt-9")
    converter = workdir_lib.load_converter(config.workdir)
    assert converter.output.shape == (None, 64, 64, 3)


def test_load_config_reads_the_workdir_and_names_what_is_wrong(smoke_run, tmp_path):
    config, _ = smoke_run
    assert workdir_lib.load_config(config.workdir).width == 0.0625
    with pytest.raises(FileNotFoundError, match="not a training workdir"):
        workdir_lib.load_config(str(tmp_path))
    (tmp_path / "config.json").write_text(config.to_json())
    assert workdir_lib.load_config(str(tmp_path)) == config  # a round trip
    values = json.loads(config.to_json())
    values["retired_flag"] = 1
    (tmp_path / "config.json").write_text(json.dumps(values))
    with pytest.raises(ValueError, match=r"retired_flag.*another version"):
        workdir_lib.load_config(str(tmp_path))


def _snapshot(folder) -> dict:
    """{relative path: bytes} of every file below ``folder``."""
    files = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as file:
                files[os.path.relpath(path, folder)] = file.read()
    return files


def test_a_failed_start_leaves_the_workdir_byte_identical(synthetic_data, tmp_path):
    _, records_dir = synthetic_data
    config = tiny_config(records_dir, tmp_path / "w", epochs=1, decay_epochs=0)
    fit.train(config)
    # What a process killed mid-checkpoint leaves: TensorFlow's temporary.
    leftover = os.path.join(config.workdir, "checkpoints", "ckpt-9_temp")
    os.makedirs(leftover)
    with open(os.path.join(leftover, "part-00000"), "wb") as file:
        file.write(b"half a checkpoint")
    before = _snapshot(config.workdir)
    with pytest.raises(ValueError, match="must stay as in"):
        fit.train(dataclasses.replace(config, width=0.125))
    with pytest.raises(ValueError, match="--noresume"):
        fit.train(dataclasses.replace(config, resume=False, epochs=2))
    assert _snapshot(config.workdir) == before
    # The next run that starts removes the litter (and is never misled by it).
    result = fit.train(dataclasses.replace(config, epochs=2))
    assert result.first_step == 3 and result.steps == 6
    assert not os.path.exists(leftover)


def test_noresume_refuses_a_workdir_with_checkpoints(smoke_run):
    config, _ = smoke_run
    with pytest.raises(ValueError, match="--noresume"):
        fit.train(dataclasses.replace(config, resume=False))


def test_batch_larger_than_the_data_is_a_clear_error(synthetic_data, tmp_path):
    _, records_dir = synthetic_data
    config = tiny_config(
        records_dir, tmp_path / "w", batch_size=100_000, steps_per_epoch=None
    )
    with pytest.raises(ValueError, match="--batch_size"):
        fit.train(config)


@pytest.mark.slow
@pytest.mark.parametrize("selection", model_lib.SELECTIONS)
def test_mirrored_step_equals_single_device_step(selection):
    result = run_tool("tests/distributed_step.py", selection)
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.search(r"replicas=(\d+) max_diff=(\S+) moved=(\S+)", result.stdout)
    assert match, result.stdout
    assert int(match[1]) == 2
    assert float(match[3]) > 1e-4  # the step really changed the weights
    assert float(match[2]) < 1e-6  # float64: equal up to round-off


def _train_cli(*args, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "pldt_tf.train", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,
    )


@pytest.mark.slow
def test_killed_training_restarts_from_its_last_checkpoint(synthetic_data, tmp_path):
    _, records_dir = synthetic_data
    workdir = tmp_path / "killed"
    args = [
        f"--records_dir={records_dir}",
        "--lookbook_dir=",
        f"--workdir={workdir}",
        "--width=0.0625",
        "--precision=float32",
        "--batch_size=8",
        "--epochs=2",
        "--decay_epochs=1",
        "--steps_per_epoch=40",
        "--checkpoint_every_steps=3",
        "--sample_every_steps=1000",
    ]
    process = _train_cli(*args)
    deadline = time.time() + 240
    checkpoints = os.path.join(workdir, "checkpoints")
    while (
        time.time() < deadline
        and len(glob.glob(os.path.join(checkpoints, "*.index"))) < 2
    ):
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)  # at an arbitrary moment, maybe mid-save
    process.wait()
    latest = tf.train.latest_checkpoint(checkpoints)
    assert latest is not None
    killed_at = int(latest.rsplit("-", 1)[1])
    assert 0 < killed_at < 80
    restarted = _train_cli(*args)
    output, _ = restarted.communicate(timeout=300)
    assert restarted.returncode == 0, output[-3000:]
    assert f"Resuming from {latest}" in output
    # This run trained the steps after the checkpoint, and says so.
    assert f"Trained {80 - killed_at} steps (steps {killed_at} to 80)" in output
    assert "Training on CPU (replicas=1, one device), precision float32, 80 steps" in (
        output
    )
    # The summary ends with the commands that take the workdir further.
    for tool in ("evaluate --workdir=", "export --workdir=", "serve --model="):
        assert f"python -m pldt_tf.{tool}" in output, tool


def test_cli_bad_flags_name_the_flag():
    for flag, message in (
        ("--method=gan", "--method"),
        ("--width=0", "--width"),
        ("--synthetic_colors=mauve", "--synthetic_colors"),
        ("--records_dir=/nonexistent/records", "--records_dir"),
    ):
        process = _train_cli(
            "--workdir=/tmp/unused", "--lookbook_dir=/nonexistent", flag
        )
        output, _ = process.communicate(timeout=120)
        assert process.returncode != 0
        assert message in output, output[-2000:]


def test_every_flag_is_documented_and_configs_parse():
    process = _train_cli("--help")  # not only --helpfull: every flag it reads
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0
    for field in dataclasses.fields(config_lib.TrainConfig):
        assert re.search(rf"--(\[no\])?{field.name}:", output), field.name
    from absl import flags

    import pldt_tf.train  # noqa: F401  (defines the flags)

    paths = glob.glob(os.path.join(ROOT, "configs", "*.flags"))
    assert len(paths) >= 7
    fields = {f.name for f in dataclasses.fields(config_lib.TrainConfig)}
    for path in paths:
        with open(path) as file:
            text = file.read()
        assert text.startswith("#") and "python -m pldt_tf.train --flagfile=" in text, (
            path
        )
        cwd = os.getcwd()
        os.chdir(ROOT)  # nested --flagfile paths are relative to the repository
        try:
            args = flags.FLAGS.read_flags_from_files(
                [f"--flagfile={path}"], force_gnu=False
            )
        finally:
            os.chdir(cwd)
        names = {re.match(r"--(?:no)?(\w+)", arg)[1] for arg in args}
        assert names <= fields, (path, names - fields)


def test_precision_auto_is_float32_on_cpu():
    assert devices.resolve_precision("auto") == "float32"
    assert devices.resolve_precision("mixed_bfloat16") == "mixed_bfloat16"


def test_optimizer_choices(synthetic_data, tmp_path):
    _, records_dir = synthetic_data
    sgd = tiny_config(records_dir, tmp_path, optimizer="sgd", momentum=0.5)
    optimizer = factory.make_optimizer(sgd, 1e-3, "float32", "c")
    assert optimizer.__class__.__name__ == "SGD" and optimizer.momentum == 0.5
    adam = tiny_config(records_dir, tmp_path)
    assert factory.make_optimizer(adam, 1e-3, "float32", "c").beta_1 == 0.5
    scaled = factory.make_optimizer(adam, 1e-3, "mixed_float16", "c")
    assert scaled.__class__.__name__ == "LossScaleOptimizer"


def test_schedule_divides_learning_rate_by_ten_for_the_last_epochs(
    synthetic_data, tmp_path
):
    _, records_dir = synthetic_data
    config = tiny_config(records_dir, tmp_path, epochs=30, decay_epochs=5)
    schedule = factory.learning_rate_schedule(config, per_epoch=10)
    assert float(schedule(249)) == pytest.approx(2e-4)
    assert float(schedule(251)) == pytest.approx(2e-5)
    # No decay: still a schedule (same optimizer variables, so a run can
    # resume with another decay), constant over every step of the run.
    flat = dataclasses.replace(config, decay_epochs=0)
    schedule = factory.learning_rate_schedule(flat, per_epoch=10)
    assert float(schedule(0)) == float(schedule(299)) == pytest.approx(2e-4)


def test_discriminator_learning_rate_is_a_second_time_scale(synthetic_data, tmp_path):
    _, records_dir = synthetic_data
    config = tiny_config(
        records_dir,
        tmp_path,
        epochs=30,
        decay_epochs=5,
        discriminator_learning_rate=8e-4,
    )
    model = factory.build_model(config, 10, "float32", synchronized_bn=False)
    rates = {
        name: getattr(model, name).learning_rate
        for name in ("converter_optimizer", "real_fake_optimizer", "domain_optimizer")
    }
    assert float(rates["converter_optimizer"]) == pytest.approx(2e-4)
    for name in ("real_fake_optimizer", "domain_optimizer"):
        assert float(rates[name]) == pytest.approx(8e-4)
        # Decayed at the same step, by the same factor.
        schedule = getattr(model, name)._learning_rate
        assert float(schedule(251)) == pytest.approx(8e-5)
    same = factory.build_model(
        tiny_config(records_dir, tmp_path), 10, "float32", synchronized_bn=False
    )
    assert float(same.domain_optimizer.learning_rate) == pytest.approx(2e-4)


def test_cluster_workers_and_chief(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert devices.cluster_workers() == 0
    cluster = {"chief": ["a:1"], "worker": ["b:1", "c:1"]}
    monkeypatch.setenv(
        "TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker"}})
    )
    assert devices.cluster_workers() == 3
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not a JSON object"):
        devices.cluster_workers()

    class Resolver:
        def __init__(self, task_type, task_id, jobs):
            self.task_type, self.task_id, self.jobs = task_type, task_id, jobs

        def cluster_spec(self):
            return tf.train.ClusterSpec({job: ["h:1"] for job in self.jobs})

    class Strategy:
        def __init__(self, resolver):
            self.cluster_resolver = resolver

    assert devices.is_chief(tf.distribute.get_strategy())
    assert devices.is_chief(Strategy(Resolver("worker", 0, ["worker"])))
    assert not devices.is_chief(Strategy(Resolver("worker", 1, ["worker"])))
    assert devices.is_chief(Strategy(Resolver("chief", 0, ["chief", "worker"])))
    assert not devices.is_chief(Strategy(Resolver("worker", 0, ["chief", "worker"])))


@pytest.mark.slow
def test_jit_compiled_and_bfloat16_runs(synthetic_data, tmp_path):
    _, records_dir = synthetic_data
    config = tiny_config(
        records_dir,
        tmp_path / "jit",
        jit_compile=True,
        precision="mixed_bfloat16",
        epochs=1,
        decay_epochs=0,
        steps_per_epoch=2,
    )
    result = fit.train(config)
    assert result.steps == 2 and 0 < result.validation["rmse"] < 1


def test_prepare_data_generates_the_embedded_default(tmp_path):
    config = config_lib.TrainConfig(
        workdir=str(tmp_path / "w"),
        records_dir=str(tmp_path / "data" / "records"),
        lookbook_dir=str(tmp_path / "data" / "lookbook"),
        synthetic_products=30,
        synthetic_variation="mild",
    )
    manifest = prepare.prepare_data(config)
    assert manifest["counts"]["products"] == 30
    assert manifest["attributes_file"] == "attributes.csv"
    assert prepare.prepare_data(config) == manifest  # second call reuses it
    # The same folder under other generation flags is refused, naming them,
    # and left as it was.
    settings = os.path.join(tmp_path, "data", "synthetic.json")
    with open(settings) as file:
        recorded = file.read()
    for change, message in (
        ({"synthetic_variation": "full"}, "--synthetic_variation asks for 'full'"),
        ({"synthetic_colors": ("red",)}, r"--synthetic_colors asks for \['red'\]"),
        ({"synthetic_products": 40, "data_seed": 1}, "--data_seed asks for 1"),
    ):
        with pytest.raises(ValueError, match=message + ".*delete"):
            prepare.prepare_data(dataclasses.replace(config, **change))
    with open(settings) as file:
        assert file.read() == recorded
    assert prepare.prepare_data(config) == manifest
    # A folder with no recorded settings (a real LookBook) is not checked.
    os.remove(settings)
    assert prepare.prepare_data(dataclasses.replace(config, data_seed=5)) == manifest
    bad = dataclasses.replace(
        config,
        records_dir=str(tmp_path / "r2"),
        lookbook_dir=str(tmp_path / "elsewhere" / "photos"),
    )
    with pytest.raises(ValueError, match="must end in 'lookbook'"):
        prepare.prepare_data(bad)
