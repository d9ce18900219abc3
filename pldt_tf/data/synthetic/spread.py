"""The spread check: how far a product shot is from being a function of its
attributes (the paper's premise that the target is not unique)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from pldt_tf.data.synthetic.drawing import render_product_image
from pldt_tf.data.synthetic.vocabulary import (
    COLORS,
    LOGO_SHAPES,
    SECONDARY_COLORS,
    VARIATIONS,
    sample_product,
    shade,
)

# --------------------------------------------------------------------------
# How far the product shot is from being a function of the attributes.


def attribute_oracle_rmse(
    variation: str,
    attributes: Sequence[tuple[str, str, str, str]],
    shots: int = 24,
    seed: int = 0,
) -> list[float]:
    """RMSE an MSE-optimal predictor that *knows the attributes* still makes.

    For each (category, primary, secondary, pattern), renders ``shots`` product
    shots of distinct products with exactly those attributes, preprocesses them
    to 64×64 in [0, 1] and returns the RMSE of each shot to their pixel-wise
    mean (the best a pixel loss can do). Large values mean the target is far
    from a function of the source; ``variation="none"`` gives zero.
    """
    from pldt_tf.data import preprocess  # TensorFlow only for this check

    results = []
    for index, (category, primary, secondary, pattern) in enumerate(attributes):
        batch = []
        for k in range(shots):
            spec = dataclasses.replace(
                sample_product(10_000 + k, seed + index, VARIATIONS[variation]),
                logo_shape=LOGO_SHAPES[0],
                category=category,
                primary_color=primary,
                secondary_color=secondary,
                pattern=pattern,
            )
            rng = np.random.default_rng([seed, index, k])
            spec = dataclasses.replace(
                spec,
                primary=shade(COLORS[primary], rng, VARIATIONS[variation].detail),
                secondary=shade(
                    SECONDARY_COLORS[secondary], rng, VARIATIONS[variation].detail
                ),
            )
            image = render_product_image(spec, rng, VARIATIONS[variation])
            batch.append(preprocess.resize_and_pad(np.asarray(image)).numpy() / 255.0)
        batch = np.stack(batch)
        mean = batch.mean(axis=0, keepdims=True)
        results.append(float(np.sqrt(((batch - mean) ** 2).mean())))
    return results
