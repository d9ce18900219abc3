"""Golden values for every loss on literal inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from pldt_tf import losses

LOG2 = math.log(2.0)


def softplus(x):
    return math.log1p(math.exp(x))


def _np(x):
    return np.asarray(x)


def test_bce_with_logits_golden():
    logits = tf.constant([0.0, 2.0, 2.0, -3.0])
    labels = tf.constant([1.0, 1.0, 0.0, 0.0])
    expected = [LOG2, softplus(-2.0), softplus(2.0), softplus(-3.0)]
    np.testing.assert_allclose(
        _np(losses.bce_with_logits(logits, labels)), expected, rtol=1e-6
    )


def test_discriminator_losses_golden():
    # Eq. 2 on one real and one generated pure batch: (BCE(l,1) + BCE(l,0)) / 2.
    np.testing.assert_allclose(
        _np(
            losses.case_averaged_discriminator_loss(
                [(tf.constant([1.0]), True), (tf.constant([-1.0]), False)]
            )
        ),
        [softplus(-1.0)],
        rtol=1e-6,
    )
    # Eq. 5: associated (1), generated (0), unassociated (0).
    full = losses.case_averaged_discriminator_loss(
        [
            (tf.constant([1.0]), 1.0),
            (tf.constant([-1.0]), 0.0),
            (tf.constant([2.0]), 0.0),
        ]
    )
    np.testing.assert_allclose(
        _np(full), [(softplus(-1.0) + softplus(-1.0) + softplus(2.0)) / 3], rtol=1e-6
    )


def test_converter_losses_golden():
    logits = tf.constant([1.0, -2.0])
    np.testing.assert_allclose(
        _np(losses.adversarial_converter_loss(logits, "non_saturating")),
        [softplus(-1.0), softplus(2.0)],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        _np(losses.adversarial_converter_loss(logits, "minimax")),
        [-softplus(1.0), -softplus(-2.0)],
        rtol=1e-6,
    )
    # Minimax on a mixed batch: the discriminator's own loss, negated.
    np.testing.assert_allclose(
        _np(
            losses.adversarial_converter_loss(
                logits, "minimax", tf.constant([True, False])
            )
        ),
        [-softplus(-1.0), -softplus(-2.0)],
        rtol=1e-6,
    )
    with pytest.raises(ValueError, match="form"):
        losses.adversarial_converter_loss(logits, "hinge")


def test_minimax_gradient_saturates_where_non_saturating_does_not():
    logits = tf.Variable([-6.0])  # the discriminator is sure the image is fake
    grads = {}
    for form in losses.CONVERTER_LOSSES:
        with tf.GradientTape() as tape:
            loss = losses.adversarial_converter_loss(logits, form)
        grads[form] = float(tape.gradient(loss, logits)[0])
    assert abs(grads["minimax"]) < 0.01 < abs(grads["non_saturating"])


def test_mse_golden():
    generated = tf.zeros((2, 2, 2, 3))
    target = tf.concat([tf.zeros((1, 2, 2, 3)), tf.fill((1, 2, 2, 3), 0.5)], 0)
    np.testing.assert_allclose(
        _np(losses.mse_converter_loss(generated, target)), [0.0, 0.25]
    )


def test_l1_golden():
    generated = tf.zeros((2, 2, 2, 3))
    target = tf.concat([tf.fill((1, 2, 2, 3), -0.25), tf.fill((1, 2, 2, 3), 0.5)], 0)
    np.testing.assert_allclose(
        _np(losses.l1_converter_loss(generated, target)), [0.25, 0.5]
    )
    np.testing.assert_allclose(
        _np(losses.pixel_loss("l1", generated, target)), [0.25, 0.5]
    )
    np.testing.assert_allclose(
        _np(losses.pixel_loss("mse", generated, target)), [0.0625, 0.25]
    )
    with pytest.raises(ValueError, match="pixel loss"):
        losses.pixel_loss("l2", generated, target)


def test_case_averaging_golden():
    # per_case D_A: associated (1), generated (0), unassociated (0), one
    # example each → the mean of the three BCEs per example.
    averaged = losses.case_averaged_discriminator_loss(
        [
            (tf.constant([1.0]), 1.0),
            (tf.constant([-1.0]), 0.0),
            (tf.constant([2.0]), 0.0),
        ]
    )
    expected = (softplus(-1.0) + softplus(-1.0) + softplus(2.0)) / 3
    np.testing.assert_allclose(_np(averaged), [expected], rtol=1e-6)
    # A mixed batch (per_sample, joint) is one group: plain BCE per example.
    mixed = losses.case_averaged_discriminator_loss(
        [(tf.constant([0.0, 3.0]), tf.constant([True, False]))]
    )
    np.testing.assert_allclose(_np(mixed), [LOG2, softplus(3.0)], rtol=1e-6)


def test_converter_loss_is_half_of_each_discriminator_term():
    # Eq. 6: ½·L_R + ½·L_A; with one discriminator (C+RF) its whole loss.
    both = losses.adversarial_mean([tf.constant(0.4), tf.constant(1.0)])
    assert float(both) == pytest.approx(0.7)
    assert float(losses.adversarial_mean([tf.constant(0.4)])) == pytest.approx(0.4)
