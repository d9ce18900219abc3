"""Training callbacks: the NaN stop, the batch-norm exploit check, checkpoints
every N steps and at epoch ends, and the throughput figure."""

from __future__ import annotations

import keras
import pytest
import tensorflow as tf

from pldt_tf.training import callbacks


def test_non_finite_loss_stops_with_step_and_checkpoint():
    class FakeOptimizer:
        iterations = tf.Variable(42)

    class FakeModel:
        converter_optimizer = FakeOptimizer()

    class FakeManager:
        latest_checkpoint = "/w/checkpoints/ckpt-40"

    callback = callbacks.StopOnNonFiniteLoss(FakeManager())
    callback.set_model(FakeModel())
    callback.on_train_batch_end(0, {"loss/converter": 1.0})
    with pytest.raises(callbacks.NonFiniteLossError, match=r"step 42.*ckpt-40"):
        callback.on_train_batch_end(0, {"loss/converter": float("nan")})


def test_health_check_flags_the_batch_norm_exploit():
    health = callbacks.TrainingHealth(window=3)
    health.set_model(
        type(
            "M",
            (),
            {"converter_optimizer": type("O", (), {"iterations": tf.Variable(1)})()},
        )()
    )
    fair = {"loss/real_fake": 0.6, "loss/converter_real_fake": 1.2}
    exploit = {"loss/real_fake": 0.001, "loss/converter_real_fake": 0.01}
    for _ in range(5):
        health.on_train_batch_end(0, dict(fair))
    assert health.violations == 0
    for _ in range(5):
        health.on_train_batch_end(0, dict(exploit))
    assert health.violations == 3


class _FakeManager:
    def __init__(self):
        self.saved = []
        self.latest_checkpoint = None

    def save(self, checkpoint_number):
        self.saved.append(int(checkpoint_number))
        self.latest_checkpoint = f"ckpt-{int(checkpoint_number)}"
        return self.latest_checkpoint


def _model_at(step: int):
    optimizer = type("O", (), {"iterations": tf.Variable(step)})()
    return type("M", (), {"converter_optimizer": optimizer})()


def test_checkpoints_every_n_steps_and_at_epoch_end_once_per_step():
    manager = _FakeManager()
    callback = callbacks.Checkpoints(manager, every_steps=2)
    model = _model_at(0)
    callback.set_model(model)
    for step in (1, 2, 3, 4):
        model.converter_optimizer.iterations.assign(step)
        callback.on_train_batch_end(step - 1)
    callback.on_epoch_end(0)  # step 4 is saved already
    model.converter_optimizer.iterations.assign(5)
    callback.on_epoch_end(1)
    assert manager.saved == [2, 4, 5]


def test_throughput_reports_images_per_second_and_the_learning_rate():
    callback = callbacks.Throughput(batch_size=8)
    optimizer = keras.optimizers.Adam(2e-4)
    callback.set_model(type("M", (), {"converter_optimizer": optimizer})())
    logs = {}
    callback.on_train_batch_begin(0)
    callback.on_train_batch_end(0, logs)
    assert logs["images_per_second"] > 0
    assert logs["learning_rate"] == pytest.approx(2e-4)
