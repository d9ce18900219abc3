r"""Trains the domain discriminator D_A alone and reports whether it judges
single pairs or only batches (pldt_tf/evaluation/domain_check.py).

  python tools/domain_check.py --records_dir=data/demo/records --batching=pure
  python tools/domain_check.py --records_dir=data/demo/records --batching=mixed
  python tools/domain_check.py --workdir=workdirs/demo   # a trained D_A, scored only

Needs a synthetic records folder (its attributes score the choices). About
1.5 min per 900 steps at width 0.125 on 2 CPU cores. Prints one row per check:
training loss, and how often D_A's favourite test product has the photo's
category, among all test products and among those of the photo's colour.
With --workdir it also scores the run's own drawings the same way
(docs/research/category.md).
"""

from __future__ import annotations

import json

from absl import app, flags

from pldt_tf import cli, storage
from pldt_tf.evaluation import domain_check
from pldt_tf.training import workdir as workdir_lib

_RECORDS_DIR = flags.DEFINE_string(
    "records_dir", "data/demo/records", "Synthetic records folder (with attributes)."
)
_BATCHING = flags.DEFINE_enum(
    "batching",
    "pure",
    list(domain_check.BATCHINGS),
    "pure: associated and unassociated pairs as separate batches (per_case); "
    "mixed: one batch holding both (per_sample, joint).",
)
_WIDTH = flags.DEFINE_float("width", 0.125, "Width multiplier of D_A.")
_STEPS = flags.DEFINE_integer("steps", 900, "Training steps.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 64, "Pairs per case and step.")
_HARD_NEGATIVES = flags.DEFINE_float(
    "hard_negatives", 0.0, "Share of colour-matched negatives (see train --helpfull)."
)
_CHECKS = flags.DEFINE_integer("checks", 3, "Scorings along the way.")
_MAX_SOURCES = flags.DEFINE_integer("max_sources", 200, "Test photos scored.")
_SEED = flags.DEFINE_integer("seed", 0, "Seeds weights and data order.")
_WORKDIR = flags.DEFINE_string(
    "workdir",
    None,
    "Score the D_A of this trained workdir (latest checkpoint) instead of "
    "training one; its records folder is used unless --records_dir is given.",
)
_JSON = flags.DEFINE_string("json", None, "Also write the rows to this JSON file.")


def score_workdir(workdir: str) -> None:
    model, step = workdir_lib.load_model_and_step(workdir)
    if model.domain is None:
        raise app.UsageError(f"{workdir!r} has no D_A (method {model.method!r}).")
    records_dir = _RECORDS_DIR.value
    if not flags.FLAGS["records_dir"].present:
        records_dir = workdir_lib.load_config(workdir).records_dir
    scores = domain_check.score(model.domain, records_dir, _MAX_SOURCES.value)
    scores.update(
        domain_check.score_drawings(
            model.domain, model.converter, records_dir, _MAX_SOURCES.value
        )
    )
    print(f"\nD_A of {workdir} (step {step}), {_MAX_SOURCES.value} test photos:")
    print(
        f"real products: category {scores['category']:.1%}, category within "
        f"colour {scores['category_within_colour']:.1%} "
        f"(chance {scores['chance_within_colour']:.1%})"
    )
    print(
        f"the run's drawings: own drawing above another category's "
        f"{scores['own_over_other_category']:.1%}; favourite among other "
        f"products' drawings: category {scores['drawing_category']:.1%}, "
        f"within colour {scores['drawing_category_within_colour']:.1%} "
        f"(chance {scores['drawing_chance_within_colour']:.1%})"
    )
    if _JSON.value:
        with storage.open_file(_JSON.value, "w") as file:
            json.dump({"workdir": workdir, "step": step, **scores}, file, indent=1)


def main(argv):
    del argv
    if _WORKDIR.value:
        score_workdir(_WORKDIR.value)
        return
    checks = domain_check.run(
        _RECORDS_DIR.value,
        _BATCHING.value,
        width=_WIDTH.value,
        steps=_STEPS.value,
        batch_size=_BATCH_SIZE.value,
        hard_negatives=_HARD_NEGATIVES.value,
        checks=_CHECKS.value,
        seed=_SEED.value,
        max_sources=_MAX_SOURCES.value,
    )
    print(
        f"\nD_A alone, {_BATCHING.value} batches, width {_WIDTH.value}, "
        f"hard negatives {_HARD_NEGATIVES.value}:"
    )
    print("| step | train loss | category | category within colour (chance) |")
    print("|---|---|---|---|")
    for c in checks:
        print(
            f"| {c.step} | {c.train_loss:.3f} | {c.category:.1%} | "
            f"{c.category_within_colour:.1%} ({c.chance_within_colour:.1%}) |"
        )
    if _JSON.value:
        with storage.open_file(_JSON.value, "w") as file:
            json.dump([c.__dict__ for c in checks], file, indent=1)


if __name__ == "__main__":
    cli.run(main)
