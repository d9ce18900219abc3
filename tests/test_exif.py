"""EXIF orientation in TensorFlow ops equals PIL's exif_transpose."""

from __future__ import annotations

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image, ImageOps

from pldt_tf.serving import exif


def _jpeg(pixels, orientation=None):
    buffer = io.BytesIO()
    extra = {}
    if orientation is not None:
        tags = Image.Exif()
        tags[0x0112] = orientation
        extra["exif"] = tags.tobytes()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=100, **extra)
    return buffer.getvalue()


@pytest.mark.parametrize("value", range(1, 9))
def test_every_orientation_matches_pil(value):
    pixels = np.random.default_rng(value).integers(0, 256, (6, 10, 3), dtype=np.uint8)
    data = _jpeg(pixels, value)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))))
    found = exif.orientation(tf.constant(data))
    assert int(found) == value
    decoded = tf.io.decode_jpeg(data, channels=3, dct_method="INTEGER_ACCURATE")
    np.testing.assert_array_equal(
        exif.apply_orientation(decoded, found).numpy(), expected
    )


def test_missing_or_foreign_data_means_upright():
    plain = _jpeg(np.zeros((4, 4, 3), np.uint8))
    assert int(exif.orientation(tf.constant(plain))) == 1
    png = tf.io.encode_png(np.zeros((4, 4, 3), np.uint8))
    assert int(exif.orientation(png)) == 1
    assert int(exif.orientation(tf.constant(b"\xff\xd8\xff\xe1\x00"))) == 1  # truncated
    graph = tf.function(
        exif.orientation, input_signature=[tf.TensorSpec([], tf.string)]
    )
    assert int(graph(tf.constant(_jpeg(np.zeros((4, 4, 3), np.uint8), 6)))) == 6
