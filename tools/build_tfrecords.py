r"""Turns a LookBook-layout folder or a pairs manifest into sharded
TFRecords of triplets.

  python tools/build_tfrecords.py --lookbook_dir=data/synthetic/lookbook \
      --attributes=data/synthetic/attributes.csv --output_dir=data/synthetic/records
  python tools/build_tfrecords.py --pairs_csv=shop/pairs.csv \
      --output_dir=shop/records

Writes triplets-<split>-*.tfrecord, products-<split>-*.tfrecord and dataset.json
(counts, split product ids, and every skipped file with its reason).

  python tools/build_tfrecords.py --verify=data/demo/records

reads every shard of a records folder once and checks the counts against
dataset.json: damaged, missing and short shards are named, with the command
that rebuilds them (exit status 2); training runs the same check at start.
"""

from __future__ import annotations

import time

from absl import app, flags

from pldt_tf import cli, faults, storage
from pldt_tf.data import lookbook, pairs, records

_LOOKBOOK_DIR = flags.DEFINE_string(
    "lookbook_dir", None, "Flat folder of PID######_CLEAN#_IID######.jpg files."
)
_PAIRS_CSV, _ALLOW_OUTSIDE = cli.define_pairs_source()
_OUTPUT_DIR = flags.DEFINE_string("output_dir", None, "Records folder to create.")
_ATTRIBUTES = flags.DEFINE_string(
    "attributes",
    None,
    "With --lookbook_dir: optional attributes.csv (product_id and one column "
    "per attribute; the synthetic set writes one) to copy alongside. A pairs "
    "manifest carries its attributes as extra columns.",
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
_VERIFY = flags.DEFINE_string(
    "verify",
    None,
    "Instead of building: read every shard of this records folder once and "
    "check the counts against its dataset.json.",
)


def verify(records_dir: str) -> None:
    start = time.time()
    report = faults.verify_records(records_dir)
    print(
        f"{storage.shown_path(records_dir)}: {report['shards']} shards, "
        f"{report['records']} records, all readable and as dataset.json counts "
        f"({time.time() - start:.1f} s)."
    )


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if _VERIFY.value:
        return verify(_VERIFY.value)
    if not _OUTPUT_DIR.value:
        raise app.UsageError("Pass --output_dir (or --verify=RECORDS_DIR).")
    start = time.time()
    options = records.BuildOptions(
        seed=_SEED.value,
        validation_fraction=_VALIDATION.value,
        test_fraction=_TEST.value,
        records_per_shard=_PER_SHARD.value,
        max_pixels=_MAX_PIXELS.value,
        overwrite=_OVERWRITE.value,
    )
    if bool(_LOOKBOOK_DIR.value) == bool(_PAIRS_CSV.value):
        raise app.UsageError("Pass exactly one of --lookbook_dir and --pairs_csv.")
    if _PAIRS_CSV.value:
        if _ATTRIBUTES.value:
            raise app.UsageError(
                "--attributes goes with --lookbook_dir; a pairs manifest "
                "carries attributes as extra columns."
            )
        data = pairs.read_manifest(_PAIRS_CSV.value, _ALLOW_OUTSIDE.value)
    else:
        data = lookbook.read_folder(_LOOKBOOK_DIR.value, _ATTRIBUTES.value)
    manifest = records.build_records(data, _OUTPUT_DIR.value, options)
    print(records.summary(manifest))
    print(f"Wrote {_OUTPUT_DIR.value} in {time.time() - start:.1f} s.")


if __name__ == "__main__":
    cli.run(main)
