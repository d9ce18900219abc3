"""EXIF orientation of a JPEG, read with TensorFlow ops only.

Serving graphs cannot call PIL, and TensorFlow's decoders ignore EXIF, so
this walks the JPEG segments to the APP1 ``Exif`` block, reads tag 0x0112
(Orientation) from IFD0 and applies it as ``PIL.ImageOps.exif_transpose``
does — keeping the serving path equal to the training data path.
"""

from __future__ import annotations

import tensorflow as tf

_MAX_SEGMENTS = 32
_MAX_ENTRIES = 64
_ORIENTATION_TAG = 0x0112


def _bytes(data: tf.Tensor, start, length: int) -> tf.Tensor:
    """``length`` bytes at ``start`` as int32 (zeros past either end)."""
    size = tf.strings.length(data)
    start = tf.clip_by_value(tf.cast(start, tf.int32), 0, size)
    chunk = tf.strings.substr(data, start, length)
    values = tf.cast(tf.io.decode_raw(chunk, tf.uint8), tf.int32)
    return tf.pad(values, [[0, length - tf.size(values)]])


def _uint(data, start, length: int, little: tf.Tensor) -> tf.Tensor:
    values = _bytes(data, start, length)
    weights = tf.constant([256**i for i in range(length)], tf.int32)
    return tf.where(
        little,
        tf.reduce_sum(values * weights),
        tf.reduce_sum(values * tf.reverse(weights, [0])),
    )


def _app1_offset(data: tf.Tensor) -> tf.Tensor:
    """Byte offset of the APP1 Exif segment's TIFF header, or -1."""
    big = tf.constant(False)

    def condition(position, found, step):
        return (
            (found < 0)
            & (step < _MAX_SEGMENTS)
            & (position + 4 <= tf.strings.length(data))
        )

    def body(position, found, step):
        marker = _bytes(data, position, 2)
        length = _uint(data, position + 2, 2, big)
        is_exif = tf.reduce_all(tf.equal(marker, [0xFF, 0xE1])) & tf.equal(
            tf.strings.substr(data, position + 4, 6), b"Exif\x00\x00"
        )
        valid = (
            tf.equal(marker[0], 0xFF) & (length >= 2) & tf.not_equal(marker[1], 0xDA)
        )
        found = tf.where(is_exif, position + 10, found)
        next_position = tf.where(valid, position + 2 + length, tf.strings.length(data))
        return next_position, found, step + 1

    _, found, _ = tf.while_loop(condition, body, [tf.constant(2), tf.constant(-1), 0])
    return found


def orientation(data: tf.Tensor) -> tf.Tensor:
    """EXIF Orientation (1-8) of an encoded image; 1 when absent or not JPEG."""
    is_jpeg = tf.equal(tf.strings.substr(data, 0, 2), b"\xff\xd8")

    def parse(tiff):
        little = tf.equal(tf.strings.substr(data, tiff, 2), b"II")
        ifd = tiff + _uint(data, tiff + 4, 4, little)
        count = tf.minimum(_uint(data, ifd, 2, little), _MAX_ENTRIES)
        entries = tf.range(count)
        tags = tf.map_fn(
            lambda i: _uint(data, ifd + 2 + 12 * i, 2, little),
            entries,
            fn_output_signature=tf.int32,
        )
        values = tf.map_fn(
            lambda i: _uint(data, ifd + 2 + 12 * i + 8, 2, little),
            entries,
            fn_output_signature=tf.int32,
        )
        hits = tf.boolean_mask(values, tf.equal(tags, _ORIENTATION_TAG))
        value = tf.cond(tf.size(hits) > 0, lambda: hits[0], lambda: tf.constant(1))
        return tf.where((value >= 1) & (value <= 8), value, 1)

    def read():
        tiff = _app1_offset(data)
        return tf.cond(tiff >= 0, lambda: parse(tiff), lambda: tf.constant(1))

    return tf.cond(is_jpeg, read, lambda: tf.constant(1))


def apply_orientation(image: tf.Tensor, value: tf.Tensor) -> tf.Tensor:
    """Turns ``image`` [H, W, C] upright as ``PIL.ImageOps.exif_transpose``."""
    transposed = tf.transpose(image, [1, 0, 2])
    branches = [
        lambda: image,  # 1
        lambda: tf.reverse(image, [1]),  # 2: mirror
        lambda: tf.image.rot90(image, 2),  # 3: 180°
        lambda: tf.reverse(image, [0]),  # 4: flip
        lambda: transposed,  # 5: transpose
        lambda: tf.image.rot90(image, 3),  # 6: 90° clockwise
        lambda: tf.image.rot90(transposed, 2),  # 7: transverse
        lambda: tf.image.rot90(image, 1),  # 8: 90° counter-clockwise
    ]
    return tf.switch_case(tf.clip_by_value(value, 1, 8) - 1, branches)
