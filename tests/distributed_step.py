"""Run by test_train.py in a fresh process (logical devices must be set
before TensorFlow starts): one step under MirroredStrategy on 2 logical CPUs
versus one single-device step on the same global batch; prints the largest
weight difference (float64 networks: see train_fixtures.float64_model)."""

from __future__ import annotations

import sys

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)

import numpy as np  # noqa: E402
from train_fixtures import fixed_batch, float64_model, networks_of  # noqa: E402

dataset = tf.data.Dataset.from_tensors(fixed_batch()).repeat()
single = float64_model(False, sys.argv[1])
weights = [n.get_weights() for n in networks_of(single)]
start = [v.numpy().copy() for v in single.converter.trainable_weights]
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    mirrored = float64_model(True, sys.argv[1], weights)
single.fit(dataset, steps_per_epoch=1, verbose=0)
mirrored.fit(dataset, steps_per_epoch=1, verbose=0)
worst = 0.0
for a, b in zip(networks_of(single), networks_of(mirrored), strict=True):
    for x, y in zip(a.trainable_weights, b.trainable_weights, strict=True):
        worst = max(worst, float(np.abs(x.numpy() - y.numpy()).max()))
moved = max(
    float(np.abs(x - y.numpy()).max())
    for x, y in zip(start, single.converter.trainable_weights, strict=True)
)
print(
    f"replicas={strategy.num_replicas_in_sync} max_diff={worst:.3g} moved={moved:.3g}"
)
