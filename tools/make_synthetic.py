r"""Generates the synthetic LookBook (the project's embedded default data set).

Writes <output_dir>/lookbook/ (LookBook layout), <output_dir>/attributes.csv and
<output_dir>/synthetic.json (the settings it was drawn with); with
--shop_dir, also the same set in a shop's folder layout.

  python tools/make_synthetic.py --output_dir=data/synthetic --num_products=1000 \
      --contact_sheet=docs/images/synthetic_contact_sheet.png --report_spread
"""

from __future__ import annotations

import os
import time

from absl import app, flags, logging

from pldt_tf import cli
from pldt_tf.data import synthetic

_OUTPUT_DIR = flags.DEFINE_string(
    "output_dir",
    "data/synthetic",
    "Folder to create (lookbook/, attributes.csv, synthetic.json).",
)
_NUM_PRODUCTS = flags.DEFINE_integer(
    "num_products",
    1000,
    "Products to draw; each has 1-15 photos (about 8).",
    lower_bound=2,
)
_SEED = flags.DEFINE_integer("seed", 0, "Seeds every random choice.")
_VARIATION = flags.DEFINE_enum(
    "variation",
    "full",
    sorted(synthetic.VARIATIONS),
    "How much product shots vary beyond the attributes: full (default; the "
    "evaluation study), mild (short CPU demos), none (target a function of the "
    "attributes: only to show why that makes a useless benchmark).",
)
_COLORS = flags.DEFINE_list(
    "colors",
    [],
    f"Primary colours to draw from (empty: all of {', '.join(synthetic.COLORS)}).",
)
_PATTERNS = flags.DEFINE_list(
    "patterns",
    [],
    f"Patterns to draw from (empty: all of {', '.join(synthetic.PATTERNS)}). "
    "--colors=sky_blue --patterns=solid: products differ only in category.",
)
_WORKERS = flags.DEFINE_integer(
    "workers", None, "Processes to draw with (default: all cores)."
)
_OVERWRITE = flags.DEFINE_bool(
    "overwrite",
    False,
    "Replace an existing --output_dir (only once the new one is complete).",
)
_CONTACT_SHEET = flags.DEFINE_string(
    "contact_sheet", None, "Also write a PNG contact sheet of products and photos here."
)
_SHOP_DIR = flags.DEFINE_string(
    "shop_dir",
    None,
    "Also copy the set into a shop's folder layout here (products/<id>.jpg, "
    "photos/<id>/*.jpg, products.csv), to try tools/folders_to_pairs.py and "
    "--pairs_csv (docs/data.md).",
)
_REPORT_SPREAD = flags.DEFINE_bool(
    "report_spread",
    False,
    "Print how far product shots are from a function of the attributes (the "
    "RMSE an MSE predictor that knows the attributes still makes).",
)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    try:
        synthetic.check_vocabulary(
            _COLORS.value or None, _PATTERNS.value or None, prefix="--"
        )
    except ValueError as error:
        raise app.UsageError(str(error)) from error
    start = time.time()
    total = _NUM_PRODUCTS.value

    def progress(done):
        if done % 200 == 0 or done == total:
            logging.info("%d / %d products", done, total)

    counts = synthetic.generate(
        _OUTPUT_DIR.value,
        total,
        seed=_SEED.value,
        variation=_VARIATION.value,
        workers=_WORKERS.value,
        overwrite=_OVERWRITE.value,
        progress=progress,
        colors=_COLORS.value or None,
        patterns=_PATTERNS.value or None,
    )
    elapsed = time.time() - start
    print(
        f"Wrote {counts['images']} images of {counts['products']} products to "
        f"{os.path.join(_OUTPUT_DIR.value, 'lookbook')} in {elapsed:.1f} s "
        f"({counts['images'] / elapsed * 60:.0f} images/min)."
    )
    if _CONTACT_SHEET.value:
        # Imported late: it pulls in TensorFlow, which the drawing workers
        # (spawned processes that re-import this module) do not need.
        from pldt_tf.data.synthetic import contact_sheet

        directory = os.path.dirname(_CONTACT_SHEET.value)
        if directory:
            os.makedirs(directory, exist_ok=True)
        sheet = contact_sheet.contact_sheet(os.path.join(_OUTPUT_DIR.value, "lookbook"))
        sheet.save(_CONTACT_SHEET.value)
        print(f"Contact sheet: {_CONTACT_SHEET.value}")
    if _SHOP_DIR.value:
        from pldt_tf.data.synthetic import shop

        counts = shop.write_shop(_OUTPUT_DIR.value, _SHOP_DIR.value, _OVERWRITE.value)
        print(
            f"Shop layout: {counts['products']} products "
            f"({counts['product_images']} product images, {counts['photos']} "
            f"photos) in {_SHOP_DIR.value}"
        )
    if _REPORT_SPREAD.value:
        report_spread()


def report_spread():
    combos = [
        ("t_shirt", "red", "white", "horizontal_stripes"),
        ("hoodie", "navy", "grey", "solid"),
        ("collared_shirt", "green", "white", "checks"),
        ("tank_top", "black", "yellow", "logo"),
    ]
    print(
        "RMSE to the pixel-wise mean of 24 product shots with the same attributes\n"
        "(what an MSE predictor that knows the attributes still makes; [0, 1] "
        "pixels, 64x64):"
    )
    names = sorted(synthetic.VARIATIONS)
    print(f"{'category/pattern':<36}" + "".join(f"{name:>8}" for name in names))
    values = {name: synthetic.attribute_oracle_rmse(name, combos) for name in names}
    for index, combo in enumerate(combos):
        label = f"{combo[0]}/{combo[1]}/{combo[3]}"
        print(f"{label:<36}" + "".join(f"{values[n][index]:8.3f}" for n in names))


if __name__ == "__main__":
    cli.run(main)
