r"""Part 1a of docs/research/recipe.md: how many steps the main job needs.

  python tools/recipe_steps.py \
      --workdirs=workdirs/recipe/steps-seed0,workdirs/recipe/steps-seed1

For each workdir (the main job trained with a checkpoint at every epoch end)
it scores the checkpoints at ``--steps`` with ``python -m pldt_tf.evaluate``
on the whole test split (cached as ``evaluation-test-step<N>.json`` in the
workdir, so a rerun only prints), then prints mean ± std over the workdirs
and applies the rule stated before the runs: the fewest steps at which none
of ``RULE_METRICS`` is clearly worse than at the last of ``--steps``.
"""

from __future__ import annotations

import os
import subprocess
import sys

from absl import app, flags

from pldt_tf import cli, storage
from pldt_tf.evaluation import table3_lib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_WORKDIRS = flags.DEFINE_list("workdirs", None, "The main job's runs, one per seed.")
_STEPS = flags.DEFINE_list(
    "steps", ["1680", "2520", "3360"], "Checkpoints to score, the full run last."
)
# (metric, higher is better): the rule's figures.
RULE_METRICS = (
    ("probe_on_generated/category", True),
    ("color_match", True),
    ("realism_frechet", False),
    ("background_speckle", False),
)


def scores_at(workdir: str, step: int) -> dict:
    """The evaluation of ``workdir``'s checkpoint at ``step`` (cached)."""
    cached = os.path.join(workdir, f"evaluation-test-step{step}.json")
    if not storage.isfile(cached):
        checkpoint = os.path.join(workdir, "checkpoints", f"ckpt-{step}")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pldt_tf.evaluate",
                f"--workdir={workdir}",
                f"--checkpoint={checkpoint}",
            ],
            cwd=ROOT,
            check=True,
        )
        latest = storage.read_json(os.path.join(workdir, "evaluation-test.json"))
        if latest["step"] != step:
            raise RuntimeError(f"{checkpoint} was scored as step {latest['step']}")
        storage.write_json(cached, latest)
    return storage.read_json(cached)["scores"]


def verdict(rows: dict[int, dict]) -> tuple[int, list[str]]:
    """(the fewest steps whose figures are not clearly worse than the last
    step's, one line per step); ``rows[step][metric] = (mean, std, n)``."""
    steps = sorted(rows)
    full = rows[steps[-1]]
    lines, chosen = [], steps[-1]
    for step in reversed(steps[:-1]):
        worse = [
            key
            for key, higher in RULE_METRICS
            if table3_lib.clearly(full[key], rows[step][key], higher)
        ]
        lines.insert(
            0,
            f"{step} steps: "
            + ("clearly worse on " + ", ".join(worse) if worse else "no clear loss"),
        )
    for step in steps[:-1]:  # the fewest that holds
        if not any(
            table3_lib.clearly(full[key], rows[step][key], higher)
            for key, higher in RULE_METRICS
        ):
            chosen = step
            break
    return chosen, lines


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if not _WORKDIRS.value or len(_WORKDIRS.value) < 2:
        raise app.UsageError("--workdirs: give at least two runs (seeds).")
    steps = [int(s) for s in _STEPS.value]
    rows = {
        step: table3_lib.summarise(
            {"run": [scores_at(w, step) for w in _WORKDIRS.value]}
        )["run"]
        for step in steps
    }
    print("| metric | " + " | ".join(f"{s} steps" for s in steps) + " |")
    print("|---|" + "---|" * len(steps))
    for line in table3_lib.metric_rows([rows[s] for s in steps], bold_best=False):
        print(line)
    chosen, lines = verdict(rows)
    print()
    for line in lines:
        print(f"- {line}")
    print(f"\n**The rule picks {chosen} steps.**")


if __name__ == "__main__":
    cli.run(main)
