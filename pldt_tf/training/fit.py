"""The training run: ``train(config)`` is everything ``python -m
pldt_tf.train`` does — data on disk, strategy, model, resume, ``fit`` with
the callbacks, the final sample grid and ``train_summary.json``
(``pldt_tf.training.workdir`` describes the workdir).

Under ``tf.distribute.MultiWorkerMirroredStrategy`` (``--distribute=auto``
with a ``TF_CONFIG`` naming several workers) only the chief writes it.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import sys
import tempfile
import time

import tensorflow as tf
from absl import logging

from pldt_tf import config as config_lib
from pldt_tf import errors, faults, storage, visualize
from pldt_tf.data import pipeline, prepare, records
from pldt_tf.training import callbacks, devices, factory, workdir


def steps_per_epoch(config: config_lib.TrainConfig, manifest: dict) -> int:
    """One pass over the training triplets (or ``config.steps_per_epoch``)."""
    available = manifest["splits"]["train"]["num_triplets"]
    if config.batch_size > available:
        raise errors.UserError(
            f"--batch_size={config.batch_size} is larger than the {available} "
            f"training triplets in {config.records_dir}: lower --batch_size."
        )
    return config.steps_per_epoch or available // config.batch_size


@dataclasses.dataclass
class TrainResult:
    """What a run did: ``steps`` is the step reached, ``first_step`` the step
    this run started from (0 unless it resumed), ``seconds`` this run's time."""

    workdir: str
    steps: int
    first_step: int
    final_samples: str
    checkpoint: str | None
    health_violations: int
    validation: dict
    seconds: float


def _evaluation_dataset(config, split: str, batch_size: int):
    """A split's triplets in their fixed order, unshuffled."""
    return pipeline.triplet_dataset(
        config.records_dir,
        split,
        batch_size,
        training=False,
        options=config.pipeline_options(training=False),
    )


def _training_triplets(config):
    """The shuffled, repeated training triplets with fresh negatives. Under a
    multi-worker strategy each worker keeps its part of every global batch
    (sharding by file would give workers unequal shards)."""
    triplets = pipeline.triplet_dataset(
        config.records_dir,
        "train",
        config.batch_size,
        training=True,
        options=config.pipeline_options(training=True),
    )
    shard = tf.data.Options()
    shard.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.DATA
    )
    return triplets.with_options(shard)


def _sample_batch(config, split: str) -> dict:
    batch = next(iter(_evaluation_dataset(config, split, config.num_samples)))
    return {k: batch[k].numpy() for k in ("source", "target")}


def _restore(config, checkpoint, chief: bool = True) -> None:
    """Resumes from the newest checkpoint of the workdir that restores: a
    newest one whose files are cut short or damaged is moved into
    ``checkpoints/damaged/`` (kept for the user, out of the way of the next
    saves) and said in one line."""
    directory = os.path.join(config.workdir, "checkpoints")
    latest = tf.train.latest_checkpoint(directory)
    if not latest or not config.resume:
        if latest:
            raise errors.UserError(
                f"{config.workdir!r} already holds checkpoints ({latest}) and "
                "--noresume was given: choose a new --workdir or drop --noresume."
            )
        return

    def restore(path):
        checkpoint.restore(path).assert_existing_objects_matched()

    try:
        used, skipped = faults.restore_newest_intact(restore, directory)
    except (ValueError, AssertionError) as error:
        raise errors.UserError(
            f"{latest} does not fit the model these flags build ({error}). "
            "Flags that change the networks or optimizers (--width, "
            "--upsampling, --method, --optimizer, --precision) must stay as in "
            f"{os.path.join(config.workdir, 'config.json')}; or train into a "
            "new --workdir."
        ) from None
    if used is None:
        raise faults.none_restores(
            directory,
            skipped,
            "copy them back from a backup, or train into a new --workdir.",
        )
    if skipped:
        # The chief alone moves files; the other workers only pass them over.
        folder = faults.set_aside(directory, skipped, used) if chief else ""
        for line in faults.skipped_lines(skipped, used, folder):
            print(line, flush=True)
    logging.info("Resumed from %s", used)
    print(f"Resuming from {used}", flush=True)


def training_stopped(error: BaseException, config, output_dir: str):
    """The one-line error for a fault of the workdir's disk or of the records
    that stopped training, or None for any other error. A full disk also
    removes the half-written checkpoint it left."""
    if faults.is_out_of_space(error):
        workdir.remove_checkpoint_leftovers(output_dir)
        latest = tf.train.latest_checkpoint(os.path.join(output_dir, "checkpoints"))
        kept = (
            f"the last complete checkpoint, {os.path.basename(latest)}, is kept "
            "and the run resumes from it"
            if latest
            else "no checkpoint was complete yet, so the run starts again"
        )
        return faults.disk_full(
            output_dir,
            "checkpoints, logs and sample grids",
            kept,
            faults.command_line("pldt_tf.train"),
        )
    if isinstance(error, tf.errors.DataLossError):
        return faults.damaged_records(config.records_dir, error)
    return None


def train(config: config_lib.TrainConfig) -> TrainResult:
    """Trains per ``config`` into ``config.workdir``; resumable at any point."""
    config_lib.validate(config)
    start = time.time()
    strategy = devices.make_strategy(config.distribute)  # first, see make_strategy
    chief = devices.is_chief(strategy)
    multi_worker = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    if multi_worker and not prepare.records_available(config):
        raise errors.UserError(
            f"--records_dir={config.records_dir!r} holds no records: under "
            "multi-worker training every worker reads them, so build them "
            "first (tools/build_tfrecords.py, or one single-process run)."
        )
    manifest = prepare.prepare_data(config)
    checked = faults.verify_records(config.records_dir)  # ~1 s for the demo's
    logging.info(
        "Records checked: %d shards, %d records", checked["shards"], checked["records"]
    )
    per_epoch = steps_per_epoch(config, manifest)
    precision = devices.resolve_precision(config.precision)
    synchronized = strategy.num_replicas_in_sync > 1
    total = config.epochs * per_epoch
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    kind = (
        "one device"
        if strategy.num_replicas_in_sync == 1 and not multi_worker
        else type(strategy).__name__
    )
    print(
        f"Training on {device} (replicas={strategy.num_replicas_in_sync}, {kind}), "
        f"precision {precision}, {total:,} steps "
        f"({config.epochs} epochs of {per_epoch}) from "
        f"{storage.shown_path(config.records_dir)}"
        + ("" if chief else " (not the chief: writes nothing to the workdir)"),
        flush=True,
    )
    # Every worker runs the callbacks (saving involves all of them), but only
    # the chief writes the workdir; the others write a scratch folder that is
    # removed at the end (TensorFlow's multi-worker checkpointing pattern).
    output_dir = config.workdir if chief else tempfile.mkdtemp(prefix="pldt_worker_")
    with strategy.scope():
        model = factory.build_model(config, per_epoch, precision, synchronized)
    checkpoint = tf.train.Checkpoint(model=model)
    _restore(config, checkpoint, chief)
    # After the restore, which may set a damaged checkpoint aside.
    manager = tf.train.CheckpointManager(
        checkpoint, os.path.join(output_dir, "checkpoints"), config.keep_checkpoints
    )
    step = int(model.converter_optimizer.iterations.numpy())
    logging.info(
        "precision=%s replicas=%d steps/epoch=%d step=%d of %d",
        precision,
        strategy.num_replicas_in_sync,
        per_epoch,
        step,
        total,
    )
    triplets = _training_triplets(config)
    validation = _evaluation_dataset(config, "validation", 64)
    health = callbacks.TrainingHealth()
    try:
        # Only now, with the flags checked against the checkpoint: a failed
        # start leaves the workdir as it was.
        if chief:
            workdir.write_config(config)
            workdir.remove_checkpoint_leftovers(output_dir)
        callback_list = _callbacks(config, output_dir, manager, validation, health)
        history = _fit_remaining(
            model, triplets, callback_list, config, per_epoch, step
        )
        final = _final_samples(config, model, output_dir)
        scores = _validation_scores(model, validation, history)
        _write_summary(output_dir, model, scores, health, history)
    except (tf.errors.OpError, OSError) as error:
        stopped = training_stopped(error, config, output_dir)
        if stopped is not None:
            raise stopped from None
        if not multi_worker or not isinstance(error, tf.errors.OpError):
            raise
        raise worker_lost(error, config.workdir) from None
    latest = tf.train.latest_checkpoint(os.path.join(config.workdir, "checkpoints"))
    if not chief:
        shutil.rmtree(output_dir, ignore_errors=True)
    return TrainResult(
        workdir=config.workdir,
        steps=int(model.converter_optimizer.iterations.numpy()),
        first_step=step,
        final_samples=os.path.join(config.workdir, os.path.basename(final)),
        checkpoint=latest,
        health_violations=health.violations,
        validation=scores,
        seconds=time.time() - start,
    )


def _callbacks(config, output_dir, manager, validation, health) -> list:
    """Throughput, health, NaN stop, TensorBoard scalars, sample grids with
    validation scores, checkpoints — in the order they must run."""
    writer = tf.summary.create_file_writer(os.path.join(output_dir, "logs"))
    grids = callbacks.SampleGrids(
        output_dir,
        _sample_batch(config, "validation"),
        validation,
        config.sample_every_steps,
        writer,
    )
    callback_list = [
        callbacks.Throughput(config.batch_size),
        health,
        callbacks.Scalars(writer, max(1, min(50, config.sample_every_steps))),
        grids,
        callbacks.Checkpoints(manager, config.checkpoint_every_steps),
    ]
    if not config.skip_nonfinite:
        callback_list.insert(1, callbacks.StopOnNonFiniteLoss(manager))
    return callback_list


def _fit_remaining(model, triplets, callback_list, config, per_epoch, step) -> dict:
    """Trains from ``step`` to the last epoch — the interrupted epoch first,
    when a run resumes mid-epoch; returns the history of the epochs run."""
    history: dict[str, list] = {}
    total = config.epochs * per_epoch
    epoch = step // per_epoch
    if step % per_epoch and step < total:
        _fit(
            model,
            triplets,
            callback_list,
            epoch,
            epoch + 1,
            per_epoch - step % per_epoch,
            history,
        )
        epoch += 1
    if epoch < config.epochs:
        _fit(model, triplets, callback_list, epoch, config.epochs, per_epoch, history)
    return history


def worker_lost(error: tf.errors.OpError, workdir: str) -> errors.UserError:
    """The one line that ends a multi-worker run whose collective failed
    (a worker died or became unreachable): which worker, what was kept, and
    how to resume."""
    found = re.search(r"/job:(\w+)/replica:\d+/task:(\d+)", error.message or "")
    who = f"{found[1]} {found[2]}" if found else "another worker"
    latest = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    kept = (
        f"nothing after checkpoint {os.path.basename(latest)} was kept"
        if latest
        else "no checkpoint was written yet"
    )
    command = faults.command_line("pldt_tf.train")
    return errors.UserError(
        f"lost contact with {who} ({type(error).__name__} in a collective "
        f"operation): training stopped on every worker; {kept} in {workdir}. "
        f"Start every worker again with the same TF_CONFIG and command to "
        f"resume from it: {command}"
    )


def _validation_scores(model, validation, history) -> dict:
    if history.get("val_rmse"):  # SampleGrids scored the last epoch already
        return {"rmse": history["val_rmse"][-1], "c_ssim": history["val_c_ssim"][-1]}
    return callbacks.evaluate_pixels(model.converter, validation)


def _write_summary(output_dir, model, scores, health, history) -> None:
    storage.write_json(
        os.path.join(output_dir, "train_summary.json"),
        {
            "steps": int(model.converter_optimizer.iterations.numpy()),
            "validation": scores,
            "health_violations": health.violations,
            "history": {k: [float(x) for x in v] for k, v in history.items()},
        },
    )


def _fit(model, triplets, callback_list, first, last, steps, history) -> None:
    """``model.fit`` from epoch ``first`` to ``last``; appends to ``history``."""
    fit = model.fit(
        triplets,
        epochs=last,
        initial_epoch=first,
        steps_per_epoch=steps,
        callbacks=callback_list,
        shuffle=False,  # the pipeline shuffles
        verbose=1 if sys.stdout.isatty() else 2,  # no progress-bar spam in logs
    )
    for key, values in fit.history.items():
        history.setdefault(key, []).extend(values)


def _final_samples(config, model, output_dir: str) -> str:
    split = "test"
    info = records.load_manifest(config.records_dir)["splits"][split]
    if not info["num_triplets"]:
        split = "validation"
    samples = _sample_batch(config, split)
    generated = model.converter(samples["source"], training=False).numpy()
    path = os.path.join(output_dir, "final_samples.png")
    visualize.save_png(
        path, visualize.triplet_grid(samples["source"], generated, samples["target"])
    )
    return path
