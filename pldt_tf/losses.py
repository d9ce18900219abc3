"""Losses of paper Eq. 2, 5 and 6 as pure tensor functions (SPEC §3).

Every function returns *per-example* losses ([B] float32): the model sums
them and divides by the global batch size, which is what keeps the loss
correct under ``tf.distribute`` (per-replica means would weight replicas,
not examples). Discriminator outputs are logits; the sigmoid of Table 1 is
applied inside (``from_logits``) for numerical stability.

Targets of the discriminators:
- D_R: 1 for a real product image (associated or not), 0 for a generated one.
- D_A: 1 for the associated pair only; 0 for unassociated and generated.
"""

from __future__ import annotations

import tensorflow as tf

CONVERTER_LOSSES = ("non_saturating", "minimax")


def bce_with_logits(logits: tf.Tensor, labels) -> tf.Tensor:
    """Binary cross-entropy per example, −[t·log σ(l) + (1−t)·log(1−σ(l))]."""
    logits = tf.cast(logits, tf.float32)
    labels = tf.cast(tf.broadcast_to(labels, tf.shape(logits)), tf.float32)
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)


def discriminator_loss(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Eq. 2 / Eq. 5 per example for a batch with per-example 0/1 labels."""
    return bce_with_logits(logits, labels)


def real_fake_discriminator_loss(
    real_logits: tf.Tensor, fake_logits: tf.Tensor
) -> tf.Tensor:
    """Eq. 2 on one pure real and one pure generated batch: [B] per pair."""
    return bce_with_logits(real_logits, 1.0) + bce_with_logits(fake_logits, 0.0)


def domain_discriminator_loss(
    associated_logits: tf.Tensor,
    unassociated_logits: tf.Tensor | None,
    generated_logits: tf.Tensor,
) -> tf.Tensor:
    """Eq. 5 on pure batches; ``unassociated_logits=None`` for C+RF+DD−Neg."""
    loss = bce_with_logits(associated_logits, 1.0) + bce_with_logits(
        generated_logits, 0.0
    )
    if unassociated_logits is not None:
        loss += bce_with_logits(unassociated_logits, 0.0)
    return loss


def adversarial_converter_loss(generated_logits: tf.Tensor, form: str) -> tf.Tensor:
    """The converter's loss against one discriminator, per generated example.

    Args:
      generated_logits: Discriminator logits for generated images (or pairs).
      form: ``"non_saturating"``: −log σ(l) = BCE(l, 1), the usual practice;
        ``"minimax"``: log(1 − σ(l)) = −BCE(l, 0), Eq. 6 taken literally
        (the converter maximises the discriminator's loss).
    """
    if form == "non_saturating":
        return bce_with_logits(generated_logits, 1.0)
    if form == "minimax":
        return -bce_with_logits(generated_logits, 0.0)
    raise ValueError(f"form must be one of {CONVERTER_LOSSES}, got {form!r}")


def mse_converter_loss(generated: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """C+MSE baseline: mean squared error per example, images in [-1, 1]."""
    diff = tf.cast(generated, tf.float32) - tf.cast(target, tf.float32)
    return tf.reduce_mean(tf.square(diff), axis=[1, 2, 3])
