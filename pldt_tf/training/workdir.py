"""A training workdir: its resolved configuration and its checkpoints.

  config.json       the resolved configuration
  checkpoints/      tf.train.CheckpointManager (every N steps, epoch ends)
  logs/             TensorBoard: scalars, sample grids, validation metrics
  samples/          sample-grid PNGs during training
  final_samples.png test sources | generated | ground truth at the end
  train_summary.json steps, validation figures and the loss history

Every tool that reads a trained model (evaluate, export, transfer, serve,
the research tools) loads it through this module.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import shutil

import keras
import tensorflow as tf
from absl import logging

from pldt_tf import config as config_lib
from pldt_tf import errors, faults, storage
from pldt_tf import model as model_lib
from pldt_tf.training import factory


def write_config(config) -> None:
    storage.write_text(
        os.path.join(config.workdir, "config.json"), config.to_json() + "\n"
    )


def remove_checkpoint_leftovers(workdir: str) -> list[str]:
    """Deletes the ``checkpoints/*_temp*`` folders a process killed while
    writing a checkpoint leaves behind (TensorFlow writes there, then renames
    into place; the index never names them). Returns their paths (none on an
    object store, where TensorFlow writes in place)."""
    if storage.is_url(workdir):
        return []
    pattern = os.path.join(glob.escape(workdir), "checkpoints", "*_temp*")
    leftovers = sorted(p for p in glob.glob(pattern) if os.path.isdir(p))
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)
    return leftovers


def _read_json(workdir: str, name: str, what: str):
    path = os.path.join(workdir, name)
    if not storage.isfile(path):
        raise errors.MissingInputError(
            f"{path!r} not found: {workdir!r} is not {what} "
            "(python -m pldt_tf.train writes it)."
        )
    return storage.read_json(
        path,
        "it was cut short or edited; copy it back from a backup, or train into a "
        "new --workdir (python -m pldt_tf.train writes it)",
    )


def load_config(workdir: str) -> config_lib.TrainConfig:
    """The resolved configuration a training workdir was trained with."""
    values = _read_json(workdir, "config.json", "a training workdir")
    known = {field.name for field in dataclasses.fields(config_lib.TrainConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise errors.UserError(
            f"{os.path.join(workdir, 'config.json')!r} has settings this version "
            f"does not know ({unknown}): it "
            "was written by another version of pldt_tf; retrain into a new "
            "--workdir or use the version that wrote it."
        )
    return config_lib.TrainConfig(**values)


def load_model_and_step(
    workdir: str, checkpoint: str | None = None
) -> tuple[model_lib.PixelLevelDomainTransfer, int]:
    """The trained model of a workdir (latest or named checkpoint: converter
    and discriminators) and the training step it was saved at.

    Without ``checkpoint``, a newest checkpoint whose files are cut short or
    damaged is passed over for the one before it (said in one line each, the
    files left as they are); a named one that does not restore is an error.
    """
    config = load_config(workdir)
    model = factory.build_model(config, 1, "float32", synchronized_bn=False)
    restorer = tf.train.Checkpoint(model=model)
    directory = os.path.join(workdir, "checkpoints")

    def restore(path):
        restorer.restore(path).expect_partial()

    if checkpoint is not None:
        try:
            restore(checkpoint)
        except faults.DAMAGED_CHECKPOINT as error:
            raise errors.UserError(
                f"checkpoint {storage.shown_path(checkpoint)} does not restore "
                f"({type(error).__name__}: {faults.first_line(error)}): its files "
                "are cut short or damaged. Name another --checkpoint, or leave "
                "it out for the newest that restores."
            ) from None
    else:
        used, skipped = faults.restore_newest_intact(restore, directory)
        if used is None and skipped:
            raise faults.none_restores(
                directory,
                skipped,
                "copy them back from a backup, or train again into a new --workdir.",
            )
        if used is None:
            raise errors.MissingInputError(
                f"No checkpoint in {storage.shown_path(directory)!r}."
            )
        for line in faults.skipped_lines(skipped, used):
            logging.warning("%s", line)
    return model, int(model.converter_optimizer.iterations.numpy())


def load_converter_and_step(
    workdir: str, checkpoint: str | None = None
) -> tuple[keras.Model, int]:
    """The converter of a workdir and the step it was saved at."""
    model, step = load_model_and_step(workdir, checkpoint)
    return model.converter, step


def load_converter(workdir: str, checkpoint: str | None = None) -> keras.Model:
    """The converter of a training workdir (latest or named checkpoint)."""
    return load_converter_and_step(workdir, checkpoint)[0]


def compare_runs(baseline: str, candidate: str, tolerance: float = 0.0) -> list[str]:
    """How two finished training workdirs differ, as sentences; empty when
    they agree: the validation figures and every logged loss (within
    ``tolerance``, absolute) and ``final_samples.png`` byte for byte.

    Used to show that a change of code leaves training unchanged: train the
    same config before and after it, then compare.
    """
    differences = []
    first, second = (
        _read_json(w, "train_summary.json", "a finished training workdir")
        for w in (baseline, candidate)
    )
    if first["steps"] != second["steps"]:
        differences.append(f"steps: {first['steps']} against {second['steps']}")
    for section in ("validation", "history"):
        keys = sorted(set(first[section]) | set(second[section]))
        for key in keys:
            a, b = first[section].get(key), second[section].get(key)
            if a is None or b is None:
                differences.append(f"{section}/{key}: only in one run")
                continue
            pairs = list(zip(a, b, strict=False)) if isinstance(a, list) else [(a, b)]
            if isinstance(a, list) and len(a) != len(b):
                differences.append(f"{section}/{key}: {len(a)} against {len(b)} values")
            worst = max(abs(x - y) for x, y in pairs) if pairs else 0.0
            if worst > tolerance:
                differences.append(f"{section}/{key}: differs by up to {worst:.3g}")
    grids = []
    for workdir in (baseline, candidate):
        grids.append(storage.read_bytes(os.path.join(workdir, "final_samples.png")))
    if grids[0] != grids[1]:
        differences.append("final_samples.png: not byte-identical")
    return differences
