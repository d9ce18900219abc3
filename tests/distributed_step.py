"""Run by test_train.py in a fresh process (logical devices must be set
before TensorFlow starts): one step under MirroredStrategy on 2 logical CPUs
versus one single-device step on the same global batch; prints the largest
weight difference.

The networks run in float64: Keras' synchronised batch norm computes the
variance as E[x²] − E[x]², which in float32 loses most digits on the nearly
constant images an untrained converter draws (measured: 0.6% gradient
differences in float32, round-off level in float64)."""

from __future__ import annotations

import sys

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from pldt_tf import model as model_lib  # noqa: E402
from pldt_tf import networks  # noqa: E402


def build(synchronized, weights=None):
    keras.utils.set_random_seed(0)
    model = model_lib.PixelLevelDomainTransfer(
        networks.build_converter(0.0625, synchronized, dtype="float64"),
        networks.build_discriminator("real_fake", 0.0625, synchronized, "float64"),
        networks.build_discriminator("domain", 0.0625, synchronized, "float64"),
        selection=sys.argv[1],
    )
    # Plain SGD: an update proportional to the gradient (Adam's first step is
    # sign(gradient), which flips on gradients that are zero up to round-off).
    model.compile(*[keras.optimizers.SGD(0.1) for _ in range(3)])
    if weights is not None:
        for network, values in zip(
            (model.converter, model.real_fake, model.domain), weights, strict=True
        ):
            network.set_weights(values)
    return model


rng = np.random.default_rng(0)
batch = {
    k: rng.uniform(-1, 1, (8, 64, 64, 3)).astype("float32")
    for k in ("source", "target", "negative")
}
dataset = tf.data.Dataset.from_tensors(batch).repeat()
single = build(False)
weights = [n.get_weights() for n in (single.converter, single.real_fake, single.domain)]
start = [v.numpy().copy() for v in single.converter.trainable_weights]
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    mirrored = build(True, weights)
single.fit(dataset, steps_per_epoch=1, verbose=0)
mirrored.fit(dataset, steps_per_epoch=1, verbose=0)
worst = 0.0
for a, b in zip(
    (single.converter, single.real_fake, single.domain),
    (mirrored.converter, mirrored.real_fake, mirrored.domain),
    strict=True,
):
    for x, y in zip(a.trainable_weights, b.trainable_weights, strict=True):
        worst = max(worst, float(np.abs(x.numpy() - y.numpy()).max()))
moved = max(
    float(np.abs(x - y.numpy()).max())
    for x, y in zip(start, single.converter.trainable_weights, strict=True)
)
print(
    f"replicas={strategy.num_replicas_in_sync} max_diff={worst:.3g} moved={moved:.3g}"
)
