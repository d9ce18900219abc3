"""Evaluation: metric golden values, C-SSIM against scikit-image, the probe,
Fréchet distance, retrieval, and the evaluate tool end to end."""

from __future__ import annotations

import json
import logging
import os
import shutil

import numpy as np
import pytest

import lookbook_fixtures
from pldt_tf import metrics
from pldt_tf.data import records
from pldt_tf.evaluation import evaluate_lib, retrieval
from pldt_tf.evaluation import probe as probe_lib


def test_frechet_distance():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, (500, 8))
    assert probe_lib.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    shifted = a + 2.0
    assert probe_lib.frechet_distance(a, shifted) == pytest.approx(8 * 4.0, rel=1e-6)


def test_frechet_distance_is_unavailable_where_it_cannot_be_computed():
    rng = np.random.default_rng(0)
    many = rng.normal(0, 1, (50, 8))
    with pytest.raises(probe_lib.MetricUnavailable, match="at least 2 images"):
        probe_lib.frechet_distance(many[:1], many)
    broken = many.copy()
    broken[3, 2] = np.nan
    with pytest.raises(probe_lib.MetricUnavailable, match="not finite"):
        probe_lib.frechet_distance(broken, many)


def test_confusion_counts_true_rows_against_predicted_columns():
    labels = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 2, 0, 2])
    np.testing.assert_array_equal(
        probe_lib.confusion(predicted, labels, 3),
        [[1, 1, 0], [0, 1, 0], [1, 0, 2]],
    )
    # A class no photo has is an all-zero row; the matrix keeps its size.
    np.testing.assert_array_equal(
        probe_lib.confusion(np.array([3]), np.array([0]), 4)[0], [0, 0, 0, 1]
    )


def test_retrieval_finds_the_product_of_an_identical_image():
    rng = np.random.default_rng(3)
    gallery = rng.uniform(-1, 1, (6, 64, 64, 3)).astype(np.float32)
    ids = np.array([10, 10, 11, 12, 13, 14])
    order = np.array([4, 2, 0])
    ranks = retrieval.truth_ranks(
        retrieval.descriptor(gallery[order]),
        retrieval.descriptor(gallery),
        ids,
        ids[order],
    )
    np.testing.assert_array_equal(ranks, [1, 1, 1])
    wrong = retrieval.truth_ranks(
        retrieval.descriptor(gallery[[4]]),
        retrieval.descriptor(gallery),
        ids,
        np.array([11]),
    )
    assert wrong[0] > 1
    assert retrieval.top_k(np.array([1, 2, 6]), 5) == pytest.approx(2 / 3)


def test_probe_trains_and_is_cached(synthetic_data, tmp_path):
    _, records_dir = synthetic_data
    probe = probe_lib.train_probe(records_dir, epochs=1)
    images, ids = probe_lib.product_arrays(records_dir, "test")
    predicted = probe_lib.predict(probe, images)
    assert predicted["features"].shape == (len(ids), probe_lib.FEATURES)
    labels = probe_lib.labels_for(ids, probe_lib.load_attributes(records_dir))
    scores = probe_lib.accuracies(predicted, labels)
    assert set(scores) == {"category", "primary_color", "pattern", "color_and_pattern"}
    assert all(0.0 <= v <= 1.0 for v in scores.values())


def test_probe_training_is_announced_and_its_cache_is_used(
    synthetic_data, tmp_path, caplog
):
    _, records_dir = synthetic_data
    copy_dir = str(tmp_path / "records")
    shutil.copytree(records_dir, copy_dir)
    for name in os.listdir(copy_dir):  # a probe another test may have cached
        if name.startswith("probe-"):
            os.remove(os.path.join(copy_dir, name))
    with caplog.at_level(logging.INFO, logger="absl"):
        probe_lib.load_or_train_probe(copy_dir, epochs=1)
    assert probe_lib.probe_path(copy_dir) in caplog.text  # says where it goes
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="absl"):
        probe_lib.load_or_train_probe(copy_dir, epochs=1)
    assert "training it" not in caplog.text


def test_probe_key_ignores_the_source_folder_not_the_labels(synthetic_data, tmp_path):
    # The same data set built from a copy of its LookBook folder elsewhere
    # keeps its probe's key; relabelled products do not.
    data_dir, records_dir = synthetic_data
    shutil.copytree(os.path.join(data_dir, "lookbook"), tmp_path / "lookbook")
    copy_dir = str(tmp_path / "records")
    lookbook_fixtures.build_synthetic_records(
        str(tmp_path / "lookbook"), copy_dir, os.path.join(data_dir, "attributes.csv")
    )
    source_dirs = {
        records.load_manifest(path)["source_dir"] for path in (records_dir, copy_dir)
    }
    assert len(source_dirs) == 2
    assert probe_lib.manifest_key(copy_dir) == probe_lib.manifest_key(records_dir)

    attributes = os.path.join(copy_dir, records.ATTRIBUTES_NAME)
    with open(attributes) as file:
        header, first, *rest = file.read().splitlines()
    with open(attributes, "w") as file:
        file.write("\n".join([header, first + "x", *rest]) + "\n")
    assert probe_lib.manifest_key(copy_dir) != probe_lib.manifest_key(records_dir)


@pytest.mark.slow
def test_evaluate_end_to_end(trained_workdir, synthetic_data):
    _, records_dir = synthetic_data
    results = evaluate_lib.evaluate(
        trained_workdir, "test", records_dir, probe_epochs=1
    )
    scores = results["scores"]
    for key in ("rmse", "c_ssim", "color_match", "retrieval_top1", "realism_frechet"):
        assert np.isfinite(scores[key]), key
    assert scores["retrieval_top1"] <= scores["retrieval_top5"]
    assert os.path.isfile(probe_lib.probe_path(records_dir))  # cached for next time
    with open(os.path.join(trained_workdir, "evaluation-test.json")) as file:
        written = json.load(file)
    assert written["photos"] == results["photos"] > 0
    # The category confusion: one row per category, all photos counted, its
    # diagonal share equal to the probe's category accuracy; and the share
    # per true category, for the categories the split has.
    confusion = written[evaluate_lib.CONFUSION]
    counts = np.array(confusion["counts"])
    assert confusion["classes"] == probe_lib.HEADS["category"]
    assert counts.shape == (6, 6) and counts.sum() == results["photos"]
    assert np.trace(counts) / counts.sum() == pytest.approx(
        scores["probe_on_generated"]["category"]
    )
    by_category = scores["probe_category_by_true_category"]
    names = confusion["classes"]
    present = [n for n, row in zip(names, counts, strict=True) if row.sum()]
    assert sorted(by_category) == sorted(present)
    assert evaluate_lib.CONFUSION not in scores  # the scores stay numbers
    assert os.path.isfile(os.path.join(trained_workdir, "comparison-test.png"))
    with open(os.path.join(trained_workdir, "evaluation-test.md")) as file:
        report = file.read()
    assert "| rmse |" in report
    assert "| photo's category | t_shirt |" in report


def test_retrieval_by_score_picks_the_best_scored_gallery_image():
    rng = np.random.default_rng(5)
    gallery = rng.uniform(-1, 1, (300, 64, 64, 3)).astype(np.float32)
    queries = gallery[[7, 123, 299]] + 0.01

    def negative_distance(sources, targets):  # a known stand-in for D_A
        return -np.mean(
            (np.asarray(sources) - np.asarray(targets)) ** 2, axis=(1, 2, 3)
        )

    best = retrieval.retrieve_by_score(
        negative_distance, queries, gallery, batch_size=128
    )
    np.testing.assert_array_equal(best, [7, 123, 299])


@pytest.mark.slow
def test_dd_retrieval_end_to_end(trained_workdir, synthetic_data):
    _, records_dir = synthetic_data
    results = evaluate_lib.evaluate(
        trained_workdir,
        "test",
        records_dir,
        probe_epochs=1,
        method="dd_retrieval",
        max_queries=3,
    )
    assert results["photos"] == 3 and results["method"] == "dd_retrieval"
    assert np.isfinite(results["scores"]["rmse"])
    assert os.path.isfile(
        os.path.join(trained_workdir, "evaluation-test-dd_retrieval.json")
    )
    assert os.path.isfile(os.path.join(trained_workdir, "fig4-test-dd_retrieval.png"))


def test_nearest_photo_scores_pick_each_products_closest_photo():
    gray = np.zeros((64, 64, 3), np.float32)  # [-1, 1] images: 0 is mid-gray
    data = {
        "source_id": np.array([4, 4, 9]),
        # Product 4 has two photos, one equal to its drawing; product 9 one
        # photo 0.5 away everywhere (0.25 in [0, 1] units).
        "target": np.stack([gray + 1.0, gray, gray + 0.5]),
        "generated": np.stack([gray, gray, gray]),
    }
    scores = evaluate_lib.nearest_photo_scores(data)
    assert scores["products"] == 2
    assert scores["rmse_nearest_photo"] == pytest.approx((0.0 + 0.25) / 2)
    # Product 4: its identical photo (C-SSIM 1); product 9: its only photo.
    unit = metrics.to_unit_interval
    shifted = float(
        metrics.c_ssim(unit(data["generated"][2:]), unit(data["target"][2:]))[0]
    )
    assert shifted < 0.95
    assert scores["c_ssim_nearest_photo"] == pytest.approx((1 + shifted) / 2, 1e-6)


@pytest.mark.slow
def test_one_unavailable_metric_never_costs_the_report(
    trained_workdir, synthetic_data, tmp_path
):
    # One source photo: no covariance for the Fréchet distance, as on a
    # smoke-sized test split; every other metric is still written.
    _, records_dir = synthetic_data
    workdir = str(tmp_path / "copy")
    shutil.copytree(trained_workdir, workdir)
    results = evaluate_lib.evaluate(
        workdir, "test", records_dir, probe_epochs=1, max_sources=1
    )
    scores = results["scores"]
    assert scores["realism_frechet"] is None
    assert "at least 2 images" in results["unavailable"]["realism_frechet"]
    for key in ("rmse", "c_ssim", "color_match", "color_agreement", "retrieval_top1"):
        assert np.isfinite(scores[key]), key
    with open(os.path.join(workdir, "evaluation-test.md")) as file:
        assert "| realism_frechet | unavailable: a covariance" in file.read()


def test_evaluate_product_to_human_end_to_end(synthetic_data, tmp_path):
    from train_fixtures import tiny_config

    from pldt_tf.training import fit

    _, records_dir = synthetic_data
    config = tiny_config(
        records_dir,
        tmp_path / "p2h",
        direction="product_to_human",
        epochs=1,
        decay_epochs=0,
        steps_per_epoch=2,
    )
    fit.train(config)
    results = evaluate_lib.evaluate(config.workdir, "test", probe_epochs=1)
    scores = results["scores"]
    assert results["direction"] == "product_to_human"
    assert "color_match" not in scores and "retrieval_top1" not in scores
    assert "color_agreement" not in scores
    assert 0 <= scores["rmse_nearest_photo"] <= 1
    assert -1 <= scores["c_ssim_nearest_photo"] <= 1
    assert np.isfinite(scores["realism_frechet"])
    assert 0 < scores["products"] < results["photos"]


@pytest.mark.slow
def test_evaluate_tool_on_the_smoke_workdir(tmp_path):
    """The smoke config's test split has one product: the Fréchet distance
    is unavailable there, and the report is written with everything else."""
    from tool_runner import run_tool

    data, workdir = tmp_path / "data", tmp_path / "smoke"
    trained = run_tool(
        "-m",
        "pldt_tf.train",
        "--flagfile=configs/smoke.flags",
        f"--records_dir={data}/records",
        f"--lookbook_dir={data}/lookbook",
        f"--workdir={workdir}",
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    evaluated = run_tool(
        "-m", "pldt_tf.evaluate", f"--workdir={workdir}", "--probe_epochs=1"
    )
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    with open(workdir / "evaluation-test.json") as file:
        results = json.load(file)
    assert results["scores"]["realism_frechet"] is None
    assert "at least 2 images" in results["unavailable"]["realism_frechet"]
    assert np.isfinite(results["scores"]["rmse"])
    assert "realism_frechet: unavailable" in evaluated.stdout


def test_rotated_gives_each_quarter_turn_its_label():
    images = np.arange(2 * 4 * 4 * 3, dtype=np.float32).reshape(2, 4, 4, 3)
    turned, labels = probe_lib.rotated(images)
    assert turned.shape == (8, 4, 4, 3)
    np.testing.assert_array_equal(labels, [0, 0, 1, 1, 2, 2, 3, 3])
    np.testing.assert_array_equal(turned[3], np.rot90(images[1]))
    np.testing.assert_array_equal(turned[0], images[0])


def test_labels_mark_unknown_and_unseen_values_and_accuracy_skips_them():
    heads = {"fit": ["loose", "slim"]}
    attributes = {1: {"fit": "slim"}, 2: {"fit": ""}, 3: {"fit": "baggy"}}
    labels = probe_lib.labels_for(np.array([1, 2, 3, 4]), attributes, heads)
    np.testing.assert_array_equal(labels["fit"], [1, -1, -1, -1])
    scores = probe_lib.accuracies({"fit": np.array([1, 0, 0, 0])}, labels)
    assert scores == {"fit": 1.0}
    assert probe_lib.accuracies({"fit": np.zeros(1, int)}, {"fit": -np.ones(1)}) == {}


def test_heads_of_the_synthetic_set_and_of_a_set_without_attributes(
    synthetic_data, tmp_path
):
    _, records_dir = synthetic_data
    assert probe_lib.heads_for(records_dir) == (probe_lib.HEADS, {})
    bare = tmp_path / "bare"
    shutil.copytree(records_dir, bare)
    manifest = json.loads((bare / records.MANIFEST_NAME).read_text())
    del manifest["attributes_file"]
    (bare / records.MANIFEST_NAME).write_text(json.dumps(manifest))
    assert probe_lib.heads_for(str(bare)) == (
        {probe_lib.ROTATION: probe_lib.ROTATIONS},
        {},
    )
    with pytest.raises(FileNotFoundError, match="made for the synthetic set"):
        probe_lib.load_attributes(str(bare))
