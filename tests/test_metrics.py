"""Pixel metrics: golden values, C-SSIM against scikit-image, the dominant
colour and the colour match, eagerly and inside tf.function."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from skimage.metrics import structural_similarity

from pldt_tf import metrics


def _images(seed, structured=False):
    rng = np.random.default_rng(seed)
    if not structured:
        return rng.uniform(0, 1, (2, 64, 64, 3)).astype(np.float32)
    y, x = np.mgrid[0:64, 0:64] / 64.0
    base = np.stack([np.sin(8 * x), np.cos(5 * y), x * y], -1) * 0.5 + 0.5
    noisy = base + rng.normal(0, 0.05, base.shape)
    return np.clip(np.stack([base, noisy]), 0, 1).astype(np.float32)


def test_identical_images_and_a_known_shift():
    a = _images(0)
    np.testing.assert_allclose(metrics.rmse(a, a).numpy(), 0.0, atol=1e-7)
    np.testing.assert_allclose(metrics.c_ssim(a, a).numpy(), 1.0, atol=1e-6)
    flat = np.full((1, 64, 64, 3), 0.4, np.float32)
    np.testing.assert_allclose(metrics.rmse(flat, flat + 0.1).numpy(), 0.1, atol=1e-6)


@pytest.mark.parametrize("structured", [False, True])
def test_c_ssim_matches_scikit_image(structured):
    a, b = _images(1, structured), _images(2, structured)[::-1]
    ours = metrics.c_ssim(a, b).numpy()
    for index in range(len(a)):
        reference = structural_similarity(
            a[index],
            b[index],
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            data_range=1.0,
            channel_axis=-1,
        )
        assert abs(ours[index] - reference) < 1e-4


PALETTE = tf.constant([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0]])


def _garment(colour, white_fraction=0.5):
    """A 64×64 image: its top rows white, the rest one colour."""
    image = np.ones((64, 64, 3), np.float32)
    image[int(64 * white_fraction) :] = colour
    return image


@pytest.mark.parametrize("mode", ["eager", "tf_function"])
def test_dominant_colour_ignores_the_white_background(mode):
    images = np.stack(
        [_garment([0.9, 0.1, 0.1]), _garment([0.1, 0.1, 0.8]), np.ones((64, 64, 3))]
    ).astype(np.float32)
    fn = metrics.dominant_color
    if mode == "tf_function":
        fn = tf.function(fn)
    np.testing.assert_array_equal(fn(images, PALETTE).numpy(), [0, 1, 2])


def test_colour_match_is_the_share_of_equal_dominant_colours():
    red, blue = _garment([0.9, 0.1, 0.1]), _garment([0.1, 0.1, 0.8])
    generated = np.stack([red, red, blue, blue])
    target = np.stack([red, blue, blue, red])
    matches = metrics.color_match(generated, target, PALETTE).numpy()
    assert matches.mean() == 0.5


def test_lab_matches_scikit_image():
    from skimage.color import rgb2lab

    rgb = np.random.default_rng(0).uniform(0, 1, (50, 3)).astype(np.float32)
    np.testing.assert_allclose(
        metrics.srgb_to_lab(rgb).numpy(), rgb2lab(rgb), atol=0.02
    )


@pytest.mark.parametrize("mode", ["eager", "tf_function"])
def test_colour_agreement_is_within_the_stated_delta_e(mode):
    red, blue = _garment([0.9, 0.1, 0.1]), _garment([0.1, 0.1, 0.8])
    darker_red = _garment([0.8, 0.1, 0.1])  # ΔE*ab about 6: the same colour
    generated = np.stack([red, red, blue, np.ones((64, 64, 3))]).astype(np.float32)
    target = np.stack([darker_red, blue, blue, red]).astype(np.float32)
    fn = metrics.color_agreement
    if mode == "tf_function":
        fn = tf.function(fn)
    np.testing.assert_array_equal(fn(generated, target).numpy(), [1, 0, 1, 0])
    # The threshold is the stated one: a tighter one splits the two reds.
    assert float(metrics.color_agreement(red[None], darker_red[None], 3.0)[0]) == 0


def test_high_frequency_energy_sees_speckle_not_flat_areas():
    flat = np.full((1, 64, 64, 3), 0.5, np.float32)
    speckled = flat + np.random.default_rng(0).normal(0, 0.1, flat.shape)
    energy = metrics.high_frequency_energy(np.concatenate([flat, speckled])).numpy()
    assert energy[0] == pytest.approx(0.0, abs=1e-12)
    # Independent noise of variance s² leaves (1 - 1/9)·s² after removing
    # the 3×3 mean, a little more at the borders.
    assert energy[1] == pytest.approx(0.01 * 8 / 9, rel=0.1)


def test_background_speckle_measures_only_where_the_truth_is_white():
    target = _garment([0.9, 0.1, 0.1])  # top half white
    clean = target.copy()
    speckled = target.copy()
    speckled[:32] = 0.8  # grey where the ground truth is white
    speckled[32:] = 0.0  # the garment area does not count
    scores = metrics.background_speckle(
        np.stack([clean, speckled]), np.stack([target, target])
    ).numpy()
    np.testing.assert_allclose(scores, [0.0, 0.2], atol=1e-6)
