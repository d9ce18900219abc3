"""Preprocessing: hand-computed geometry, colour modes, broken files."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import lookbook_fixtures as fx
from pldt_tf.data import preprocess


def _band_expectation(color):
    """A 128x64 (WxH) solid image → 64x32 band, 16 white rows above/below."""
    expected = np.full((64, 64, 3), 255, np.uint8)
    expected[16:48] = color
    return expected


@pytest.mark.parametrize("mode", ["eager", "tf_function", "dataset_map"])
def test_wide_image_becomes_centred_band(mode):
    color = (10, 120, 230)
    image = fx.solid(64, 128, color)
    if mode == "eager":
        out = preprocess.resize_and_pad(image).numpy()
    elif mode == "tf_function":
        out = tf.function(preprocess.resize_and_pad)(tf.constant(image)).numpy()
    else:
        dataset = tf.data.Dataset.from_tensors(image).map(preprocess.resize_and_pad)
        out = next(iter(dataset)).numpy()
    np.testing.assert_array_equal(out, _band_expectation(color))


def test_tall_image_pads_columns_and_odd_margin_goes_after():
    image = fx.solid(100, 33, (0, 0, 0))  # 33*64/100 = 21.12 → 21 columns
    out = preprocess.resize_and_pad(image).numpy()
    dark = np.where(out[32, :, 0] < 128)[0]
    assert (dark.min(), dark.max()) == (21, 41)  # left 21, right 22 white
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8


def test_extreme_aspect_keeps_one_pixel_column():
    out = preprocess.resize_and_pad(fx.solid(500, 1, (0, 0, 0))).numpy()
    assert np.all(out[:, 31] == 0)
    assert np.all(np.delete(out, 31, axis=1) == 255)


def test_small_image_is_upscaled():
    out = preprocess.resize_and_pad(fx.solid(8, 16, (50, 60, 70))).numpy()
    np.testing.assert_array_equal(out, _band_expectation((50, 60, 70)))


def test_resized_shape_rounds_half_up():
    assert [int(v) for v in preprocess.resized_shape(128, 64)] == [64, 32]
    assert [int(v) for v in preprocess.resized_shape(128, 3)] == [64, 2]  # 1.5 → 2


def test_unit_range_round_trip():
    pixels = tf.constant(np.arange(256, dtype=np.uint8))
    unit = preprocess.to_unit_range(pixels)
    assert float(unit[0]) == -1.0 and float(unit[-1]) == 1.0
    np.testing.assert_array_equal(
        preprocess.from_unit_range(unit).numpy(), pixels.numpy()
    )


def _decode(folder, file_name):
    return preprocess.decode_image_file(f"{folder}/{file_name}")


def test_colour_modes_become_rgb(lookbook_folder):
    folder, _ = lookbook_folder
    gray = _decode(folder, fx.name(901, 0, 2))
    assert gray.pixels.shape == (40, 30, 3)
    assert np.all(gray.pixels[..., 0] == gray.pixels[..., 1])
    cmyk = _decode(folder, fx.name(902, 0, 2, "JPG"))
    assert cmyk.pixels.shape == (40, 30, 3)
    np.testing.assert_allclose(cmyk.pixels.mean(axis=(0, 1)), (10, 200, 30), atol=12)
    # 50% alpha over white: (c + 255) / 2.
    rgba = _decode(folder, fx.name(903, 1, 1, "png")).pixels
    np.testing.assert_allclose(rgba[0, 0], (132, 227, 142), atol=1)
    gray16 = _decode(folder, fx.name(903, 0, 2, "png")).pixels
    assert np.all(gray16 == round(40000 / 257))
    rgb16 = _decode(folder, fx.name(904, 1, 1, "png")).pixels
    assert np.all(rgb16 == 255)
    palette = _decode(folder, fx.name(904, 0, 2, "png")).pixels
    assert palette.shape == (40, 30, 3)


def test_transparent_palette_entry_becomes_white():
    image = Image.new("P", (4, 4), 0)
    image.putpalette([0, 0, 0, 200, 10, 10] + [0] * 762)
    image.putpixel((0, 0), 1)
    buffer = __import__("io").BytesIO()
    image.save(buffer, format="PNG", transparency=0)
    pixels = preprocess.decode_image_bytes(buffer.getvalue()).pixels
    assert tuple(pixels[0, 0]) == (200, 10, 10)
    assert tuple(pixels[1, 1]) == (255, 255, 255)


def test_exif_orientation_is_applied(lookbook_folder):
    folder, _ = lookbook_folder
    decoded = _decode(folder, fx.name(905, 0, 2, "JPEG"))
    # Stored 20 high x 40 wide; Orientation 6 means rotate: 40 high x 20 wide.
    assert decoded.pixels.shape == (40, 20, 3)


@pytest.mark.parametrize(
    ("iid", "ext", "reason"),
    [
        (11, "jpg", "not an image"),
        (12, "jpg", "empty file"),
        (13, "jpg", "unreadable image data"),
        (14, "png", "decompression bomb"),
    ],
)
def test_broken_files_give_reasons(lookbook_folder, iid, ext, reason):
    folder, _ = lookbook_folder
    decoded = _decode(folder, fx.name(906, 0, iid, ext))
    assert decoded.pixels is None
    assert reason in decoded.reason


def test_max_pixels_refuses_before_decoding():
    data = fx.jpeg_bytes(fx.solid(100, 100, (1, 2, 3)))
    decoded = preprocess.decode_image_bytes(data, max_pixels=9_999)
    assert decoded.pixels is None and "decompression bomb" in decoded.reason
    assert preprocess.decode_image_bytes(data, max_pixels=10_000).pixels is not None


def test_a_bomb_beyond_pils_limit_is_reported_against_max_pixels(lookbook_folder):
    folder, _ = lookbook_folder
    decoded = _decode(folder, fx.name(906, 0, 14, "png"))  # 20,000 × 10,000
    assert decoded.reason == (
        "decompression bomb: 200000000 pixels > max_pixels="
        f"{preprocess.DEFAULT_MAX_PIXELS}"
    )


def test_missing_file_gives_reason(tmp_path):
    decoded = preprocess.decode_image_file(tmp_path / "absent.jpg")
    assert decoded.pixels is None and "cannot read" in decoded.reason


def test_preprocess_files_keeps_order_and_reports_failures(lookbook_folder):
    folder, _ = lookbook_folder
    names = [fx.name(1, 1, 100), fx.name(906, 0, 12), fx.name(905, 0, 3)]
    results = list(preprocess.preprocess_files([f"{folder}/{n}" for n in names]))
    assert [r[0].rsplit("/", 1)[1] for r in results] == names
    first = tf.io.decode_png(results[0][1]).numpy()
    assert first.shape == (64, 64, 3)
    assert results[1][1] is None and "empty" in results[1][2]
    assert results[2][1] is not None and results[2][2] == ""
