"""Losses of paper Eq. 2, 5 and 6 as pure tensor functions (docs/paper.md#losses),
and the converter's pixel terms (C+MSE's, and pix2pix's L1 beyond the paper).

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

import functools
import operator
from collections.abc import Sequence

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


def _summed_bce(groups) -> tf.Tensor:
    """Σ over (logits, labels) groups of equal size of the per-example BCE,
    added in the order given (so the rounding is fixed)."""
    return functools.reduce(
        operator.add, [bce_with_logits(logits, labels) for logits, labels in groups]
    )


def case_averaged_discriminator_loss(
    groups: Sequence[tuple[tf.Tensor, object]],
) -> tf.Tensor:
    """A discriminator's loss per example, averaged over the batches it judged.

    Args:
      groups: (logits [B], labels) per batch a discriminator judged: with
        pure batches (``per_case``), one per case — e.g. associated (1),
        generated (0), unassociated (0) for D_A — each label a scalar; with
        one mixed batch (``per_sample``, ``joint``), a single group whose
        labels are per example.

    Returns:
      [B]: (Σ_groups BCE) / number of groups — each case weighs the same,
      as each is one term of Eq. 2 / Eq. 5.
    """
    return _summed_bce(groups) / float(len(groups))


def real_fake_discriminator_loss(
    real_logits: tf.Tensor, fake_logits: tf.Tensor
) -> tf.Tensor:
    """Eq. 2 on one pure real and one pure generated batch: [B] per pair."""
    return _summed_bce([(real_logits, 1.0), (fake_logits, 0.0)])


def domain_discriminator_loss(
    associated_logits: tf.Tensor,
    unassociated_logits: tf.Tensor | None,
    generated_logits: tf.Tensor,
) -> tf.Tensor:
    """Eq. 5 on pure batches; ``unassociated_logits=None`` for C+RF+DD−Neg."""
    groups = [(associated_logits, 1.0), (generated_logits, 0.0)]
    if unassociated_logits is not None:
        groups.append((unassociated_logits, 0.0))
    return _summed_bce(groups)


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


def converter_loss(parts: Sequence[tf.Tensor]) -> tf.Tensor:
    """Eq. 6's weighting: the mean of the converter's losses against each
    discriminator (½ each with D_R and D_A; the whole loss with one)."""
    return tf.add_n(list(parts)) / float(len(parts))


def mse_converter_loss(generated: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """C+MSE baseline: mean squared error per example, images in [-1, 1]."""
    diff = tf.cast(generated, tf.float32) - tf.cast(target, tf.float32)
    return tf.reduce_mean(tf.square(diff), axis=[1, 2, 3])


def l1_converter_loss(generated: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """pix2pix's pixel term (Isola et al., CVPR 2017; not in the paper):
    mean absolute error per example, images in [-1, 1]."""
    diff = tf.cast(generated, tf.float32) - tf.cast(target, tf.float32)
    return tf.reduce_mean(tf.abs(diff), axis=[1, 2, 3])


_PIXEL_LOSSES = {"l1": l1_converter_loss, "mse": mse_converter_loss}
PIXEL_LOSSES = tuple(_PIXEL_LOSSES)


def pixel_loss(name: str, generated: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """The pixel loss ``name`` (one of ``PIXEL_LOSSES``) per example."""
    if name not in _PIXEL_LOSSES:
        raise ValueError(f"pixel loss must be one of {PIXEL_LOSSES}, got {name!r}")
    return _PIXEL_LOSSES[name](generated, target)
