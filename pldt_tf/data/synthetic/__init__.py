"""Synthetic LookBook: the project's embedded default data set.

Writes a flat folder in LookBook's layout — ``PID%06d_CLEAN1_IID%06d.jpg``
product shots on white, ``PID%06d_CLEAN0_IID%06d.jpg`` photos of a person
wearing the product — plus ``attributes.csv`` (product id → category, primary
colour, secondary colour, pattern), so the real ingestion path runs on it and
attribute capture can be scored, and ``synthetic.json`` (the settings it was
drawn with).

The product shot is deliberately *not* a function of the person photo (the
paper's premise, Fig. 1): scale, offset, rotation, sleeve angles,
presentation (flat / hanging / folded), shadow, stripe phase and width and
logo placement vary per shot, and the photos cannot reveal them. How much
they vary is a ``Variation`` preset: ``full`` (the default, used for the
evaluation study), ``mild`` (a short CPU demo) and ``none`` (product shots a
deterministic function of the attributes — only for showing why that makes a
useless benchmark).

Modules: ``vocabulary`` (what a product is), ``drawing`` (product shots and
photos), ``generate`` (the folder on disk), ``spread`` (how far shots are
from a function of the attributes), ``contact_sheet`` (a picture of a set).
"""

from pldt_tf.data.synthetic.drawing import render_photo, render_product_image
from pldt_tf.data.synthetic.generate import (
    generate,
    product_files,
    read_attributes,
    read_settings,
    settings,
    settings_mismatch,
)
from pldt_tf.data.synthetic.spread import attribute_oracle_rmse
from pldt_tf.data.synthetic.vocabulary import (
    ATTRIBUTE_FIELDS,
    CATEGORIES,
    COLORS,
    LOGO_SHAPES,
    PATTERNS,
    SECONDARY_COLORS,
    SETTINGS_NAME,
    VARIATIONS,
    ProductSpec,
    Variation,
    check_vocabulary,
    sample_product,
)

__all__ = [
    "ATTRIBUTE_FIELDS",
    "CATEGORIES",
    "COLORS",
    "LOGO_SHAPES",
    "PATTERNS",
    "SECONDARY_COLORS",
    "SETTINGS_NAME",
    "VARIATIONS",
    "ProductSpec",
    "Variation",
    "attribute_oracle_rmse",
    "check_vocabulary",
    "generate",
    "product_files",
    "read_attributes",
    "read_settings",
    "render_photo",
    "render_product_image",
    "sample_product",
    "settings",
    "settings_mismatch",
]
