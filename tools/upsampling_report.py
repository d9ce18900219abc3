r"""Compares Table 3 runs of two decoder upsamplings and applies the rule of
docs/research/upsampling.md.

  python tools/upsampling_report.py \
      --paper=workdirs/table3_transposed5/table3.json \
      --candidate=workdirs/table3_resize_conv/table3.json

Each table is the ``table3.json`` that ``tools/table3.py`` writes into its
``--output_dir``. Prints a Markdown table (mean ± std over seeds, per
method) and the rule's verdict for C+RF+DD.
"""

from __future__ import annotations

import json

from absl import app, flags

from pldt_tf import cli
from pldt_tf.evaluation.table3_lib import METRICS, NAMES, upsampling_verdict

_PAPER = flags.DEFINE_string("paper", None, "table3.json of the paper's decoder.")
_CANDIDATE = flags.DEFINE_string("candidate", None, "table3.json of the other.")
_LABELS = flags.DEFINE_list(
    "labels", ["transposed5", "resize_conv"], "Names of the two decoders."
)


def _cell(entry) -> str:
    mean, std, _ = entry
    return f"{mean:.3f} ± {std:.3f}" if abs(mean) < 10 else f"{mean:.0f} ± {std:.0f}"


def report(paper: dict, candidate: dict, labels) -> str:
    methods = [m for m in ("c_rf_dd", "c_rf", "c_mse") if m in paper and m in candidate]
    header = [f"{NAMES[m]}, {label}" for m in methods for label in labels]
    lines = [
        "| metric | " + " | ".join(header) + " |",
        "|---|" + "---|" * len(header),
    ]
    for key, label, _ in METRICS:
        if not all(key in t[m] for t in (paper, candidate) for m in methods):
            continue
        cells = [_cell(t[m][key]) for m in methods for t in (paper, candidate)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    wins, verdicts = upsampling_verdict(paper["c_rf_dd"], candidate["c_rf_dd"])
    lines += ["", f"The rule, for C+RF+DD ({labels[1]} against {labels[0]}):", ""]
    lines += [f"- {line}" for line in verdicts]
    outcome = "wins" if wins else "does not win"
    lines += ["", f"**{labels[1]} {outcome}.**"]
    return "\n".join(lines)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if not _PAPER.value or not _CANDIDATE.value:
        raise app.UsageError("Give --paper and --candidate (table3.json files).")
    tables = []
    for path in (_PAPER.value, _CANDIDATE.value):
        with open(path) as file:
            tables.append(json.load(file))
    print(report(*tables, _LABELS.value))


if __name__ == "__main__":
    cli.run(main)
