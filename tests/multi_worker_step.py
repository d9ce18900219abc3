"""Run by test_multi_worker.py in fresh processes: ``worker`` is one worker of
a MultiWorkerMirroredStrategy cluster that the test describes in TF_CONFIG;
``single`` is the one-process reference. Each trains 2 steps on the same
global batch (float64 networks: see train_fixtures.float64_model) and saves
its weights to the .npz path given.

  python tests/multi_worker_step.py worker|single OUT.npz per_case|per_sample
"""

from __future__ import annotations

import sys

import tensorflow as tf

mode, output, selection = sys.argv[1:4]
# The multi-worker strategy must be created before TensorFlow runs any op.
strategy = (
    tf.distribute.MultiWorkerMirroredStrategy()
    if mode == "worker"
    else tf.distribute.get_strategy()
)

import numpy as np  # noqa: E402
from train_fixtures import fixed_batch, float64_model, networks_of  # noqa: E402

options = tf.data.Options()
options.experimental_distribute.auto_shard_policy = (
    tf.data.experimental.AutoShardPolicy.DATA  # each worker: half of each batch
)
dataset = tf.data.Dataset.from_tensors(fixed_batch()).repeat().with_options(options)
with strategy.scope():
    model = float64_model(strategy.num_replicas_in_sync > 1, selection)
start = [w.numpy().copy() for w in model.converter.trainable_weights]
model.fit(dataset, steps_per_epoch=2, verbose=0)
weights = [w.numpy() for n in networks_of(model) for w in n.trainable_weights]
np.savez(output, *weights)
moved = max(
    float(np.abs(a - b.numpy()).max())
    for a, b in zip(start, model.converter.trainable_weights, strict=True)
)
print(f"replicas={strategy.num_replicas_in_sync} moved={moved:.3g}")
