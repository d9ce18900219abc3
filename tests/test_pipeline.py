"""tf.data pipeline: shapes, ranges, negatives, determinism, directions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import tensorflow as tf

from pldt_tf.data import pipeline, records


def _batches(records_dir, n, batch_size=16, training=True, **options):
    dataset = pipeline.triplet_dataset(
        records_dir, "train", batch_size, training, pipeline.PipelineOptions(**options)
    )
    return [
        {k: v.numpy() for k, v in batch.items()}
        for batch in itertools.islice(dataset, n)
    ]


def test_training_batches_shapes_dtypes_ranges(synthetic_data):
    _, records_dir = synthetic_data
    batch = _batches(records_dir, 1, seed=0)[0]
    for key in ("source", "target", "negative"):
        assert batch[key].shape == (16, 64, 64, 3)
        assert batch[key].dtype == np.float32
        assert batch[key].min() >= -1.0 and batch[key].max() <= 1.0
        assert batch[key].max() == 1.0  # white background survives exactly
    assert batch["source_id"].dtype == np.int64 and batch["source_id"].shape == (16,)


@pytest.mark.parametrize("direction", pipeline.DIRECTIONS)
def test_fresh_negative_never_shares_the_source_product(synthetic_data, direction):
    _, records_dir = synthetic_data
    batches = _batches(records_dir, 60, batch_size=32, seed=1, direction=direction)
    sources = np.concatenate([b["source_id"] for b in batches])
    negatives = np.concatenate([b["negative_id"] for b in batches])
    assert len(sources) == 60 * 32  # more than 4 epochs of this split
    assert np.all(sources != negatives)
    train_ids = set(
        records.load_manifest(records_dir)["splits"]["train"]["product_ids"]
    )
    assert set(negatives) <= train_ids
    assert len(set(negatives)) > 0.8 * len(train_ids)


def test_stored_negatives_come_from_the_record(synthetic_data):
    _, records_dir = synthetic_data
    batch = _batches(records_dir, 1, seed=2, negatives="stored")[0]
    assert np.all(batch["source_id"] != batch["negative_id"])


def test_fresh_negatives_change_between_epochs(synthetic_data):
    _, records_dir = synthetic_data
    per_epoch = records.load_manifest(records_dir)["splits"]["train"]["num_triplets"]
    dataset = pipeline.triplet_dataset(
        records_dir,
        "train",
        1,
        True,
        pipeline.PipelineOptions(seed=4, shuffle_buffer=100_000),
    )
    pairs = [
        (bytes(b["source"].numpy().tobytes()), int(b["negative_id"][0]))
        for b in itertools.islice(dataset, 2 * per_epoch)
    ]
    first, second = dict(pairs[: per_epoch // 2]), dict(pairs[per_epoch:])
    shared = [s for s in first if s in second]
    assert len(shared) > 10
    changed = sum(first[s] != second[s] for s in shared)
    assert changed > 0.8 * len(shared)


def test_seed_makes_batches_deterministic(synthetic_data):
    _, records_dir = synthetic_data
    a = _batches(records_dir, 3, seed=5)
    b = _batches(records_dir, 3, seed=5)
    c = _batches(records_dir, 3, seed=6)
    for x, y in zip(a, b, strict=True):
        for key in x:
            np.testing.assert_array_equal(x[key], y[key])
    assert not np.array_equal(a[0]["source_id"], c[0]["source_id"])


def test_eval_pass_is_ordered_complete_and_keeps_remainder(synthetic_data):
    _, records_dir = synthetic_data
    info = records.load_manifest(records_dir)["splits"]["test"]
    dataset = pipeline.triplet_dataset(records_dir, "test", 7, training=False)
    batches = list(dataset)
    assert sum(int(b["source"].shape[0]) for b in batches) == info["num_triplets"]
    assert set(batches[0]) == {
        "source",
        "target",
        "source_id",
        "source_name",
        "target_name",
    }
    again = list(pipeline.triplet_dataset(records_dir, "test", 7, training=False))
    np.testing.assert_array_equal(batches[-1]["source"], again[-1]["source"])


def test_split_arrays_follow_the_eval_order_and_stop_at_the_limit(synthetic_data):
    _, records_dir = synthetic_data
    batches = list(pipeline.triplet_dataset(records_dir, "test", 7, training=False))
    ids = np.concatenate([b["source_id"].numpy() for b in batches])
    calls = []

    def mean_pixel(batch):
        calls.append(len(batch["source_id"]))
        return tf.reduce_mean(batch["source"], axis=[1, 2, 3])

    data = pipeline.split_arrays(
        records_dir, "test", computed={"mean": mean_pixel}, limit=10, batch_size=4
    )
    assert set(data) == {"source", "source_id", "mean"}
    np.testing.assert_array_equal(data["source_id"], ids[:10])
    np.testing.assert_allclose(
        data["mean"], data["source"].mean(axis=(1, 2, 3)), atol=1e-6
    )
    assert calls == [4, 4, 4]  # stops reading once it has 10
    everything = pipeline.split_arrays(records_dir, "test", keys=("source_id",))
    np.testing.assert_array_equal(everything["source_id"], ids)


def test_product_to_human_swaps_roles(synthetic_data):
    _, records_dir = synthetic_data
    forward = next(iter(pipeline.triplet_dataset(records_dir, "validation", 4, False)))
    reverse = next(
        iter(
            pipeline.triplet_dataset(
                records_dir,
                "validation",
                4,
                False,
                pipeline.PipelineOptions(direction="product_to_human"),
            )
        )
    )
    np.testing.assert_array_equal(forward["source"], reverse["target"])
    np.testing.assert_array_equal(forward["target"], reverse["source"])
    names = [n.decode() for n in reverse["source_name"].numpy()]
    assert all("_CLEAN1_" in n for n in names)


def test_product_dataset_lists_every_product_image(synthetic_data):
    _, records_dir = synthetic_data
    info = records.load_manifest(records_dir)["splits"]["test"]
    batches = list(pipeline.product_dataset(records_dir, "test", 5))
    ids = np.concatenate([b["product_id"].numpy() for b in batches])
    assert len(ids) == info["num_product_images"]
    assert set(ids) == set(info["product_ids"])
    assert batches[0]["image"].dtype == tf.float32


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"direction": "sideways"}, "direction"),
        ({"negatives": "never"}, "negatives"),
        ({"direction": "product_to_human", "negatives": "stored"}, "fresh"),
    ],
)
def test_bad_options_are_clear(options, message):
    with pytest.raises(ValueError, match=message):
        pipeline.PipelineOptions(**options)


def test_bad_split_and_batch_are_clear(synthetic_data):
    _, records_dir = synthetic_data
    with pytest.raises(ValueError, match="Unknown split"):
        pipeline.triplet_dataset(records_dir, "dev", 4, True)
    with pytest.raises(ValueError, match="batch_size"):
        pipeline.triplet_dataset(records_dir, "train", 0, True)
