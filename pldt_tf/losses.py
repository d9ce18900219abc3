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
    # Added in the order given, so the rounding is fixed.
    summed = functools.reduce(
        operator.add, [bce_with_logits(logits, labels) for logits, labels in groups]
    )
    return summed / float(len(groups))


def adversarial_converter_loss(logits: tf.Tensor, form: str, labels=0.0) -> tf.Tensor:
    """The converter's loss against one discriminator, per example.

    Args:
      logits: Discriminator logits for the batch holding the generated
        images (or pairs).
      form: ``"non_saturating"``: −log σ(l) = BCE(l, 1), the usual practice
        (meant for the generated examples); ``"minimax"``: −BCE(l, labels),
        Eq. 6 taken literally — the converter maximises the discriminator's
        own loss on that batch (for generated images, labels 0:
        log(1 − σ(l))).
      labels: The discriminator's labels for ``logits`` (minimax only).
    """
    if form == "non_saturating":
        return bce_with_logits(logits, 1.0)
    if form == "minimax":
        return -bce_with_logits(logits, labels)
    raise ValueError(f"form must be one of {CONVERTER_LOSSES}, got {form!r}")


def adversarial_mean(parts: Sequence[tf.Tensor]) -> tf.Tensor:
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


def feature_matching_loss(fake_features, real_features) -> tf.Tensor:
    """pix2pixHD's feature-matching term (Wang et al., CVPR 2018; not in the
    paper): per example, the mean |f(generated) − f(real)| of each of a
    discriminator's hidden layers, summed over the layers. The real side is
    a constant: only the converter learns from it."""
    per_layer = [
        tf.reduce_mean(
            tf.abs(
                tf.cast(fake, tf.float32) - tf.stop_gradient(tf.cast(real, tf.float32))
            ),
            axis=list(range(1, len(fake.shape))),
        )
        for fake, real in zip(fake_features, real_features, strict=True)
    ]
    return tf.add_n(per_layer)


def pixel_loss(name: str, generated: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """The pixel loss ``name`` (one of ``PIXEL_LOSSES``) per example."""
    if name not in _PIXEL_LOSSES:
        raise ValueError(f"pixel loss must be one of {PIXEL_LOSSES}, got {name!r}")
    return _PIXEL_LOSSES[name](generated, target)
