"""The paper's image preprocessing, in two halves
(docs/paper.md#preprocessing-and-split).

1. ``decode_image_file`` (PIL): everything TensorFlow's decoders cannot do —
   EXIF orientation, colour modes (grayscale, palette, CMYK, 16-bit), alpha
   composited over white, and refusing files that are empty, truncated,
   unreadable or decompression bombs. It returns RGB ``uint8`` pixels or a
   reason for skipping the file; it never raises for a bad file.
2. ``resize_and_pad`` (TensorFlow): the geometric part — the longer side is
   resized to 64 with an antialiased Lanczos-3 filter, keeping the aspect
   ratio, and the short side's margins are filled with 255, centred. It is the
   single implementation used by ingestion, by the tf.data pipeline and inside
   exported serving graphs, so training and serving cannot drift apart.

Pixels are mapped to [-1, 1] by ``to_unit_range`` (and back by
``from_unit_range``) only when the tf.data pipeline parses a record.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import warnings
from collections.abc import Iterator, Sequence

import numpy as np
import tensorflow as tf
from PIL import Image, ImageOps

from pldt_tf import storage

IMAGE_SIZE = 64
PAD_VALUE = 255
RESIZE_METHOD = "lanczos3"
# Decoding more pixels than this is treated as a decompression bomb. LookBook
# photos are well under a megapixel; 40 MP leaves room for any real camera.
DEFAULT_MAX_PIXELS = 40_000_000

# White background used when compositing transparent pixels.
_WHITE = (255, 255, 255)


@dataclasses.dataclass(frozen=True)
class Decoded:
    """Result of ``decode_image_file``.

    Attributes:
      pixels: ``uint8`` array ``[H, W, 3]`` or ``None`` when the file is skipped.
      reason: Why the file was skipped; empty when ``pixels`` is set.
    """

    pixels: np.ndarray | None
    reason: str = ""


def _to_rgb(image: Image.Image) -> Image.Image:
    """Converts any PIL mode to 8-bit RGB; transparency goes over white."""
    if image.mode.startswith("I"):
        # 16-bit grayscale (I;16*, or I from some decoders): PIL's own
        # convert("L") clips at 255 instead of rescaling, which would turn
        # almost every pixel white. Map the 16-bit range onto 8 bits.
        values = np.asarray(image, dtype=np.float64) / 257.0
        gray = np.clip(np.round(values), 0, 255).astype(np.uint8)
        return Image.fromarray(gray).convert("RGB")
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, _WHITE + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def decode_image_file(
    path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Decoded:
    """Reads one image file into RGB ``uint8`` pixels, or says why it cannot.

    Args:
      path: An image file (JPEG, PNG or anything else PIL reads).
      max_pixels: Images with more pixels than this are refused as
        decompression bombs, before their pixel data is decoded.

    Returns:
      A ``Decoded`` with ``pixels`` set, or with ``reason`` set when the file
      is empty, unreadable, truncated or too large.
    """
    try:
        if storage.is_url(path):
            data = storage.read_bytes(path)
        else:
            with open(path, "rb") as file:
                data = file.read()
    except OSError as error:
        return Decoded(None, f"cannot read file: {error.strerror or error}")
    except tf.errors.OpError as error:  # through tf.io.gfile
        return Decoded(None, f"cannot read file: {error.message}")
    return decode_image_bytes(data, max_pixels=max_pixels)


def decode_image_bytes(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> Decoded:
    """Like ``decode_image_file`` for bytes already in memory."""
    if not data:
        return Decoded(None, "empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            # PIL only warns between MAX_IMAGE_PIXELS and twice that; a
            # warning here means a bomb just as much as the error does.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    return Decoded(
                        None,
                        f"decompression bomb: {width}x{height} = "
                        f"{width * height} pixels > max_pixels={max_pixels}",
                    )
                if width == 0 or height == 0:
                    return Decoded(None, f"image has no pixels ({width}x{height})")
                image.load()
                image = ImageOps.exif_transpose(image)
                rgb = _to_rgb(image)
                return Decoded(np.asarray(rgb, dtype=np.uint8).copy())
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        return Decoded(None, _bomb_reason(error, max_pixels))
    except Image.UnidentifiedImageError:
        return Decoded(None, "not an image PIL can identify")
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        # OSError: "image file is truncated", broken data streams; the rest
        # come from malformed headers in various plugins.
        return Decoded(None, f"unreadable image data: {error}")


def bomb_pixels(error: Exception) -> int | None:
    """The pixel count PIL's decompression-bomb error (or warning) quotes for
    the image it refused; None if the message does not say."""
    match = re.search(r"\((\d+) pixels\)", str(error))
    return int(match[1]) if match else None


def _bomb_reason(error: Exception, max_pixels: int) -> str:
    """The reason for an image PIL refused while reading its header, in terms
    of the limit the caller set (PIL's own error quotes PIL's limit)."""
    pixels = bomb_pixels(error)
    if pixels is None:
        return f"decompression bomb: {error}"
    if pixels > max_pixels:
        return f"decompression bomb: {pixels} pixels > max_pixels={max_pixels}"
    return (
        f"decompression bomb: {pixels} pixels exceed PIL's own limit "
        f"(PIL.Image.MAX_IMAGE_PIXELS = {Image.MAX_IMAGE_PIXELS}), below "
        f"max_pixels={max_pixels}"
    )


def resized_shape(height: tf.Tensor, width: tf.Tensor, size: int = IMAGE_SIZE):
    """Height and width after scaling the longer side to ``size``.

    The short side is rounded half up and never below one pixel.
    """
    height = tf.cast(height, tf.float64)
    width = tf.cast(width, tf.float64)
    scale = size / tf.maximum(height, width)
    new_h = tf.maximum(tf.floor(height * scale + 0.5), 1.0)
    new_w = tf.maximum(tf.floor(width * scale + 0.5), 1.0)
    return tf.cast(new_h, tf.int32), tf.cast(new_w, tf.int32)


def resize_and_pad(image: tf.Tensor, size: int = IMAGE_SIZE) -> tf.Tensor:
    """Resizes the longer side to ``size`` and pads the short side with white.

    Args:
      image: ``uint8`` ``[H, W, 3]`` of any size, or a batch ``[N, H, W, 3]``
        of images sharing one size.
      size: Output side length (the paper uses 64).

    Returns:
      ``uint8`` ``[size, size, 3]`` (or ``[N, size, size, 3]``): the image,
      antialiased Lanczos-3, centred on a white (255) square; an odd margin
      puts the extra row/column after.
    """
    image = tf.convert_to_tensor(image)
    batched = image.shape.rank == 4
    shape = tf.shape(image)
    height, width = (shape[1], shape[2]) if batched else (shape[0], shape[1])
    new_h, new_w = resized_shape(height, width, size)
    resized = tf.image.resize(
        image, tf.stack([new_h, new_w]), method=RESIZE_METHOD, antialias=True
    )  # [(N,) new_h, new_w, 3] float32, may overshoot [0, 255] (Lanczos ringing)
    resized = tf.cast(tf.round(tf.clip_by_value(resized, 0.0, 255.0)), tf.uint8)
    top = (size - new_h) // 2
    left = (size - new_w) // 2
    paddings = [[top, size - new_h - top], [left, size - new_w - left], [0, 0]]
    if batched:
        paddings = [[0, 0]] + paddings
    padded = tf.pad(resized, paddings, constant_values=PAD_VALUE)
    return tf.ensure_shape(padded, ([None] if batched else []) + [size, size, 3])


def to_unit_range(image: tf.Tensor) -> tf.Tensor:
    """``uint8`` [0, 255] → ``float32`` [-1, 1]."""
    return tf.cast(image, tf.float32) / 127.5 - 1.0


def garment_histogram(images, bins: int = 4, white: float = 0.9) -> tf.Tensor:
    """Colour histogram of the garment: [N, 64, 64, 3] in [-1, 1] → [N,
    bins³] pixel counts of the non-white pixels (some channel below
    ``white`` in [0, 1]), each channel quantised into ``bins`` levels.
    Label-free, so it works on LookBook as on the synthetic set."""
    unit = (tf.cast(images, tf.float32) + 1.0) / 2.0
    levels = tf.cast(tf.minimum(unit * bins, bins - 1), tf.int32)
    index = levels[..., 0] * bins**2 + levels[..., 1] * bins + levels[..., 2]
    garment = tf.cast(tf.reduce_min(unit, axis=-1) < white, tf.float32)
    return tf.reduce_sum(tf.one_hot(index, bins**3) * garment[..., None], axis=[1, 2])


def from_unit_range(image: tf.Tensor) -> tf.Tensor:
    """``float`` [-1, 1] → ``uint8`` [0, 255], rounded and clipped."""
    image = (tf.cast(image, tf.float32) + 1.0) * 127.5
    return tf.cast(tf.round(tf.clip_by_value(image, 0.0, 255.0)), tf.uint8)


def _decode_for_tf(path: bytes, max_pixels: int):
    """``tf.numpy_function`` body: returns (pixels, reason); never raises."""
    decoded = decode_image_file(path.decode("utf-8"), max_pixels=int(max_pixels))
    if decoded.pixels is None:
        return np.zeros((1, 1, 3), np.uint8), decoded.reason.encode("utf-8")
    return decoded.pixels, b""


def preprocess_files(
    paths: Sequence[str],
    max_pixels: int = DEFAULT_MAX_PIXELS,
    size: int = IMAGE_SIZE,
) -> Iterator[tuple[str, bytes | None, str]]:
    """Preprocesses image files in parallel, in order.

    PIL decoding runs in ``tf.numpy_function`` (PIL releases the GIL while it
    decodes), the resize in TensorFlow, both under a parallel ``tf.data`` map
    that keeps the input order.

    Args:
      paths: Image files.
      max_pixels: See ``decode_image_file``.
      size: Output side length.

    Yields:
      ``(path, png, reason)`` per input, in input order: ``png`` holds the
      preprocessed ``size``×``size`` RGB image as PNG bytes, or is None with
      ``reason`` saying why the file was skipped.
    """

    def load(path):
        pixels, reason = tf.numpy_function(
            _decode_for_tf, [path, max_pixels], [tf.uint8, tf.string], stateful=False
        )
        pixels = tf.ensure_shape(pixels, [None, None, 3])
        png = tf.io.encode_png(resize_and_pad(pixels, size))
        return path, png, reason

    dataset = (
        tf.data.Dataset.from_tensor_slices(tf.constant(list(paths), tf.string))
        .map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )
    for path, png, reason in dataset.as_numpy_iterator():
        reason = reason.decode("utf-8")
        yield path.decode("utf-8"), (None if reason else png), reason
