"""The D_A-alone check: its scoring on known scorers, and the tool end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf
from tool_runner import run_tool

from pldt_tf.data import pipeline
from pldt_tf.evaluation import domain_check, evaluate_lib, probe


def _oracle(records_dir, right: bool):
    """A scorer that knows each test photo's category (looked up by its
    pixels) and prefers products of that category (``right``) or of any other."""
    attributes = probe.load_attributes(records_dir)
    tests = pipeline.split_arrays(records_dir, "test")
    category_of = {
        s.tobytes(): attributes[int(i)]["category"]
        for s, i in zip(tests["source"], tests["source_id"], strict=True)
    }
    gallery, ids = probe.product_arrays(records_dir, "test")
    gallery_category = np.array([attributes[int(i)]["category"] for i in ids])

    def scorer(pair, training):
        assert not training
        sources, products = pair
        assert np.array_equal(products, gallery)
        match = gallery_category == category_of[np.asarray(sources[0]).tobytes()]
        return (match == right).astype(np.float32)

    return scorer


def test_score_with_known_scorers(synthetic_data):
    _, records_dir = synthetic_data
    right = domain_check.score(_oracle(records_dir, True), records_dir)
    assert right["category"] == right["category_within_colour"] == 1.0
    assert 0.0 < right["chance_within_colour"] <= 1.0
    wrong = domain_check.score(_oracle(records_dir, False), records_dir)
    assert wrong["category"] == 0.0
    # Only photos whose colour has a single category among the test products
    # are right whatever the scorer prefers.
    assert wrong["category_within_colour"] <= wrong["chance_within_colour"]


@pytest.mark.slow
def test_tool_runs_both_batchings(synthetic_data, tmp_path):
    _, records_dir = synthetic_data
    for batching in ("pure", "mixed"):
        out = tmp_path / f"{batching}.json"
        result = run_tool(
            "tools/domain_check.py",
            f"--records_dir={records_dir}",
            f"--batching={batching}",
            "--width=0.0625",
            "--steps=4",
            "--batch_size=8",
            "--checks=2",
            f"--json={out}",
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert "category within colour" in result.stdout
        rows = json.loads(out.read_text())
        assert [r["step"] for r in rows] == [2, 4]
        assert all(np.isfinite(r["train_loss"]) for r in rows)


def test_tool_scores_a_trained_workdir(trained_workdir, tmp_path):
    out = tmp_path / "scores.json"
    result = run_tool(
        "tools/domain_check.py",
        f"--workdir={trained_workdir}",
        "--max_sources=20",
        f"--json={out}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    scores = json.loads(out.read_text())
    assert 0.0 <= scores["category_within_colour"] <= 1.0 and scores["step"] > 0
    assert 0.0 <= scores["own_over_other_category"] <= 1.0
    assert "the run's drawings" in result.stdout


def _drawing_oracles(records_dir, right: bool):
    """A converter that draws each test photo's true product, and a scorer
    that knows the categories of photos and drawings (by their pixels) and
    prefers drawings of the photo's category (``right``) or of any other."""
    attributes = probe.load_attributes(records_dir)
    tests = evaluate_lib.generate_split(
        lambda sources, training: sources, records_dir, "test", "human_to_product"
    )
    product_of = {
        s.tobytes(): t for s, t in zip(tests["source"], tests["target"], strict=True)
    }
    category_of = {}
    for s, t, i in zip(
        tests["source"], tests["target"], tests["source_id"], strict=True
    ):
        category_of[s.tobytes()] = category_of[t.tobytes()] = attributes[int(i)][
            "category"
        ]

    def converter(sources, training):
        assert not training
        return tf.constant(
            np.stack([product_of[np.asarray(s).tobytes()] for s in sources])
        )

    def scorer(pair, training):
        assert not training
        sources, drawings = pair
        wanted = category_of[np.asarray(sources[0]).tobytes()]
        match = np.array([category_of[d.tobytes()] == wanted for d in drawings])
        return (match == right).astype(np.float32)

    return converter, scorer


def test_score_drawings_with_known_scorers(synthetic_data):
    _, records_dir = synthetic_data
    converter, scorer = _drawing_oracles(records_dir, True)
    right = domain_check.score_drawings(scorer, converter, records_dir, 60)
    assert right["own_over_other_category"] == 1.0
    # The favourite has the photo's category wherever another product of that
    # category is among the photos (the tiny set lacks some).
    attributes = probe.load_attributes(records_dir)
    ids = pipeline.split_arrays(records_dir, "test", limit=60)["source_id"]
    category = np.array([attributes[int(i)]["category"] for i in ids])
    reachable = [
        np.any((category == c) & (ids != i)) for c, i in zip(category, ids, strict=True)
    ]
    assert right["drawing_category"] == pytest.approx(np.mean(reachable))
    assert right["drawing_category"] > 0.5
    assert (
        right["drawing_chance_within_colour"]
        <= right["drawing_category_within_colour"]
        <= 1.0
    )
    converter, scorer = _drawing_oracles(records_dir, False)
    wrong = domain_check.score_drawings(scorer, converter, records_dir, 60)
    assert wrong["own_over_other_category"] == 0.0
    assert wrong["drawing_category"] == 0.0
