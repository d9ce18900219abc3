r"""Measures this machine and the training, inference and data paths on it.

  python -m pldt_tf.benchmark                       # everything, ~12 min on 2 cores
  python -m pldt_tf.benchmark --sections=ceiling,train --width=0.25
  python -m pldt_tf.benchmark --flagfile=configs/demo.flags --sections=train

Every flag of ``python -m pldt_tf.train`` is read, so a training flag file
times exactly that run's step (method, selection, width, batch, pixel and
feature-matching terms, learning rates, ``--jit_compile``); ``--precisions``
lists the precisions to time it in.

Everything is measured in one run, so the ratios compare like with like:
warm-up excluded, several repetitions, medians reported. Prints a table and
writes the figures as JSON (``--json``).

Sections (``--sections``):
  ceiling    float32 and bfloat16 matrix-multiply GFLOP/s through TensorFlow
             (an n×n ``tf.linalg.matmul``, 2·n³ FLOPs): the machine's ceiling.
  train      images/s of the whole ``train_step`` (D_R, D_A and converter
             updates) at ``--width``/``--batch_size``, from in-memory tensors
             and from the TFRecord pipeline, for each of ``--precisions``;
             achieved GFLOP/s (FLOPs counted from the layer shapes, see
             ``pldt_tf.perf.flops``) as a fraction of the ceiling of the same
             dtype; and the split by phase of Algorithm 1.
  pipeline   triplets/s delivered by the tf.data pipeline alone.
  inference  converter latency at batch 1 (median, p95) and images/s at
             ``--inference_batch``, Keras model against the exported
             SavedModel (same weights, its ``transfer_float`` signature).
  memory     peak resident memory of a ``python -m pldt_tf.train`` process at
             ``--memory_width``/``--memory_batch``, and resident memory over
             ``--leak_steps`` steps of a small config (summaries, checkpoints
             and sample grids included): growth means a leak.

When ``--records_dir`` does not exist and the flags name no data to build
it from, a small synthetic set is generated in a temporary folder (about
20 s), so the command runs on a fresh machine.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time

from absl import app, flags

from pldt_tf import cli, storage
from pldt_tf.perf import benchmark_lib

SECTIONS = ("ceiling", "train", "pipeline", "inference", "memory")

_SECTIONS = flags.DEFINE_list(
    "sections", list(SECTIONS), f"What to measure, any of {SECTIONS}."
)
cli.define_training_flags()
flags.FLAGS.set_default("batch_size", 32)  # the benchmark's width-1 batch
_PRECISIONS = cli.define_precisions(["float32", "mixed_bfloat16"])
_STEPS = flags.DEFINE_integer(
    "steps", 2, "Training steps per timed repetition.", lower_bound=1
)
_REPEATS = flags.DEFINE_integer(
    "repeats", 3, "Timed repetitions (median reported).", lower_bound=1
)
_PHASES = flags.DEFINE_bool(
    "phases", True, "Also time each phase of Algorithm 1 separately."
)
_PROFILE_DIR = flags.DEFINE_string(
    "profile_dir",
    None,
    "Also record 2 training steps per precision with the TensorFlow profiler "
    "here (TensorBoard's Profile tab: trace viewer, op-level stats; needs "
    "pip install tensorboard-plugin-profile).",
)
_MATMUL_SIZE = flags.DEFINE_integer(
    "matmul_size", 4096, "n of the n×n matmul of the ceiling.", lower_bound=64
)
_PIPELINE_BATCH = flags.DEFINE_integer(
    "pipeline_batch", 64, "Batch size of the pipeline section.", lower_bound=1
)
_PIPELINE_BATCHES = flags.DEFINE_integer(
    "pipeline_batches", 150, "Batches per pipeline repetition.", lower_bound=1
)
_INFERENCE_BATCH = flags.DEFINE_integer(
    "inference_batch", 64, "Batch size of the inference throughput.", lower_bound=1
)
_LATENCY_CALLS = flags.DEFINE_integer(
    "latency_calls", 200, "Batch-1 calls timed for the latency.", lower_bound=10
)
_MEMORY_WIDTH = flags.DEFINE_float(
    "memory_width", 1.0, "Width of the peak-memory training process.", lower_bound=0
)
_MEMORY_BATCH = flags.DEFINE_integer(
    "memory_batch", 128, "Batch size of the peak-memory process.", lower_bound=1
)
_LEAK_STEPS = flags.DEFINE_integer(
    "leak_steps", 1000, "Steps of the small run watched for growth.", lower_bound=100
)
_INTRA_OP = flags.DEFINE_integer(
    "intra_op_threads", 0, "TensorFlow intra-op threads (0: TensorFlow's default)."
)
_INTER_OP = flags.DEFINE_integer(
    "inter_op_threads", 0, "TensorFlow inter-op threads (0: TensorFlow's default)."
)
_JSON = flags.DEFINE_string(
    "json", "benchmark.json", "Write the figures to this JSON file ('' for none)."
)


# --------------------------------------------------------------------------
# The run.


def _records(config, folder: str) -> str:
    """The records the flags name (built as training would build them), or
    300 synthetic products generated in ``folder`` when they name none."""
    from pldt_tf.data import prepare

    if not storage.isdir(config.records_dir) and not (
        config.pairs_csv or config.synthetic_products
    ):
        print("Generating 300 synthetic products for the data paths ...")
        folder = os.path.join(folder, "data")  # the generator creates it
        config = dataclasses.replace(
            config,
            records_dir=os.path.join(folder, "records"),
            lookbook_dir=os.path.join(folder, "lookbook"),
            synthetic_products=300,
            synthetic_variation="mild",
        )
    prepare.prepare_data(config)
    return config.records_dir


def _row(label: str, *values: str) -> None:
    print(f"{label:<46}" + "".join(f"{v:>14}" for v in values), flush=True)


def measure(config, records_dir: str, sections, results: dict) -> dict:
    """Measures ``sections`` of the run ``config`` describes, in order, into
    ``results`` (the ceiling first whenever ``train`` needs it)."""
    if "ceiling" in sections or "train" in sections:
        _measure_ceiling(config, records_dir, results)
    for name in ("train", "pipeline", "inference", "memory"):
        if name in sections:
            _MEASUREMENTS[name](config, records_dir, results)
    return results


def _measure_ceiling(config, records_dir: str, results: dict) -> None:
    """float32 and bfloat16 matmul GFLOP/s."""
    print("\n== ceiling: n×n matmul", _MATMUL_SIZE.value)
    for dtype in ("float32", "bfloat16"):
        rate = benchmark_lib.matmul_gflops(_MATMUL_SIZE.value, dtype)
        results[f"ceiling/{dtype}_gflops"] = rate
        _row(f"matmul {dtype}", f"{rate:,.1f} GFLOP/s")


def _measure_train(config, records_dir: str, results: dict) -> None:
    """images/s of the training step, in memory and from the records, per
    precision, and the split by phase."""
    import tensorflow as tf

    from pldt_tf.data import pipeline
    from pldt_tf.perf import flops

    width, batch = config.width, config.batch_size
    step_flops = flops.train_step_flops(
        width, config.method, config.selection, config.upsampling
    )
    results["train/flops_per_sample"] = step_flops.total
    terms = "".join(
        f" + {weight:g}·{name}"
        for name, weight in (
            (config.pixel_loss, config.pixel_weight),
            ("feature matching", config.feature_matching_weight),
        )
        if weight
    )
    print(
        f"\n== train: {config.method}{terms}, {config.selection}, "
        f"{config.upsampling}, width {width}, batch {batch}"
        f"{', XLA' if config.jit_compile else ''}; "
        f"{step_flops.total / 1e9:.2f} GFLOP per sample (adversaries and converter)"
    )
    _row("", "images/s", "GFLOP/s", "of ceiling")
    dataset = pipeline.triplet_dataset(
        records_dir,
        "train",
        batch,
        True,
        pipeline.PipelineOptions(direction="human_to_product", seed=0),
    ).repeat()
    first = next(iter(dataset))
    for precision in _PRECISIONS.value:
        ceiling = results["ceiling/" + _ceiling_dtype(precision) + "_gflops"]
        model = benchmark_lib.build_training_model(config, precision)
        # Traced once for all uses.
        step = tf.function(model.train_step, jit_compile=config.jit_compile)
        sources = {
            "in-memory tensors": _repeat(first),
            "TFRecord pipeline": iter(dataset),
        }
        for label, batches in sources.items():
            rate = benchmark_lib.train_step_rate(
                step, batches, _STEPS.value, _REPEATS.value
            )
            achieved = rate * step_flops.total / 1e9
            key = f"train/{precision}/{label.split()[0]}"
            results[key + "/images_per_s"] = rate
            results[key + "/fraction_of_ceiling"] = achieved / ceiling
            _row(
                f"{precision}, {label}",
                f"{rate:,.2f}",
                f"{achieved:,.1f}",
                f"{achieved / ceiling:.0%}",
            )
        if _PROFILE_DIR.value:
            folder = os.path.join(_PROFILE_DIR.value, precision)
            benchmark_lib.profile_steps(step, first, folder, steps=2)
            print(f"  profile: tensorboard --logdir={folder}  (Profile tab)")
        if _PHASES.value:
            seconds = benchmark_lib.phase_seconds(model, first, _REPEATS.value)
            for name, value in seconds.items():
                phase = step_flops.phase(name) * batch / value / 1e9
                results[f"train/{precision}/phase/{name}_s"] = value
                _row(
                    f"  phase {name}",
                    f"{value * 1e3:,.0f} ms",
                    f"{phase:,.1f}",
                    f"{phase / ceiling:.0%}",
                )


def _measure_pipeline(config, records_dir: str, results: dict) -> None:
    """triplets/s of the tf.data pipeline alone."""
    from pldt_tf.data import pipeline

    print(f"\n== pipeline: batch {_PIPELINE_BATCH.value}")
    _row("", "triplets/s")
    for direction, negatives in (
        ("human_to_product", "fresh"),
        ("human_to_product", "stored"),
        ("product_to_human", "fresh"),
    ):
        rate = benchmark_lib.pipeline_throughput(
            records_dir,
            _PIPELINE_BATCH.value,
            _PIPELINE_BATCHES.value,
            _REPEATS.value,
            pipeline.PipelineOptions(direction=direction, negatives=negatives),
        )
        results[f"pipeline/{direction}/{negatives}"] = rate
        _row(f"{direction}, {negatives} negatives", f"{rate:,.0f}")


def _measure_inference(config, records_dir: str, results: dict) -> None:
    """Converter latency and throughput, Keras against the SavedModel."""
    import numpy as np
    import tensorflow as tf

    from pldt_tf import networks
    from pldt_tf.serving import export_lib

    print(f"\n== inference: converter width {config.width}, float32")
    _row("", "b=1 median", "b=1 p95", f"b={_INFERENCE_BATCH.value} img/s")
    converter = networks.build_converter(config.width, upsampling=config.upsampling)
    rng = np.random.default_rng(0)
    one = tf.constant(rng.uniform(-1, 1, (1, 64, 64, 3)), tf.float32)
    many = tf.constant(
        rng.uniform(-1, 1, (_INFERENCE_BATCH.value, 64, 64, 3)), tf.float32
    )
    keras_call = tf.function(lambda x: converter(x, training=False))
    with tempfile.TemporaryDirectory() as folder:
        path = export_lib.export(converter, folder, "converter", 1)
        signature = tf.saved_model.load(path).signatures["transfer_float"]
        calls = {
            "Keras model (tf.function)": keras_call,
            "SavedModel transfer_float": lambda x: signature(images=x)["image"],
        }
        figures = {}
        for label, call in calls.items():
            median, p95, rate = benchmark_lib.latency_and_throughput(
                call, one, many, _LATENCY_CALLS.value
            )
            figures[label] = median
            key = "inference/" + label.split()[0].lower()
            results[key + "/latency_median_ms"] = median
            results[key + "/latency_p95_ms"] = p95
            results[key + "/images_per_s"] = rate
            _row(label, f"{median:.2f} ms", f"{p95:.2f} ms", f"{rate:,.0f}")
    ratio = figures["SavedModel transfer_float"] / figures["Keras model (tf.function)"]
    results["inference/savedmodel_over_keras_latency"] = ratio
    _row("SavedModel / Keras latency at batch 1", f"{ratio:.2f}x")


def _measure_memory(config, records_dir: str, results: dict) -> None:
    """Peak RSS of a training process and RSS growth over many steps."""
    print("\n== memory")
    with tempfile.TemporaryDirectory() as folder:
        command = benchmark_lib.train_command(
            records_dir,
            os.path.join(folder, "peak"),
            _MEMORY_WIDTH.value,
            _MEMORY_BATCH.value,
            epochs=1,
            steps_per_epoch=3,
            every=3,
        )
        peak, _ = benchmark_lib.watch_process(command)
        results["memory/peak_mib"] = peak
        _row(
            f"peak RSS, train width {_MEMORY_WIDTH.value} batch {_MEMORY_BATCH.value}",
            f"{peak:,.0f} MiB",
        )
        steps = _LEAK_STEPS.value
        command = benchmark_lib.train_command(
            records_dir,
            os.path.join(folder, "leak"),
            0.0625,
            8,
            epochs=10,
            steps_per_epoch=steps // 10,
            every=steps // 10,
        )
        _, samples = benchmark_lib.watch_process(command)
        growth = benchmark_lib.rss_growth(samples)
        results.update({f"memory/leak_{k}": v for k, v in growth.items()})
        _row(
            f"RSS over {steps} steps (w 0.0625, b 8): at 25%",
            f"{growth['rss_at_25pct_mib']:,.0f} MiB",
        )
        _row(
            "  at the end; growth 25% → end",
            f"{growth['rss_at_end_mib']:,.0f} MiB",
            f"{growth['growth_mib']:+,.0f} MiB",
        )


_MEASUREMENTS = {
    "train": _measure_train,
    "pipeline": _measure_pipeline,
    "inference": _measure_inference,
    "memory": _measure_memory,
}


# The training flags that shape the timed step, written with the figures.
_REPORTED = (
    "width",
    "upsampling",
    "batch_size",
    "method",
    "selection",
    "pixel_loss",
    "pixel_weight",
    "feature_matching_weight",
    "jit_compile",
)


def _repeat(batch):
    while True:
        yield batch


def _ceiling_dtype(precision: str) -> str:
    return {"mixed_bfloat16": "bfloat16"}.get(precision, "float32")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    unknown = set(_SECTIONS.value) - set(SECTIONS)
    if unknown:
        raise app.UsageError(
            f"--sections: unknown {sorted(unknown)}; choose from {SECTIONS}"
        )
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(_INTRA_OP.value)
    tf.config.threading.set_inter_op_parallelism_threads(_INTER_OP.value)
    config = cli.training_config()
    results = {
        "machine": benchmark_lib.machine(),
        "tensorflow": tf.__version__,
        "flags": {
            **{name: getattr(config, name) for name in _REPORTED},
            **{
                name: flags.FLAGS[name].value
                for name in ("precisions", "steps", "repeats")
            },
        },
    }
    print("machine:", results["machine"], "| TensorFlow", tf.__version__)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        records_dir = config.records_dir
        if set(_SECTIONS.value) & {"train", "pipeline", "memory"}:
            records_dir = _records(config, folder)
        measure(config, records_dir, set(_SECTIONS.value), results)
    results["seconds"] = time.perf_counter() - start
    print(f"\n{results['seconds'] / 60:.1f} min")
    if _JSON.value:
        with storage.open_file(_JSON.value, "w") as file:
            json.dump(results, file, indent=1)
        print("Figures written to", _JSON.value)


def run() -> None:
    """The ``pldt-benchmark`` console script (``python -m pldt_tf.benchmark``)."""
    cli.run(main)


if __name__ == "__main__":
    run()
