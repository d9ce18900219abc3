"""A contact sheet of a LookBook-layout folder: one row per product, its
product image first, then several of its photos, as one PNG."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageOps

from pldt_tf.data import catalogue, lookbook, preprocess

_GAP = 4
_SEPARATOR = (200, 200, 200)


def _tile(path: str, size: int) -> Image.Image:
    decoded = preprocess.decode_image_file(path)
    if decoded.pixels is None:  # an unreadable file shows as a grey tile
        return Image.new("RGB", (size, size), (128, 128, 128))
    image = Image.fromarray(decoded.pixels)
    return ImageOps.pad(image, (size, size), Image.LANCZOS, color=(255, 255, 255))


def contact_sheet(
    lookbook_dir: str,
    num_products: int = 8,
    photos_per_product: int = 6,
    tile: int = 112,
    seed: int = 0,
) -> Image.Image:
    """Draws products (chosen by ``seed``) with several of their photos.

    Args:
      lookbook_dir: Flat LookBook-layout folder.
      num_products: Rows.
      photos_per_product: Photos after the product image in each row.
      tile: Side of each tile in pixels (images padded with white).
      seed: Chooses the products.

    Returns:
      The sheet as a PIL image.
    """
    entries, _ = lookbook.list_folder(lookbook_dir)
    products, _ = catalogue.group_products(entries)
    if not products:
        raise ValueError(f"{lookbook_dir!r} holds no complete product to show.")
    rng = np.random.default_rng(seed)
    ids = sorted(products)
    chosen = rng.choice(ids, size=min(num_products, len(ids)), replace=False)
    columns = 1 + photos_per_product
    sheet = Image.new(
        "RGB",
        (columns * (tile + _GAP) + 3 * _GAP, len(chosen) * (tile + _GAP) + _GAP),
        (255, 255, 255),
    )
    for row, pid in enumerate(sorted(chosen)):
        product = products[int(pid)]
        y = _GAP + row * (tile + _GAP)
        paths = [product.product_images[0], *product.photos[:photos_per_product]]
        for column, name in enumerate(paths):
            x = _GAP + column * (tile + _GAP) + (3 * _GAP if column else 0)
            sheet.paste(_tile(os.path.join(lookbook_dir, name), tile), (x, y))
        x = tile + 2 * _GAP + _GAP // 2
        sheet.paste(_SEPARATOR, (x, y, x + 2, y + tile))
    return sheet
