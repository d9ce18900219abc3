"""The LookBook folder layout: file names, products, and the split by product.

LookBook is one flat folder of images named ``PID%06d_CLEAN%d_IID%06d.<ext>``:
the product id, then ``CLEAN1`` for a product image (clean background) or
``CLEAN0`` for a photo of a fashion model wearing it, then an image id.
This module knows only names and ids; reading pixels is ``preprocess``'s job.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Sequence

import numpy as np

from pldt_tf import errors

FILENAME_PATTERN = re.compile(
    r"^PID(?P<pid>\d{6,})_CLEAN(?P<clean>[01])_IID(?P<iid>\d{6,})"
    r"\.(?P<ext>jpe?g|png)$",
    re.IGNORECASE,
)
SPLITS = ("train", "validation", "test")


@dataclasses.dataclass(frozen=True, order=True)
class ImageEntry:
    """One correctly named image file.

    Attributes:
      product_id: The ``PID`` number.
      is_product: True for ``CLEAN1`` (product image), False for ``CLEAN0``
        (fashion-model photo).
      image_id: The ``IID`` number.
      name: The file name, unique within the folder.
    """

    product_id: int
    is_product: bool
    image_id: int
    name: str


@dataclasses.dataclass(frozen=True)
class Product:
    """A product with at least one product image and one model photo.

    Attributes:
      product_id: The ``PID`` number.
      product_images: File names of its ``CLEAN1`` images, sorted. All of
        them are valid targets: the target domain is not deterministic.
      photos: File names of its ``CLEAN0`` photos, sorted.
    """

    product_id: int
    product_images: tuple[str, ...]
    photos: tuple[str, ...]


def parse_filename(name: str) -> ImageEntry | None:
    """Parses a LookBook file name; returns None when it does not match."""
    match = FILENAME_PATTERN.match(name)
    if match is None:
        return None
    return ImageEntry(
        product_id=int(match["pid"]),
        is_product=match["clean"] == "1",
        image_id=int(match["iid"]),
        name=name,
    )


def list_folder(folder: str | os.PathLike) -> tuple[list[ImageEntry], list[dict]]:
    """Lists the LookBook images in a flat folder.

    Args:
      folder: The folder to read. Sub-folders are not descended into.

    Returns:
      ``(entries, skipped)``: the correctly named image files sorted by
      (product id, kind, image id), and ``{"file", "reason"}`` records for
      every other entry of the folder.

    Raises:
      FileNotFoundError: if ``folder`` is not a directory.
    """
    if not os.path.isdir(folder):
        raise errors.MissingInputError(
            f"LookBook folder {os.fspath(folder)!r} does not exist or is not a "
            "directory. Pass the folder holding PID######_CLEAN#_IID######.jpg "
            "files, or generate the synthetic one with tools/make_synthetic.py."
        )
    entries, skipped = [], []
    with os.scandir(folder) as scan:
        for item in sorted(scan, key=lambda item: item.name):
            if not item.is_file():
                skipped.append({"file": item.name, "reason": "not a regular file"})
                continue
            entry = parse_filename(item.name)
            if entry is None:
                skipped.append(
                    {
                        "file": item.name,
                        "reason": "name does not match "
                        "PID######_CLEAN[01]_IID######.(jpg|jpeg|png)",
                    }
                )
            else:
                entries.append(entry)
    return sorted(entries), skipped


def group_products(
    entries: Iterable[ImageEntry],
) -> tuple[dict[int, Product], dict[str, list[int]]]:
    """Groups image entries by product id.

    Returns:
      ``(products, dropped)``: the products that have both a product image and
      at least one photo, keyed by id, and the ids of the others under
      ``"no_photos"`` and ``"no_product_image"``.
    """
    images: dict[int, list[str]] = {}
    photos: dict[int, list[str]] = {}
    for entry in entries:
        images.setdefault(entry.product_id, [])
        photos.setdefault(entry.product_id, [])
        (images if entry.is_product else photos)[entry.product_id].append(entry.name)
    products, dropped = {}, {"no_photos": [], "no_product_image": []}
    for pid in sorted(images):
        if not images[pid]:
            dropped["no_product_image"].append(pid)
        elif not photos[pid]:
            dropped["no_photos"].append(pid)
        else:
            products[pid] = Product(
                pid, tuple(sorted(images[pid])), tuple(sorted(photos[pid]))
            )
    return products, dropped


def split_products(
    product_ids: Sequence[int],
    seed: int,
    validation_fraction: float = 0.05,
    test_fraction: float = 0.05,
) -> dict[str, list[int]]:
    """Splits products (never images) into train / validation / test.

    The split depends only on the set of ids and the seed. Split sizes are
    rounded to the nearest product: 5% of LookBook's 9,732 products is 487.

    Returns:
      ``{"train": [...], "validation": [...], "test": [...]}``, each sorted.
    """
    if not 0 <= validation_fraction < 1 or not 0 <= test_fraction < 1:
        raise errors.UserError("split fractions must lie in [0, 1)")
    if validation_fraction + test_fraction >= 1:
        raise errors.UserError(
            f"validation_fraction + test_fraction = "
            f"{validation_fraction + test_fraction} leaves no training products"
        )
    ids = np.array(sorted(set(product_ids)), dtype=np.int64)
    order = np.random.default_rng(seed).permutation(len(ids))
    n_val = int(np.floor(len(ids) * validation_fraction + 0.5))
    n_test = int(np.floor(len(ids) * test_fraction + 0.5))
    shuffled = ids[order]
    return {
        "train": sorted(shuffled[n_val + n_test :].tolist()),
        "validation": sorted(shuffled[:n_val].tolist()),
        "test": sorted(shuffled[n_val : n_val + n_test].tolist()),
    }
