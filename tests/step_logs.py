"""The logged losses of the first training steps of every method ×
selection (and minimax), on fixed data: the golden values
tests/test_step_logs.py holds the step to.

  python tests/step_logs.py   # rewrites tests/golden/step_logs.json

Regenerate only for a change meant to alter the numbers, and say so in the
commit: the file is what proves that a refactoring left them alone.
"""

from __future__ import annotations

import json
import os

GOLDEN = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "golden", "step_logs.json"
)
# (method, selection, converter_loss): every method in every selection, and
# Eq. 6 taken literally in each selection.
VARIANTS = [
    (method, selection, "non_saturating")
    for method in ("c_rf_dd", "c_rf", "c_mse", "c_rf_dd_neg")
    for selection in ("per_case", "per_sample", "joint")
] + [
    ("c_rf_dd", selection, "minimax")
    for selection in ("per_case", "per_sample", "joint")
]
STEPS = 2


def variant_name(method: str, selection: str, converter_loss: str) -> str:
    return f"{method}/{selection}/{converter_loss}"


def step_logs(method: str, selection: str, converter_loss: str) -> list[dict]:
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
    golden = {variant_name(*v): step_logs(*v) for v in VARIANTS}
    with open(GOLDEN, "w") as file:
        json.dump(golden, file, indent=1, sort_keys=True)
        file.write("\n")
    print(f"Wrote {GOLDEN}")


if __name__ == "__main__":
    main()
