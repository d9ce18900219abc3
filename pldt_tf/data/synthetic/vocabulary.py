"""The synthetic set's vocabulary: categories, colours, patterns, the
variation presets, and how one product's attributes are drawn.

A product is a ``ProductSpec``: its attributes (category, primary and
secondary colour, pattern) and per-product details, drawn deterministically
from ``(seed, product_id)``. How much a product's shots vary beyond its
attributes is a ``Variation`` preset (``full``, ``mild``, ``none``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from pldt_tf import errors

CATEGORIES = (
    "t_shirt",
    "long_sleeve",
    "tank_top",
    "hoodie",
    "collared_shirt",
    "cardigan",
)
COLORS = {
    "red": (200, 30, 35),
    "orange": (240, 128, 20),
    "yellow": (240, 208, 40),
    "green": (40, 150, 60),
    "teal": (0, 135, 135),
    "sky_blue": (95, 170, 230),
    "navy": (25, 40, 110),
    "purple": (120, 50, 160),
    "pink": (240, 135, 185),
    "brown": (115, 72, 38),
    "black": (28, 28, 28),
    "grey": (140, 140, 140),
}
# Secondary colours (stripes, dots, checks, logos) may also be white.
SECONDARY_COLORS = {**COLORS, "white": (245, 245, 245)}
PATTERNS = ("solid", "horizontal_stripes", "vertical_stripes", "dots", "checks", "logo")
_PATTERN_WEIGHTS = (0.3, 0.14, 0.14, 0.14, 0.14, 0.14)
LOGO_SHAPES = ("circle", "square", "triangle", "diamond", "star")
# The settings a folder was drawn with (see ``settings``), next to lookbook/.
SETTINGS_NAME = "synthetic.json"
ATTRIBUTE_FIELDS = (
    "product_id",
    "category",
    "primary_color",
    "secondary_color",
    "pattern",
)

# --------------------------------------------------------------------------
# Specs: what a product is, and how much its product shots vary.


@dataclasses.dataclass(frozen=True)
class Variation:
    """How much product shots vary beyond the product's attributes.

    Attributes:
      scale: Range of the garment's longer side as a fraction of the image's
        longer side.
      offset: Fraction of the free margin the garment may be shifted by.
      rotation: Maximum rotation, degrees.
      sleeve: Amount of random sleeve angle (0: fixed pose).
      presentations: Probabilities of flat, hanging and folded shots.
      shadow: Probability of a soft drop shadow.
      detail: Amount of per-product and per-shot jitter of pattern details
        (stripe width and phase, dot grid, logo placement and size, shade).
      aspect: Range of the product image's height / width.
    """

    scale: tuple[float, float]
    offset: float
    rotation: float
    sleeve: float
    presentations: tuple[float, float, float]
    shadow: float
    detail: float
    aspect: tuple[float, float]


VARIATIONS = {
    "full": Variation(
        scale=(0.55, 0.95),
        offset=1.0,
        rotation=20.0,
        sleeve=1.0,
        presentations=(0.6, 0.25, 0.15),
        shadow=0.7,
        detail=1.0,
        aspect=(1.0, 1.35),
    ),
    "mild": Variation(
        scale=(0.8, 0.9),
        offset=0.2,
        rotation=4.0,
        sleeve=0.3,
        presentations=(1.0, 0.0, 0.0),
        shadow=0.0,
        detail=0.3,
        aspect=(1.0, 1.0),
    ),
    "none": Variation(
        scale=(0.85, 0.85),
        offset=0.0,
        rotation=0.0,
        sleeve=0.0,
        presentations=(1.0, 0.0, 0.0),
        shadow=0.0,
        detail=0.0,
        aspect=(1.0, 1.0),
    ),
}


@dataclasses.dataclass(frozen=True)
class ProductSpec:
    """A synthetic product: its attributes and per-product details.

    Attributes:
      product_id: The PID.
      category, primary_color, secondary_color, pattern: The attributes.
      primary, secondary: RGB actually used (the named colour, shaded).
      period: Stripe / dot / check period, in garment units.
      logo_shape: Shape of the chest logo (``logo`` pattern only).
      logo_x: Horizontal logo position in garment units (0: centre).
      num_product_images: Product shots (CLEAN1) of this product.
      num_photos: Photos of a person wearing it (CLEAN0).
    """

    product_id: int
    category: str
    primary_color: str
    secondary_color: str
    pattern: str
    primary: tuple[int, int, int]
    secondary: tuple[int, int, int]
    period: float
    logo_shape: str
    logo_x: float
    num_product_images: int
    num_photos: int

    def attributes(self) -> dict:
        return {name: getattr(self, name) for name in ATTRIBUTE_FIELDS}


def shade(rgb, rng: np.random.Generator, amount: float) -> tuple[int, int, int]:
    jitter = rng.uniform(-18, 18, size=3) * amount
    return tuple(int(v) for v in np.clip(np.asarray(rgb) + jitter, 0, 255))


def check_vocabulary(
    colors: Sequence[str] | None,
    patterns: Sequence[str] | None,
    prefix: str = "",
) -> None:
    """Raises ValueError naming the valid names when ``colors`` or
    ``patterns`` (restrictions of the vocabulary; None: all) is not a
    non-empty subset of ``COLORS`` / ``PATTERNS``; ``prefix`` is put before
    "colors" / "patterns" in the message (a flag's name)."""
    for kind, chosen, valid in (
        ("colors", colors, list(COLORS)),
        ("patterns", patterns, list(PATTERNS)),
    ):
        if chosen is None:
            continue
        unknown = sorted(set(chosen) - set(valid))
        if not chosen or unknown:
            raise errors.UserError(
                f"{prefix}{kind}={list(chosen)}: "
                + (f"unknown {unknown}; " if unknown else "")
                + f"choose a non-empty subset of {valid}."
            )


def sample_product(
    product_id: int,
    seed: int,
    variation: Variation,
    colors: Sequence[str] | None = None,
    patterns: Sequence[str] | None = None,
) -> ProductSpec:
    """Draws one product's attributes and details, deterministically.

    ``colors`` and ``patterns`` restrict the primary colours and patterns
    drawn (None: all, at the usual rates); ``colors=["sky_blue"],
    patterns=["solid"]`` leaves the category as the only attribute that
    tells products apart (docs/research/category.md).
    """
    rng = np.random.default_rng([seed, product_id, 0])
    category = CATEGORIES[rng.integers(len(CATEGORIES))]
    colors = list(COLORS) if colors is None else list(colors)
    primary = colors[rng.integers(len(colors))]
    secondary = rng.choice([c for c in SECONDARY_COLORS if c != primary])
    names, weights = PATTERNS, np.array(_PATTERN_WEIGHTS)
    if patterns is not None:  # the chosen ones, at their relative rates
        names = tuple(patterns)
        weights = np.array([_PATTERN_WEIGHTS[PATTERNS.index(p)] for p in names])
        weights /= weights.sum()
    pattern = names[rng.choice(len(names), p=weights)]
    detail = variation.detail
    return ProductSpec(
        product_id=product_id,
        category=category,
        primary_color=primary,
        secondary_color=str(secondary),
        pattern=pattern,
        primary=shade(COLORS[primary], rng, detail),
        secondary=shade(SECONDARY_COLORS[str(secondary)], rng, detail),
        period=float(0.42 + detail * rng.uniform(-0.1, 0.14)),
        logo_shape=LOGO_SHAPES[rng.integers(len(LOGO_SHAPES))],
        logo_x=float(detail * rng.uniform(-0.35, 0.35)),
        num_product_images=1 + int(rng.random() < 0.1),
        num_photos=1 + int(rng.binomial(14, 0.5)),
    )
