r"""Sets Table 3 runs of an option of ours beside the paper's and applies the
rule stated for it before the measurement (``table3_lib.RULES``).

  python tools/study_report.py --rule=pixel_loss \
      --tables=paper=workdirs/pixel/paper,l1_10=workdirs/pixel/l1_10,\
  l1_100=workdirs/pixel/l1_100 --figure=docs/images/pixel_loss_seed0.png

Each ``--tables`` entry is ``label=folder``, the folder a ``tools/table3.py
--output_dir`` (its ``table3.json`` and the ``<method>-seed<s>`` workdirs);
the first is the paper's. Prints a Markdown table (mean ± std over seeds)
and the rule's verdict for each other table's C+RF+DD; ``--figure`` draws
the first test photos with every column's seed-0 drawing.
"""

from __future__ import annotations

import json
import os

from absl import app, flags

from pldt_tf import cli, storage
from pldt_tf.evaluation import table3_lib

_RULE = flags.DEFINE_enum(
    "rule", None, list(table3_lib.RULES), "The rule (docs/research/<rule>.md)."
)
_TABLES = flags.DEFINE_list(
    "tables", None, "label=folder of tools/table3.py runs; the paper's first."
)
_FIGURE = flags.DEFINE_string(
    "figure", "", "PNG: source | each column's seed-0 drawing | ground truth."
)
_FIGURE_ROWS = flags.DEFINE_integer("figure_rows", 8, "Test photos in the figure.")
_SEED = flags.DEFINE_integer("figure_seed", 0, "Seed whose drawings the figure shows.")


def _parse_tables(entries: list[str]) -> dict[str, str]:
    folders = {}
    for entry in entries:
        label, sep, folder = entry.partition("=")
        if not sep or not label or not folder:
            raise app.UsageError(f"--tables: {entry!r} is not label=folder.")
        if not storage.isfile(os.path.join(folder, "table3.json")):
            raise app.UsageError(
                f"--tables: {folder!r} holds no table3.json: run tools/table3.py "
                f"--output_dir={folder} first."
            )
        folders[label] = folder
    if len(folders) < 2:
        raise app.UsageError("--tables: give the paper's and at least one other.")
    return folders


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if not _RULE.value or not _TABLES.value:
        raise app.UsageError("Give --rule and --tables.")
    folders = _parse_tables(_TABLES.value)
    tables = {}
    for label, folder in folders.items():
        with storage.open_file(os.path.join(folder, "table3.json")) as file:
            tables[label] = json.load(file)
    paper = next(iter(tables))
    print(table3_lib.study_report(tables, _RULE.value, paper))
    if _FIGURE.value:
        from pldt_tf import visualize

        columns = [
            (os.path.join(folders[label], f"{method}-seed{_SEED.value}"), "converter")
            for method in table3_lib.ORDER
            for label in folders
            if method in tables[label]
        ]
        visualize.save_png(
            _FIGURE.value, table3_lib.comparison_figure(columns, _FIGURE_ROWS.value)
        )
        print(f"\nWrote {_FIGURE.value}")


if __name__ == "__main__":
    cli.run(main)
