"""Scores ``width1_jax.py``'s snapshots with the project's own evaluation.

Runs where TensorFlow is. For each snapshot: RMSE, C-SSIM and colour match
against the ground truth, the attribute probe on the drawings and its
Fréchet distance (``evaluate_lib.probe_scores``: the probe cached in the
records folder, as ``python -m pldt_tf.evaluate`` uses), product retrieval,
and the linear code probe (``code_probe.linear_accuracy``, as
``tools/code_probe.py``: fitted on the codes of the first 6,000 training
photos, scored on every test photo). Writes a 16-photo sample grid per
snapshot and all scores as JSON.

  python docs/research/width1/score_arrays.py data/demo/records \\
      demo.npz.xz scores.json c_rf_dd-s0-e20-3360.npz ...
"""

import json
import os
import sys

import numpy as np

from pldt_tf import visualize
from pldt_tf.data import preprocess
from pldt_tf.evaluation import code_probe, evaluate_lib
from pldt_tf.evaluation import probe as probe_lib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from arrays import load  # noqa: E402


def as_float32(codes: np.ndarray) -> np.ndarray:
    """bfloat16 codes come back from numpy as 2-byte voids."""
    if codes.dtype.kind == "V":
        return (codes.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
    return codes.astype(np.float32)


def unit(images: np.ndarray) -> np.ndarray:
    return preprocess.to_unit_range(images).numpy()


def main(records_dir: str, arrays_path: str, out: str, *snapshots: str) -> None:
    data = load(arrays_path)
    test_ids = data["test_product_ids"][data["test_product_index"]]
    train_ids = data["train_product_ids"][data["train_product_index"]]
    attributes = probe_lib.load_attributes(records_dir)
    test_labels = probe_lib.labels_for(test_ids, attributes)
    results = {}
    for path in snapshots:
        name = os.path.splitext(os.path.basename(path))[0]
        snapshot = dict(np.load(path))
        train_codes = as_float32(snapshot["train_codes"])
        train_labels = probe_lib.labels_for(train_ids[: len(train_codes)], attributes)
        split = {
            "source": unit(data["test_photos"]),
            "target": unit(data["test_products"][data["test_product_index"]]),
            "source_id": test_ids,
            "generated": unit(snapshot["drawings"]),
        }
        scores = evaluate_lib.pixel_scores(split["generated"], split["target"])
        scores.update(evaluate_lib.probe_scores(records_dir, "test", split, 40))
        scores.update(evaluate_lib.retrieval_scores(records_dir, "test", split))
        for head in code_probe.HEADS:
            scores[f"code_{head}"] = code_probe.linear_accuracy(
                train_codes,
                train_labels[head],
                as_float32(snapshot["test_codes"]),
                test_labels[head],
                len(probe_lib.HEADS[head]),
            )
        results[name] = scores
        print(name, json.dumps(scores), flush=True)
        visualize.save_png(
            os.path.join(os.path.dirname(out) or ".", f"{name}.png"),
            visualize.triplet_grid(
                split["source"][:16], split["generated"][:16], split["target"][:16]
            ),
        )
    with open(out, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main(*sys.argv[1:])
