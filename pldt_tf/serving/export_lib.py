"""SavedModel export of the converter for TF Serving (paper §1: only the
converter ships; the discriminators stay behind).

Layout: ``<export_dir>/<model_name>/<version>/`` — TF Serving's version
watcher loads integer-named folders, so the model is written to a temporary
folder beside it and renamed into place when complete.

Signatures:
  serving_default  images: string [N] encoded JPEG/PNG/GIF/BMP (any size; what TF
                   Serving's REST API sends as {"b64": ...})
                   → png_bytes: string [N] (generated product, PNG; TF Serving
                     base64-encodes outputs named *_bytes in REST answers),
                     image: uint8 [N, 64, 64, 3]
  transfer_uint8   images: uint8 [N, H, W, 3] photos of any one size
                   → image: uint8 [N, 64, 64, 3]
  transfer_float   images: float32 [N, 64, 64, 3] in [-1, 1], preprocessed
                   → image: float32 [N, 64, 64, 3] in [-1, 1]

The paper's preprocessing runs inside the graph with the same
``preprocess.resize_and_pad`` as the training data path; decoding is pinned
to the CPU. Decoding mirrors ``preprocess.decode_image_bytes``: JPEG EXIF
orientation applied (``exif``, TensorFlow ops only), grayscale and CMYK to
RGB, transparency composited over white, 16-bit scaled to 8-bit.
"""

from __future__ import annotations

import os
import tempfile

import keras
import tensorflow as tf

from pldt_tf import errors, faults, storage
from pldt_tf.data import atomic, preprocess
from pldt_tf.serving import exif

# A SavedModel folder is complete once it holds this file: the export writes
# it last, and readers (TF Serving's version watcher, serving.inference)
# look for it.
SAVED_MODEL_FILE = "saved_model.pb"
# The training step and workdir an export came from (TF Serving's
# assets.extra/ folder is for files beside the model that it does not load).
METADATA_FILE = "assets.extra/pldt_tf.json"

SIZE = preprocess.IMAGE_SIZE


_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM")
# The decoded-pixel budgets, as ingestion's --max_pixels: one image, and a
# whole request (a full batch of 32 photos of 4 megapixels).
DEFAULT_MAX_PIXELS = preprocess.DEFAULT_MAX_PIXELS
DEFAULT_MAX_REQUEST_PIXELS = 32 * 4_000_000


def _kind(encoded: tf.Tensor) -> tf.Tensor:
    """0 JPEG, 1 PNG, 2 GIF, 3 BMP, -1 anything else, from the magic bytes."""
    head = tf.strings.substr(encoded, 0, 4)
    matches = [tf.strings.substr(head, 0, len(m)) == m for m in _MAGIC]
    return tf.reduce_max([tf.where(match, i, -1) for i, match in enumerate(matches)])


def _uint(encoded: tf.Tensor, start: int, length: int, little: bool) -> tf.Tensor:
    """An unsigned integer of ``length`` bytes at ``start`` (0 past the end)."""
    raw = tf.strings.substr(encoded, start, length)
    padded = tf.strings.join([raw, tf.strings.substr(b"\0\0\0\0", 0, length)])
    data = tf.cast(
        tf.io.decode_raw(tf.strings.substr(padded, 0, length), tf.uint8), tf.int64
    )
    weights = [256**i for i in (range(length) if little else reversed(range(length)))]
    return tf.reduce_sum(data * tf.constant(weights, tf.int64))


def header_pixels(encoded: tf.Tensor) -> tf.Tensor:
    """Width × height that an image's header declares (int64), read with
    TensorFlow ops before anything is decoded: JPEG by its frame header, PNG
    (IHDR), GIF (logical screen) and BMP (DIB header) by fixed offsets;
    -1 for bytes that are none of these."""
    kind = _kind(encoded)

    def jpeg():
        shape = tf.cast(tf.io.extract_jpeg_shape(encoded), tf.int64)
        return shape[0] * shape[1]

    def png():
        return _uint(encoded, 16, 4, False) * _uint(encoded, 20, 4, False)

    def gif():
        return _uint(encoded, 6, 2, True) * _uint(encoded, 8, 2, True)

    def bmp():
        width = _uint(encoded, 18, 4, True)
        height = _uint(encoded, 22, 4, True)
        height = tf.where(height >= 2**31, 2**32 - height, height)  # top-down
        return width * height

    return tf.switch_case(
        kind, [jpeg, png, gif, bmp], default=lambda: tf.constant(-1, tf.int64)
    )


def _check_image_bytes(index: tf.Tensor, encoded: tf.Tensor) -> tf.Operation:
    """Fails with the element's index when its bytes are not an image."""
    return tf.debugging.Assert(
        _kind(encoded) >= 0,
        [
            tf.strings.format(
                "images[{}] is not a JPEG, PNG, GIF or BMP image ({} bytes)",
                (index, tf.strings.length(encoded)),
            )
        ],
        name="check_image_bytes",
    )


def _decode_one(args) -> tf.Tensor:
    """(index, encoded JPEG/PNG/GIF/BMP) → uint8 [64, 64, 3], preprocessed."""
    index, encoded = args
    with tf.control_dependencies([_check_image_bytes(index, encoded)]):
        encoded = tf.identity(encoded)
    is_jpeg = tf.equal(tf.strings.substr(encoded, 0, 3), _MAGIC[0])
    rgb = tf.cond(
        is_jpeg, lambda: _decode_jpeg(encoded), lambda: _decode_other(encoded)
    )
    return preprocess.resize_and_pad(rgb, SIZE)


def _decode_jpeg(encoded: tf.Tensor) -> tf.Tensor:
    """JPEG → upright RGB uint8. INTEGER_ACCURATE is the DCT PIL uses, so the
    pixels equal the training path's; gray and CMYK come out as RGB."""
    image = tf.io.decode_jpeg(encoded, channels=3, dct_method="INTEGER_ACCURATE")
    return exif.apply_orientation(image, exif.orientation(encoded))


def _decode_other(encoded: tf.Tensor) -> tf.Tensor:
    """PNG/GIF/BMP → RGB uint8: gray to RGB, transparency over white."""
    # channels=0 keeps alpha and gray so they can be handled as in training.
    image = tf.io.decode_image(
        encoded, channels=0, expand_animations=False, dtype=tf.uint8
    )  # [H, W, C], C in {1, 2, 3, 4}
    channels = tf.shape(image)[-1]
    pixels = tf.cast(image, tf.float32)
    color = tf.cond(
        channels >= 3,
        lambda: pixels[..., :3],
        lambda: tf.tile(pixels[..., :1], [1, 1, 3]),
    )
    alpha = tf.cond(
        tf.equal(channels % 2, 0),  # LA (2) or RGBA (4)
        lambda: pixels[..., -1:] / 255.0,
        lambda: tf.ones_like(pixels[..., :1]),
    )
    rgb = color * alpha + 255.0 * (1.0 - alpha)  # over white
    return tf.cast(tf.round(tf.clip_by_value(rgb, 0.0, 255.0)), tf.uint8)


class ConverterModule(tf.Module):
    """The converter with its serving signatures (see module docstring)."""

    def __init__(
        self,
        converter: keras.Model,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        max_request_pixels: int = DEFAULT_MAX_REQUEST_PIXELS,
    ):
        super().__init__()
        self.converter = converter
        self.max_pixels = int(max_pixels)
        self.max_request_pixels = int(max_request_pixels)

    def _generate(self, images: tf.Tensor) -> tf.Tensor:
        return tf.cast(self.converter(images, training=False), tf.float32)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, SIZE, SIZE, 3], tf.float32, name="images")
        ]
    )
    def transfer_float(self, images):
        return {"image": self._generate(images)}

    @tf.function(
        input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")]
    )
    def transfer_uint8(self, images):
        tf.debugging.assert_positive(
            tf.shape(images)[0], message="the batch of images is empty"
        )
        padded = preprocess.resize_and_pad(images, SIZE)  # [N, 64, 64, 3]
        generated = self._generate(preprocess.to_unit_range(padded))
        return {"image": preprocess.from_unit_range(generated)}

    def _check_budgets(self, images: tf.Tensor) -> list:
        """Asserts, from the headers alone, that no image declares more than
        ``max_pixels`` pixels and the request no more than
        ``max_request_pixels`` together."""
        declared = tf.map_fn(
            header_pixels, images, fn_output_signature=tf.TensorSpec([], tf.int64)
        )
        first = tf.argmax(tf.cast(declared > self.max_pixels, tf.int32))
        each = tf.debugging.Assert(
            tf.reduce_all(declared <= self.max_pixels),
            [
                tf.strings.format(
                    "images[{}] declares {} pixels, over the limit of {} (max_pixels)",
                    (first, tf.gather(declared, first), self.max_pixels),
                )
            ],
            name="check_image_pixels",
        )
        with tf.control_dependencies([each]):
            total = tf.reduce_sum(tf.maximum(declared, 0))
        within = tf.debugging.Assert(
            total <= self.max_request_pixels,
            [
                tf.strings.format(
                    "the request's images declare {} pixels together, over the "
                    "limit of {} (max_request_pixels): send fewer or smaller images",
                    (total, self.max_request_pixels),
                )
            ],
            name="check_request_pixels",
        )
        return [each, within]

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="images")])
    def serving_default(self, images):
        tf.debugging.assert_positive(
            tf.size(images), message="the batch of images is empty"
        )
        with tf.device("/cpu:0"):
            with tf.control_dependencies(self._check_budgets(images)):
                indices = tf.range(tf.size(images))
            padded = tf.map_fn(
                _decode_one,
                (indices, images),
                fn_output_signature=tf.TensorSpec([SIZE, SIZE, 3], tf.uint8),
            )
        generated = preprocess.from_unit_range(
            self._generate(preprocess.to_unit_range(padded))
        )
        with tf.device("/cpu:0"):
            png = tf.map_fn(
                tf.io.encode_png,
                generated,
                fn_output_signature=tf.TensorSpec([], tf.string),
            )
        return {"png_bytes": png, "image": generated}


def export(
    converter: keras.Model,
    export_dir: str,
    model_name: str,
    version: int,
    overwrite: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_request_pixels: int = DEFAULT_MAX_REQUEST_PIXELS,
    metadata: dict | None = None,
) -> str:
    """Writes ``<export_dir>/<model_name>/<version>/`` atomically, with
    ``metadata`` (the training step, the workdir) as ``METADATA_FILE``.

    ``serving_default`` refuses, before decoding, an image whose header
    declares more than ``max_pixels`` pixels and a request whose images
    declare more than ``max_request_pixels`` together, so that TF Serving
    itself is protected from images that are small as files but huge
    decoded.

    Raises:
      FileExistsError: the version exists and ``overwrite`` is off.
    """
    if version < 0:
        raise errors.UserError(f"version must be a non-negative integer, got {version}")
    final = os.path.join(export_dir, model_name, str(version))
    # Locally: written beside its final place under a dotted name, which TF
    # Serving's version watcher ignores, and renamed into place when complete.
    # On an object store: written locally, then copied in place with
    # saved_model.pb, which TF Serving and our readers look for, last.
    with (
        faults.disk_space(final, "the export"),
        atomic.atomic_folder(final, overwrite, SAVED_MODEL_FILE) as tmp,
    ):
        if storage.is_url(tmp):
            with tempfile.TemporaryDirectory() as local:
                _write_archive(converter, local, max_pixels, max_request_pixels)
                _write_metadata(local, metadata)
                storage.copy_folder(local, tmp, last=SAVED_MODEL_FILE)
        else:
            _write_archive(converter, tmp, max_pixels, max_request_pixels)
            _write_metadata(tmp, metadata)
    return final


def _write_metadata(folder: str, metadata: dict | None) -> None:
    if metadata is not None:
        storage.write_json(os.path.join(folder, METADATA_FILE), metadata)


def next_version(export_dir: str, model_name: str) -> int:
    """The version after the highest present in ``<export_dir>/<model_name>``
    (1 for none): versions only grow, as TF Serving expects — it serves the
    highest, so a model retrained with fewer steps still replaces the old."""
    base = os.path.join(export_dir, model_name)
    names = storage.listdir(base) if storage.isdir(base) else []
    return max((int(name) for name in names if name.isdigit()), default=0) + 1


def read_metadata(version_dir: str) -> dict:
    """What ``export`` recorded beside a version ({} for an older export)."""
    path = os.path.join(version_dir, METADATA_FILE)
    return storage.read_json(path) if storage.isfile(path) else {}


def _write_archive(converter, folder, max_pixels, max_request_pixels) -> None:
    # keras.export.ExportArchive tracks every Keras variable (batch-norm
    # statistics included) so that TF1-style loaders — TF Serving,
    # saved_model_cli run — restore them too.
    module = ConverterModule(converter, max_pixels, max_request_pixels)
    archive = keras.export.ExportArchive()
    archive.track(converter)
    for name in ("serving_default", "transfer_uint8", "transfer_float"):
        archive.add_endpoint(name, getattr(module, name))
    archive.write_out(folder, verbose=False)
