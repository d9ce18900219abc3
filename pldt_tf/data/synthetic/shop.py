"""The synthetic set laid out as a shop's folders, to try the pairs-manifest
path (docs/data.md#your-own-data-a-pairs-manifest) without data of one's own::

    <shop>/products/A0001.jpg        (products/A0002/1.jpg, 2.jpg: several)
    <shop>/photos/A0001/1.jpg ...
    <shop>/products.csv              product_id, category, colour

Product ids are text (``A`` and four digits), as shops' references are.
"""

from __future__ import annotations

import csv
import os
import shutil

from pldt_tf.data import atomic, catalogue, lookbook
from pldt_tf.data.synthetic.generate import read_attributes


def product_reference(product_id: int) -> str:
    return f"A{product_id:04d}"


def write_shop(data_dir: str, shop_dir: str, overwrite: bool = False) -> dict:
    """Copies ``<data_dir>/lookbook`` into the shop layout at ``shop_dir``.

    Returns:
      Counts: products, product images, photos.
    """
    entries, _ = lookbook.list_folder(os.path.join(data_dir, "lookbook"))
    products, _ = catalogue.group_products(entries)
    attributes = read_attributes(os.path.join(data_dir, "attributes.csv"))
    source = os.path.join(data_dir, "lookbook")
    counts = {"products": 0, "product_images": 0, "photos": 0}
    with atomic.atomic_folder(shop_dir, overwrite) as tmp:
        for product in products.values():
            ref = product_reference(product.product_id)
            images = product.product_images
            if len(images) == 1:
                targets = [f"products/{ref}{os.path.splitext(images[0])[1]}"]
            else:
                targets = [
                    f"products/{ref}/{n}{os.path.splitext(name)[1]}"
                    for n, name in enumerate(images, start=1)
                ]
            targets += [
                f"photos/{ref}/{n}{os.path.splitext(name)[1]}"
                for n, name in enumerate(product.photos, start=1)
            ]
            for name, target in zip(images + product.photos, targets, strict=True):
                os.makedirs(os.path.dirname(os.path.join(tmp, target)), exist_ok=True)
                shutil.copyfile(os.path.join(source, name), os.path.join(tmp, target))
            counts["products"] += 1
            counts["product_images"] += len(images)
            counts["photos"] += len(product.photos)
        # What a shop's catalogue would say of a product: not the pattern's
        # secondary colour, under the shop's own column names.
        with open(os.path.join(tmp, "products.csv"), "w", newline="") as file:
            writer = csv.writer(file, lineterminator="\n")
            writer.writerow(["product_id", "category", "colour"])
            for pid in sorted(products):
                row = attributes[pid]
                writer.writerow(
                    [product_reference(pid), row["category"], row["primary_color"]]
                )
    return counts
