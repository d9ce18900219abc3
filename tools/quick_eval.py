r"""Scores a training workdir on one split: RMSE, C-SSIM and colour match.

  python tools/quick_eval.py --workdir=workdirs/demo --split=validation

Colour match (synthetic data's 12 named colours; see pldt_tf.metrics) is a
cheap label-free proxy used to compare training settings; the full evaluation
(attribute probe, retrieval) is `python -m pldt_tf.evaluate`'s job.
"""

from __future__ import annotations

import json
import os

import numpy as np
import tensorflow as tf
from absl import app, flags

from pldt_tf import metrics, train_lib
from pldt_tf.data import pipeline, synthetic

_WORKDIR = flags.DEFINE_string("workdir", None, "Training workdir.")
_RECORDS_DIR = flags.DEFINE_string(
    "records_dir", None, "Records folder (default: the workdir's config)."
)
_SPLIT = flags.DEFINE_enum("split", "validation", ["validation", "test"], "Split.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    with open(os.path.join(_WORKDIR.value, "config.json")) as file:
        config = json.load(file)
    records_dir = _RECORDS_DIR.value or config["records_dir"]
    converter = train_lib.load_converter(_WORKDIR.value)
    palette = tf.constant(np.array(list(synthetic.COLORS.values()), np.float32) / 255)
    scores = {"rmse": [], "c_ssim": [], "color_match": []}
    options = pipeline.PipelineOptions(direction=config["direction"])
    for batch in pipeline.triplet_dataset(
        records_dir, _SPLIT.value, 64, False, options
    ):
        generated = metrics.to_unit_interval(converter(batch["source"], training=False))
        target = metrics.to_unit_interval(batch["target"])
        scores["rmse"].append(metrics.rmse(generated, target).numpy())
        scores["c_ssim"].append(metrics.c_ssim(generated, target).numpy())
        scores["color_match"].append(
            metrics.color_match(generated, target, palette).numpy()
        )
    count = sum(len(v) for v in scores["rmse"])
    means = {k: float(np.concatenate(v).mean()) for k, v in scores.items()}
    print(
        f"{_WORKDIR.value} {_SPLIT.value} ({count} photos): RMSE {means['rmse']:.4f}  "
        f"C-SSIM {means['c_ssim']:.4f}  colour match {means['color_match']:.1%}"
    )


if __name__ == "__main__":
    flags.mark_flags_as_required(["workdir"])
    app.run(main)
