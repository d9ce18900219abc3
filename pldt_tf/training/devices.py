"""Devices: the precision policy, the distribution strategy, and which
process of a cluster writes the workdir."""

from __future__ import annotations

import json
import os

import tensorflow as tf

from pldt_tf import errors


def resolve_precision(name: str) -> str:
    """``auto``: bfloat16 on GPUs that have it, float16 on older GPUs,
    float32 on CPU."""
    if name != "auto":
        return name
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "float32"
    capability = tf.config.experimental.get_device_details(gpus[0]).get(
        "compute_capability", (0, 0)
    )
    return "mixed_bfloat16" if tuple(capability) >= (8, 0) else "mixed_float16"


def cluster_workers() -> int:
    """Workers (chief included) that ``TF_CONFIG`` names; 0 without it."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return 0
    try:
        cluster = json.loads(raw).get("cluster", {})
    except (json.JSONDecodeError, AttributeError) as error:
        raise errors.UserError(
            f"TF_CONFIG is not a JSON object ({error}): see "
            "docs/training.md#several-machines for its form."
        ) from None
    return len(cluster.get("chief", [])) + len(cluster.get("worker", []))


def make_strategy(name: str) -> tf.distribute.Strategy:
    """``auto``: MultiWorkerMirroredStrategy when ``TF_CONFIG`` names several
    workers, MirroredStrategy over several GPUs, else the default strategy.

    Call it before anything else runs TensorFlow ops: the multi-worker
    strategy must configure the runtime's collectives first.
    """
    if name == "multi_worker" or (name == "auto" and cluster_workers() > 1):
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "none":
        return tf.distribute.get_strategy()
    gpus = tf.config.list_logical_devices("GPU")
    if name == "mirrored" or (name == "auto" and len(gpus) > 1):
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the workdir (always, but for the
    non-chief workers of a multi-worker cluster)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief
