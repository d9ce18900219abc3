"""Measurements behind ``python -m pldt_tf.benchmark`` and tools/gpu_check.py:
matmul ceiling, training-step and phase timings, inference latency, the
pipeline's rate, and resident memory of a training process.

Every timing excludes warm-up and reports the median of repetitions.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import subprocess
import time


def machine() -> str:
    """The CPU model and core count, e.g. ``AMD EPYC, 2 cores``."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as file:
        for line in file:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores"


def _timed_runs(fn, repeats: int, warmup: int = 1) -> list[float]:
    """Seconds of each of ``repeats`` calls of ``fn`` after ``warmup`` untimed
    ones (callers take the median)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def matmul_gflops(n: int, dtype: str, repeats: int = 5) -> float:
    """GFLOP/s of an n×n by n×n ``tf.linalg.matmul`` (2·n³ FLOPs), warmed up."""
    import tensorflow as tf

    a = tf.random.normal((n, n), dtype=dtype)
    b = tf.random.normal((n, n), dtype=dtype)
    product = tf.function(lambda a, b: tf.reduce_sum(tf.linalg.matmul(a, b)))
    times = _timed_runs(lambda: product(a, b).numpy(), repeats, warmup=2)
    return 2 * n**3 / statistics.median(times) / 1e9


def build_training_model(config, precision: str):
    """The compiled model a training run of ``config`` trains, in
    ``precision`` (1,000 steps per epoch: no learning-rate decay in sight)."""
    from pldt_tf.training import factory

    return factory.build_model(config, 1000, precision, synchronized_bn=False)


def _sync(outputs):
    return {k: v.numpy() for k, v in outputs.items()}


def train_step_rate(step, batches, steps: int, repeats: int, warmup: int = 2) -> float:
    """Median images/s of ``step`` (a compiled ``train_step``) over
    ``batches`` (an iterator): ``repeats`` timed runs of ``steps`` steps each
    after ``warmup`` untimed runs (by default two: tracing, then oneDNN's
    first-use kernel setup).

    Raises:
      FloatingPointError: when the last step's outputs are not finite (the
        rate of a diverged step means nothing).
    """
    import numpy as np

    batch_size, last = None, {}

    def run():
        nonlocal batch_size, last
        for _ in range(steps):
            data = next(batches)
            batch_size = int(data["source"].shape[0])
            outputs = step(data)
        last = _sync(outputs)

    times = _timed_runs(run, repeats, warmup=warmup)
    bad = sorted(k for k, v in last.items() if not np.all(np.isfinite(v)))
    if bad:
        raise FloatingPointError(f"training step outputs not finite: {bad}")
    return steps * batch_size / statistics.median(times)


def profile_steps(step, data, folder: str, steps: int = 2) -> None:
    """Records ``steps`` calls of ``step`` (a compiled ``train_step``) with
    the TensorFlow profiler."""
    import tensorflow as tf

    _sync(step(data))  # any tracing happens outside the profile
    tf.profiler.experimental.start(folder)
    try:
        for _ in range(steps):
            outputs = step(data)
        _sync(outputs)
    finally:
        tf.profiler.experimental.stop()


def phase_seconds(model, data, repeats: int) -> dict[str, float]:
    """Median seconds of each phase of Algorithm 1 on one batch, each run
    through the model's own update (``train_step`` composes the same ones):
    the converter's forward pass, each adversary's update, and the
    converter's update (its forward pass included)."""
    import tensorflow as tf

    from pldt_tf import model as model_lib

    source, target, negative, cases, copies = model.step_inputs(data)
    batch_size = tf.shape(source)[0] // copies
    generated = tf.stop_gradient(
        model_lib.stacked(model.converter(source[:batch_size], training=True), copies)
    )
    phases = {
        "converter_forward": lambda: model.converter(
            source[:batch_size], training=True
        ),
    }
    for adversary in model.adversaries:
        phases[f"{adversary.network}_update"] = lambda name=adversary.network: (
            model.update_adversary(name, source, target, negative, generated, cases)
        )
    phases["converter_update"] = lambda: model.converter_update(
        source, target, negative, cases, copies
    )
    seconds = {}
    for name, fn in phases.items():
        compiled = tf.function(fn)
        times = _timed_runs(lambda c=compiled: c().numpy(), repeats)
        seconds[name] = statistics.median(times)
    return seconds


def latency_and_throughput(call, batch_one, batch_many, calls: int):
    """(median ms, p95 ms) at batch 1 and images/s at the larger batch."""
    import numpy as np

    for _ in range(10):
        call(batch_one).numpy()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call(batch_one).numpy()
        times.append(time.perf_counter() - start)
    many = _timed_runs(lambda: call(batch_many).numpy(), 5, warmup=2)
    return (
        1e3 * float(np.median(times)),
        1e3 * float(np.percentile(times, 95)),
        batch_many.shape[0] / statistics.median(many),
    )


def rss_mib(pid: int, field: str = "VmRSS") -> float | None:
    """A process's memory from /proc (VmRSS now, VmHWM its peak), MiB."""
    try:
        with open(f"/proc/{pid}/status") as file:
            for line in file:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except FileNotFoundError:
        return None
    return None


def watch_process(command: list[str], interval: float = 0.2):
    """Runs ``command``; returns (peak MiB, [(seconds, RSS MiB)]); raises
    ``RuntimeError`` with its stderr if it fails."""
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    start, samples, peak = time.perf_counter(), [], 0.0
    while process.poll() is None:
        rss = rss_mib(process.pid)
        if rss is not None:
            samples.append((time.perf_counter() - start, rss))
        peak = max(peak, rss_mib(process.pid, "VmHWM") or 0.0)
        time.sleep(interval)
    stderr = process.stderr.read()
    if process.returncode:
        raise RuntimeError(
            f"{' '.join(command)} failed ({process.returncode}):\n{stderr[-3000:]}"
        )
    return peak, samples


def train_command(records_dir, workdir, width, batch, epochs, steps_per_epoch, every):
    """A small ``python -m pldt_tf.train`` run on existing records, for the
    memory measurements."""
    from pldt_tf import cli

    return cli.tool_command(
        "pldt_tf.train",
        workdir=workdir,
        records_dir=records_dir,
        width=width,
        batch_size=batch,
        epochs=epochs,
        decay_epochs=0 if epochs == 1 else 1,
        steps_per_epoch=steps_per_epoch,
        checkpoint_every_steps=every,
        sample_every_steps=every,
        num_samples=8,
        precision="float32",
        synthetic_products=0,
    )


def rss_growth(samples: list[tuple[float, float]]) -> dict[str, float]:
    """Resident memory a quarter of the way through a run and at its end.

    The first quarter holds imports, tracing and buffer fills; growth after
    it, over the steady part of the run, is what a leak looks like.
    """
    if len(samples) < 4:
        raise ValueError("too few memory samples: the run was too short")
    end_time = samples[-1][0]
    quarter = next(rss for t, rss in samples if t >= end_time / 4)
    tail = [rss for t, rss in samples if t >= 0.9 * end_time]
    at_end = statistics.median(tail)
    return {
        "rss_at_25pct_mib": quarter,
        "rss_at_end_mib": at_end,
        "growth_mib": at_end - quarter,
    }


def pipeline_throughput(
    records_dir: str,
    batch_size: int,
    batches: int,
    repeats: int,
    options,
    warmup: int = 20,
) -> float:
    """Median triplets/s of the training pipeline, warm-up excluded."""
    from pldt_tf.data import pipeline

    dataset = pipeline.triplet_dataset(records_dir, "train", batch_size, True, options)
    iterator = iter(dataset.repeat())
    for _ in range(warmup):  # fills shuffle buffers and the negative cache
        next(iterator)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(batches):
            next(iterator)
        rates.append(batches * batch_size / (time.perf_counter() - start))
    return statistics.median(rates)
