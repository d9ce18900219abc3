r"""Writes a pairs manifest for a shop's folder tree.

  python tools/folders_to_pairs.py --root=shop [--attributes=shop/products.csv]

reads shop/products/<id>.jpg (or shop/products/<id>/*.jpg for several
shots of one product) and shop/photos/<id>/*.jpg, and writes shop/pairs.csv:
one row per photo (photo, product_id, product_image) plus the attribute
columns of --attributes. Then:

  python tools/build_tfrecords.py --pairs_csv=shop/pairs.csv --output_dir=shop/records

(or train with --pairs_csv directly; docs/data.md walks through it).
"""

from __future__ import annotations

import os

from absl import app, flags

from pldt_tf import cli, errors
from pldt_tf.data import folders

_ROOT = flags.DEFINE_string(
    "root", None, "Folder holding the products and photos folders."
)
_PRODUCTS = flags.DEFINE_string(
    "products_dir",
    "products",
    "Product images under --root: <id>.<ext>, or <id>/ holding several.",
)
_PHOTOS = flags.DEFINE_string(
    "photos_dir", "photos", "Photos under --root: one folder <id>/ per product."
)
_ATTRIBUTES = flags.DEFINE_string(
    "attributes",
    None,
    "Optional CSV with a product_id column and one column per product "
    "attribute (e.g. category, colour); its columns join the manifest.",
)
_OUTPUT = flags.DEFINE_string(
    "output", None, "Manifest to write (default: <root>/pairs.csv)."
)
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace an existing manifest.")


def _products(count: int) -> str:
    return f"{count} product has" if count == 1 else f"{count} products have"


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    root = _ROOT.value
    output = _OUTPUT.value or os.path.join(root, "pairs.csv")
    if os.path.exists(output) and not _OVERWRITE.value:
        raise errors.OutputExistsError(
            f"{output} exists; pass --overwrite to replace it or --output to "
            "write another file."
        )
    if os.path.dirname(os.path.abspath(output)) != os.path.abspath(root):
        raise app.UsageError(
            f"--output={output} must lie in --root={root}: the manifest's "
            "paths are relative to its own folder."
        )
    found = folders.scan(root, _PRODUCTS.value, _PHOTOS.value)
    columns, values = [], {}
    if _ATTRIBUTES.value:
        columns, values = folders.read_attributes(_ATTRIBUTES.value)
    text = folders.manifest_text(found, columns, values)
    tmp = f"{output}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8", newline="") as file:
        file.write(text)
    os.replace(tmp, output)  # a complete manifest or none
    products = {pid for _, pid, _ in found.rows}
    photos = sum(1 for photo, _, _ in found.rows if photo)
    print(
        f"Wrote {output}: {len(found.rows)} rows, {len(products)} products, "
        f"{photos} photos"
        + (f", attributes {', '.join(columns)}" if columns else "")
        + "."
    )
    missing = sorted(products - set(values)) if _ATTRIBUTES.value else []
    if missing:
        print(
            f"  {_products(len(missing))} no row in {_ATTRIBUTES.value} "
            f"(attributes left empty): {', '.join(missing[:10])}"
            + (" ..." if len(missing) > 10 else "")
        )
    for path, reason in found.ignored[:10]:
        print(f"  ignored {path}: {reason}")
    if len(found.ignored) > 10:
        print(f"  ... and {len(found.ignored) - 10} more ignored")


if __name__ == "__main__":
    flags.mark_flags_as_required(["root"])
    cli.run(main)
