"""Inference on files: finding a SavedModel, listing inputs, one loader for an
export or a workdir, and writing outputs without losing existing ones."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from pldt_tf import errors
from pldt_tf.serving import inference


def _fake_version(base, version):
    folder = base / str(version)
    folder.mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"")
    return str(folder)


def test_find_saved_model_takes_the_highest_version(tmp_path):
    _fake_version(tmp_path, 3)
    highest = _fake_version(tmp_path, 12)
    (tmp_path / "99").mkdir()  # no saved_model.pb: not a version
    assert inference.find_saved_model(str(tmp_path)) == highest
    assert inference.find_saved_model(highest) == highest


def test_find_saved_model_names_what_is_missing(tmp_path):
    with pytest.raises(errors.MissingInputError, match="does not exist"):
        inference.find_saved_model(str(tmp_path / "nope"))
    with pytest.raises(errors.MissingInputError, match="holds no complete SavedModel"):
        inference.find_saved_model(str(tmp_path))


def test_list_inputs_folder_file_and_glob(tmp_path):
    for name in ("b.JPG", "a.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    folder = inference.list_inputs(str(tmp_path))
    assert [os.path.basename(p) for p in folder] == ["a.png", "b.JPG"]
    assert inference.list_inputs(str(tmp_path / "a.png")) == [str(tmp_path / "a.png")]
    assert len(inference.list_inputs(str(tmp_path / "*.txt"))) == 1
    with pytest.raises(errors.MissingInputError, match="matches no file"):
        inference.list_inputs(str(tmp_path / "*.gif"))


def test_transfer_files_skips_bad_inputs_and_keeps_existing_outputs(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    Image.new("RGB", (40, 80), (200, 0, 0)).save(inputs / "good.jpg")
    Image.new("RGB", (30, 30), (0, 0, 200)).save(inputs / "kept.png")
    (inputs / "broken.jpg").write_bytes(b"not an image")
    output = tmp_path / "out"
    output.mkdir()
    (output / "kept.png").write_bytes(b"previous")
    calls = []

    def transfer(batch):
        calls.append(batch.shape)
        return 255 - batch  # any uint8 [N, 64, 64, 3] → same

    report, pairs = inference.transfer_files(
        transfer, inference.list_inputs(str(inputs)), str(output), batch_size=8
    )
    assert [os.path.basename(p) for p in report.written] == ["good.jpg"]
    assert [os.path.basename(p) for p in report.existing] == ["kept.png"]
    assert [os.path.basename(p) for p, _ in report.failed] == ["broken.jpg"]
    assert (output / "kept.png").read_bytes() == b"previous"
    written = np.asarray(Image.open(output / "good.png"))
    assert written.shape == (64, 64, 3)
    assert calls == [(1, 64, 64, 3)]
    assert len(pairs) == 1
    sheet = inference.side_by_side(pairs)
    assert sheet.dtype == np.uint8 and sheet.ndim == 3


def test_one_loader_serves_a_workdir_and_an_export(trained_workdir, exported):
    images = np.full((2, 64, 64, 3), 128, np.uint8)
    from_workdir = inference.load_transfer_fn(trained_workdir)(images)
    from_export = inference.load_transfer_fn(os.path.dirname(exported[1]))(images)
    assert from_workdir.shape == from_export.shape == (2, 64, 64, 3)
    np.testing.assert_allclose(
        from_workdir.astype(int), from_export.astype(int), atol=1
    )
