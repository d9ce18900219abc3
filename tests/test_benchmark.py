"""FLOP counts (golden values, and TensorFlow's own count) and the benchmark
tool run end to end at a tiny size."""

from __future__ import annotations

import json
import sys

import pytest
import tensorflow as tf
from tool_runner import run_tool

from pldt_tf.perf import benchmark_lib, flops


def test_rss_growth_golden():
    samples = [(t, 100.0 + (50.0 if t >= 2 else 0.0)) for t in range(11)]
    growth = benchmark_lib.rss_growth(samples)
    assert growth == {
        "rss_at_25pct_mib": 150.0,
        "rss_at_end_mib": 150.0,
        "growth_mib": 0.0,
    }
    leaking = [(float(t), 100.0 + 10 * t) for t in range(11)]
    # At t = 3 (the first sample past a quarter): 130; the end: median of the
    # last 10% (t = 9, 10): 195.
    assert benchmark_lib.rss_growth(leaking)["growth_mib"] == pytest.approx(65.0)
    with pytest.raises(ValueError, match="too few"):
        benchmark_lib.rss_growth(leaking[:2])


def test_watch_process_names_the_failing_command():
    with pytest.raises(RuntimeError, match="boom"):
        benchmark_lib.watch_process(
            [sys.executable, "-c", "import sys; sys.exit('boom')"], interval=0.01
        )


def test_train_step_rate_counts_images_and_refuses_a_diverged_step():
    calls = []

    def step(data):
        calls.append(1)
        return {"loss/converter": tf.constant(float(len(calls)))}

    batches = iter(lambda: {"source": tf.zeros([4, 2])}, None)
    rate = benchmark_lib.train_step_rate(step, batches, steps=3, repeats=2, warmup=1)
    assert len(calls) == 9 and rate > 0  # (1 warm-up + 2 timed) runs × 3 steps

    def diverged(data):
        return {"loss/converter": tf.constant(float("nan")), "d": tf.ones([2])}

    with pytest.raises(FloatingPointError, match=r"\['loss/converter'\]"):
        benchmark_lib.train_step_rate(diverged, batches, steps=1, repeats=1)


@pytest.mark.slow
def test_benchmark_tool_end_to_end(synthetic_data, tmp_path):
    _, records_dir = synthetic_data
    output = tmp_path / "figures.json"
    result = run_tool(
        "-m",
        "pldt_tf.benchmark",
        f"--records_dir={records_dir}",
        "--sections=ceiling,train,inference",
        "--width=0.0625",
        "--batch_size=4",
        "--matmul_size=256",
        "--steps=1",
        "--repeats=1",
        "--latency_calls=10",
        "--inference_batch=4",
        f"--json={output}",
        f"--profile_dir={tmp_path / 'profile'}",
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "of ceiling" in result.stdout
    figures = json.loads(output.read_text())
    assert figures["ceiling/float32_gflops"] > 0
    for precision in ("float32", "mixed_bfloat16"):
        for source in ("in-memory", "TFRecord"):
            key = f"train/{precision}/{source}"
            assert figures[key + "/images_per_s"] > 0
            assert 0 < figures[key + "/fraction_of_ceiling"] < 5
        assert figures[f"train/{precision}/phase/domain_update_s"] > 0
    assert figures["inference/savedmodel/latency_median_ms"] > 0
    assert figures["inference/savedmodel_over_keras_latency"] > 0
    assert figures["train/flops_per_sample"] == flops.train_step_flops(0.0625).total
    traces = list((tmp_path / "profile").glob("*/plugins/profile/*/*.xplane.pb"))
    assert len(traces) == 2  # one per precision


def test_the_benchmark_builds_the_model_a_training_config_trains():
    from pldt_tf import config as config_lib
    from pldt_tf import model as model_lib

    config = config_lib.TrainConfig(
        workdir="unused",
        width=0.0625,
        pixel_loss="l1",
        pixel_weight=100.0,
        feature_matching_weight=10.0,
        discriminator_learning_rate=4e-4,
    )
    model = benchmark_lib.build_training_model(config, "float32")
    assert model.spec.pixel == model_lib.PixelTerm("l1", 100.0)
    assert model.feature_matching_weight == 10.0
    assert float(model.domain_optimizer.learning_rate) == pytest.approx(4e-4)


@pytest.mark.slow
def test_the_benchmark_times_a_training_flag_file(synthetic_data, tmp_path):
    """``--flagfile`` of a training config: the step timed is that run's,
    its pixel term included (the main job's recipe)."""
    _, records_dir = synthetic_data
    output = tmp_path / "figures.json"
    result = run_tool(
        "-m",
        "pldt_tf.benchmark",
        "--flagfile=configs/demo.flags",
        f"--records_dir={records_dir}",
        "--width=0.0625",
        "--batch_size=4",
        "--sections=train",
        "--precisions=float32",
        "--matmul_size=256",
        "--steps=1",
        "--repeats=1",
        "--nophases",
        f"--json={output}",
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "== train: c_rf_dd + 100·l1, per_case" in result.stdout
    figures = json.loads(output.read_text())
    assert figures["flags"]["pixel_weight"] == 100.0
    assert figures["flags"]["batch_size"] == 4
    assert figures["train/float32/in-memory/images_per_s"] > 0


def test_a_wrapped_layer_counts_as_the_layer_it_wraps():
    import keras

    def model(wrap):
        inputs = keras.Input((16, 16, 3))
        conv = keras.layers.Conv2D(8, 5, strides=2, padding="same")
        dense = keras.layers.Dense(4)
        x = (keras.layers.SpectralNormalization(conv) if wrap else conv)(inputs)
        x = keras.layers.Flatten()(x)
        x = (keras.layers.SpectralNormalization(dense) if wrap else dense)(x)
        return keras.Model(inputs, x)

    plain = flops.forward_flops(model(False))
    assert plain[0] == 2 * 25 * 3 * 8 * 8 * 8 + 2 * 512 * 4
    assert flops.forward_flops(model(True)) == plain
