"""TFRecords of (source, target, negative) triplets: schema, writer, manifest.

A records folder holds, per split, sharded ``triplets-<split>-*.tfrecord``
files (one ``tf.train.Example`` per fashion-model photo), ``products-<split>-*``
files (one per product image, for retrieval and evaluation) and a
``dataset.json`` manifest that lists them. Readers take the file list from the
manifest only, and the folder is written under a temporary name and renamed
into place at the end, so an interrupted build is never read as complete.

Triplet schema (all images preprocessed 64×64 RGB, lossless PNG):
  source             photo of a person wearing the product (CLEAN0)
  target             a product image of the same product (CLEAN1)
  negative           a product image of a *different* product of the split
  source_product_id  int64
  negative_product_id int64
  source_name        file name of the photo
  target_name        file name of the product image

The ``product_to_human`` direction reads the same records with source and
target swapped (see ``pipeline``); nothing is written twice.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import math
import os
from collections.abc import Iterator, Sequence

import numpy as np
import tensorflow as tf
from absl import logging

from pldt_tf import errors, storage
from pldt_tf.data import atomic, catalogue, preprocess

SCHEMA_VERSION = 1
MANIFEST_NAME = "dataset.json"
ATTRIBUTES_NAME = "attributes.csv"

TRIPLET_FEATURES = {
    "source": tf.io.FixedLenFeature([], tf.string),
    "target": tf.io.FixedLenFeature([], tf.string),
    "negative": tf.io.FixedLenFeature([], tf.string),
    "source_product_id": tf.io.FixedLenFeature([], tf.int64),
    "negative_product_id": tf.io.FixedLenFeature([], tf.int64),
    "source_name": tf.io.FixedLenFeature([], tf.string),
    "target_name": tf.io.FixedLenFeature([], tf.string),
}
PRODUCT_FEATURES = {
    "image": tf.io.FixedLenFeature([], tf.string),
    "product_id": tf.io.FixedLenFeature([], tf.int64),
    "name": tf.io.FixedLenFeature([], tf.string),
}
IMAGE_KEYS = ("source", "target", "negative", "image")


# --------------------------------------------------------------------------
# Schema: serialized Example <-> tensors.


def _bytes(value: bytes) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int(value: int) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))


def triplet_example(
    source: bytes,
    target: bytes,
    negative: bytes,
    source_product_id: int,
    negative_product_id: int,
    source_name: str,
    target_name: str,
) -> tf.train.Example:
    """Builds one triplet ``tf.train.Example`` from PNG bytes and ids."""
    return tf.train.Example(
        features=tf.train.Features(
            feature={
                "source": _bytes(source),
                "target": _bytes(target),
                "negative": _bytes(negative),
                "source_product_id": _int(source_product_id),
                "negative_product_id": _int(negative_product_id),
                "source_name": _bytes(source_name.encode("utf-8")),
                "target_name": _bytes(target_name.encode("utf-8")),
            }
        )
    )


def product_example(image: bytes, product_id: int, name: str) -> tf.train.Example:
    """Builds one product-image ``tf.train.Example``."""
    return tf.train.Example(
        features=tf.train.Features(
            feature={
                "image": _bytes(image),
                "product_id": _int(product_id),
                "name": _bytes(name.encode("utf-8")),
            }
        )
    )


def decode_example(
    serialized: tf.Tensor, features: dict, keys: Sequence[str] | None = None
) -> dict[str, tf.Tensor]:
    """Serialized Example → dict of tensors; PNGs become ``uint8 [64, 64, 3]``.

    This is the schema and nothing more: no normalisation, no role swapping.

    Args:
      serialized: A scalar string tensor.
      features: ``TRIPLET_FEATURES`` or ``PRODUCT_FEATURES``.
      keys: Parse only these features (skips decoding unused images).
    """
    if keys is not None:
        features = {key: features[key] for key in keys}
    parsed = tf.io.parse_single_example(serialized, features)
    size = preprocess.IMAGE_SIZE
    for key in IMAGE_KEYS:
        if key in parsed:
            image = tf.io.decode_png(parsed[key], channels=3)
            parsed[key] = tf.ensure_shape(image, [size, size, 3])
    return parsed


# --------------------------------------------------------------------------
# Building a records folder from a catalogue (a LookBook folder or a
# pairs manifest).


@dataclasses.dataclass(frozen=True)
class BuildOptions:
    """How ``build_records`` turns a catalogue into records.

    Attributes:
      seed: Seeds the split, the choice of targets and the stored negatives.
      validation_fraction: Share of products held out for validation.
      test_fraction: Share of products held out for testing.
      records_per_shard: Triplet records per shard (the last may be smaller).
      max_pixels: Larger images are skipped as decompression bombs.
      overwrite: Replace an existing output folder (atomically).
    """

    seed: int = 0
    validation_fraction: float = 0.05
    test_fraction: float = 0.05
    records_per_shard: int = 2048
    max_pixels: int = preprocess.DEFAULT_MAX_PIXELS
    overwrite: bool = False


def _check_options(options: BuildOptions) -> None:
    if options.records_per_shard < 1:
        raise errors.UserError(
            f"records_per_shard must be >= 1, got {options.records_per_shard}"
        )
    if options.max_pixels < 1:
        raise errors.UserError(f"max_pixels must be >= 1, got {options.max_pixels}")


def _preprocess_entries(
    data: catalogue.Catalogue, max_pixels: int
) -> tuple[dict[str, bytes], list[dict]]:
    """PNG bytes per entry name, and the files that could not be read."""
    import keras  # Progbar only; imported here to keep module import light.

    images, skipped = {}, []
    if not data.entries:
        return images, skipped
    progress = keras.utils.Progbar(len(data.entries), unit_name="image")
    paths = [data.path(entry) for entry in data.entries]
    results = preprocess.preprocess_files(paths, max_pixels=max_pixels)
    for count, (entry, (_, png, reason)) in enumerate(
        zip(data.entries, results, strict=True), start=1
    ):
        if png is None:
            skipped.append({"file": entry.name, "reason": reason})
            logging.warning("Skipping %s: %s", entry.name, reason)
        else:
            images[entry.name] = png
        if count % 256 == 0 or count == len(data.entries):
            progress.update(count)
    return images, skipped


def _triplets(
    products: dict[int, catalogue.Product],
    split_ids: Sequence[int],
    negative_ids: Sequence[int],
    rng: np.random.Generator,
) -> list[tuple[str, str, str, int, int]]:
    """(photo, target, negative, source id, negative id) for a split, shuffled.

    Each photo gets one of its product's images as target (several product
    images are all valid) and one image of a different product from
    ``negative_ids`` as stored negative. The order is shuffled so that every
    shard mixes products.
    """
    rows = []
    for pid in split_ids:
        product = products[pid]
        others = [other for other in negative_ids if other != pid]
        for photo in product.photos:
            target = product.product_images[rng.integers(len(product.product_images))]
            other = others[rng.integers(len(others))]
            negatives = products[other].product_images
            negative = negatives[rng.integers(len(negatives))]
            rows.append((photo, target, negative, pid, other))
    order = rng.permutation(len(rows))
    return [rows[i] for i in order]


def _shard_names(prefix: str, count: int, total: int) -> list[str]:
    shards = max(1, math.ceil(count / total)) if count else 0
    return [f"{prefix}-{i:05d}-of-{shards:05d}.tfrecord" for i in range(shards)]


def _write_shards(
    folder: str, names: Sequence[str], examples: Iterator[tf.train.Example], count: int
) -> None:
    """Writes ``count`` examples into the named shards, in contiguous runs."""
    per_shard = math.ceil(count / len(names)) if names else 0
    examples = iter(examples)
    for name in names:
        with tf.io.TFRecordWriter(os.path.join(folder, name)) as writer:
            for _ in range(per_shard):
                example = next(examples, None)
                if example is None:
                    break
                # A protobuf map's wire order may change from one process to
                # the next; rebuilds must be byte-identical.
                writer.write(example.SerializeToString(deterministic=True))


def _write_split(
    folder: str,
    split: str,
    split_ids: Sequence[int],
    products: dict[int, catalogue.Product],
    images: dict[str, bytes],
    rng: np.random.Generator,
    records_per_shard: int,
) -> dict:
    """Writes one split's triplet and product shards; returns its manifest."""
    # Negatives come from the same split; a split of one product (tiny data
    # sets only) borrows them from all products.
    negative_ids = split_ids if len(split_ids) > 1 else sorted(products)
    rows = _triplets(products, split_ids, negative_ids, rng)
    triplet_files = _shard_names(f"triplets-{split}", len(rows), records_per_shard)
    _write_shards(
        folder,
        triplet_files,
        (
            triplet_example(
                images[photo],
                images[target],
                images[negative],
                pid,
                other,
                photo,
                target,
            )
            for photo, target, negative, pid, other in rows
        ),
        len(rows),
    )
    product_rows = [
        (name, pid) for pid in split_ids for name in products[pid].product_images
    ]
    product_files = _shard_names(
        f"products-{split}", len(product_rows), 4 * records_per_shard
    )
    _write_shards(
        folder,
        product_files,
        (product_example(images[name], pid, name) for name, pid in product_rows),
        len(product_rows),
    )
    return {
        "product_ids": list(split_ids),
        "num_products": len(split_ids),
        "num_triplets": len(rows),
        "num_product_images": len(product_rows),
        "triplet_files": triplet_files,
        "product_files": product_files,
    }


def build_records(
    data: catalogue.Catalogue,
    output_dir: str,
    options: BuildOptions = BuildOptions(),
) -> dict:
    """Turns a catalogue into a records folder (``_build_records``); a full
    disk ends in one line, with nothing half-written left behind."""
    from pldt_tf import faults

    with faults.disk_space(output_dir, "the records"):
        return _build_records(data, output_dir, options)


def _build_records(
    data: catalogue.Catalogue,
    output_dir: str,
    options: BuildOptions,
) -> dict:
    """Turns a catalogue into a records folder.

    Args:
      data: What to read: ``lookbook.read_folder(...)`` or
        ``pairs.read_manifest(...)``.
      output_dir: The records folder to create.
      options: See ``BuildOptions``.

    Returns:
      The manifest, also written to ``<output_dir>/dataset.json``.

    Raises:
      FileExistsError: ``output_dir`` exists and ``options.overwrite`` is off.
      ValueError: too few usable products to build a training split.
    """
    _check_options(options)
    atomic.check_absent(output_dir, options.overwrite)
    logging.info(
        "%s: %d images listed, %d other entries skipped",
        data.root,
        len(data.entries),
        len(data.skipped),
    )
    images, unreadable = _preprocess_entries(data, options.max_pixels)
    products, dropped = catalogue.group_products(
        (e for e in data.entries if e.name in images), data.product_ids
    )
    splits = catalogue.split_products(
        list(products), options.seed, options.validation_fraction, options.test_fraction
    )
    if len(splits["train"]) < 2:
        source = data.source.get("pairs_csv", data.root)
        raise errors.UserError(
            f"{source!r} has {len(products)} usable products (with both a "
            "readable product image and a readable photo); at least 2 training "
            "products are needed to draw negatives from a different product."
        )

    with atomic.atomic_folder(output_dir, options.overwrite, MANIFEST_NAME) as tmp_dir:
        manifest = {
            "schema_version": SCHEMA_VERSION,
            **data.source,
            "seed": options.seed,
            "preprocessing": {
                "image_size": preprocess.IMAGE_SIZE,
                "resize": "longer side to image_size, aspect kept, "
                f"tf.image.resize method={preprocess.RESIZE_METHOD} antialias=True",
                "pad": "short side centred, margins filled with "
                f"{preprocess.PAD_VALUE}",
                "colour": "EXIF orientation applied; RGB; alpha over white; "
                "16-bit scaled to 8-bit",
                "max_pixels": options.max_pixels,
                "encoding": "png",
            },
            "split_fractions": {
                "validation": options.validation_fraction,
                "test": options.test_fraction,
            },
            "counts": {
                **data.counts,
                "images_read": len(images),
                "skipped_files": len(data.skipped) + len(unreadable),
                "products": len(products),
                "product_images": sum(len(p.product_images) for p in products.values()),
                "photos": sum(len(p.photos) for p in products.values()),
                "dropped_products_no_photos": len(dropped["no_photos"]),
                "dropped_products_no_product_image": len(dropped["no_product_image"]),
            },
            "skipped_files": sorted(
                [*data.skipped, *unreadable], key=lambda s: s["file"]
            ),
            # As the source names them (a manifest's ids, not records numbers).
            "dropped_products": {
                why: [data.source_id(n) for n in numbers]
                for why, numbers in dropped.items()
            },
            **data.report,
            "splits": {},
        }
        for index, split in enumerate(catalogue.SPLITS):
            rng = np.random.default_rng([options.seed, index])
            manifest["splits"][split] = _write_split(
                tmp_dir,
                split,
                splits[split],
                products,
                images,
                rng,
                options.records_per_shard,
            )
        if data.attributes_csv is not None:
            storage.write_bytes(
                os.path.join(tmp_dir, ATTRIBUTES_NAME), data.attributes_csv
            )
            manifest["attributes_file"] = ATTRIBUTES_NAME
        # Last: the completion marker (atomic.atomic_folder).
        storage.write_text(
            os.path.join(tmp_dir, MANIFEST_NAME), json.dumps(manifest, indent=1) + "\n"
        )
    return manifest


def load_manifest(records_dir: str) -> dict:
    """Reads ``dataset.json`` from a records folder, with a clear error."""
    path = os.path.join(records_dir, MANIFEST_NAME)
    if not storage.isfile(path):
        raise errors.MissingInputError(
            f"{path!r} not found: {records_dir!r} is not a complete records "
            "folder (dataset.json is written last). Build it with "
            "tools/build_tfrecords.py --lookbook_dir=... (or --pairs_csv=...) "
            f"--output_dir={records_dir} (--overwrite to replace what is there)."
        )
    manifest = storage.read_json(
        path,
        "it was cut short or edited; rebuild the records with "
        f"tools/build_tfrecords.py ... --output_dir={storage.shown_path(records_dir)} "
        "--overwrite",
    )
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise errors.UserError(
            f"{path!r} has schema_version {manifest.get('schema_version')!r}; "
            f"this pldt_tf reads version {SCHEMA_VERSION}. Rebuild the records."
        )
    return manifest


def split_files(records_dir: str, split: str, kind: str = "triplet") -> list[str]:
    """Absolute shard paths of one split, as listed in the manifest.

    Args:
      records_dir: A folder written by ``build_records``.
      split: ``train``, ``validation`` or ``test``.
      kind: ``triplet`` or ``product``.
    """
    manifest = load_manifest(records_dir)
    if split not in manifest["splits"]:
        raise errors.UserError(
            f"Unknown split {split!r}; {records_dir!r} has "
            f"{sorted(manifest['splits'])}."
        )
    names = manifest["splits"][split][f"{kind}_files"]
    if not names:
        raise errors.UserError(
            f"Split {split!r} of {records_dir!r} has no {kind} records "
            f"({manifest['splits'][split]['num_products']} products). Use a "
            "larger data set or larger split fractions."
        )
    return [os.path.join(records_dir, name) for name in names]


def summary(manifest: dict) -> str:
    """A few human-readable lines about a records folder."""
    counts = manifest["counts"]
    source = storage.shown_path(manifest.get("pairs_csv", manifest["source_dir"]))
    lines = [
        f"{counts['products']} products ({counts['product_images']} product images, "
        f"{counts['photos']} photos) from {source}",
        f"skipped {counts['skipped_files']} files; dropped "
        f"{counts['dropped_products_no_photos']} products without photos and "
        f"{counts['dropped_products_no_product_image']} without a product image",
    ]
    for why, label in (
        ("no_photos", "without photos"),
        ("no_product_image", "without a product image"),
    ):
        dropped = manifest["dropped_products"][why]
        if dropped:
            shown = ", ".join(str(pid) for pid in dropped[:10])
            more = f" and {len(dropped) - 10} more" if len(dropped) > 10 else ""
            lines.append(f"  dropped {label}: {shown}{more}")
    if "pairs_csv" in manifest:
        kinds = collections.Counter(c["kind"] for c in manifest["contradictions"])
        listed = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        several = counts.get("products_with_several_images", 0)
        lines.append(
            f"manifest: {counts['manifest_rows']} rows, skipped "
            f"{counts['skipped_rows']}, {counts['duplicate_rows']} duplicates, "
            f"{counts['contradictions']} contradictions"
            + (f" ({listed}; rules in dataset.json)" if kinds else "")
            + (
                f"; {several} products with several product images (all kept "
                "as targets)"
                if several
                else ""
            )
        )
        for row in manifest["skipped_rows"][:10]:
            lines.append(f"  skipped row {row['row']}: {row['reason']}")
    for split, info in manifest["splits"].items():
        lines.append(
            f"{split:>10}: {info['num_products']:5d} products, "
            f"{info['num_triplets']:6d} triplets in {len(info['triplet_files'])} shards"
        )
    for skipped in manifest["skipped_files"][:10]:
        lines.append(f"  skipped {skipped['file']}: {skipped['reason']}")
    if len(manifest["skipped_files"]) > 10:
        lines.append(
            f"  ... and {len(manifest['skipped_files']) - 10} more (see dataset.json)"
        )
    return "\n".join(lines)
