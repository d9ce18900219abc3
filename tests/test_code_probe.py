"""The code probe: the linear classifier on literal codes, run() with oracle
encoders, and the tool end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf
from tool_runner import run_tool
from train_fixtures import tiny_config

from pldt_tf.data import pipeline
from pldt_tf.evaluation import code_probe, probe
from pldt_tf.training import fit


def test_linear_accuracy_on_separable_and_on_uninformative_codes():
    rng = np.random.default_rng(0)
    labels = rng.integers(3, size=600)
    codes = 3.0 * np.eye(3)[labels] + 0.1 * rng.normal(size=(600, 3))
    assert (
        code_probe.linear_accuracy(
            codes[:300], labels[:300], codes[300:], labels[300:], 3
        )
        == 1.0
    )
    noise = rng.normal(size=(2300, 16))
    coin = rng.integers(2, size=2300)
    accuracy = code_probe.linear_accuracy(
        noise[:300], coin[:300], noise[300:], coin[300:], 2
    )
    assert 0.4 < accuracy < 0.6


def _category_oracle(records_dir):
    """An "encoder" whose code is the one-hot category of the photo (looked up
    by its pixels)."""
    attributes = probe.load_attributes(records_dir)
    category_of = {}
    for split in ("train", "test"):
        data = pipeline.split_arrays(records_dir, split)
        for source, i in zip(data["source"], data["source_id"], strict=True):
            category_of[source.tobytes()] = probe.HEADS["category"].index(
                attributes[int(i)]["category"]
            )

    def encoder(sources, training):
        assert not training
        indices = [category_of[s.tobytes()] for s in np.asarray(sources)]
        return tf.one_hot(indices, len(probe.HEADS["category"]))

    return encoder


def _chance(records_dir, head):
    """Share of test photos with the training photos' most frequent label."""
    attributes = probe.load_attributes(records_dir)
    labels = {}
    for split in ("train", "test"):
        _, ids = code_probe.encode(lambda s, training: s[:, 0, 0], records_dir, split)
        labels[split] = probe.labels_for(ids, attributes)[head]
    counts = np.bincount(labels["train"])
    assert np.sum(counts == counts.max()) == 1  # no tie in the fixture
    return np.mean(labels["test"] == np.argmax(counts))


@pytest.mark.slow
def test_run_reads_what_the_code_holds(synthetic_data):
    _, records_dir = synthetic_data
    scores = code_probe.run(_category_oracle(records_dir), records_dir, epochs=30)
    assert scores["category"] == 1.0
    # A code that says nothing: the classifier learns the label frequencies
    # and always answers the most frequent one, which is what chance means.
    blind = code_probe.run(
        lambda s, training: tf.zeros((tf.shape(s)[0], 8)), records_dir, epochs=150
    )
    for head in code_probe.HEADS:
        chance = _chance(records_dir, head)
        assert scores[f"{head}_chance"] == blind[f"{head}_chance"] == chance
        assert blind[head] == chance


def test_encode_keeps_the_pipeline_order_and_the_limit(synthetic_data):
    _, records_dir = synthetic_data
    codes, ids = code_probe.encode(
        lambda s, training: s[:, 0, 0], records_dir, "train", 300
    )
    first = next(iter(pipeline.triplet_dataset(records_dir, "train", 256, False)))
    assert codes.shape == (300, 3) and ids.shape == (300,)
    np.testing.assert_array_equal(codes[:256], first["source"].numpy()[:, 0, 0])
    np.testing.assert_array_equal(ids[:256], first["source_id"].numpy())


@pytest.mark.slow
def test_tool_end_to_end(synthetic_data, tmp_path):
    _, records_dir = synthetic_data
    config = tiny_config(records_dir, tmp_path / "run")  # 6 steps; keeps 3, 4 and 6
    fit.train(config)
    out = tmp_path / "rows.json"
    result = run_tool(
        "tools/code_probe.py",
        f"--workdirs={config.workdir}",
        "--untrained_width=0.0625",
        "--train_photos=200",
        "--epochs=3",
        "--checkpoint_steps=3,6",
        f"--json={out}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| chance (the training photos' most frequent class) |" in result.stdout
    rows = json.loads(out.read_text())
    assert rows[0]["encoder"] == "untrained, width 0.0625"
    assert [row["encoder"] for row in rows[1:]] == [
        f"{config.workdir} (step {step})" for step in (3, 6)
    ]
    assert all(0.0 <= row[head] <= 1.0 for row in rows for head in code_probe.HEADS)
    missing = run_tool(
        "tools/code_probe.py", f"--workdirs={config.workdir}", "--checkpoint_steps=5"
    )
    assert missing.returncode != 0
    assert "ckpt-5" in missing.stderr and "--checkpoint_steps" in missing.stderr
