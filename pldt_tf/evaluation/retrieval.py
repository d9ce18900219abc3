"""Product retrieval from a generated image with a fixed, label-free
descriptor (works on LookBook too): the rank of the ground-truth product
among all products of the split, nearest neighbour first."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from pldt_tf.data import preprocess


def descriptor(images) -> np.ndarray:
    """[N, 64, 64, 3] in [-1, 1] → [N, 256]: an 8×8 colour thumbnail and a
    colour histogram of the non-white (garment) pixels, each L2-normalised."""
    unit = (tf.cast(images, tf.float32) + 1.0) / 2.0
    thumb = tf.reshape(tf.image.resize(unit, [8, 8], method="area"), [-1, 192])
    histogram = preprocess.garment_histogram(images)
    parts = [tf.math.l2_normalize(p, axis=-1) for p in (thumb, histogram)]
    return tf.concat(parts, axis=-1).numpy()


def truth_ranks(
    queries: np.ndarray,
    gallery: np.ndarray,
    gallery_ids: np.ndarray,
    true_ids: np.ndarray,
) -> np.ndarray:
    """Rank (1 = nearest) of each query's true product among the gallery's
    products; a product's distance is that of its nearest image."""
    distances = ((queries[:, None, :] - gallery[None, :, :]) ** 2).sum(-1)  # [Q, G]
    products = np.unique(gallery_ids)
    per_product = np.stack(
        [distances[:, gallery_ids == p].min(axis=1) for p in products], axis=1
    )  # [Q, P]
    truth = per_product[np.arange(len(queries)), np.searchsorted(products, true_ids)]
    return 1 + (per_product < truth[:, None]).sum(axis=1)


def top_k(ranks: np.ndarray, k: int) -> float:
    return float(np.mean(ranks <= k))


def retrieve_by_score(
    score_fn,
    sources: np.ndarray,
    gallery: np.ndarray,
    batch_size: int = 256,
) -> np.ndarray:
    """Paper Table 2's "Retrieval by DD-score": for each source, the index of
    the gallery image that ``score_fn(sources, targets)`` scores highest.

    Args:
      score_fn: Batched pair scorer, e.g. the domain discriminator D_A:
        ([B, 64, 64, 3], [B, 64, 64, 3]) → [B] logits.
      sources: [Q, 64, 64, 3] queries.
      gallery: [G, 64, 64, 3] candidates (training product images).
      batch_size: Pairs scored per call.

    Returns:
      [Q] gallery indices.
    """
    gallery = tf.constant(gallery)
    best = []
    for source in sources:
        scores = []
        for start in range(0, len(gallery), batch_size):
            targets = gallery[start : start + batch_size]
            repeated = tf.repeat(source[None], tf.shape(targets)[0], axis=0)
            scores.append(np.asarray(score_fn(repeated, targets)).reshape(-1))
        best.append(int(np.argmax(np.concatenate(scores))))
    return np.array(best, np.int64)
