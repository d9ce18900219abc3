r"""Turns a LookBook-layout folder into sharded TFRecords of triplets.

  python tools/build_tfrecords.py --lookbook_dir=data/synthetic/lookbook \
      --attributes=data/synthetic/attributes.csv --output_dir=data/synthetic/records

Writes triplets-<split>-*.tfrecord, products-<split>-*.tfrecord and dataset.json
(counts, split product ids, and every skipped file with its reason).
"""

from __future__ import annotations

import time

from absl import app, flags

from pldt_tf import cli
from pldt_tf.data import records

_LOOKBOOK_DIR = flags.DEFINE_string(
    "lookbook_dir", None, "Flat folder of PID######_CLEAN#_IID######.jpg files."
)
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Records folder to create.")
_ATTRIBUTES = flags.DEFINE_string(
    "attributes", None, "Optional attributes.csv (synthetic data) to copy alongside."
)
_SEED = flags.DEFINE_integer(
    "seed", 0, "Seeds the split, targets and stored negatives."
)
_VALIDATION = flags.DEFINE_float(
    "validation_fraction", 0.05, "Share of products for validation."
)
_TEST = flags.DEFINE_float("test_fraction", 0.05, "Share of products for testing.")
_PER_SHARD = flags.DEFINE_integer(
    "records_per_shard", 2048, "Triplet records per shard.", lower_bound=1
)
_OVERWRITE = flags.DEFINE_bool(
    "overwrite",
    False,
    "Replace an existing --output_dir (only once the new one is complete).",
)

(_MAX_PIXELS,) = cli.define_pixel_limits("skipped as a decompression bomb")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    start = time.time()
    options = records.BuildOptions(
        seed=_SEED.value,
        validation_fraction=_VALIDATION.value,
        test_fraction=_TEST.value,
        records_per_shard=_PER_SHARD.value,
        max_pixels=_MAX_PIXELS.value,
        overwrite=_OVERWRITE.value,
    )
    manifest = records.build_records(
        _LOOKBOOK_DIR.value, _OUTPUT_DIR.value, options, _ATTRIBUTES.value
    )
    print(records.summary(manifest))
    print(f"Wrote {_OUTPUT_DIR.value} in {time.time() - start:.1f} s.")


if __name__ == "__main__":
    flags.mark_flags_as_required(["lookbook_dir", "output_dir"])
    cli.run(main)
