r"""Reproduces the paper's Table 3 on the synthetic set: four trained methods
and Retrieval by DD-score, several seeds, one shared config.

  python tools/table3.py --base_flags=configs/table3.flags --seeds=0,1,2

For every seed it trains C+RF, C+MSE, C+RF+DD−Neg and C+RF+DD with
``python -m pldt_tf.train --flagfile=<base_flags> --method=<m> --seed=<s>``
into ``<output_dir>/<method>-seed<s>``, scores each on the same first
``--max_sources`` test photos (python -m pldt_tf.evaluate's metrics; the
Fréchet distance depends on the number of images, so every method gets the
same ones), adds Retrieval by DD-score with each C+RF+DD's D_A, and writes

- ``--results`` (docs/results/table3.md): mean ± std over seeds of every
  metric, the paper's six claims (docs/paper.md#evaluation) each marked holds
  / does not hold with the numbers,
  the command, the config, the machine and the wall time;
- ``--figure``: one row per test photo, one column per method (seed 0).

Resumable: finished trainings (train_summary.json) and evaluations
(evaluation JSON at the same step) are reused, so an interrupted run picks up
where it stopped; per-run wall times are kept in ``<output_dir>/runs.json``.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import time

from absl import app, flags

from pldt_tf import cli, storage
from pldt_tf.evaluation import table3_lib
from pldt_tf.evaluation.table3_lib import (
    ORDER,
    RETRIEVAL,
    TRAINED,
    evaluation_is_current,
    summarise,
)
from pldt_tf.perf import benchmark_lib

# Relative flag files and the trainings run from the repository root.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_BASE_FLAGS = flags.DEFINE_string(
    "base_flags", "configs/table3.flags", "Flag file shared by every method."
)
_SEEDS = flags.DEFINE_list(
    "seeds", ["0", "1", "2"], "Seeds (at least 2, for a standard deviation)."
)
_METHODS = flags.DEFINE_list(
    "methods",
    list(TRAINED),
    "Trained methods to run (Retrieval by DD-score comes with c_rf_dd); the "
    "paper's claims are checked only when all four are there.",
)
_RETRIEVAL = flags.DEFINE_bool(
    "retrieval",
    True,
    "Also score Retrieval by DD-score (with c_rf_dd's D_A; minutes per seed).",
)
_OUTPUT_DIR = flags.DEFINE_string(
    "output_dir", "workdirs/table3", "Parent folder of the training workdirs."
)
_MAX_SOURCES = flags.DEFINE_integer(
    "max_sources", 300, "Test photos every method is scored on (also DD queries)."
)
_PROBE_EPOCHS = flags.DEFINE_integer(
    "probe_epochs", 40, "Epochs of the attribute probe if it is not cached yet."
)
_RESULTS = flags.DEFINE_string("results", "docs/results/table3.md", "Markdown report.")
_FIGURE = flags.DEFINE_string(
    "figure", "docs/images/table3_comparison.png", "Comparison figure (PNG)."
)
_FIGURE_ROWS = flags.DEFINE_integer("figure_rows", 10, "Test photos in the figure.")


# --------------------------------------------------------------------------
# Running.


def _load_json(path):
    if storage.isfile(path):
        with storage.open_file(path) as file:
            return json.load(file)
    return None


def train_run(method: str, seed: int, workdir: str, runs: dict, runs_path: str):
    key = f"{method}-seed{seed}"
    if storage.isfile(os.path.join(workdir, "train_summary.json")) and key in runs:
        return
    command = cli.tool_command(
        "pldt_tf.train",
        flagfile=_BASE_FLAGS.value,
        method=method,
        seed=seed,
        workdir=workdir,
    )
    print(f"\n[{key}] {' '.join(command[1:])}", flush=True)
    start = time.time()
    subprocess.run(command, check=True, cwd=ROOT)
    runs[key] = runs.get(key, 0.0) + time.time() - start  # resumed runs add up
    with storage.open_file(runs_path, "w") as file:
        json.dump(runs, file, indent=1)


def evaluate_run(workdir: str, method: str) -> dict:
    """The workdir's evaluation, reused when it scored the final step on the
    same number of sources."""
    from pldt_tf.evaluation import evaluate_lib

    suffix = "test" if method == "converter" else f"test-{method}"
    cached = _load_json(os.path.join(workdir, f"evaluation-{suffix}.json"))
    step = _load_json(os.path.join(workdir, "train_summary.json"))["steps"]
    if evaluation_is_current(cached, step, _MAX_SOURCES.value):
        return cached
    return evaluate_lib.evaluate(
        workdir,
        "test",
        probe_epochs=_PROBE_EPOCHS.value,
        method=method,
        max_queries=_MAX_SOURCES.value,
        max_sources=_MAX_SOURCES.value,
    )


def chance_line(records_dir: str) -> str:
    """What guessing scores on the data set's category and colour."""
    from pldt_tf.evaluation import probe

    attributes = probe.load_attributes(records_dir).values()
    kinds = {
        head: len({a[head] for a in attributes})
        for head in ("category", "primary_color")
    }
    return (
        f"Best mean in bold. Chance on category is 1/{kinds['category']}, on "
        f"colour 1/{kinds['primary_color']} (the data set's "
        f"{kinds['category']} categories and {kinds['primary_color']} colours)."
    )


def report(table, runs, seeds, session_minutes, figure_path, records_dir) -> str:
    with storage.open_file(os.path.join(ROOT, _BASE_FLAGS.value)) as file:
        config_text = file.read().strip()
    command = (
        f"python tools/table3.py --base_flags={_BASE_FLAGS.value} "
        f"--seeds={','.join(str(s) for s in seeds)} "
        f"--max_sources={_MAX_SOURCES.value}"
    )
    for name in (
        "methods",
        "output_dir",
        "results",
        "figure",
        "figure_rows",
        "probe_epochs",
    ):
        if not flags.FLAGS[name].using_default_value:  # so the command reruns it
            value = flags.FLAGS[name].value
            value = ",".join(value) if isinstance(value, list) else value
            command += f" --{name}={value}"
    if not _RETRIEVAL.value:
        command += " --noretrieval"
    retrieval_note = (
        " Retrieval by DD-score uses each seed's C+RF+DD discriminator D_A over "
        "all training product images."
        if RETRIEVAL in table
        else ""
    )
    header = "\n".join(
        [
            "# Table 3 on the synthetic LookBook",
            "",
            f"Command: `{command}` — {benchmark_lib.machine()}, "
            f"{datetime.date.today().isoformat()}. Wall time: "
            f"{sum(runs.values()) / 60:.0f} min of training (runs listed below) "
            f"and {session_minutes:.0f} min for the invocation that wrote this "
            "report (evaluation, and any training it ran).",
            "",
            f"Every method is scored on the same first {_MAX_SOURCES.value} test "
            f"photos; mean ± standard deviation over {len(seeds)} seeds "
            "(seeds change the weights, the case draws and the data order; the "
            "data set is the same)." + retrieval_note,
            "",
            "The user-study columns are the automated stand-in "
            "(docs/evaluation.md): an attribute probe trained on the real "
            "training product images judges what the generated image shows; "
            "*Category* and *Attribute* are its accuracies against the true "
            "product's labels, and *Realism* is the Fréchet distance between "
            "its features of the generated images and of real test products "
            "(lower is better). It is not a human rating: it rewards drawings "
            "that carry the labelled attributes and a feature distribution like "
            "real products, and it knows nothing of what people find plausible.",
        ]
    )
    results_dir = os.path.dirname(_RESULTS.value)
    # Hand-written findings, kept across reruns: docs/results/table3.md's are
    # docs/results/table3_notes.md; another report's are its own <name>_notes.md.
    notes_path = os.path.splitext(_RESULTS.value)[0] + "_notes.md"
    notes = ""
    if storage.isfile(notes_path):
        with storage.open_file(notes_path) as file:
            notes = file.read()
    return table3_lib.report(
        table,
        header=header,
        chance=chance_line(records_dir),
        paper_link=os.path.relpath(os.path.join(ROOT, "docs", "paper.md"), results_dir),
        figure_link=os.path.relpath(figure_path, results_dir),
        runs=runs,
        config_text=config_text,
        notes=notes,
    )


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    seeds = [int(s) for s in _SEEDS.value]
    if len(seeds) < 2:
        raise app.UsageError("--seeds: give at least 2 (the report gives mean ± std).")
    if not storage.isfile(os.path.join(ROOT, _BASE_FLAGS.value)):
        raise app.UsageError(f"--base_flags={_BASE_FLAGS.value!r} does not exist.")
    with storage.open_file(os.path.join(ROOT, _BASE_FLAGS.value)) as file:
        if any(line.strip().startswith("--pairs_csv") for line in file):
            raise app.UsageError(
                "Table 3 is scored with the synthetic set's attributes (category, "
                "colour, pattern); --pairs_csv data goes through "
                "python -m pldt_tf.train and python -m pldt_tf.evaluate instead."
            )
    start = time.time()
    storage.makedirs(_OUTPUT_DIR.value)
    runs_path = os.path.join(_OUTPUT_DIR.value, "runs.json")
    runs = _load_json(runs_path) or {}
    methods = [m for m in TRAINED if m in _METHODS.value]
    unknown = sorted(set(_METHODS.value) - set(TRAINED))
    if unknown or not methods:
        raise app.UsageError(f"--methods: choose among {list(TRAINED)}; got {unknown}.")
    retrieval = _RETRIEVAL.value and "c_rf_dd" in methods
    present = [m for m in ORDER if m in methods or (m == RETRIEVAL and retrieval)]
    scores = {m: [] for m in present}
    workdirs = {}
    for seed in seeds:
        for method in methods:
            workdir = os.path.join(_OUTPUT_DIR.value, f"{method}-seed{seed}")
            train_run(method, seed, workdir, runs, runs_path)
            scores[method].append(evaluate_run(workdir, "converter")["scores"])
            if method == "c_rf_dd" and retrieval:
                scores[RETRIEVAL].append(evaluate_run(workdir, RETRIEVAL)["scores"])
            if seed == seeds[0]:
                workdirs[method] = workdir
    table = summarise(scores)
    with storage.open_file(os.path.join(_OUTPUT_DIR.value, "table3.json"), "w") as file:
        json.dump(table, file, indent=1)
    from pldt_tf import visualize

    storage.makedirs(os.path.dirname(_FIGURE.value) or ".")
    columns = [
        (workdirs["c_rf_dd"], RETRIEVAL)
        if m == RETRIEVAL
        else (workdirs[m], "converter")
        for m in ORDER
        if m in workdirs or (m == RETRIEVAL and retrieval)
    ]
    visualize.save_png(
        _FIGURE.value, table3_lib.comparison_figure(columns, _FIGURE_ROWS.value)
    )
    from pldt_tf.training import workdir as workdir_lib

    records_dir = workdir_lib.load_config(workdirs[methods[0]]).records_dir
    minutes = (time.time() - start) / 60
    text = report(table, runs, seeds, minutes, _FIGURE.value, records_dir)
    with storage.open_file(_RESULTS.value, "w") as file:
        file.write(text)
    print(text)
    print(f"Wrote {_RESULTS.value} and {_FIGURE.value}")


if __name__ == "__main__":
    cli.run(main)
