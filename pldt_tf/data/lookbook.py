"""The LookBook folder layout: file names, products, and the split by product.

LookBook is one flat folder of images named ``PID%06d_CLEAN%d_IID%06d.<ext>``:
the product id, then ``CLEAN1`` for a product image (clean background) or
``CLEAN0`` for a photo of a fashion model wearing it, then an image id.
This module knows only names and ids (``read_folder`` makes them a
``catalogue.Catalogue``); reading pixels is ``preprocess``'s job.
"""

from __future__ import annotations

import os
import re

from pldt_tf import errors, storage
from pldt_tf.data import catalogue

FILENAME_PATTERN = re.compile(
    r"^PID(?P<pid>\d{6,})_CLEAN(?P<clean>[01])_IID(?P<iid>\d{6,})"
    r"\.(?P<ext>jpe?g|png)$",
    re.IGNORECASE,
)


def parse_filename(name: str) -> catalogue.ImageEntry | None:
    """Parses a LookBook file name; returns None when it does not match."""
    match = FILENAME_PATTERN.match(name)
    if match is None:
        return None
    return catalogue.ImageEntry(
        product_id=int(match["pid"]), is_product=match["clean"] == "1", name=name
    )


def list_folder(
    folder: str | os.PathLike,
) -> tuple[list[catalogue.ImageEntry], list[dict]]:
    """Lists the LookBook images in a flat folder.

    Args:
      folder: The folder to read. Sub-folders are not descended into.

    Returns:
      ``(entries, skipped)``: the correctly named image files sorted by
      (product id, kind, name), and ``{"file", "reason"}`` records for
      every other entry of the folder.

    Raises:
      FileNotFoundError: if ``folder`` is not a directory.
    """
    folder = os.fspath(folder)
    if not storage.isdir(folder):
        raise errors.MissingInputError(
            f"LookBook folder {os.fspath(folder)!r} does not exist or is not a "
            "directory. Pass the folder holding PID######_CLEAN#_IID######.jpg "
            "files, or generate the synthetic one with tools/make_synthetic.py."
        )
    entries, skipped = [], []
    for name, is_file in _folder_entries(folder):
        if not is_file:
            skipped.append({"file": name, "reason": "not a regular file"})
            continue
        entry = parse_filename(name)
        if entry is None:
            skipped.append(
                {
                    "file": name,
                    "reason": "name does not match "
                    "PID######_CLEAN[01]_IID######.(jpg|jpeg|png)",
                }
            )
        else:
            entries.append(entry)
    return sorted(entries), skipped


def _folder_entries(folder: str) -> list[tuple[str, bool]]:
    """(name, is a regular file) for each entry of ``folder``, by name."""
    if storage.is_url(folder):
        return [
            (name, not storage.isdir(os.path.join(folder, name)))
            for name in storage.listdir(folder)
        ]
    with os.scandir(folder) as scan:
        return [
            (item.name, item.is_file()) for item in sorted(scan, key=lambda i: i.name)
        ]


def read_folder(
    folder: str | os.PathLike, attributes_file: str | None = None
) -> catalogue.Catalogue:
    """The catalogue of a LookBook-layout folder.

    Args:
      folder: The flat folder of ``PID######_CLEAN#_IID######.<ext>`` files.
      attributes_file: Optional CSV of product attributes (``product_id`` and
        one column per attribute; the synthetic set writes one).
    """
    attributes = None
    if attributes_file is not None:
        if not storage.isfile(attributes_file):
            raise errors.MissingInputError(
                f"Attributes file {attributes_file!r} not found."
            )
        attributes = storage.read_bytes(attributes_file)
    entries, skipped = list_folder(folder)
    return catalogue.Catalogue(
        root=os.fspath(folder),
        entries=tuple(entries),
        product_ids=tuple(sorted({entry.product_id for entry in entries})),
        skipped=tuple(skipped),
        counts={
            "files_in_folder": len(entries) + len(skipped),
            "images_named_correctly": len(entries),
        },
        source={"source_dir": storage.absolute(os.fspath(folder))},
        attributes_csv=attributes,
    )
