"""Keras callbacks of a training run: checkpoints, sample grids, validation
metrics, throughput, training health and non-finite losses.

Sample images are made here, not in ``train_step`` (house style).
"""

from __future__ import annotations

import collections
import os
import time

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from pldt_tf import metrics, storage, visualize
from pldt_tf import model as model_lib


class NonFiniteLossError(RuntimeError):
    """A loss became NaN or Inf and ``skip_nonfinite`` is off."""


def _step(model) -> int:
    return int(model.converter_optimizer.iterations.numpy())


class Checkpoints(keras.callbacks.Callback):
    """Saves every ``every_steps`` steps and at every epoch end.

    ``tf.train.CheckpointManager`` writes a checkpoint completely before it
    updates its index, so a process killed mid-save leaves the previous
    checkpoint loadable.
    """

    def __init__(self, manager: tf.train.CheckpointManager, every_steps: int):
        super().__init__()
        self.manager = manager
        self.every_steps = every_steps

    def save(self):
        step = _step(self.model)
        if self.manager.latest_checkpoint and self.manager.latest_checkpoint.endswith(
            f"-{step}"
        ):
            return
        path = self.manager.save(checkpoint_number=step)
        logging.info("Saved checkpoint %s", path)

    def on_train_batch_end(self, batch, logs=None):
        if _step(self.model) % self.every_steps == 0:
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        self.save()


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Raises ``NonFiniteLossError`` naming the step and the last good
    checkpoint as soon as a logged loss is NaN or Inf."""

    def __init__(self, manager: tf.train.CheckpointManager):
        super().__init__()
        self.manager = manager

    def on_train_batch_end(self, batch, logs=None):
        bad = {
            k: v
            for k, v in (logs or {}).items()
            if k.startswith("loss/") and not np.isfinite(v)
        }
        if bad:
            raise NonFiniteLossError(
                f"Non-finite loss at step {_step(self.model)}: {bad}. Last good "
                f"checkpoint: {self.manager.latest_checkpoint or 'none yet'}. Lower "
                "--learning_rate, or pass --skip_nonfinite to skip such steps."
            )


class Throughput(keras.callbacks.Callback):
    """Adds ``images_per_second`` and ``learning_rate`` to the batch logs."""

    def __init__(self, batch_size: int):
        super().__init__()
        self.batch_size = batch_size
        self._last = None

    def on_train_batch_begin(self, batch, logs=None):
        self._last = self._last or time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if logs is not None:
            logs["images_per_second"] = self.batch_size / max(now - self._last, 1e-9)
            optimizer = self.model.converter_optimizer
            logs["learning_rate"] = float(
                keras.ops.convert_to_numpy(optimizer.learning_rate)
            )
        self._last = now


class TrainingHealth(keras.callbacks.Callback):
    """Flags the batch-norm exploit
    (docs/paper.md#batch-normalisation-and-batch-composition).

    Its signature: a discriminator's own loss sits near 0 (it separates real
    from generated perfectly) while the converter's loss against that same
    discriminator *also* sits near 0 (the discriminator calls the converter's
    images real). In a fair game both cannot hold — it means the
    discriminator judges generated images by their batch's statistics.
    Counted over a moving window; ``violations`` is what tests assert on.
    """

    def __init__(self, window: int = 20, threshold: float = 0.05):
        super().__init__()
        self.window = window
        self.threshold = threshold
        self.history = collections.deque(maxlen=window)
        self.violations = 0

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        pairs = [
            (a.tracker, a.converter_tracker) for a in model_lib.ADVERSARIES.values()
        ]
        unhealthy = any(
            d in logs
            and c in logs
            and logs[d] < self.threshold
            and logs[c] < 2 * self.threshold
            for d, c in pairs
        )
        self.history.append(unhealthy)
        if len(self.history) == self.window and all(self.history):
            self.violations += 1
            if self.violations == 1:
                logging.warning(
                    "Training health: a discriminator's loss and the converter's loss "
                    "against it are both near 0 for %d steps (step %d). With the "
                    "non-saturating loss this is the batch-norm exploit "
                    "(docs/paper.md#batch-normalisation-and-batch-composition): "
                    "try --selection=per_case. With --converter_loss=minimax it is "
                    "the discriminator winning outright, which leaves the converter "
                    "no gradient: try --converter_loss=non_saturating.",
                    self.window,
                    _step(self.model),
                )
        if logs is not None:
            logs["health/violations"] = float(self.violations)


class SampleGrids(keras.callbacks.Callback):
    """Every ``every_steps`` steps: a PNG and a TensorBoard image of fixed
    validation sources | generated | ground truth; at each epoch end the
    validation RMSE and C-SSIM (added to the epoch logs)."""

    def __init__(
        self,
        workdir: str,
        samples: dict,
        validation,
        every_steps: int,
        writer: tf.summary.SummaryWriter,
    ):
        super().__init__()
        self.directory = os.path.join(workdir, "samples")
        storage.makedirs(self.directory)
        self.samples = samples
        self.validation = validation
        self.every_steps = every_steps
        self.writer = writer

    def write_grid(self, name: str) -> str:
        generated = self.model.converter(self.samples["source"], training=False)
        grid = visualize.triplet_grid(
            self.samples["source"], generated.numpy(), self.samples["target"]
        )
        path = os.path.join(self.directory, f"{name}.png")
        visualize.save_png(path, grid)
        with self.writer.as_default():
            tf.summary.image("samples", grid[None], step=_step(self.model))
        return path

    def on_train_batch_end(self, batch, logs=None):
        step = _step(self.model)
        if step % self.every_steps == 0:
            self.write_grid(f"step_{step:07d}")

    def on_epoch_end(self, epoch, logs=None):
        scores = evaluate_pixels(self.model.converter, self.validation)
        with self.writer.as_default():
            for name, value in scores.items():
                tf.summary.scalar(f"validation/{name}", value, step=_step(self.model))
        if logs is not None:
            logs.update({f"val_{k}": v for k, v in scores.items()})
        logging.info("Epoch %d validation: %s", epoch + 1, scores)


def evaluate_pixels(converter: keras.Model, dataset) -> dict:
    """Mean RMSE and C-SSIM of the converter over an evaluation dataset."""
    totals, count = {"rmse": 0.0, "c_ssim": 0.0}, 0
    for batch in dataset:
        generated = metrics.to_unit_interval(converter(batch["source"], training=False))
        target = metrics.to_unit_interval(batch["target"])
        totals["rmse"] += float(tf.reduce_sum(metrics.rmse(generated, target)))
        totals["c_ssim"] += float(tf.reduce_sum(metrics.c_ssim(generated, target)))
        count += int(batch["source"].shape[0])
    return {k: v / max(count, 1) for k, v in totals.items()}


class Scalars(keras.callbacks.Callback):
    """Writes every logged number to TensorBoard every ``every_steps`` steps,
    at the global step (so a resumed run continues its curves)."""

    def __init__(self, writer: tf.summary.SummaryWriter, every_steps: int):
        super().__init__()
        self.writer = writer
        self.every_steps = every_steps

    def on_train_batch_end(self, batch, logs=None):
        step = _step(self.model)
        if step % self.every_steps or not logs:
            return
        with self.writer.as_default():
            for name, value in logs.items():
                tf.summary.scalar(name, value, step=step)

    def on_epoch_end(self, epoch, logs=None):
        self.writer.flush()
