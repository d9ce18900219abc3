r"""Scores a trained converter on a split.

  python -m pldt_tf.evaluate --workdir=workdirs/demo [--split=test]

Writes evaluation-<split>.json / .md and comparison-<split>.png into the
workdir (see pldt_tf/evaluation/evaluate_lib.py for what is measured).
"""

from __future__ import annotations

from absl import app, flags

_WORKDIR = flags.DEFINE_string("workdir", None, "Training workdir to score.")
_SPLIT = flags.DEFINE_enum("split", "test", ["validation", "test"], "Split.")
_RECORDS_DIR = flags.DEFINE_string(
    "records_dir", None, "Records folder; default: the workdir's config."
)
_CHECKPOINT = flags.DEFINE_string("checkpoint", None, "Default: the latest.")
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
    )
    print(evaluate_lib.markdown(results))


if __name__ == "__main__":
    flags.mark_flags_as_required(["workdir"])
    app.run(main)
