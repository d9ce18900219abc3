"""Shared fixtures: LookBook folders and records folders built once per session."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

import lookbook_fixtures  # noqa: E402
from pldt_tf.data import synthetic  # noqa: E402


@pytest.fixture(scope="session")
def lookbook_folder(tmp_path_factory):
    """(folder, expected) for a fixture folder full of awkward files."""
    folder = str(tmp_path_factory.mktemp("lookbook") / "images")
    expected = lookbook_fixtures.make_lookbook(folder)
    return folder, expected


@pytest.fixture(scope="session")
def synthetic_data(tmp_path_factory):
    """A small synthetic LookBook and its records: (data_dir, records_dir)."""
    data_dir = str(tmp_path_factory.mktemp("synthetic") / "set")
    synthetic.generate(data_dir, num_products=60, seed=3, workers=1)
    records_dir = os.path.join(data_dir, "records")
    lookbook_fixtures.build_synthetic_records(
        os.path.join(data_dir, "lookbook"),
        records_dir,
        os.path.join(data_dir, "attributes.csv"),
    )
    return data_dir, records_dir


@pytest.fixture(scope="session")
def trained_workdir(synthetic_data, tmp_path_factory):
    """A tiny converter trained for a few steps (for export and serving)."""
    from train_fixtures import tiny_config

    from pldt_tf.training import fit

    _, records_dir = synthetic_data
    workdir = tmp_path_factory.mktemp("trained") / "workdir"
    config = tiny_config(
        records_dir, workdir, epochs=1, decay_epochs=0, checkpoint_every_steps=3
    )
    fit.train(config)
    return config.workdir


@pytest.fixture(scope="session")
def exported(trained_workdir, tmp_path_factory):
    """(export base folder, version folder) of ``trained_workdir``."""
    from pldt_tf.serving import export_lib
    from pldt_tf.training import workdir as workdir_lib

    base = str(tmp_path_factory.mktemp("exports"))
    converter, step = workdir_lib.load_converter_and_step(trained_workdir)
    return base, export_lib.export(converter, base, "pldt", step)
