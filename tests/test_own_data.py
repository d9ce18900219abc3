"""One's own data end to end: a shop's folders → manifest → records →
training (both directions) → evaluation without and with attribute labels."""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib

import numpy as np
import pytest
from tool_runner import run_tool
from train_fixtures import tiny_config

import lookbook_fixtures as fx
from pldt_tf import errors
from pldt_tf.data import folders, pairs, prepare, records
from pldt_tf.data.synthetic import shop
from pldt_tf.evaluation import evaluate_lib
from pldt_tf.evaluation import probe as probe_lib
from pldt_tf.training import fit


@pytest.fixture(scope="module")
def shop_manifest(synthetic_data, tmp_path_factory):
    """The tests' synthetic set as a shop's folders, and its manifest without
    attribute columns: (root, manifest path)."""
    data_dir, _ = synthetic_data
    root = tmp_path_factory.mktemp("own") / "shop"
    shop.write_shop(data_dir, str(root))
    path = root / "pairs.csv"
    path.write_text(folders.manifest_text(folders.scan(str(root))), encoding="utf-8")
    return root, str(path)


@pytest.fixture(scope="module")
def trained(shop_manifest, tmp_path_factory):
    """Workdirs trained with --pairs_csv in both directions."""
    _, path = shop_manifest
    base = tmp_path_factory.mktemp("own_runs")
    workdirs = {}
    for direction in ("human_to_product", "product_to_human"):
        config = tiny_config(
            str(base / "records"),
            base / direction,
            pairs_csv=path,
            direction=direction,
            epochs=1,
            decay_epochs=0,
        )
        fit.train(config)  # the first builds the records
        workdirs[direction] = config.workdir
    return str(base / "records"), workdirs


def test_train_builds_the_records_from_the_manifest(trained, shop_manifest):
    records_dir, workdirs = trained
    manifest = records.load_manifest(records_dir)
    assert manifest["pairs_csv"] == os.path.abspath(shop_manifest[1])
    assert "attributes_file" not in manifest
    for workdir in workdirs.values():
        assert os.path.isfile(os.path.join(workdir, "final_samples.png"))


def test_tool_build_is_byte_identical_to_the_training_build(trained, shop_manifest):
    records_dir, _ = trained
    out = pathlib.Path(records_dir).parent / "tool_records"
    result = run_tool(
        "tools/build_tfrecords.py",
        f"--pairs_csv={shop_manifest[1]}",
        f"--output_dir={out}",
    )
    assert result.returncode == 0, result.stderr
    assert "contradictions" in result.stdout
    built = {p.name: p.read_bytes() for p in pathlib.Path(records_dir).iterdir()}
    assert built == {p.name: p.read_bytes() for p in out.iterdir()}


def test_evaluation_without_labels_says_what_it_skipped(trained):
    records_dir, workdirs = trained
    results = evaluate_lib.evaluate(workdirs["human_to_product"], probe_epochs=1)
    scores = results["scores"]
    for key in (
        "rmse",
        "c_ssim",
        "color_agreement",
        "retrieval_top1",
        "retrieval_top5",
    ):
        assert np.isfinite(scores[key]), key
    assert np.isfinite(scores["realism_frechet"])
    # Not the synthetic set: no palette to name its colours by.
    assert scores["color_match"] is None
    assert "12-colour palette" in results["unavailable"]["color_match"]
    for key in ("probe_on_generated", "probe_on_real_products"):
        assert scores[key] is None
        assert "no attribute column" in results["unavailable"][key]
    assert results["probe"]["heads"] == {"rotation": 4}
    assert "quarter turns" in results["probe"]["features"]
    report = pathlib.Path(
        workdirs["human_to_product"], "evaluation-test.md"
    ).read_text()
    assert "probe_on_generated | unavailable: the data set has no attribute" in report
    other = evaluate_lib.evaluate(workdirs["product_to_human"], probe_epochs=1)
    assert np.isfinite(other["scores"]["rmse_nearest_photo"])
    assert np.isfinite(other["scores"]["realism_frechet"])


def test_probe_uses_any_attribute_columns_and_skips_unseen_values(
    trained, shop_manifest, tmp_path
):
    records_dir, workdirs = trained
    root, path = shop_manifest
    manifest = records.load_manifest(records_dir)
    number = {pid: int(n) for n, pid in manifest["product_ids"].items()}
    test_ids = set(manifest["splits"]["test"]["product_ids"])
    attributes = {}
    for reference, n in number.items():
        fit_value = ("slim", "regular", "loose")[n % 3]
        category = "scarf" if n in test_ids else ("shirt", "coat")[n % 2]
        attributes[reference] = [category, fit_value, "acme"]
    labelled = root / "labelled.csv"
    labelled.write_text(
        folders.manifest_text(
            folders.scan(str(root)), ["category", "fit", "brand"], attributes
        ),
        encoding="utf-8",
    )
    out = str(tmp_path / "records")
    records.build_records(
        pairs.read_manifest(str(labelled)), out, records.BuildOptions()
    )
    # The same ids and seed: the same split as the unlabelled records.
    assert records.load_manifest(out)["splits"] == manifest["splits"]
    heads, left_out = probe_lib.heads_for(out)
    assert heads == {"category": ["coat", "shirt"], "fit": ["loose", "regular", "slim"]}
    assert "brand" in left_out and "1 value" in left_out["brand"]
    results = evaluate_lib.evaluate(
        workdirs["human_to_product"], records_dir=out, probe_epochs=1
    )
    scores = results["scores"]
    assert "category" not in scores["probe_on_generated"]  # every test value unseen
    assert 0 <= scores["probe_on_generated"]["fit"] <= 1
    notes = results["probe"]
    assert notes["photos_not_scored"]["category"] == results["photos"]
    assert notes["photos_not_scored"]["fit"] == 0
    assert notes["columns_left_out"] == left_out


def test_prepare_refuses_records_of_another_source_or_an_edited_manifest(
    trained, shop_manifest, tmp_path, synthetic_data
):
    records_dir, _ = trained
    _, path = shop_manifest
    config = tiny_config(records_dir, tmp_path / "w", pairs_csv=path)
    prepare.check_data_source(config)  # the records it built: fine
    other = tmp_path / "other.csv"
    other.write_bytes(pathlib.Path(path).read_bytes())
    with pytest.raises(errors.UserError, match="not from --pairs_csv"):
        prepare.check_data_source(dataclasses.replace(config, pairs_csv=str(other)))
    _, synthetic_records = synthetic_data
    with pytest.raises(errors.UserError, match="built from a LookBook folder"):
        prepare.check_data_source(
            dataclasses.replace(config, records_dir=synthetic_records)
        )
    copy = tmp_path / "copy"
    copy.mkdir()
    for item in pathlib.Path(records_dir).iterdir():
        (copy / item.name).write_bytes(item.read_bytes())
    edited = json.loads((copy / "dataset.json").read_text())
    edited["pairs_csv_sha256"] = "0" * 64
    (copy / "dataset.json").write_text(json.dumps(edited))
    with pytest.raises(errors.UserError, match="has changed since"):
        prepare.check_data_source(dataclasses.replace(config, records_dir=str(copy)))
    with pytest.raises(FileNotFoundError, match="folders_to_pairs"):
        prepare.check_data_source(
            dataclasses.replace(
                config, records_dir=str(tmp_path / "new"), pairs_csv="nope.csv"
            )
        )


def test_train_needs_a_records_dir_with_pairs_csv(tmp_path):
    result = run_tool(
        "-m", "pldt_tf.train", f"--workdir={tmp_path / 'w'}", "--pairs_csv=x.csv"
    )
    assert result.returncode != 0
    assert "--pairs_csv needs --records_dir" in result.stderr
    assert not (tmp_path / "w").exists()


def test_a_bad_manifest_stops_training_with_one_line(tmp_path):
    manifest = fx.write_csv(
        str(tmp_path / "pairs.csv"), ["photo", "product"], [["a", "b"]]
    )
    result = run_tool(
        "-m",
        "pldt_tf.train",
        f"--workdir={tmp_path / 'w'}",
        f"--pairs_csv={manifest}",
        f"--records_dir={tmp_path / 'r'}",
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "no column 'product_id'" in result.stderr
    assert not (tmp_path / "r").exists()
