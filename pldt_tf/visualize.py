"""Image grids people look at: source | generated | ground truth."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from PIL import Image

from pldt_tf import storage

_GAP = 2


def to_uint8(images) -> np.ndarray:
    """[-1, 1] floats → uint8 [0, 255]; uint8 input is returned as is."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images
    images = (images.astype(np.float32) + 1.0) * 127.5
    return np.clip(np.round(images), 0, 255).astype(np.uint8)


def grid(parts: Sequence, columns: int = 4, scale: int = 2) -> np.ndarray:
    """Tiles cells of ``len(parts)`` images side by side, ``columns`` per row.

    Args:
      parts: Batches [N, H, W, 3], uint8 or floats in [-1, 1]; cell i shows
        ``parts[0][i] | parts[1][i] | ...``.
      columns: Cells per row.
      scale: Nearest-neighbour enlargement, so 64×64 images stay legible.

    Returns:
      uint8 image on a white background.
    """
    images = [to_uint8(x) for x in parts]
    count, height, width, _ = images[0].shape
    rows = -(-count // columns)
    cell_w = len(images) * (width + _GAP) + _GAP
    out = np.full(
        (rows * (height + _GAP) + _GAP, columns * cell_w + _GAP, 3), 255, np.uint8
    )
    for index in range(count):
        top = _GAP + (index // columns) * (height + _GAP)
        left = _GAP + (index % columns) * cell_w
        for part, batch in enumerate(images):
            x = left + part * (width + _GAP // 2)
            out[top : top + height, x : x + width] = batch[index]
    if scale > 1:
        out = np.kron(out, np.ones((scale, scale, 1), np.uint8))
    return out


def triplet_grid(sources, generated, targets, columns: int = 4, scale: int = 2):
    """source | generated | ground truth cells (see ``grid``)."""
    return grid([sources, generated, targets], columns, scale)


def save_png(path: str, image: np.ndarray) -> None:
    """Writes ``image`` as a PNG to a local path or a TensorFlow filesystem
    URL (``storage``)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    storage.write_bytes(path, buffer.getvalue())
