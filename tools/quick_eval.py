r"""Scores a training workdir on one split: RMSE, C-SSIM and colour match.

  python tools/quick_eval.py --workdir=workdirs/demo --split=validation

Colour match (synthetic data's 12 named colours; see pldt_tf.metrics) is a
cheap label-free proxy used to compare training settings; the full evaluation
(attribute probe, retrieval) is `python -m pldt_tf.evaluate`'s job.
"""

from __future__ import annotations

from absl import app, flags

from pldt_tf import cli
from pldt_tf.evaluation import evaluate_lib
from pldt_tf.training import workdir as workdir_lib

_WORKDIR = flags.DEFINE_string("workdir", None, "Training workdir.")
_RECORDS_DIR = flags.DEFINE_string(
    "records_dir", None, "Records folder (default: the workdir's config)."
)
_SPLIT = flags.DEFINE_enum("split", "validation", ["validation", "test"], "Split.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    config = workdir_lib.load_config(_WORKDIR.value)
    records_dir = _RECORDS_DIR.value or config.records_dir
    converter = workdir_lib.load_converter(_WORKDIR.value)
    data = evaluate_lib.generate_split(
        converter, records_dir, _SPLIT.value, config.direction
    )
    scores = evaluate_lib.pixel_scores(data["generated"], data["target"])
    print(
        f"{_WORKDIR.value} {_SPLIT.value} ({len(data['source'])} photos): "
        f"RMSE {scores['rmse']:.4f}  C-SSIM {scores['c_ssim']:.4f}  "
        f"colour match {scores['color_match']:.1%}"
    )


if __name__ == "__main__":
    flags.mark_flags_as_required(["workdir"])
    cli.run(main)
