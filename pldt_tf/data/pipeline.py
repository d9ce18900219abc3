"""tf.data input pipelines over the records written by ``records``.

``records.decode_example`` knows the schema; this module *parses*: it swaps
roles for the ``product_to_human`` direction, draws fresh negatives, maps
pixels to [-1, 1] and batches — differently for training and evaluation.

Training batches are dicts of:
  source, target, negative: float32 [B, 64, 64, 3] in [-1, 1]
  source_id, negative_id:   int64 [B] product ids

Evaluation batches (one ordered pass, last batch kept) are dicts of:
  source, target:            float32 [B, 64, 64, 3]
  source_id:                 int64 [B]
  source_name, target_name:  string [B] file names
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from pldt_tf import errors
from pldt_tf.data import negatives, preprocess, records

DIRECTIONS = ("human_to_product", "product_to_human")
NEGATIVE_MODES = ("fresh", "stored")

# Record field playing each role, per direction. The product-to-human model
# (paper Fig. 6) reads the same records with source and target swapped.
_ROLES = {
    "human_to_product": {"source": "source", "target": "target"},
    "product_to_human": {"source": "target", "target": "source"},
}
_NAMES = {"source": "source_name", "target": "target_name"}
# Product images shuffled together when drawing negatives (~12 kB each).
_MAX_POOL_SHUFFLE = 20_000


@dataclasses.dataclass(frozen=True)
class PipelineOptions:
    """What ``triplet_dataset`` delivers.

    Attributes:
      direction: ``human_to_product`` (the paper's task) or
        ``product_to_human`` (paper Fig. 6).
      negatives: ``fresh``: each epoch, every source gets the target-domain
        image of a different product drawn in the pipeline; ``stored``: the
        negative written in the record (human_to_product only).
      hard_negatives: Share of fresh negatives drawn among the products
        closest in garment colour to the source's product (``negatives``
        module; not the paper's sampling, which is 0). human_to_product only.
      hard_negative_pool: How many closest products each draw chooses among.
      seed: Makes shuffling and negatives deterministic; None for fastest.
      shuffle_buffer: Records held for shuffling (~20 kB each, serialized).
      cycle_length: Shards read in parallel.
    """

    direction: str = "human_to_product"
    negatives: str = "fresh"
    hard_negatives: float = 0.0
    hard_negative_pool: int = 32
    seed: int | None = None
    shuffle_buffer: int = 4096
    cycle_length: int = 4

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise ValueError(
                f"direction must be one of {DIRECTIONS}, got {self.direction!r}"
            )
        if self.negatives not in NEGATIVE_MODES:
            raise ValueError(
                f"negatives must be one of {NEGATIVE_MODES}, got {self.negatives!r}"
            )
        check_negatives(
            self.negatives,
            self.direction,
            self.hard_negatives,
            self.hard_negative_pool,
        )
        if self.shuffle_buffer < 1 or self.cycle_length < 1:
            raise ValueError("shuffle_buffer and cycle_length must be >= 1")


def check_negatives(
    negatives: str,
    direction: str,
    hard_negatives: float,
    hard_negative_pool: int,
    prefix: str = "",
) -> None:
    """Raises ``UserError`` (a ``ValueError``) when the negative options do
    not go together; ``prefix`` is put before each option's name in the
    message (``--`` for the training flags)."""
    p = prefix
    if direction == "product_to_human" and negatives == "stored":
        raise errors.UserError(
            f"{p}negatives=stored holds product images, but "
            f"{p}direction=product_to_human needs photos of other products: "
            f"use {p}negatives=fresh."
        )
    if not 0.0 <= hard_negatives <= 1.0:
        raise errors.UserError(
            f"{p}hard_negatives={hard_negatives} must lie in [0, 1]: the share "
            "of negatives drawn among colour neighbours (0: the paper)."
        )
    if hard_negative_pool < 1:
        raise errors.UserError(
            f"{p}hard_negative_pool={hard_negative_pool} must be >= 1."
        )
    if hard_negatives and (direction != "human_to_product" or negatives != "fresh"):
        raise errors.UserError(
            f"{p}hard_negatives draws colour-matched product images: it needs "
            f"{p}direction=human_to_product and {p}negatives=fresh (or set "
            f"{p}hard_negatives=0)."
        )


def _interleaved(files, options: PipelineOptions, seed, shuffle: bool):
    """Serialized records of ``files``, shards read in parallel."""
    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.interleave(
        tf.data.TFRecordDataset,
        cycle_length=min(options.cycle_length, len(files)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=options.seed is not None or not shuffle,
    )
    if shuffle:
        dataset = dataset.shuffle(
            options.shuffle_buffer, seed=seed, reshuffle_each_iteration=True
        )
    return dataset


def parse_train(example: dict, negative: dict, direction: str) -> dict:
    """Decoded triplet (+ the example that lends its negative) → training dict.

    Args:
      example: ``records.decode_example`` output for the source record.
      negative: ``{"image", "product_id"}`` of the negative.
      direction: One of ``DIRECTIONS``.
    """
    roles = _ROLES[direction]
    return {
        "source": preprocess.to_unit_range(example[roles["source"]]),
        "target": preprocess.to_unit_range(example[roles["target"]]),
        "negative": preprocess.to_unit_range(negative["image"]),
        "source_id": example["source_product_id"],
        "negative_id": negative["product_id"],
    }


def parse_eval(example: dict, direction: str) -> dict:
    """Decoded triplet → evaluation dict (no negative; names kept)."""
    roles = _ROLES[direction]
    return {
        "source": preprocess.to_unit_range(example[roles["source"]]),
        "target": preprocess.to_unit_range(example[roles["target"]]),
        "source_id": example["source_product_id"],
        "source_name": example[_NAMES[roles["source"]]],
        "target_name": example[_NAMES[roles["target"]]],
    }


def _decode_triplet(serialized, keys=None):
    return records.decode_example(serialized, records.TRIPLET_FEATURES, keys)


def _fresh_negatives(records_dir: str, split: str, options: PipelineOptions):
    """An endless stream of ``{"image", "product_id"}`` target-domain images,
    shuffled independently of the sources (a new pairing every epoch).

    human_to_product draws from the split's product images, decoded once and
    cached (a few hundred MB even for LookBook), so a negative costs no
    decoding and every product is equally likely. product_to_human draws
    photos from a second, independently shuffled pass over the triplets.
    """
    seed = None if options.seed is None else options.seed + 1
    if options.direction == "human_to_product":
        files = records.split_files(records_dir, split, "product")
        count = records.load_manifest(records_dir)["splits"][split][
            "num_product_images"
        ]
        return (
            tf.data.TFRecordDataset(files)
            .map(
                lambda s: records.decode_example(
                    s, records.PRODUCT_FEATURES, ["image", "product_id"]
                ),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
            .cache()
            .shuffle(max(1, min(count, _MAX_POOL_SHUFFLE)), seed=seed)
            .repeat()
        )
    role = _ROLES[options.direction]["target"]
    files = records.split_files(records_dir, split, "triplet")
    return (
        _interleaved(files, options, seed, shuffle=True)
        .repeat()
        .map(
            lambda s: _decode_triplet(s, [role, "source_product_id"]),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        .map(lambda d: {"image": d[role], "product_id": d["source_product_id"]})
    )


def triplet_dataset(
    records_dir: str,
    split: str,
    batch_size: int,
    training: bool,
    options: PipelineOptions = PipelineOptions(),
) -> tf.data.Dataset:
    """Batches of triplets from a records folder.

    Args:
      records_dir: Folder written by ``records.build_records``.
      split: ``train``, ``validation`` or ``test``.
      batch_size: Examples per batch.
      training: True: shuffled, endless, negatives, ``drop_remainder``.
        False: one ordered pass, last partial batch kept, no negatives.
      options: See ``PipelineOptions``.

    Returns:
      A ``tf.data.Dataset`` of dicts (see the module docstring).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    files = records.split_files(records_dir, split, "triplet")
    direction = options.direction
    if not training:
        dataset = _interleaved(files, options, None, shuffle=False).map(
            lambda s: parse_eval(_decode_triplet(s), direction),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    dataset = _interleaved(files, options, options.seed, shuffle=True).repeat()
    if options.negatives == "stored":
        dataset = dataset.map(
            lambda s: _with_stored_negative(_decode_triplet(s), direction),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    else:
        keys = [k for k in records.TRIPLET_FEATURES if k != "negative"]
        dataset = tf.data.Dataset.zip(
            dataset, _fresh_negatives(records_dir, split, options)
        )
        dataset = dataset.map(
            lambda s, negative: parse_train(
                _decode_triplet(s, keys), negative, direction
            ),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        if options.hard_negatives:
            table = negatives.colour_neighbours(
                records_dir, split, options.hard_negative_pool
            )
            seed = None if options.seed is None else options.seed + 2
            dataset = negatives.replace_with_hard(
                dataset, table, options.hard_negatives, seed
            )
        # A draw from the source's own product (about 1 in #products) is
        # dropped, so a negative never shows the source's product.
        dataset = dataset.filter(lambda d: d["source_id"] != d["negative_id"])
    dataset = dataset.batch(batch_size, drop_remainder=True)
    dataset = dataset.prefetch(tf.data.AUTOTUNE)
    dataset_options = tf.data.Options()
    dataset_options.deterministic = options.seed is not None
    return dataset.with_options(dataset_options)


def split_arrays(
    records_dir: str,
    split: str,
    keys: Sequence[str] = ("source", "source_id"),
    computed: Mapping[str, Callable[[dict], Any]] | None = None,
    limit: int | None = None,
    batch_size: int = 256,
    options: PipelineOptions = PipelineOptions(),
) -> dict[str, np.ndarray]:
    """A split's evaluation triplets as numpy arrays, in their fixed order.

    Args:
      records_dir, split, options: As for ``triplet_dataset``.
      keys: Evaluation-batch fields to keep (see the module docstring).
      computed: Extra arrays: name → function of an evaluation batch (e.g. a
        converter's drawings, an encoder's codes). Applied batch by batch, so
        a split need not be held as images to compute them.
      limit: Keep the first ``limit`` examples; reading stops once it has
        them. None: the whole split.
      batch_size: Examples per call of the ``computed`` functions.

    Returns:
      Name → array over the examples, for every key and computed name.
    """
    computed = dict(computed or {})
    parts = {name: [] for name in [*keys, *computed]}
    count = 0
    for batch in triplet_dataset(records_dir, split, batch_size, False, options):
        for key in keys:
            parts[key].append(batch[key].numpy())
        for name, compute in computed.items():
            parts[name].append(np.asarray(compute(batch)))
        count += len(batch["source_id"])
        if limit is not None and count >= limit:
            break
    return {name: np.concatenate(values)[:limit] for name, values in parts.items()}


def _with_stored_negative(example: dict, direction: str) -> dict:
    negative = {
        "image": example["negative"],
        "product_id": example["negative_product_id"],
    }
    return parse_train(example, negative, direction)


def product_dataset(records_dir: str, split: str, batch_size: int) -> tf.data.Dataset:
    """All product images of a split, in order: dicts of ``image`` (float32
    [B, 64, 64, 3] in [-1, 1]), ``product_id`` (int64) and ``name``."""
    files = records.split_files(records_dir, split, "product")

    def parse(serialized):
        example = records.decode_example(serialized, records.PRODUCT_FEATURES)
        example["image"] = preprocess.to_unit_range(example["image"])
        return example

    return (
        tf.data.TFRecordDataset(files)
        .map(parse, num_parallel_calls=tf.data.AUTOTUNE)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
