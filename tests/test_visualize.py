"""Image grids: value mapping, layout and PNG round trip."""

from __future__ import annotations

import numpy as np
from PIL import Image

from pldt_tf import visualize


def test_to_uint8_maps_minus_one_to_one_onto_0_255():
    values = np.array([-1.0, 0.0, 1.0, 2.0], np.float32)
    np.testing.assert_array_equal(visualize.to_uint8(values), [0, 128, 255, 255])
    already = np.array([3, 4], np.uint8)
    assert visualize.to_uint8(already) is already


def test_triplet_grid_layout():
    count, size = 5, 8
    red = np.zeros((count, size, size, 3), np.uint8)
    red[..., 0] = 255
    black = np.zeros_like(red)
    out = visualize.triplet_grid(red, black, red, columns=2, scale=1)
    gap = 2
    rows = 3  # 5 cells, 2 per row
    cell = 3 * (size + gap) + gap
    assert out.shape == (rows * (size + gap) + gap, 2 * cell + gap, 3)
    assert tuple(out[0, 0]) == (255, 255, 255)  # white border
    assert tuple(out[gap, gap]) == (255, 0, 0)  # first source
    second = gap + size + gap // 2
    assert tuple(out[gap, second]) == (0, 0, 0)  # its generated image
    assert tuple(out[-1, -1]) == (255, 255, 255)  # the empty sixth cell
    assert visualize.triplet_grid(red, black, red, columns=2).shape == (
        out.shape[0] * 2,
        out.shape[1] * 2,
        3,
    )


def test_save_png_round_trip(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (6, 7, 3), dtype=np.uint8)
    path = str(tmp_path / "grid.png")
    visualize.save_png(path, image)
    np.testing.assert_array_equal(np.asarray(Image.open(path)), image)
