"""Table 1 networks: parameter counts, shapes, BN/bias placement, init."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from pldt_tf import networks


def _trainable(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights)


@pytest.mark.slow
def test_paper_size_parameter_counts_match_spec():
    converter = networks.build_converter(1.0)
    d_r = networks.build_discriminator("real_fake", 1.0)
    d_a = networks.build_discriminator("domain", 1.0)
    assert abs(_trainable(converter) / 36.5e6 - 1) < 0.01
    assert abs(_trainable(d_r) / 17.2e6 - 1) < 0.01
    # D_A differs from D_R only by the 6-channel first layer.
    assert _trainable(d_a) - _trainable(d_r) == 5 * 5 * 3 * 128


def test_shapes_and_ranges_at_small_width():
    converter = networks.build_converter(0.0625)
    images = np.random.default_rng(0).uniform(-1, 1, (3, 64, 64, 3)).astype("float32")
    out = keras.ops.convert_to_numpy(converter(images, training=True))
    assert out.shape == (3, 64, 64, 3) and out.dtype == np.float32
    assert out.min() >= -1 and out.max() <= 1
    d_a = networks.build_discriminator("domain", 0.0625)
    assert tuple(d_a([images, images]).shape) == (3,)
    assert d_a.get_layer("d_domain_conv1").kernel.shape == (5, 5, 6, 8)


def test_width_scales_hidden_channels_only():
    encoder = networks.build_encoder(0.25)
    assert encoder.get_layer("encoder_conv1").kernel.shape == (5, 5, 3, 32)
    assert encoder.get_layer("encoder_conv4").kernel.shape == (5, 5, 128, 256)
    assert encoder.output.shape == (None, 64)
    decoder = networks.build_decoder(0.25)
    assert decoder.get_layer("decoder_fc1").kernel.shape == (64, 4 * 4 * 256)
    assert decoder.get_layer("decoder_fconv5").kernel.shape == (5, 5, 3, 32)


def test_batch_norm_and_bias_placement():
    d_r = networks.build_discriminator("real_fake", 0.125)
    names = [layer.name for layer in d_r.layers]
    assert "d_real_fake_bn1" not in names
    assert all(f"d_real_fake_bn{i}" in names for i in (2, 3, 4))
    assert d_r.get_layer("d_real_fake_conv1").use_bias
    assert not d_r.get_layer("d_real_fake_conv2").use_bias
    assert d_r.get_layer("d_real_fake_conv5").use_bias
    encoder = networks.build_encoder(0.125)
    assert "encoder_bn5" in [layer.name for layer in encoder.layers]
    decoder = networks.build_decoder(0.125)
    assert decoder.get_layer("decoder_fconv5").use_bias
    assert "decoder_bn5" not in [layer.name for layer in decoder.layers]


def test_weights_drawn_from_normal_002():
    kernel = keras.ops.convert_to_numpy(
        networks.build_encoder(0.5).get_layer("encoder_conv3").kernel
    )
    assert abs(kernel.mean()) < 1e-3
    assert abs(kernel.std() - 0.02) < 1e-3


def test_serialisation_round_trip(tmp_path):
    converter = networks.build_converter(0.0625)
    clone = keras.Model.from_config(converter.get_config())
    assert clone.count_params() == converter.count_params()
    path = str(tmp_path / "converter.keras")
    converter.save(path)
    loaded = keras.saving.load_model(path)
    images = np.zeros((2, 64, 64, 3), "float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(images)),
        keras.ops.convert_to_numpy(converter(images)),
        atol=1e-6,
    )


def test_mixed_precision_keeps_float32_outputs():
    converter = networks.build_converter(0.0625, dtype="mixed_bfloat16")
    d_r = networks.build_discriminator("real_fake", 0.0625, dtype="mixed_bfloat16")
    images = np.zeros((2, 64, 64, 3), "float32")
    assert converter(images).dtype == "float32"
    assert d_r(images).dtype == "float32"
    assert (
        converter.get_layer("encoder").get_layer("encoder_conv2").compute_dtype
        == "bfloat16"
    )


def test_unknown_discriminator_kind():
    with pytest.raises(ValueError, match="kind"):
        networks.build_discriminator("other")


@pytest.mark.parametrize("shape", [(16, 4, 4, 8), (16, 32)])
def test_fused_batch_norm_equals_keras_batch_norm(shape):
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(0.3, 2.0, shape), tf.float32)
    layers = []
    for cls in (networks.FusedBatchNormalization, keras.layers.BatchNormalization):
        keras.utils.set_random_seed(1)
        layer = cls(momentum=0.9, epsilon=1e-3, gamma_initializer="random_normal")
        layer.build(shape)
        layers.append(layer)
    outputs, gradients = [], []
    for layer in layers:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * tf.range(y.shape[-1], dtype=tf.float32))
        outputs.append(y)
        gradients.append(tape.gradient(loss, [x, layer.gamma, layer.beta]))
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-5)
    for fused, plain in zip(*gradients, strict=True):
        np.testing.assert_allclose(fused, plain, atol=1e-4)
    fused, plain = layers
    np.testing.assert_allclose(fused.moving_mean, plain.moving_mean, atol=1e-6)
    # The moving variance takes the batch variance with Bessel's correction.
    n = np.prod(shape[:-1])
    np.testing.assert_allclose(
        fused.moving_variance - 0.9,
        (plain.moving_variance - 0.9) * n / (n - 1),
        rtol=1e-4,
    )
    # Inference uses Keras' own path on the moving statistics.
    np.testing.assert_allclose(
        fused(x, training=False),
        keras.layers.BatchNormalization.call(fused, x, training=False),
    )


@pytest.mark.parametrize("upsampling", networks.UPSAMPLINGS)
def test_every_upsampling_keeps_shapes_and_counts_its_parameters(upsampling):
    width = 0.0625
    decoder = networks.build_decoder(width, upsampling=upsampling)
    code = np.random.default_rng(0).normal(size=(2, 64)).astype("float32")
    out = keras.ops.convert_to_numpy(decoder(code, training=True))
    assert out.shape == (2, 64, 64, 3) and out.min() >= -1 and out.max() <= 1
    # Four ×2 layers 64·w·16 → 32·w·16 → 16·w·16 → 8·w·16 → 3 channels (w 1/16:
    # 64 → 32 → 16 → 8 → 3); a k×k kernel per layer, bias on the last only.
    kernel = 4 if upsampling == "transposed4" else 5
    channels = [64, 32, 16, 8, 3]
    upsampling_weights = (
        sum(
            kernel * kernel * c_in * c_out
            for c_in, c_out in zip(channels[:-1], channels[1:], strict=True)
        )
        + 3
    )
    dense_and_bn = 64 * 4 * 4 * 64 + 2 * (4 * 4 * 64 + 32 + 16 + 8)
    assert _trainable(decoder) == upsampling_weights + dense_and_bn
    resize = [layer for layer in decoder.layers if "resize" in layer.name]
    assert len(resize) == (4 if upsampling == "resize_conv" else 0)


def test_resize_conv_has_the_papers_parameter_count_at_width_one():
    paper = networks.build_converter(1.0)
    resized = networks.build_converter(1.0, upsampling="resize_conv")
    assert _trainable(resized) == _trainable(paper)
    with pytest.raises(ValueError, match="upsampling must be one of"):
        networks.build_decoder(0.0625, upsampling="bilinear")
