"""Run by test_export.py in a fresh process: loads a SavedModel with
tf.saved_model.load and runs every signature on inputs saved by the test."""

from __future__ import annotations

import sys

import numpy as np
import tensorflow as tf

export_path, inputs_path, outputs_path = sys.argv[1:4]
inputs = np.load(inputs_path, allow_pickle=True).item()
loaded = tf.saved_model.load(export_path)
signatures = loaded.signatures
outputs = {
    "float": signatures["transfer_float"](images=tf.constant(inputs["float"]))["image"],
    "uint8": signatures["transfer_uint8"](images=tf.constant(inputs["uint8"]))["image"],
}
served = signatures["serving_default"](images=tf.constant(list(inputs["bytes"])))
outputs["bytes_image"] = served["image"]
outputs["bytes_png"] = tf.stack([tf.io.decode_png(p) for p in served["png_bytes"]])
np.save(outputs_path, {k: v.numpy() for k, v in outputs.items()}, allow_pickle=True)
print("signatures:", sorted(signatures))
