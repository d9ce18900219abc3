r"""Does the converter's 64-d code carry the photo's attributes?
(pldt_tf/evaluation/code_probe.py, docs/research/category.md)

  python tools/code_probe.py --workdirs=workdirs/demo,workdirs/table3/c_mse-seed0
  python tools/code_probe.py --workdirs=workdirs/demo --untrained_width=0.125
  python tools/code_probe.py --workdirs=workdirs/demo --checkpoint_steps=1000,2000

For each workdir (latest checkpoint), fits a linear classifier per attribute
on the encoder's codes of --train_photos training photos and prints its
accuracy on all test photos, beside chance (always answering the training
photos' most frequent class). With --untrained_width it adds a row for an
untrained converter of that width: the floor a trained encoder should clear.
Needs a synthetic records folder. About 30 s per checkpoint at width 0.125 on
2 CPU cores.
"""

from __future__ import annotations

import json
import os

import keras
import tensorflow as tf
from absl import app, flags

from pldt_tf import cli, networks, storage
from pldt_tf.evaluation import code_probe
from pldt_tf.training import workdir as workdir_lib

_WORKDIRS = flags.DEFINE_list("workdirs", [], "Training workdirs to probe.")
_RECORDS_DIR = flags.DEFINE_string(
    "records_dir",
    None,
    "Synthetic records folder (default: the first workdir's; required when "
    "only --untrained_width is given).",
)
_UNTRAINED_WIDTH = flags.DEFINE_float(
    "untrained_width", None, "Also probe an untrained converter of this width."
)
_TRAIN_PHOTOS = flags.DEFINE_integer(
    "train_photos", 6000, "Training photos the classifiers are fitted on."
)
_EPOCHS = flags.DEFINE_integer("epochs", 60, "Epochs of each linear classifier.")
_SEED = flags.DEFINE_integer(
    "seed", 0, "Seeds the classifiers (and the untrained net)."
)
_CHECKPOINT_STEPS = flags.DEFINE_list(
    "checkpoint_steps",
    [],
    "Probe each workdir's checkpoints of these steps (ckpt-<step>; how the "
    "code changes over training) instead of its latest.",
)
flags.register_validator(
    "checkpoint_steps",
    lambda steps: all(step.isdigit() for step in steps),
    "--checkpoint_steps takes whole step numbers, e.g. --checkpoint_steps=1000,2000.",
)
_JSON = flags.DEFINE_string("json", None, "Also write the rows to this JSON file.")


def _checkpoints() -> list[tuple[str, str | None]]:
    """(workdir, checkpoint or None for the latest), all checked up front."""
    if not _CHECKPOINT_STEPS.value:
        return [(workdir, None) for workdir in _WORKDIRS.value]
    pairs = [
        (workdir, os.path.join(workdir, "checkpoints", f"ckpt-{int(step)}"))
        for workdir in _WORKDIRS.value
        for step in _CHECKPOINT_STEPS.value
    ]
    missing = [path for _, path in pairs if not tf.io.gfile.exists(path + ".index")]
    if missing:
        raise app.UsageError(
            f"No checkpoint {missing}: --checkpoint_steps takes steps of "
            "checkpoints every workdir keeps (ckpt-<step>.index)."
        )
    return pairs


def _encoders():
    """(name, encoder) pairs in the order the rows are printed."""
    checkpoints = _checkpoints()
    if _UNTRAINED_WIDTH.value is not None:
        keras.utils.set_random_seed(_SEED.value)
        converter = networks.build_converter(_UNTRAINED_WIDTH.value)
        yield (
            f"untrained, width {_UNTRAINED_WIDTH.value}",
            converter.get_layer("encoder"),
        )
    for workdir, checkpoint in checkpoints:
        model, step = workdir_lib.load_model_and_step(workdir, checkpoint)
        yield f"{workdir} (step {step})", model.converter.get_layer("encoder")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if not _WORKDIRS.value and _UNTRAINED_WIDTH.value is None:
        raise app.UsageError("Give --workdirs and/or --untrained_width.")
    records_dir = _RECORDS_DIR.value
    if records_dir is None:
        if not _WORKDIRS.value:
            raise app.UsageError("--untrained_width alone needs --records_dir.")
        records_dir = workdir_lib.load_config(_WORKDIRS.value[0]).records_dir
    rows = []
    for name, encoder in _encoders():
        scores = code_probe.run(
            encoder, records_dir, _TRAIN_PHOTOS.value, _EPOCHS.value, _SEED.value
        )
        rows.append({"encoder": name, **scores})
        print(
            f"{name}: "
            + ", ".join(
                f"{head} {scores[head]:.1%} (chance {scores[head + '_chance']:.1%})"
                for head in code_probe.HEADS
            ),
            flush=True,
        )
    print(f"\nLinear probe on the code, all test photos of {records_dir}:")
    print("| encoder | " + " | ".join(code_probe.HEADS) + " |")
    print("|---|" + "---|" * len(code_probe.HEADS))
    for row in rows:
        cells = " | ".join(f"{row[head]:.1%}" for head in code_probe.HEADS)
        print(f"| {row['encoder']} | {cells} |")
    chance = " | ".join(f"{rows[0][head + '_chance']:.1%}" for head in code_probe.HEADS)
    print(f"| chance (the training photos' most frequent class) | {chance} |")
    if _JSON.value:
        with storage.open_file(_JSON.value, "w") as file:
            json.dump(rows, file, indent=1)


if __name__ == "__main__":
    cli.run(main)
