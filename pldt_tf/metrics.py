"""Pixel-level metrics of the paper on images in [0, 1] (its §5.3;
docs/paper.md#evaluation).

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


def garment_color(images: tf.Tensor, white: float = 0.85) -> tf.Tensor:
    """Each image's mean garment colour, [B, 3] in [0, 1].

    The garment is every pixel not near-white (some channel below ``white``),
    as product images lie on white; an all-white image gives white. Images in
    [0, 1], [B, H, W, 3].
    """
    images = tf.cast(images, tf.float32)
    mask = tf.cast(tf.reduce_min(images, axis=-1, keepdims=True) < white, tf.float32)
    area = tf.reduce_sum(mask, axis=[1, 2])
    return tf.where(
        area > 0,
        tf.reduce_sum(images * mask, axis=[1, 2]) / tf.maximum(area, 1.0),
        tf.ones_like(area) * tf.ones([1, 3]),
    )


def dominant_color(images: tf.Tensor, palette: tf.Tensor, white: float = 0.85):
    """Index of the palette colour nearest to each image's mean garment colour
    (``garment_color``). Images in [0, 1], [B, H, W, 3]; palette [K, 3] in
    [0, 1]. An all-white image gets the index of the palette colour nearest
    to white.
    """
    mean = garment_color(images, white)  # [B, 3]
    distances = tf.reduce_sum(tf.square(mean[:, None, :] - palette[None]), axis=-1)
    return tf.argmin(distances, axis=-1)


def srgb_to_lab(rgb: tf.Tensor) -> tf.Tensor:
    """sRGB in [0, 1] (last axis) to CIELAB (D65 white; L* in [0, 100])."""
    rgb = tf.cast(rgb, tf.float32)
    linear = tf.where(rgb <= 0.04045, rgb / 12.92, tf.pow((rgb + 0.055) / 1.055, 2.4))
    to_xyz = tf.constant(
        [
            [0.4124564, 0.3575761, 0.1804375],
            [0.2126729, 0.7151522, 0.0721750],
            [0.0193339, 0.1191920, 0.9503041],
        ]
    )
    xyz = tf.linalg.matvec(to_xyz, linear) / tf.constant([0.95047, 1.0, 1.08883])
    epsilon, kappa = 216 / 24389, 24389 / 27
    f = tf.where(xyz > epsilon, tf.pow(xyz, 1 / 3), (kappa * xyz + 16) / 116)
    fx, fy, fz = tf.unstack(f, axis=-1)
    return tf.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], axis=-1)


# ΔE*ab (CIE76) at or under which two garment colours count as the same: well
# past the ~2.3 of a just-noticeable difference, under the 30 to 60 that
# separate the basic colour names (red, orange, pink, brown, ...).
COLOR_AGREEMENT_DELTA_E = 20.0


def color_agreement(
    generated: tf.Tensor,
    target: tf.Tensor,
    max_delta_e: float = COLOR_AGREEMENT_DELTA_E,
):
    """Per image: 1.0 when the mean garment colours (``garment_color``) of
    generated and ground truth lie within ``max_delta_e`` in CIELAB —
    colour capture without a palette, for any data set. Images in [0, 1]."""
    delta = tf.norm(
        srgb_to_lab(garment_color(generated)) - srgb_to_lab(garment_color(target)),
        axis=-1,
    )
    return tf.cast(delta <= max_delta_e, tf.float32)


def color_match(generated: tf.Tensor, target: tf.Tensor, palette: tf.Tensor):
    """Per image: 1.0 when generated and ground truth share the dominant
    palette colour (a cheap, label-free proxy for colour capture)."""
    same = dominant_color(generated, palette) == dominant_color(target, palette)
    return tf.cast(same, tf.float32)


def high_frequency_energy(images: tf.Tensor) -> tf.Tensor:
    """Per image: the mean squared difference between the image and its 3×3
    box blur — pixel-level noise and fine edges; images in [0, 1],
    [B, H, W, 3] → [B]. Compared between generated images and real products,
    it says how much speckle a decoder adds."""
    images = tf.cast(images, tf.float32)
    blurred = tf.nn.avg_pool2d(images, ksize=3, strides=1, padding="SAME")
    return tf.reduce_mean(tf.square(images - blurred), axis=[1, 2, 3])


def background_speckle(
    generated: tf.Tensor, target: tf.Tensor, white: float = 0.95
) -> tf.Tensor:
    """Per image: the RMS deviation from white of the generated image where
    the ground truth is background (every channel ≥ ``white``); [B]. A clean
    product shot scores 0; speckle on the background raises it."""
    generated = tf.cast(generated, tf.float32)
    mask = tf.cast(
        tf.reduce_min(tf.cast(target, tf.float32), axis=-1, keepdims=True) >= white,
        tf.float32,
    )
    squared = tf.reduce_sum(tf.square(1.0 - generated) * mask, axis=[1, 2, 3])
    count = tf.reduce_sum(mask, axis=[1, 2, 3]) * 3.0
    return tf.sqrt(squared / tf.maximum(count, 1.0))
