"""What a data set is before any pixel is read: which files are product
images and which are photos of people wearing them, per product, and the
split by product.

Two readers produce a ``Catalogue``: ``lookbook.read_folder`` (LookBook's
file-name layout) and ``pairs.read_manifest`` (a CSV that links photos to
products). ``records.build_records`` turns either into the same records, so
every guarantee of ingestion (skips listed with reasons, products without
photos dropped, split by product, atomic and byte-identical rebuilds) holds
for both.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence

import numpy as np

from pldt_tf import errors

SPLITS = ("train", "validation", "test")


@dataclasses.dataclass(frozen=True, order=True)
class ImageEntry:
    """One image file of the data set.

    Attributes:
      product_id: The product it shows (an int64 in the records).
      is_product: True for a product image (clean background, the target
        domain), False for a photo of a person wearing the product.
      name: The file's path relative to the catalogue's root, with ``/``
        separators (a LookBook file name; an absolute path only where the
        manifest was allowed one). Unique; the records store it.
    """

    product_id: int
    is_product: bool
    name: str


@dataclasses.dataclass(frozen=True)
class Product:
    """A product with at least one product image and one photo.

    Attributes:
      product_id: Its id.
      product_images: Names of its product images, sorted. All of them are
        valid targets: the target domain is not deterministic.
      photos: Names of its photos, sorted.
    """

    product_id: int
    product_images: tuple[str, ...]
    photos: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Catalogue:
    """A data set's files and what its reader found wrong, pixels unread.

    Attributes:
      root: The folder that entry names are relative to.
      entries: The image files to read.
      product_ids: Every product the source lists, usable or not, so that
        one whose files all fail is reported as dropped.
      skipped: ``{"file", "reason"}`` for every file refused before reading
        (a misnamed LookBook file, a path leading outside the manifest's
        folder, a photo two products claim).
      counts: Reader-specific counts, first in ``dataset.json``'s counts.
      source: What ``dataset.json`` records about where the data came from
        (``source_dir``, and ``pairs_csv`` for a manifest).
      report: Further reader-specific ``dataset.json`` sections (a
        manifest's skipped rows, contradictions and product ids).
      attributes_csv: Product attributes as CSV bytes (``product_id`` and one
        column per attribute), copied into the records folder for
        evaluation; None when the data set has none.
    """

    root: str
    entries: tuple[ImageEntry, ...]
    product_ids: tuple[int, ...] = ()
    skipped: tuple[dict, ...] = ()
    counts: dict = dataclasses.field(default_factory=dict)
    source: dict = dataclasses.field(default_factory=dict)
    report: dict = dataclasses.field(default_factory=dict)
    attributes_csv: bytes | None = None

    def source_id(self, number: int) -> int | str:
        """A product as its source names it: the manifest's id for a records
        number (``report["product_ids"]``), the number itself when that is
        the id (LookBook's, or a manifest's whole-number ids)."""
        given = self.report.get("product_ids", {}).get(str(number), number)
        return number if given == str(number) else given

    def path(self, entry: ImageEntry) -> str:
        """The file to read for ``entry`` (an absolute name is kept)."""
        return os.path.join(self.root, entry.name)


def group_products(
    entries: Iterable[ImageEntry], product_ids: Iterable[int] = ()
) -> tuple[dict[int, Product], dict[str, list[int]]]:
    """Groups image entries by product id.

    Args:
      entries: The (readable) image files.
      product_ids: Further products known to exist; those without entries
        are dropped as having no product image.

    Returns:
      ``(products, dropped)``: the products that have both a product image and
      at least one photo, keyed by id, and the ids of the others under
      ``"no_photos"`` and ``"no_product_image"``.
    """
    images: dict[int, list[str]] = {pid: [] for pid in product_ids}
    photos: dict[int, list[str]] = {pid: [] for pid in product_ids}
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
