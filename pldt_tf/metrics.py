"""Pixel-level metrics of the paper (§5.3, SPEC §6) on images in [0, 1].

- RMSE between generated and ground-truth product images.
- C-SSIM: SSIM computed per colour channel (Gaussian window 11×11, σ 1.5,
  K1 0.01, K2 0.03, data range 1) and averaged over the channels.
"""

from __future__ import annotations

import tensorflow as tf


def to_unit_interval(image: tf.Tensor) -> tf.Tensor:
    """[-1, 1] → [0, 1], float32, clipped."""
    return tf.clip_by_value((tf.cast(image, tf.float32) + 1.0) / 2.0, 0.0, 1.0)


def rmse(generated: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """Per-image root-mean-square error, [B], for images in [0, 1]."""
    diff = tf.cast(generated, tf.float32) - tf.cast(target, tf.float32)
    return tf.sqrt(tf.reduce_mean(tf.square(diff), axis=[1, 2, 3]))


def c_ssim(generated: tf.Tensor, target: tf.Tensor) -> tf.Tensor:
    """Per-image C-SSIM, [B], for images in [0, 1].

    ``tf.image.ssim`` computes the SSIM map of every channel separately and
    averages it over the image and the channels — exactly C-SSIM.
    """
    return tf.image.ssim(
        tf.cast(generated, tf.float32),
        tf.cast(target, tf.float32),
        max_val=1.0,
        filter_size=11,
        filter_sigma=1.5,
        k1=0.01,
        k2=0.03,
    )
