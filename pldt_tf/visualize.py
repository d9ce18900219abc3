"""Image grids people look at: source | generated | ground truth."""

from __future__ import annotations

import numpy as np
from PIL import Image

_GAP = 2


def to_uint8(images) -> np.ndarray:
    """[-1, 1] floats → uint8 [0, 255]."""
    images = (np.asarray(images, np.float32) + 1.0) * 127.5
    return np.clip(np.round(images), 0, 255).astype(np.uint8)


def triplet_grid(
    sources, generated, targets, columns: int = 4, scale: int = 2
) -> np.ndarray:
    """Tiles (source | generated | ground truth) triplets, ``columns`` per row.

    Args:
      sources, generated, targets: [N, H, W, 3] images in [-1, 1].
      columns: Triplets per row.
      scale: Nearest-neighbour enlargement, so 64×64 images stay legible.

    Returns:
      uint8 [rows·(H+gap), columns·(3W+gap), 3] on a white background.
    """
    images = [to_uint8(x) for x in (sources, generated, targets)]
    count, height, width, _ = images[0].shape
    rows = -(-count // columns)
    cell_w = 3 * width + 3 * _GAP
    grid = np.full(
        (rows * (height + _GAP) + _GAP, columns * cell_w + _GAP, 3), 255, np.uint8
    )
    for index in range(count):
        top = _GAP + (index // columns) * (height + _GAP)
        left = _GAP + (index % columns) * cell_w
        for part, batch in enumerate(images):
            x = left + part * (width + _GAP // 2)
            grid[top : top + height, x : x + width] = batch[index]
    if scale > 1:
        grid = np.kron(grid, np.ones((scale, scale, 1), np.uint8))
    return grid


def save_png(path: str, grid: np.ndarray) -> None:
    Image.fromarray(grid).save(path)
