"""The paper's networks (Table 1, docs/paper.md#networks): converter, D_R and D_A.

One convolutional stack serves three roles — the converter's encoder, the
real/fake discriminator D_R and the domain discriminator D_A (whose input is
source and target stacked on the channel axis): 5×5 stride-2 convolutions
with 128·w, 256·w, 512·w, 1024·w filters, batch norm on all but the first,
leaky ReLU 0.2, then a 4×4 valid convolution to a 64-d code (encoder: BN +
leaky ReLU) or one logit (discriminators). The decoder mirrors it from the
64-d code with fractionally strided convolutions, ReLU, and tanh at the end.

``width`` scales the hidden channels (not the 64-d code, not the 3-channel
output); the paper is width 1. Weights are drawn from N(0, 0.02) and BN
scales from N(1, 0.02) (DCGAN). Discriminators return *logits*; the sigmoid
of Table 1 is applied inside the losses (``from_logits``) for stability.

Padding: the paper pads 2 on every side; Keras' ``"same"`` pads 1 before
and 2 after on these even sizes — the same output shapes and parameter
counts, shifted by one pixel, and it lets the CPU use fused kernels.
"""

from __future__ import annotations

import keras

IMAGE_SIZE = 64
CODE_SIZE = 64
BASE_FILTERS = (128, 256, 512, 1024)
LEAK = 0.2


def scaled(filters: int, width: float) -> int:
    """Hidden channel count at a width multiplier (at least 1)."""
    return max(1, int(round(filters * width)))


def _kernel_init(seed=None):
    return keras.initializers.RandomNormal(0.0, 0.02, seed=seed)


@keras.saving.register_keras_serializable(package="pldt_tf")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """Keras batch norm whose training pass runs TensorFlow's fused kernel.

    Keras 3 normalises with ~10 elementwise ops forward and as many backward
    (``tf.nn.moments`` + ``tf.nn.batch_normalization``); the fused op does it
    in one each way, which the CPU's oneDNN and cuDNN run much faster
    (docs/performance.md has the measurement). Same variables and outputs up
    to round-off, with two differences, both as in tf.keras 2's fused path:
    the moving variance takes the batch variance with Bessel's correction
    (as Torch, the paper's framework, does), and epsilon is at least
    1.001e-5 (a cuDNN bound). Inference, synchronised batch norm, float64
    and other backends take Keras' own path.
    """

    def call(self, inputs, training=None, mask=None):
        fused = (
            training
            and self.trainable
            and not self.synchronized
            and mask is None
            and keras.backend.backend() == "tensorflow"
            and self.axis in (-1, len(inputs.shape) - 1)
            and len(inputs.shape) in (2, 4)
            and keras.backend.standardize_dtype(inputs.dtype) != "float64"
        )
        if not fused:
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        x = tf.cast(inputs, tf.float32)  # statistics in float32, as Keras does
        flat = len(inputs.shape) == 2
        if flat:
            x = x[:, None, None, :]  # [B, C] → [B, 1, 1, C]
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            x,
            tf.cast(self.gamma, tf.float32),
            tf.cast(self.beta, tf.float32),
            epsilon=self.epsilon,
            is_training=True,
        )
        for moving, batch in (
            (self.moving_mean, mean),
            (self.moving_variance, variance),
        ):
            moving.assign(moving * self.momentum + batch * (1.0 - self.momentum))
        if flat:
            y = y[:, 0, 0, :]
        return tf.cast(y, self.compute_dtype)


def _batch_norm(name: str, synchronized: bool, dtype) -> keras.layers.Layer:
    # momentum 0.9 = DCGAN/Torch's 0.1; epsilon as in Torch.
    return FusedBatchNormalization(
        momentum=0.9,
        epsilon=1e-5,
        gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02),
        synchronized=synchronized,
        name=name,
        dtype=dtype,
    )


def _conv_stack(
    inputs, width: float, name: str, synchronized: bool, dtype
) -> keras.KerasTensor:
    """Conv 1-4 of Table 1(a): [B, 64, 64, C] → [B, 4, 4, 1024·w]."""
    x = inputs
    for index, filters in enumerate(BASE_FILTERS, start=1):
        with_bn = index > 1
        x = keras.layers.Conv2D(
            scaled(filters, width),
            5,
            strides=2,
            padding="same",
            use_bias=not with_bn,
            kernel_initializer=_kernel_init(),
            name=f"{name}_conv{index}",
            dtype=dtype,
        )(x)  # [B, 64 / 2^index, 64 / 2^index, filters·w]
        if with_bn:
            x = _batch_norm(f"{name}_bn{index}", synchronized, dtype)(x)
        x = keras.layers.LeakyReLU(LEAK, name=f"{name}_lrelu{index}", dtype=dtype)(x)
    return x


def build_encoder(
    width: float = 1.0, synchronized_bn: bool = False, dtype=None
) -> keras.Model:
    """Encoder: [B, 64, 64, 3] in [-1, 1] → [B, 64] code."""
    inputs = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3), name="source")
    x = _conv_stack(inputs, width, "encoder", synchronized_bn, dtype)
    x = keras.layers.Conv2D(
        CODE_SIZE,
        4,
        padding="valid",
        use_bias=False,
        kernel_initializer=_kernel_init(),
        name="encoder_conv5",
        dtype=dtype,
    )(x)  # [B, 1, 1, 64]
    x = _batch_norm("encoder_bn5", synchronized_bn, dtype)(x)
    x = keras.layers.LeakyReLU(LEAK, name="encoder_lrelu5", dtype=dtype)(x)
    code = keras.layers.Flatten(name="code", dtype=dtype)(x)  # [B, 64]
    return keras.Model(inputs, code, name="encoder")


UPSAMPLINGS = ("transposed5", "transposed4", "resize_conv")


def _upsample(x, filters: int, upsampling: str, index: int, use_bias: bool, dtype):
    """One ×2 upsampling layer of the decoder: [B, s, s, C] → [B, 2s, 2s, filters].

    ``transposed5``: the paper's 5×5 fractionally strided convolution;
    ``transposed4``: a 4×4 kernel, which stride 2 divides, so every output
    pixel gets the same number of kernel taps; ``resize_conv``: nearest-
    neighbour ×2, then a 5×5 convolution — the same parameters as
    ``transposed5``, its multiply-adds at the output resolution (4×).
    """
    if upsampling == "resize_conv":
        x = keras.layers.UpSampling2D(
            2, interpolation="nearest", name=f"decoder_resize{index}", dtype=dtype
        )(x)  # [B, 2s, 2s, C]
        return keras.layers.Conv2D(
            filters,
            5,
            padding="same",
            use_bias=use_bias,
            kernel_initializer=_kernel_init(),
            name=f"decoder_conv{index}",
            dtype=dtype,
        )(x)
    if upsampling not in UPSAMPLINGS:
        raise ValueError(f"upsampling must be one of {UPSAMPLINGS}, got {upsampling!r}")
    return keras.layers.Conv2DTranspose(
        filters,
        4 if upsampling == "transposed4" else 5,
        strides=2,
        padding="same",
        use_bias=use_bias,
        kernel_initializer=_kernel_init(),
        name=f"decoder_fconv{index}",
        dtype=dtype,
    )(x)


def build_decoder(
    width: float = 1.0,
    synchronized_bn: bool = False,
    dtype=None,
    upsampling: str = "transposed5",
) -> keras.Model:
    """Decoder: [B, 64] code → [B, 64, 64, 3] image in [-1, 1] (float32).

    ``upsampling`` chooses the four ×2 layers (``UPSAMPLINGS``; the paper's
    is ``transposed5``).
    """
    code = keras.Input((CODE_SIZE,), name="code")
    top = scaled(BASE_FILTERS[-1], width)
    # Conv 1 of Table 1(b): a 1×1 convolution on the 1×1 code == Dense.
    x = keras.layers.Dense(
        4 * 4 * top,
        use_bias=False,
        kernel_initializer=_kernel_init(),
        name="decoder_fc1",
        dtype=dtype,
    )(code)
    x = _batch_norm("decoder_bn1", synchronized_bn, dtype)(x)
    x = keras.layers.ReLU(name="decoder_relu1", dtype=dtype)(x)
    x = keras.layers.Reshape((4, 4, top), name="decoder_reshape", dtype=dtype)(x)
    for index, filters in enumerate(reversed(BASE_FILTERS[:-1]), start=2):
        x = _upsample(x, scaled(filters, width), upsampling, index, False, dtype)
        # x: [B, 2^(index+1), 2^(index+1), filters·w]
        x = _batch_norm(f"decoder_bn{index}", synchronized_bn, dtype)(x)
        x = keras.layers.ReLU(name=f"decoder_relu{index}", dtype=dtype)(x)
    x = _upsample(x, 3, upsampling, 5, True, dtype)  # [B, 64, 64, 3]
    image = keras.layers.Activation("tanh", name="image", dtype="float32")(x)
    return keras.Model(code, image, name="decoder")


def build_converter(
    width: float = 1.0,
    synchronized_bn: bool = False,
    dtype=None,
    upsampling: str = "transposed5",
) -> keras.Model:
    """Converter C = decoder(encoder(x)): [B, 64, 64, 3] → [B, 64, 64, 3].

    Args:
      width: Hidden-channel multiplier (paper: 1).
      synchronized_bn: Batch statistics over all replicas (multi-device).
      dtype: A Keras dtype policy name, e.g. ``"mixed_bfloat16"``; the output
        is float32 whatever the policy.
      upsampling: The decoder's ×2 layers (``UPSAMPLINGS``); the paper's
        5×5 transposed convolutions by default.

    Example:
      >>> converter = build_converter(width=0.125)
      >>> converter(np.zeros((2, 64, 64, 3))).shape
      (2, 64, 64, 3)
    """
    source = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3), name="source")
    encoder = build_encoder(width, synchronized_bn, dtype)
    decoder = build_decoder(width, synchronized_bn, dtype, upsampling)
    return keras.Model(source, decoder(encoder(source)), name="converter")


def build_discriminator(
    kind: str, width: float = 1.0, synchronized_bn: bool = False, dtype=None
) -> keras.Model:
    """The discriminator ``kind`` (a key of ``model.ADVERSARIES``: D_R
    ``"real_fake"``, D_A ``"domain"``), returning logits; built by its
    table entry (``Adversary.build``)."""
    from pldt_tf import model as model_lib

    if kind not in model_lib.ADVERSARIES:
        raise ValueError(
            f"kind must be one of {tuple(model_lib.ADVERSARIES)}, got {kind!r}"
        )
    return model_lib.ADVERSARIES[kind].build(width, synchronized_bn, dtype)


def discriminator_network(
    name: str,
    paired: bool,
    width: float = 1.0,
    synchronized_bn: bool = False,
    dtype=None,
) -> keras.Model:
    """Table 1(c)'s stack with one logit out.

    Unpaired (D_R): [B, 64, 64, 3] product image → [B] logit of "real".
    Paired (D_A): source [B, 64, 64, 3] and target [B, 64, 64, 3] → [B] logit
    of "associated" (the pair is stacked into 6 channels).
    """
    if paired:
        source = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3), name="source")
        target = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3), name="target")
        x = keras.layers.Concatenate(name="pair", dtype=dtype)([source, target])
        inputs = [source, target]  # x: [B, 64, 64, 6]
    else:
        image = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3), name="image")
        inputs, x = image, image
    x = _conv_stack(x, width, name, synchronized_bn, dtype)
    x = keras.layers.Conv2D(
        1,
        4,
        padding="valid",
        kernel_initializer=_kernel_init(),
        name=f"{name}_conv5",
        dtype=dtype,
    )(x)  # [B, 1, 1, 1]
    logit = keras.layers.Flatten(name="logit", dtype="float32")(x)[:, 0]  # [B]
    return keras.Model(inputs, logit, name=name)


def discriminator_features(network: keras.Model) -> keras.Model:
    """The same discriminator (shared weights) returning its hidden layers'
    activations (after each leaky ReLU, in order) and then its logits, for
    feature matching (pix2pixHD; beyond the paper)."""
    hidden = [
        layer.output
        for layer in network.layers
        if isinstance(layer, keras.layers.LeakyReLU)
    ]
    if not hidden:
        raise ValueError(f"{network.name!r} has no leaky-ReLU layer to match")
    return keras.Model(network.inputs, [*hidden, network.output], name=network.name)
