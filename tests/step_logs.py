"""The logged losses of the first training steps of every method ×
selection (and minimax), of the main job's recipe (+ 100·L1) and of the
feature-matching term, on fixed data: the golden values
tests/test_step_logs.py holds the step to.

  python tests/step_logs.py          # writes the variants the file lacks
  python tests/step_logs.py --all    # rewrites every variant

Regenerate only for a change meant to alter the numbers, and say so in the
commit: the file is what proves that a refactoring left them alone.
"""

from __future__ import annotations

import json
import os

GOLDEN = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "golden", "step_logs.json"
)


def _tables():
    from pldt_tf import model as model_lib

    return list(model_lib.METHODS), list(model_lib.SELECTIONS)


_METHODS, _SELECTIONS = _tables()
# The main job's converter terms beyond the paper, as model keyword arguments.
DEMO_TERMS = (("pixel_loss", "l1"), ("pixel_weight", 100.0))
FEATURE_MATCHING = (*DEMO_TERMS, ("feature_matching_weight", 10.0))
# (method, selection, converter_loss, terms): every method in every
# selection (read from the tables, so a new entry is covered), Eq. 6 taken
# literally in each selection, and the recipe's terms.
VARIANTS = (
    [
        (method, selection, "non_saturating", ())
        for method in _METHODS
        for selection in _SELECTIONS
    ]
    + [("c_rf_dd", selection, "minimax", ()) for selection in _SELECTIONS]
    + [
        ("c_rf_dd", selection, "non_saturating", DEMO_TERMS)
        for selection in _SELECTIONS
    ]
    + [("c_rf_dd", "per_case", "non_saturating", FEATURE_MATCHING)]
)
STEPS = 2


def variant_name(
    method: str, selection: str, converter_loss: str, terms: tuple = ()
) -> str:
    name = f"{method}/{selection}/{converter_loss}"
    return name + "".join(f"+{key}={value}" for key, value in terms)


def step_logs(
    method: str, selection: str, converter_loss: str, terms: tuple = ()
) -> list[dict]:
    """The logs after each of ``STEPS`` compiled steps of the smoke config's
    model (width 1/16, batch 8, Adam 2e-4, β1 0.5, seed 0) on fixed data."""
    import keras
    import numpy as np
    import tensorflow as tf

    from pldt_tf import model as model_lib
    from pldt_tf import networks

    keras.utils.set_random_seed(0)
    model = model_lib.PixelLevelDomainTransfer(
        networks.build_converter(0.0625),
        networks.build_discriminator("real_fake", 0.0625),
        networks.build_discriminator("domain", 0.0625),
        method=method,
        selection=selection,
        converter_loss=converter_loss,
        seed=0,
        **dict(terms),
    )
    model.compile(*[keras.optimizers.Adam(2e-4, beta_1=0.5) for _ in range(3)])
    step = tf.function(model.train_step)
    out = []
    for index in range(STEPS):
        rng = np.random.default_rng(index)
        batch = {
            key: tf.constant(rng.uniform(-1, 1, (8, 64, 64, 3)).astype("float32"))
            for key in ("source", "target", "negative")
        }
        logs = step(batch)
        out.append({name: float(value) for name, value in sorted(logs.items())})
    return out


def main() -> None:
    import sys

    golden = {}
    if "--all" not in sys.argv and os.path.isfile(GOLDEN):
        with open(GOLDEN) as file:
            golden = json.load(file)
    for variant in VARIANTS:
        name = variant_name(*variant)
        if name not in golden:
            golden[name] = step_logs(*variant)
    with open(GOLDEN, "w") as file:
        json.dump(golden, file, indent=1, sort_keys=True)
        file.write("\n")
    print(f"Wrote {GOLDEN}")


if __name__ == "__main__":
    main()
