"""Every path may be a TensorFlow filesystem URL: the whole chain — records,
training, evaluation, export, loading — on TensorFlow's in-process ram://
filesystem (standing in for gs://), and the completion-marker rule of
folders written in place."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from pldt_tf import errors, storage
from pldt_tf.data import atomic, lookbook, records


def _no_url_folders(*folders):
    """No local folder or file named after a URL (``ram:``) was made."""
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            assert not [n for n in dirs + files if n.startswith("ram:")], root


def test_helpers_on_ram_and_local(tmp_path):
    for base in ("ram://helpers", str(tmp_path)):
        path = os.path.join(base, "a", "b.json")
        storage.write_json(path, {"x": 1})
        assert storage.read_json(path) == {"x": 1}
        assert storage.isfile(path) and storage.isdir(os.path.join(base, "a"))
        assert storage.listdir(os.path.join(base, "a")) == ["b.json"]
        storage.rmtree(os.path.join(base, "a"))
        assert not storage.exists(path)
    assert storage.absolute("ram://x/./y/../z") == "ram://x/z"
    assert storage.parent("gs://bucket/records/dataset.json") == "gs://bucket/records"
    assert not storage.renames_atomically("gs://bucket/x")
    assert storage.renames_atomically(str(tmp_path))
    assert not storage.is_url(tmp_path)  # a pathlib.Path is a local path


def test_shown_path_is_relative_inside_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inside = tmp_path / "data" / "shop" / "pairs.csv"
    assert storage.shown_path(str(inside)) == os.path.join("data", "shop", "pairs.csv")
    assert storage.shown_path("data/shop") == os.path.join("data", "shop")
    outside = tmp_path.parent / "elsewhere.csv"
    assert storage.shown_path(str(outside)) == str(outside)
    assert storage.shown_path("gs://bucket/w/final_samples.png") == (
        "gs://bucket/w/final_samples.png"
    )


def test_records_folder_without_its_marker_is_refused():
    folder = "ram://marker/records"
    with pytest.raises(RuntimeError), atomic.atomic_folder(folder, marker="done"):
        storage.write_text(os.path.join(folder, "part"), "written, marker not")
    # A build that fails part way leaves nothing behind.
    assert not storage.exists(folder)
    with pytest.raises(ValueError), atomic.atomic_folder(folder, marker="done"):
        storage.write_text(os.path.join(folder, "part"), "x")
        raise ValueError("interrupted")
    assert not storage.exists(folder)
    # A folder someone left without dataset.json: readers refuse it, naming
    # the fix.
    storage.write_text(os.path.join(folder, "triplets-train-00000-of-00001"), "")
    with pytest.raises(errors.MissingInputError, match="--overwrite"):
        records.load_manifest(folder)
    with pytest.raises(errors.OutputExistsError):
        atomic.check_absent(folder, overwrite=False)
    storage.rmtree(folder)


@pytest.mark.slow
def test_records_training_evaluation_and_export_on_ram(synthetic_data, tmp_path):
    from train_fixtures import tiny_config

    from pldt_tf.evaluation import evaluate_lib
    from pldt_tf.serving import export_lib, inference
    from pldt_tf.training import fit
    from pldt_tf.training import workdir as workdir_lib

    data_dir, local_records = synthetic_data
    base = "ram://cloud"
    records_dir, workdir = f"{base}/records", f"{base}/w"
    catalogue = lookbook.read_folder(
        os.path.join(data_dir, "lookbook"), os.path.join(data_dir, "attributes.csv")
    )
    manifest = records.build_records(catalogue, records_dir)
    assert storage.isfile(f"{records_dir}/dataset.json")
    # The same bytes as a local build of the same catalogue.
    local = records.build_records(catalogue, str(tmp_path / "local_records"))
    assert manifest["splits"] == local["splits"]
    for name in manifest["splits"]["train"]["triplet_files"]:
        assert storage.read_bytes(f"{records_dir}/{name}") == storage.read_bytes(
            str(tmp_path / "local_records" / name)
        )

    config = tiny_config(records_dir, workdir, epochs=1, decay_epochs=0)
    result = fit.train(config)
    assert result.steps == 3
    for name in ("config.json", "train_summary.json", "final_samples.png"):
        assert storage.isfile(f"{workdir}/{name}"), name
    assert tf.train.latest_checkpoint(f"{workdir}/checkpoints").endswith("ckpt-3")
    assert storage.listdir(f"{workdir}/samples")
    assert workdir_lib.load_config(workdir).records_dir == records_dir

    results = evaluate_lib.evaluate(workdir, probe_epochs=1, max_sources=8)
    assert np.isfinite(results["scores"]["rmse"])
    assert storage.isfile(f"{workdir}/evaluation-test.json")
    assert json.loads(storage.read_text(f"{workdir}/evaluation-test.json"))["step"] == 3

    converter, step = workdir_lib.load_converter_and_step(workdir)
    path = export_lib.export(converter, f"{base}/exports", "pldt", step)
    assert storage.isfile(f"{path}/saved_model.pb")
    signature, version = inference.load_signature(
        f"{base}/exports/pldt", "transfer_float"
    )
    assert version == step
    images = np.random.default_rng(0).uniform(-1, 1, (2, 64, 64, 3)).astype("float32")
    served = signature(images=tf.constant(images))["image"]
    np.testing.assert_allclose(
        served.numpy(), np.asarray(converter(images, training=False)), atol=1e-5
    )
    _no_url_folders(os.getcwd(), str(tmp_path))
    storage.rmtree(base)


def test_a_pairs_manifest_on_ram_reads_its_images_there():
    import lookbook_fixtures as fx
    from pldt_tf.data import pairs

    root = "ram://shop"
    rows = ["photo,product_id,product_image"]
    for pid, colour in (("A1", (200, 0, 0)), ("B2", (0, 0, 200)), ("C3", (0, 200, 0))):
        image = fx.jpeg_bytes(fx.solid(80, 60, colour))
        storage.write_bytes(f"{root}/products/{pid}.jpg", image)
        storage.write_bytes(f"{root}/photos/{pid}/1.jpg", image)
        rows.append(f"photos/{pid}/1.jpg,{pid},products/{pid}.jpg")
    rows.append("../elsewhere/x.jpg,D4,products/D4.jpg")  # leads outside
    storage.write_text(f"{root}/pairs.csv", "\n".join(rows) + "\n")
    data = pairs.read_manifest(f"{root}/pairs.csv")
    assert data.root == root
    assert data.source["pairs_csv"] == f"{root}/pairs.csv"
    assert {e.name for e in data.entries} >= {"photos/A1/1.jpg", "products/B2.jpg"}
    reasons = {s["file"]: s["reason"] for s in data.skipped}
    assert "leads outside ram://shop" in reasons["../elsewhere/x.jpg"]
    manifest = records.build_records(data, f"{root}/records")
    assert manifest["counts"]["products"] == 3
    assert manifest["pairs_csv"] == f"{root}/pairs.csv"
    storage.rmtree(root)
