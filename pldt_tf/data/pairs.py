"""Paired-data manifests: a CSV that links photos of people to the products
they wear, for data in folders of the user's own naming.

One row per photo (docs/data.md#your-own-data-a-pairs-manifest)::

    photo,product_id,product_image,category
    photos/1001/front.jpg,1001,products/1001.jpg,shirt
    photos/1001/side.jpg,1001,products/1001.jpg,shirt

``photo`` and ``product_image`` are paths relative to the manifest's folder;
``product_id`` is any text; every further column is an attribute of the
product. A row may leave ``photo`` or ``product_image`` empty (a product
listed without photos, a photo whose product shot is missing): the product
is then dropped and reported, as LookBook ingestion does.

``read_manifest`` turns the CSV into a ``catalogue.Catalogue``; what it
cannot use is reported, never guessed: skipped rows with their line numbers,
refused paths, and rows that contradict each other, each resolved by a
stated rule (``RULES``).
"""

from __future__ import annotations

import collections
import csv
import hashlib
import io
import os
import posixpath
from collections.abc import Iterator, Sequence

from absl import logging

from pldt_tf import errors, storage
from pldt_tf.data import catalogue

PHOTO, PRODUCT_ID, PRODUCT_IMAGE = "photo", "product_id", "product_image"
REQUIRED_COLUMNS = (PHOTO, PRODUCT_ID, PRODUCT_IMAGE)
DELIMITERS = (",", ";", "\t")  # as spreadsheets write CSV in various locales
DOCS = "docs/data.md#your-own-data-a-pairs-manifest"

# How contradictions are resolved; dataset.json quotes the rule with each.
RULES = {
    "file_in_two_roles": "a file listed both as a photo and as a product image "
    "is used as neither",
    "photo_of_several_products": "a photo listed for several products is used "
    "for none of them",
    "product_image_of_several_products": "a product image listed for several "
    "products is used for none of them",
    "several_product_images": "a product with several product images keeps "
    "them all; each photo's target is drawn from all of them (as LookBook's "
    "several CLEAN1 images)",
    "attribute_disagrees": "an attribute given different values for one "
    "product is left unknown for that product",
}


def _fail(path: str, message: str) -> errors.UserError:
    return errors.UserError(f"{path}: {message} (see {DOCS}).")


def _read_text(path: str) -> tuple[str, str]:
    """The manifest's text and the SHA-256 of its bytes."""
    if not storage.isfile(path):
        raise errors.MissingInputError(
            f"Pairs manifest {path!r} not found. Pass a CSV with the columns "
            f"{', '.join(REQUIRED_COLUMNS)}, or write one from folders with "
            "tools/folders_to_pairs.py."
        )
    data = storage.read_bytes(path)
    return decode_csv(path, data), hashlib.sha256(data).hexdigest()


def decode_csv(path: str, data: bytes) -> str:
    """A CSV file's bytes as text: UTF-8, a BOM (what spreadsheets write as
    "CSV UTF-8") dropped; anything else fails naming the line and the fix."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise _fail(
            path,
            f"line {line} is not UTF-8 text (byte {data[error.start]:#04x}). "
            "Save the file as UTF-8 (spreadsheets: 'CSV UTF-8')",
        ) from None


def _header(path: str, text: str) -> tuple[str, list[str]]:
    """The delimiter and the stripped column names; fails naming what is
    missing."""
    first = text.splitlines()[0] if text.strip() else ""
    if not first.strip():
        raise _fail(
            path,
            "the manifest is empty; its first line must name the columns "
            f"{', '.join(REQUIRED_COLUMNS)}",
        )
    parsed = {}
    for delimiter in DELIMITERS:
        names = [n.strip() for n in next(csv.reader([first], delimiter=delimiter))]
        parsed[delimiter] = names
        if set(REQUIRED_COLUMNS) <= {n.lower() for n in names}:
            return delimiter, names
    names = parsed[","]
    missing = [c for c in REQUIRED_COLUMNS if c not in {n.lower() for n in names}]
    raise _fail(
        path,
        f"the header has no column {' or '.join(repr(c) for c in missing)} "
        f"(it has {', '.join(repr(n) for n in names)}). Name the columns "
        f"{', '.join(REQUIRED_COLUMNS)} in the first line; further columns are "
        "product attributes",
    )


def _columns(path: str, names: list[str]) -> tuple[dict[str, int], list[str]]:
    """Index of each required column, and the attribute columns in order."""
    seen = set()
    for index, name in enumerate(names, start=1):
        key = name.lower() if name.lower() in REQUIRED_COLUMNS else name
        if not name:
            raise _fail(path, f"column {index} of the header has no name")
        if key in seen:
            raise _fail(path, f"the header names column {name!r} twice")
        seen.add(key)
    required = {
        column: [n.lower() for n in names].index(column) for column in REQUIRED_COLUMNS
    }
    attributes = [n for n in names if n.lower() not in REQUIRED_COLUMNS]
    return required, attributes


def _resolve(cell: str, root: str, allow_outside: bool) -> tuple[str | None, str]:
    """``(name, "")`` for a usable path cell, ``(None, reason)`` otherwise.

    The name is the path relative to ``root`` with ``/`` separators; a path
    outside ``root`` (only with ``allow_outside``) keeps its absolute form.
    """
    hint = "pass --allow_outside_paths to use files outside the manifest's folder"
    if "\x00" in cell:
        return None, "the path holds a NUL character"
    if (os.path.isabs(cell) or storage.is_url(cell)) and not allow_outside:
        return None, f"absolute path; {hint}"
    if storage.is_url(root):  # an object store has no links: names decide
        full = storage.absolute(posixpath.join(root, cell))
        inside = full.startswith(root.rstrip("/") + "/")
        relative = full[len(root.rstrip("/")) + 1 :] if inside else None
        if not inside and not allow_outside:
            return None, f"leads outside {root} (through '..'); {hint}"
        return (relative, "") if inside else (full, "")
    full = os.path.normpath(os.path.join(root, cell))
    real_root = os.path.realpath(root)
    inside = os.path.commonpath([os.path.realpath(full), real_root]) == real_root
    if not inside and not allow_outside:
        return None, f"leads outside {root} (through '..' or a link); {hint}"
    relative = os.path.relpath(full, root)
    if relative.startswith(os.pardir + os.sep) or relative == os.pardir:
        return full, ""
    return relative.replace(os.sep, "/"), ""


def product_numbers(product_ids: Sequence[str]) -> dict[str, int]:
    """The int64 that stands for each product id in the records.

    Whole numbers (digits only) keep their value when no two ids differ only
    in leading zeros, so a manifest of LookBook's files gives LookBook's ids;
    otherwise the ids are numbered 0, 1, 2, ... in sorted order.
    """
    ids = sorted(set(product_ids))
    if all(i.isascii() and i.isdigit() and len(i) <= 18 for i in ids):
        numbers = {i: int(i) for i in ids}
        if len(set(numbers.values())) == len(ids):
            return numbers
    return {i: n for n, i in enumerate(ids)}


class _Rows:
    """Reads the manifest's rows and gathers who claims which file."""

    def __init__(self, path: str, root: str, allow_outside: bool):
        self.path, self.root, self.allow_outside = path, root, allow_outside
        self.skipped_rows: list[dict] = []
        self.skipped_files: dict[str, dict] = {}
        self.duplicates: list[dict] = []
        self.rows = 0
        # file name -> {(role, product id): [lines]}
        self.claims: dict[str, dict[tuple[str, str], list[int]]] = {}
        # product id -> attribute -> {value: [lines]}
        self.attributes: dict[str, dict[str, dict[str, list[int]]]] = {}
        self.products: dict[str, list[int]] = {}

    def read(self, text: str) -> None:
        delimiter, names = _header(self.path, text)
        required, self.attribute_columns = _columns(self.path, names)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        next(reader)
        seen: dict[tuple[str, str, str], int] = {}
        line = reader.line_num + 1
        for cells in self._records(reader):
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue  # blank lines and spreadsheets' empty trailing rows
            self.rows += 1
            if len(cells) != len(names):
                self._skip_row(
                    start, f"has {len(cells)} cells, the header has {len(names)}"
                )
                continue
            cells = [cell.strip() for cell in cells]
            photo, pid, image = (cells[required[c]] for c in REQUIRED_COLUMNS)
            if not pid:
                self._skip_row(start, "no product_id")
                continue
            if not photo and not image:
                self._skip_row(start, "neither a photo nor a product_image")
                continue
            photo_name = self._file(photo, start)
            image_name = self._file(image, start)
            # A repeated row's attributes still count: they may disagree.
            values = self.attributes.setdefault(pid, {})
            for column in self.attribute_columns:
                value = cells[names.index(column)]
                if value:
                    values.setdefault(column, {}).setdefault(value, []).append(start)
            key = (photo_name or photo, pid, image_name or image)
            if key in seen:
                self.duplicates.append({"row": start, "same_as": seen[key]})
                continue
            seen[key] = start
            self.products.setdefault(pid, []).append(start)
            if photo_name:
                self._claim(photo_name, "photo", pid, start)
            if image_name:
                self._claim(image_name, "product_image", pid, start)

    def _records(self, reader) -> Iterator[list[str]]:
        """The reader's rows; a malformed record stops with its line."""
        try:
            yield from reader
        except csv.Error as error:
            raise _fail(self.path, f"line {reader.line_num}: {error}") from None

    def _skip_row(self, line: int, reason: str) -> None:
        self.skipped_rows.append({"row": line, "reason": reason})
        logging.warning("%s: skipping row %d: %s", self.path, line, reason)

    def _file(self, cell: str, line: int) -> str | None:
        if not cell:
            return None
        name, reason = _resolve(cell, self.root, self.allow_outside)
        if name is None:
            self.skipped_files.setdefault(
                cell, {"file": cell, "reason": f"row {line}: {reason}"}
            )
        return name

    def _claim(self, name: str, role: str, pid: str, line: int) -> None:
        self.claims.setdefault(name, {}).setdefault((role, pid), []).append(line)


def _contradictions(rows: _Rows) -> tuple[dict[str, tuple[bool, str]], list[dict]]:
    """The usable files ``{name: (is_product, product id)}`` and the
    contradictions found, each with the rule that resolved it."""
    usable, found = {}, []
    for name, claims in sorted(rows.claims.items()):
        roles = {role for role, _ in claims}
        products = sorted({pid for _, pid in claims})
        lines = sorted(line for claim in claims.values() for line in claim)
        if len(roles) > 1:
            kind = "file_in_two_roles"
        elif len(products) > 1:
            kind = f"{roles.pop()}_of_several_products"
        else:
            role, pid = next(iter(claims))
            usable[name] = (role == "product_image", pid)
            continue
        found.append(
            {"kind": kind, "file": name, "product_ids": products, "rows": lines}
        )
        rows.skipped_files.setdefault(
            name, {"file": name, "reason": f"{RULES[kind]} (rows {lines})"}
        )
    images: dict[str, list[str]] = {}
    for name, (is_product, pid) in usable.items():
        if is_product:
            images.setdefault(pid, []).append(name)
    for pid, names in sorted(images.items()):
        if len(names) > 1:
            lines = sorted(
                line
                for name in names
                for claim in rows.claims[name].values()
                for line in claim
            )
            found.append(
                {
                    "kind": "several_product_images",
                    "product_id": pid,
                    "files": names,
                    "rows": lines,
                }
            )
    return usable, found


def _attribute_table(
    rows: _Rows, numbers: dict[str, int], found: list[dict]
) -> bytes | None:
    """``attributes.csv`` bytes (product number, then each attribute column);
    an attribute with two values for one product is left empty."""
    if not rows.attribute_columns:
        return None
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["product_id", *rows.attribute_columns])
    for pid in sorted(rows.products, key=numbers.__getitem__):
        values = rows.attributes.get(pid, {})
        cells = []
        for column in rows.attribute_columns:
            given = values.get(column, {})
            if len(given) > 1:
                found.append(
                    {
                        "kind": "attribute_disagrees",
                        "product_id": pid,
                        "attribute": column,
                        "values": {v: lines for v, lines in sorted(given.items())},
                    }
                )
            cells.append(next(iter(given)) if len(given) == 1 else "")
        writer.writerow([numbers[pid], *cells])
    return buffer.getvalue().encode("utf-8")


def digest(path: str) -> str:
    """The SHA-256 of a manifest file, as ``dataset.json`` records it."""
    return _read_text(path)[1]


def read_manifest(path: str, allow_outside: bool = False) -> catalogue.Catalogue:
    """The catalogue a pairs manifest describes.

    Args:
      path: The CSV file (UTF-8, a BOM tolerated; comma, semicolon or tab
        separated, detected from the header).
      allow_outside: Accept absolute paths and paths leading outside the
        manifest's folder (through ``..`` or a symbolic link). Off, such
        cells are skipped and listed, so a manifest cannot make ingestion
        read files elsewhere on the machine.

    Returns:
      A ``Catalogue`` whose ``report`` holds ``skipped_rows``,
      ``duplicate_rows``, ``contradictions`` (each with its ``rule``),
      ``several_product_images`` (products with several shots, all kept:
      information, not a contradiction) and ``product_ids`` (records
      number → the manifest's id).

    Raises:
      MissingInputError: the file does not exist.
      UserError: the file is not UTF-8, is empty, or lacks a required column.
    """
    root = storage.parent(storage.absolute(path))
    rows = _Rows(path, root, allow_outside)
    text, digest = _read_text(path)
    rows.read(text)
    if not rows.rows:
        raise _fail(path, "the manifest has a header but no rows")
    usable, found = _contradictions(rows)
    numbers = product_numbers(list(rows.products))
    attributes = _attribute_table(rows, numbers, found)
    entries = sorted(
        catalogue.ImageEntry(numbers[pid], is_product, name)
        for name, (is_product, pid) in usable.items()
    )
    for item in found:
        item["rule"] = RULES[item["kind"]]
    # Several shots of one product are normal: information, not a contradiction.
    several = [item for item in found if item["kind"] == "several_product_images"]
    found = [item for item in found if item["kind"] != "several_product_images"]
    if found:
        kinds = collections.Counter(item["kind"] for item in found)
        logging.warning(
            "%s: %d contradictions (%s), resolved by the rules in dataset.json",
            path,
            len(found),
            ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())),
        )
    if several:
        logging.info(
            "%s: %d products have several product images; all are kept as targets",
            path,
            len(several),
        )
    return catalogue.Catalogue(
        root=root,
        entries=tuple(entries),
        product_ids=tuple(sorted(numbers.values())),
        skipped=tuple(rows.skipped_files.values()),
        counts={
            "manifest_rows": rows.rows,
            "skipped_rows": len(rows.skipped_rows),
            "duplicate_rows": len(rows.duplicates),
            "contradictions": len(found),
            "products_with_several_images": len(several),
            "products_listed": len(rows.products),
            "images_listed": len(entries),
        },
        source={
            "source_dir": root,
            "pairs_csv": storage.absolute(path),
            "pairs_csv_sha256": digest,
        },
        report={
            "skipped_rows": rows.skipped_rows,
            "duplicate_rows": rows.duplicates,
            "contradictions": found,
            "several_product_images": several,
            "product_ids": {str(n): pid for pid, n in sorted(numbers.items())},
        },
        attributes_csv=attributes,
    )
