"""A workdir written before the method and selection tables (kept in
tests/golden/workdir_before_tables: C+RF+DD, per_case, width 1/64, two
steps) still restores, evaluates and resumes: the checkpoint's variable
paths (converter, real_fake, domain, the *_optimizer names) and config.json's
keys are public."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

import tensorflow as tf

from pldt_tf.training import factory, fit
from pldt_tf.training import workdir as workdir_lib

FIXTURE = os.path.join(os.path.dirname(__file__), "golden", "workdir_before_tables")


def _copy(records_dir: str, tmp_path) -> str:
    workdir = str(tmp_path / "old")
    shutil.copytree(FIXTURE, workdir)
    path = os.path.join(workdir, "config.json")
    with open(path) as file:
        values = json.load(file)
    assert "pixel_loss" not in values  # written before the option existed
    values.update(records_dir=records_dir, workdir=workdir)
    with open(path, "w") as file:
        json.dump(values, file)
    return workdir


def test_old_checkpoint_restores_every_network(synthetic_data, tmp_path):
    workdir = _copy(synthetic_data[1], tmp_path)
    config = workdir_lib.load_config(workdir)
    model = factory.build_model(config, 1, "float32", synchronized_bn=False)
    latest = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    # Every variable of the new model is found under its old path.
    tf.train.Checkpoint(model=model).restore(latest).assert_existing_objects_matched()
    assert model.method == "c_rf_dd" and model.spec.pixel is None
    for optimizer in ("converter", "real_fake", "domain"):
        assert int(getattr(model, f"{optimizer}_optimizer").iterations.numpy()) == 2
    _, step = workdir_lib.load_model_and_step(workdir)
    assert step == 2


def test_old_workdir_resumes_under_the_new_code(synthetic_data, tmp_path):
    workdir = _copy(synthetic_data[1], tmp_path)
    config = workdir_lib.load_config(workdir)
    result = fit.train(dataclasses.replace(config, epochs=2))
    assert (result.first_step, result.steps) == (2, 4)
    assert workdir_lib.load_config(workdir).pixel_loss == "none"
