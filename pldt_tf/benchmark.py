r"""Measures throughput on this machine and prints a table (and JSON).

  python -m pldt_tf.benchmark --records_dir=data/demo/records

Sections (``--sections``):
  pipeline  triplets/s delivered by the tf.data training pipeline, for fresh
            and stored negatives, warm-up excluded, median of repetitions.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time

from absl import app, flags

from pldt_tf.data import pipeline

SECTIONS = ("pipeline",)

_RECORDS_DIR = flags.DEFINE_string(
    "records_dir", "data/demo/records", "Records folder to read (build_tfrecords.py)."
)
_SECTIONS = flags.DEFINE_list(
    "sections", list(SECTIONS), f"What to measure: {SECTIONS}."
)
_BATCH_SIZE = flags.DEFINE_integer(
    "batch_size", 64, "Triplets per batch.", lower_bound=1
)
_BATCHES = flags.DEFINE_integer(
    "batches", 150, "Batches timed per repetition.", lower_bound=1
)
_REPEATS = flags.DEFINE_integer(
    "repeats", 3, "Timed repetitions (median).", lower_bound=1
)
_JSON = flags.DEFINE_string("json", None, "Also write the figures to this JSON file.")


def pipeline_throughput(
    records_dir: str,
    batch_size: int,
    batches: int,
    repeats: int,
    options: pipeline.PipelineOptions,
    warmup: int = 20,
) -> float:
    """Median triplets/s of the training pipeline, warm-up excluded."""
    dataset = pipeline.triplet_dataset(records_dir, "train", batch_size, True, options)
    iterator = iter(dataset)
    for _ in range(warmup):  # fills shuffle buffers and the negative cache
        next(iterator)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(batches):
            next(iterator)
        rates.append(batches * batch_size / (time.perf_counter() - start))
    return statistics.median(rates)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    unknown = set(_SECTIONS.value) - set(SECTIONS)
    if unknown:
        raise app.UsageError(
            f"--sections: unknown {sorted(unknown)}; choose from {SECTIONS}"
        )
    cpu = platform.processor() or platform.machine()
    results = {"machine": f"{cpu}, {os.cpu_count()} cores"}
    if "pipeline" in _SECTIONS.value:
        title = f"pipeline (batch {_BATCH_SIZE.value})"
        print(f"{title:<40}{'triplets/s':>12}")
        for direction, negatives in (
            ("human_to_product", "fresh"),
            ("human_to_product", "stored"),
            ("product_to_human", "fresh"),
        ):
            rate = pipeline_throughput(
                _RECORDS_DIR.value,
                _BATCH_SIZE.value,
                _BATCHES.value,
                _REPEATS.value,
                pipeline.PipelineOptions(direction=direction, negatives=negatives),
            )
            key = f"pipeline/{direction}/{negatives}"
            results[key] = rate
            print(f"{direction + ', ' + negatives + ' negatives':<40}{rate:>12,.0f}")
    if _JSON.value:
        with open(_JSON.value, "w") as file:
            json.dump(results, file, indent=1)


if __name__ == "__main__":
    app.run(main)
