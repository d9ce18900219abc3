r"""Scores a trained converter on a split.

  python -m pldt_tf.evaluate --workdir=workdirs/demo [--split=test]

A product_to_human workdir is scored against the nearest of each product's
photos (RMSE, C-SSIM) and by the realism of its drawings.

Writes evaluation-<split>.json / .md and comparison-<split>.png into the
workdir (see pldt_tf/evaluation/evaluate_lib.py for what is measured).
"""

from __future__ import annotations

from absl import app, flags

from pldt_tf import cli

_WORKDIR = flags.DEFINE_string("workdir", None, "Training workdir to score.")
_SPLIT = flags.DEFINE_enum("split", "test", ["validation", "test"], "Split.")
_RECORDS_DIR = flags.DEFINE_string(
    "records_dir", None, "Records folder; default: the workdir's config."
)
_CHECKPOINT = flags.DEFINE_string("checkpoint", None, "Default: the latest.")
_METHOD = flags.DEFINE_enum(
    "method",
    "converter",
    ["converter", "dd_retrieval"],
    "converter: score the converter's drawings; dd_retrieval: paper Table 2's "
    "Retrieval by DD-score with the workdir's D_A.",
)
_MAX_QUERIES = flags.DEFINE_integer(
    "max_queries", 100, "dd_retrieval: sources scored (the paper's study: 100)."
)
_MAX_SOURCES = flags.DEFINE_integer(
    "max_sources",
    None,
    "Score only the split's first N sources (fixed order), e.g. to compare "
    "methods on the same photos: the Fréchet distance depends on the count.",
)
_PROBE_EPOCHS = flags.DEFINE_integer(
    "probe_epochs", 40, "Epochs for the attribute probe when it is first trained."
)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    from pldt_tf.evaluation import evaluate_lib

    results = evaluate_lib.evaluate(
        _WORKDIR.value,
        _SPLIT.value,
        _RECORDS_DIR.value,
        _CHECKPOINT.value,
        _PROBE_EPOCHS.value,
        _METHOD.value,
        _MAX_QUERIES.value,
        _MAX_SOURCES.value,
    )
    print(evaluate_lib.markdown(results))


def run() -> None:
    """The ``pldt-evaluate`` console script (``python -m pldt_tf.evaluate``)."""
    flags.mark_flags_as_required(["workdir"])
    cli.run(main)


if __name__ == "__main__":
    run()
