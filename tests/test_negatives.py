"""Colour-matched (hard) negatives: the neighbour table and the pipeline
option that draws from it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pldt_tf import config as config_lib
from pldt_tf.data import negatives, pipeline
from pldt_tf.evaluation import probe


def test_nearest_on_literal_descriptors():
    descriptors = np.array(
        [[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0.8, 0.2], [0.5, 0.5, 0]], float
    )
    nearest = negatives.nearest(descriptors, 2)
    np.testing.assert_array_equal(nearest, [[1, 4], [0, 4], [3, 4], [2, 4], [1, 0]])


def test_nearest_never_returns_the_row_itself():
    descriptors = np.ones((5, 4))  # all equally similar
    nearest = negatives.nearest(descriptors, 4)
    for row, neighbours in enumerate(nearest):
        assert sorted(neighbours) == [i for i in range(5) if i != row]


def test_colour_neighbours_table(synthetic_data):
    _, records_dir = synthetic_data
    table = negatives.colour_neighbours(records_dir, "train", pool=3)
    images, ids = probe.product_arrays(records_dir, "train")
    np.testing.assert_array_equal(table.product_ids, np.unique(ids))
    assert table.neighbours.shape == (len(table.product_ids), 3)
    assert np.all(table.neighbours != np.arange(len(table.product_ids))[:, None])
    assert table.count.sum() == len(ids) == len(table.images)
    # Each product's slice holds exactly its images.
    for p, product_id in enumerate(table.product_ids):
        own = table.images[table.first[p] : table.first[p] + table.count[p]]
        assert len(own) == np.sum(ids == product_id)
    # Colour neighbours share the primary colour far more often than chance.
    attributes = probe.load_attributes(records_dir)
    colour = [attributes[int(i)]["primary_color"] for i in table.product_ids]
    same = np.mean(
        [colour[p] == colour[q] for p, q in enumerate(table.neighbours[:, 0])]
    )
    assert same > 0.6


def _negatives(records_dir, n=30, **options):
    dataset = pipeline.triplet_dataset(
        records_dir, "train", 16, True, pipeline.PipelineOptions(seed=7, **options)
    )
    batches = list(itertools.islice(dataset, n))
    return {
        key: np.concatenate([b[key].numpy() for b in batches])
        for key in ("source_id", "negative_id", "negative")
    }


def _same_colour_share(records_dir, drawn):
    attributes = probe.load_attributes(records_dir)
    return np.mean(
        [
            attributes[int(s)]["primary_color"] == attributes[int(n)]["primary_color"]
            for s, n in zip(drawn["source_id"], drawn["negative_id"], strict=True)
        ]
    )


def test_hard_negatives_match_colour_and_show_their_product(synthetic_data):
    _, records_dir = synthetic_data
    uniform = _negatives(records_dir)
    hard = _negatives(records_dir, hard_negatives=1.0, hard_negative_pool=2)
    assert np.all(hard["source_id"] != hard["negative_id"])
    assert (
        _same_colour_share(records_dir, hard)
        > _same_colour_share(records_dir, uniform) + 0.3
    )
    # The image is one of the negative product's own images.
    images, ids = probe.product_arrays(records_dir, "train")
    for image, product_id in zip(
        hard["negative"][:40], hard["negative_id"][:40], strict=True
    ):
        own = images[ids == product_id]
        assert np.min(np.abs(own - image).max(axis=(1, 2, 3))) == 0.0


def test_hard_negative_share_and_determinism(synthetic_data):
    _, records_dir = synthetic_data
    table = negatives.colour_neighbours(records_dir, "train", pool=2)
    neighbours = {
        int(table.product_ids[p]): set(table.product_ids[row])
        for p, row in enumerate(table.neighbours)
    }
    half = _negatives(records_dir, hard_negatives=0.5, hard_negative_pool=2)
    from_pool = np.mean(
        [
            n in neighbours[int(s)]
            for s, n in zip(half["source_id"], half["negative_id"], strict=True)
        ]
    )
    # 50% drawn from the pool, plus uniform draws that land there by chance.
    assert 0.4 < from_pool < 0.7
    again = _negatives(records_dir, hard_negatives=0.5, hard_negative_pool=2)
    np.testing.assert_array_equal(half["negative_id"], again["negative_id"])


@pytest.mark.parametrize(
    "options",
    [
        {"hard_negatives": 1.5},
        {"hard_negatives": 0.5, "negatives": "stored"},
        {"hard_negatives": 0.5, "direction": "product_to_human"},
        {"hard_negative_pool": 0},
    ],
)
def test_bad_hard_negative_options_fail_with_the_flag(options):
    # One rule, two wordings: the training flags, and the API's field names.
    with pytest.raises(ValueError, match="--hard_negative"):
        config_lib.validate(config_lib.TrainConfig(workdir="w", **options))
    with pytest.raises(ValueError, match="hard_negative") as error:
        pipeline.PipelineOptions(**options)
    assert "--" not in str(error.value)
