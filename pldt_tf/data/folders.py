"""A pairs manifest from a shop's folder tree, the commonest layout of
one's own data::

    <root>/products/<id>.jpg        a product's image (or <id>/*.jpg: several)
    <root>/photos/<id>/*.jpg        photos of people wearing product <id>

Every product id found on either side gets rows: a product without photos
or photos without a product image stay in the manifest, so that building
the records reports them as dropped instead of losing them silently.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os

from pldt_tf import errors
from pldt_tf.data import pairs

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff")


@dataclasses.dataclass(frozen=True)
class Scan:
    """What ``scan`` found.

    Attributes:
      rows: Manifest rows ``(photo, product_id, product_image)``, paths
        relative to the root.
      ignored: Paths (relative to the root) that are not images in the
        layout, with the reason.
    """

    rows: tuple[tuple[str, str, str], ...]
    ignored: tuple[tuple[str, str], ...]


def _is_image(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS)


def _images(folder: str) -> tuple[list[str], list[str]]:
    """Image file names in a folder (sorted), and its other entries."""
    images, other = [], []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        (images if entry.is_file() and _is_image(entry.name) else other).append(
            entry.name
        )
    return images, other


def scan(root: str, products: str = "products", photos: str = "photos") -> Scan:
    """Reads ``<root>/<products>`` and ``<root>/<photos>`` into manifest rows.

    Raises:
      MissingInputError: either folder is missing.
    """
    product_dir, photo_dir = os.path.join(root, products), os.path.join(root, photos)
    for folder, pattern in (
        (product_dir, f"{products}/<id>.jpg"),
        (photo_dir, f"{photos}/<id>/*.jpg"),
    ):
        if not os.path.isdir(folder):
            raise errors.MissingInputError(
                f"{folder!r} is not a folder: tools/folders_to_pairs.py reads "
                f"{pattern} under --root (name other folders with --products_dir "
                "and --photos_dir)."
            )
    ignored: list[tuple[str, str]] = []
    product_images: dict[str, list[str]] = {}
    for entry in sorted(os.scandir(product_dir), key=lambda e: e.name):
        path = f"{products}/{entry.name}"
        if entry.is_dir():
            images, other = _images(entry.path)
            product_images.setdefault(entry.name, []).extend(
                f"{path}/{name}" for name in images
            )
            ignored += [(f"{path}/{name}", "not an image file") for name in other]
        elif entry.is_file() and _is_image(entry.name):
            stem = os.path.splitext(entry.name)[0]
            product_images.setdefault(stem, []).append(path)
        else:
            ignored.append((path, "not an image file or a product's folder"))
    product_photos: dict[str, list[str]] = {}
    for entry in sorted(os.scandir(photo_dir), key=lambda e: e.name):
        path = f"{photos}/{entry.name}"
        if not entry.is_dir():
            ignored.append((path, f"not a folder: photos go in {photos}/<id>/"))
            continue
        images, other = _images(entry.path)
        product_photos[entry.name] = [f"{path}/{name}" for name in images]
        ignored += [(f"{path}/{name}", "not an image file") for name in other]
    rows = []
    for pid in sorted(set(product_images) | set(product_photos)):
        images = sorted(product_images.get(pid, []))
        photo_names = product_photos.get(pid, [])
        if not images and not photo_names:
            ignored.append((f"{photos}/{pid}", "holds no image"))
            continue
        # One row per photo; further product images get rows of their own
        # (no photo), which the manifest reader adds to the product.
        first = images[0] if images else ""
        rows += [(photo, pid, first) for photo in photo_names]
        rows += [("", pid, image) for image in images[1 if photo_names else 0 :]]
    return Scan(tuple(rows), tuple(ignored))


def read_attributes(path: str) -> tuple[list[str], dict[str, list[str]]]:
    """A CSV of product attributes: a ``product_id`` column and one column
    per attribute. Returns the attribute columns and the values by id."""
    if not os.path.isfile(path):
        raise errors.MissingInputError(f"Attributes file {path!r} not found.")
    with open(path, "rb") as file:
        text = pairs.decode_csv(path, file.read())
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip() for name in next(reader, [])]
    if pairs.PRODUCT_ID not in header:
        raise errors.UserError(
            f"{path}: the header has no column 'product_id' (it has "
            f"{header}); name the product ids' column product_id."
        )
    key = header.index(pairs.PRODUCT_ID)
    columns = [name for i, name in enumerate(header) if i != key]
    values = {}
    for cells in reader:
        if len(cells) == len(header) and cells[key].strip():
            cells = [cell.strip() for cell in cells]
            values[cells[key]] = [c for i, c in enumerate(cells) if i != key]
    return columns, values


def manifest_text(
    found: Scan,
    attribute_columns: list[str] = (),
    attributes: dict[str, list[str]] | None = None,
) -> str:
    """The pairs manifest (CSV text) for the scanned rows, with the products'
    attributes as extra columns (empty where a product has none)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*pairs.REQUIRED_COLUMNS, *attribute_columns])
    blank = [""] * len(attribute_columns)
    for photo, pid, image in found.rows:
        writer.writerow([photo, pid, image, *(attributes or {}).get(pid, blank)])
    return buffer.getvalue()
