"""Colour-matched ("hard") negatives: an option beyond the paper.

The paper draws the unassociated target I_T⁻ uniformly among the other
products. A random product almost always has another colour, so the domain
discriminator D_A can reject unassociated pairs by colour alone, and nothing
then asks the converter for the right garment shape (docs/results/table3.md). With
``hard_negatives=f``, a fraction f of the negatives is instead drawn among the
``pool`` products whose garment colour histogram
(``preprocess.garment_histogram``) is closest to that of the source's own
product: mostly the same colour and another shape or pattern. The descriptor
needs no labels, so this works on LookBook as on the synthetic set.

``ColourNeighbours`` holds, for the product images of one split, each
product's nearest products and the PNG bytes of every product image;
``replace_with_hard`` swaps a share of a training stream's negatives for
draws among them.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import tensorflow as tf
from absl import logging

from pldt_tf.data import preprocess, records

# Rows of the product-by-product similarity computed at once.
_CHUNK = 1024


@dataclasses.dataclass(frozen=True)
class ColourNeighbours:
    """Nearest products by garment colour, for one split.

    Attributes:
      product_ids: [P] int64, sorted.
      neighbours: [P, pool] int32 indices into ``product_ids``, nearest first,
        never the product itself.
      images: [M] PNG bytes of every product image, grouped by product.
      first, count: [P] int32: product p's images are
        ``images[first[p] : first[p] + count[p]]``.
    """

    product_ids: np.ndarray
    neighbours: np.ndarray
    images: np.ndarray
    first: np.ndarray
    count: np.ndarray


def nearest(descriptors: np.ndarray, pool: int) -> np.ndarray:
    """[P, D] → [P, pool] indices of each row's most cosine-similar other
    rows, nearest first."""
    unit = tf.math.l2_normalize(tf.constant(descriptors, tf.float32), axis=-1)
    rows = []
    for start in range(0, len(descriptors), _CHUNK):
        similarity = tf.matmul(unit[start : start + _CHUNK], unit, transpose_b=True)
        own = tf.range(start, start + tf.shape(similarity)[0])
        similarity -= 3.0 * tf.one_hot(own, len(descriptors))  # never itself
        rows.append(tf.math.top_k(similarity, pool).indices.numpy())
    return np.concatenate(rows).astype(np.int32)


def colour_neighbours(records_dir: str, split: str, pool: int) -> ColourNeighbours:
    """Reads the split's product images and finds each product's ``pool``
    nearest products by mean garment colour histogram.

    Raises:
      ValueError: when the split has fewer than two products or ``pool < 1``.
    """
    if pool < 1:
        raise ValueError(f"hard negative pool must be >= 1, got {pool}")
    start = time.perf_counter()
    files = records.split_files(records_dir, split, "product")
    features = {k: records.PRODUCT_FEATURES[k] for k in ("image", "product_id")}
    pngs, ids, histograms = [], [], []
    for batch in tf.data.TFRecordDataset(files).batch(512):
        parsed = tf.io.parse_example(batch, features)
        images = tf.map_fn(
            lambda png: tf.io.decode_png(png, channels=3),
            parsed["image"],
            fn_output_signature=tf.uint8,
        )
        pngs.extend(parsed["image"].numpy())
        ids.append(parsed["product_id"].numpy())
        histograms.append(
            preprocess.garment_histogram(preprocess.to_unit_range(images)).numpy()
        )
    ids = np.concatenate(ids)
    histograms = np.concatenate(histograms)
    product_ids, count = np.unique(ids, return_counts=True)
    if len(product_ids) < 2:
        raise ValueError(
            f"{records_dir!r} split {split!r} has {len(product_ids)} product(s): "
            "hard negatives need at least two. Use --hard_negatives=0."
        )
    order = np.argsort(ids, kind="stable")
    first = np.concatenate([[0], np.cumsum(count)[:-1]])
    index = np.searchsorted(product_ids, ids[order])
    sums = np.zeros((len(product_ids), histograms.shape[1]), np.float64)
    np.add.at(sums, index, histograms[order])
    # The mean of each product's images' histograms (cosine ignores the scale).
    neighbours = nearest(sums, min(pool, len(product_ids) - 1))
    logging.info(
        "Colour neighbours of %d %s products (pool %d) in %.1f s.",
        len(product_ids),
        split,
        neighbours.shape[1],
        time.perf_counter() - start,
    )
    return ColourNeighbours(
        product_ids=product_ids.astype(np.int64),
        neighbours=neighbours,
        images=np.array(pngs, dtype=object)[order],
        first=first.astype(np.int32),
        count=count.astype(np.int32),
    )


def _below(u: tf.Tensor, n) -> tf.Tensor:
    """A uniform integer in [0, n) from a uniform float ``u`` in [0, 1)."""
    n = tf.cast(n, tf.int32)
    return tf.minimum(tf.cast(u * tf.cast(n, tf.float32), tf.int32), n - 1)


def replace_with_hard(
    dataset: tf.data.Dataset,
    table: ColourNeighbours,
    fraction: float,
    seed: int | None,
) -> tf.data.Dataset:
    """Replaces, with probability ``fraction``, each element's ``negative``
    (float32 [64, 64, 3] in [-1, 1]) and ``negative_id`` by one image of a
    product drawn uniformly among the colour neighbours of its
    ``source_id``'s product. Elements whose source product is not in the
    table keep their negative."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"hard negative fraction must lie in [0, 1], got {fraction}")
    product_ids = tf.constant(table.product_ids)
    neighbours = tf.constant(table.neighbours)
    images = tf.constant(table.images.astype(bytes))
    first = tf.constant(table.first)
    count = tf.constant(table.count)
    pool = table.neighbours.shape[1]

    def swap(element, draw_seed):
        u = tf.random.stateless_uniform([3], seed=tf.stack([draw_seed, 0]))
        position = tf.searchsorted(product_ids, element["source_id"][None])[0]
        position = tf.minimum(position, tf.size(product_ids) - 1)
        known = tf.equal(product_ids[position], element["source_id"])

        def hard():
            choice = neighbours[position, _below(u[1], pool)]
            image = first[choice] + _below(u[2], count[choice])
            png = tf.io.decode_png(images[image], channels=3)
            size = preprocess.IMAGE_SIZE
            return (
                preprocess.to_unit_range(tf.ensure_shape(png, [size, size, 3])),
                product_ids[choice],
            )

        negative, negative_id = tf.cond(
            tf.logical_and(known, u[0] < fraction),
            hard,
            lambda: (element["negative"], element["negative_id"]),
        )
        return {**element, "negative": negative, "negative_id": negative_id}

    seeds = tf.data.Dataset.random(seed=seed)
    return tf.data.Dataset.zip(dataset, seeds).map(
        swap, num_parallel_calls=tf.data.AUTOTUNE
    )
