r"""Checks a GPU machine before a paper-size run: images/s per precision, ±XLA.

  python tools/gpu_check.py                      # on the GPU machine (~5 min)
  python tools/gpu_check.py --small              # anywhere, in seconds (tests)

For each precision (float32, mixed_float16, mixed_bfloat16) and with and
without XLA (``jit_compile``), it builds the paper's networks (width 1), runs
``--warmup`` steps and then ``--steps`` timed training steps of Algorithm 1 on
in-memory tensors at ``--batch_size``, and prints images/s, milliseconds per
step, the fraction of the step's FLOPs (``pldt_tf.perf.flops``) it achieves, and
how long ``--epochs`` epochs over ``--train_photos`` photos would take. With
``--records_dir`` it also measures the TFRecord pipeline's triplets/s, which
must stay above the fastest training rate (or the GPU waits for data).

A combination the device cannot run (mixed_bfloat16 on a GPU older than
Ampere, say) is reported as failed with the reason, and the others go on; the
exit status is 1 if any failed. ``--small`` shrinks everything (width 0.0625,
batch 8, 3 steps) so that the script runs on a CPU.
"""

from __future__ import annotations

import os
import sys

from absl import app, flags

from pldt_tf import cli

_SMALL = flags.DEFINE_bool(
    "small", False, "Width 0.0625, batch 8, 3 steps, 1 warm-up: runs on a CPU."
)
_WIDTH = flags.DEFINE_float("width", 1.0, "Width multiplier (paper: 1).")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 128, "Global batch (paper: 128).")
_STEPS = flags.DEFINE_integer("steps", 200, "Timed steps per combination.")
_WARMUP = flags.DEFINE_integer("warmup", 20, "Untimed steps first (tracing, XLA).")
_PRECISIONS = cli.define_precisions(["float32", "mixed_float16", "mixed_bfloat16"])
_XLA = flags.DEFINE_list("xla", ["false", "true"], "jit_compile settings to try.")
_METHOD = cli.define_method()
_UPSAMPLING = cli.define_upsampling()
_SELECTION = cli.define_selection()
_TRAIN_PHOTOS = flags.DEFINE_integer(
    "train_photos",
    62_000,
    "Training photos per epoch for the time estimate (LookBook: ~62k).",
)
_EPOCHS = flags.DEFINE_integer("epochs", 30, "Epochs for the time estimate.")
_RECORDS_DIR = flags.DEFINE_string(
    "records_dir", None, "Also measure the TFRecord pipeline of this folder."
)


def describe_devices() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return f"no GPU: CPU only ({os.cpu_count()} cores)"
    names = []
    for gpu in gpus:
        details = tf.config.experimental.get_device_details(gpu)
        capability = details.get("compute_capability")
        names.append(f"{details.get('device_name', gpu.name)} (sm {capability})")
    return ", ".join(names)


def time_training(width, batch, method, selection, precision, xla, warmup, steps):
    """Seconds per training step, median over ``steps`` single-step timings."""
    import itertools

    import numpy as np
    import tensorflow as tf

    from pldt_tf import config as config_lib
    from pldt_tf.perf import benchmark_lib

    config = config_lib.TrainConfig(
        workdir="unused",
        width=width,
        upsampling=_UPSAMPLING.value,
        batch_size=batch,
        method=method,
        selection=selection,
    )
    model = benchmark_lib.build_training_model(config, precision)
    rng = np.random.default_rng(0)
    data = {
        key: tf.constant(rng.uniform(-1, 1, (batch, 64, 64, 3)), tf.float32)
        for key in ("source", "target", "negative")
    }
    step = tf.function(model.train_step, jit_compile=xla)
    rate = benchmark_lib.train_step_rate(
        step, itertools.repeat(data), steps=1, repeats=steps, warmup=warmup
    )
    return batch / rate


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    import tensorflow as tf

    from pldt_tf.data import pipeline
    from pldt_tf.perf import benchmark_lib, flops

    width, batch, steps, warmup = (
        (0.0625, 8, 3, 1)
        if _SMALL.value
        else (_WIDTH.value, _BATCH_SIZE.value, _STEPS.value, _WARMUP.value)
    )
    step_flops = flops.train_step_flops(
        width, _METHOD.value, _SELECTION.value, _UPSAMPLING.value
    ).total
    print(f"devices: {describe_devices()} | TensorFlow {tf.__version__}")
    print(
        f"{_METHOD.value}, {_SELECTION.value}, width {width}, batch {batch}, "
        f"{step_flops / 1e9:.2f} GFLOP per sample; {warmup} warm-up + {steps} "
        f"timed steps; estimate for {_EPOCHS.value} epochs × "
        f"{_TRAIN_PHOTOS.value:,} photos"
    )
    header = f"{'precision':<16}{'XLA':<6}{'images/s':>10}{'ms/step':>10}"
    print(header + f"{'TFLOP/s':>9}{'run time':>10}")
    failed, best = [], 0.0
    for precision in _PRECISIONS.value:
        for xla in (value.lower() in ("1", "true", "yes") for value in _XLA.value):
            label = f"{precision:<16}{'on' if xla else 'off':<6}"
            try:
                seconds = time_training(
                    width,
                    batch,
                    _METHOD.value,
                    _SELECTION.value,
                    precision,
                    xla,
                    warmup,
                    steps,
                )
            except Exception as error:  # report it and go on with the others
                failed.append(label.strip())
                first_line = (str(error).strip().splitlines() or [""])[0]
                print(label + f"failed: {type(error).__name__}: {first_line}")
                continue
            rate = batch / seconds
            best = max(best, rate)
            hours = _EPOCHS.value * _TRAIN_PHOTOS.value / rate / 3600
            print(
                label
                + f"{rate:>10,.1f}{seconds * 1e3:>10,.0f}"
                + f"{rate * step_flops / 1e12:>9.2f}{hours:>9,.1f}h",
                flush=True,
            )
    if _RECORDS_DIR.value:
        rate = benchmark_lib.pipeline_throughput(
            _RECORDS_DIR.value,
            batch,
            batches=20 if _SMALL.value else 100,
            repeats=3,
            options=pipeline.PipelineOptions(),
        )
        verdict = "keeps up" if rate > best else "TOO SLOW: the GPU will wait"
        print(f"TFRecord pipeline: {rate:,.0f} triplets/s ({verdict})")
    if failed:
        print("failed:", ", ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    cli.run(main)
