"""FLOP counts of the networks and of a training step: golden values, the
paper's figures, and TensorFlow's own count."""

from __future__ import annotations

import pytest
import tensorflow as tf

from pldt_tf import networks
from pldt_tf.perf import flops


def test_width_one_forward_flops_match_the_spec():
    nets = flops.network_flops(1.0)
    assert nets["converter"][0] == pytest.approx(2.56e9, rel=0.01)
    assert nets["real_fake"][0] == pytest.approx(1.28e9, rel=0.01)
    assert nets["domain"][0] == pytest.approx(1.28e9, rel=0.02)
    # The first layers: 5·5·3·128 (D_A: 6 channels) at 32×32 outputs.
    assert nets["real_fake"][1] == 2 * 25 * 3 * 128 * 32 * 32
    assert nets["domain"][1] == 2 * 25 * 6 * 128 * 32 * 32


def test_train_step_flops_golden_values():
    per_case = flops.train_step_flops(1.0, "c_rf_dd", "per_case")
    per_sample = flops.train_step_flops(1.0, "c_rf_dd", "per_sample")
    assert per_case.total == 35_815_620_608
    assert per_sample.total == 20_479_803_392
    joint = flops.train_step_flops(1.0, "c_rf_dd", "joint")
    # joint = per_case + the two extra cases through each frozen discriminator.
    extra = 2 * 2 * sum(flops.network_flops(1.0)[n][0] for n in ("real_fake", "domain"))
    assert joint.total == per_case.total + extra
    # The discriminator updates are the only difference: 3 batches against 1.
    assert per_case.converter_update == per_sample.converter_update
    c_mse = flops.train_step_flops(1.0, "c_mse")
    converter, first = flops.network_flops(1.0)["converter"]
    assert c_mse.total == 3 * converter - first + flops.PIXEL_TERM_FLOPS
    hybrid = flops.train_step_flops(1.0, "c_rf_dd", "per_case", pixel_loss="l1")
    assert hybrid.total == per_case.total + flops.PIXEL_TERM_FLOPS
    assert 1e-5 * per_case.total > flops.PIXEL_TERM_FLOPS
    assert c_mse.update("real_fake") == c_mse.update("domain") == 0
    assert c_mse.discriminator_updates == ()
    assert per_case.phase("domain_update") == per_case.update("domain") > 0
    assert per_case.phase("converter_update") == per_case.converter_update
    with pytest.raises(ValueError, match="method"):
        flops.train_step_flops(1.0, "c_gan")


def test_forward_flops_equal_tensorflows_graph_count():
    converter = networks.build_converter(0.25)
    function = tf.function(lambda x: converter(x, training=False))
    graph = function.get_concrete_function(
        tf.TensorSpec([1, 64, 64, 3], tf.float32)
    ).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    profile = tf.compat.v1.profiler.profile(graph, options=options)
    counted = {
        type(layer).__name__
        for layer in flops._layers(converter)
        if flops._layer_flops(layer)
    }
    assert counted == {"Conv2D", "Conv2DTranspose", "Dense"}
    # TensorFlow counts the same multiply-adds, plus elementwise ops (batch
    # norm, biases, activations), which flops.py leaves out.
    ours = flops.forward_flops(converter)[0]
    assert ours <= profile.total_float_ops <= 1.01 * ours
