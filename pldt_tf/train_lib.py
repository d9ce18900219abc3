"""Training: data preparation, model and optimizers, the fit loop, resume.

``train(config)`` is everything ``python -m pldt_tf.train`` does. The workdir
holds:
  config.json       the resolved configuration
  checkpoints/      tf.train.CheckpointManager (every N steps, epoch ends)
  logs/             TensorBoard: scalars, sample grids, validation metrics
  samples/          sample-grid PNGs during training
  final_samples.png test sources | generated | ground truth at the end

Under ``tf.distribute.MultiWorkerMirroredStrategy`` (``--distribute=auto``
with a ``TF_CONFIG`` naming several workers) only the chief writes it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time

import keras
import tensorflow as tf
from absl import logging

from pldt_tf import callbacks, networks, visualize
from pldt_tf import config as config_lib
from pldt_tf import model as model_lib
from pldt_tf.data import pipeline, records, synthetic

# --------------------------------------------------------------------------
# Data.


def prepare_data(config: config_lib.TrainConfig) -> dict:
    """Makes sure ``config.records_dir`` exists; returns its manifest.

    Missing records are built from ``config.lookbook_dir``; a missing LookBook
    folder is generated as the synthetic set when ``synthetic_products > 0``
    (the embedded default: the main command needs no data at hand).
    """
    config_lib.check_data_source(config)
    if not config_lib.records_available(config):
        lookbook_dir = config.lookbook_dir
        data_dir = os.path.dirname(os.path.abspath(lookbook_dir))
        if not os.path.isdir(lookbook_dir):
            _generate_synthetic(config, data_dir)
        attributes = os.path.join(data_dir, "attributes.csv")
        print(f"Building TFRecords in {config.records_dir} ...", flush=True)
        records.build_records(
            lookbook_dir,
            config.records_dir,
            records.BuildOptions(seed=config.data_seed),
            attributes_file=attributes if os.path.isfile(attributes) else None,
        )
    return records.load_manifest(config.records_dir)


def _generate_synthetic(config: config_lib.TrainConfig, data_dir: str) -> None:
    """Writes the synthetic LookBook so that ``lookbook_dir`` exists."""
    if os.path.basename(os.path.normpath(config.lookbook_dir)) != "lookbook":
        raise ValueError(
            f"--lookbook_dir={config.lookbook_dir!r} must end in 'lookbook' when "
            "--synthetic_products generates it (the generator writes "
            "<folder>/lookbook and <folder>/attributes.csv)."
        )
    logging.info("Generating the synthetic LookBook in %s", data_dir)
    print(
        f"Generating the synthetic LookBook ({config.synthetic_products} products, "
        f"{config.synthetic_variation} variation) in {data_dir} ...",
        flush=True,
    )
    synthetic.generate(
        data_dir,
        config.synthetic_products,
        seed=config.data_seed,
        variation=config.synthetic_variation,
        colors=config.synthetic_colors or None,
        patterns=config.synthetic_patterns or None,
    )


def steps_per_epoch(config: config_lib.TrainConfig, manifest: dict) -> int:
    """One pass over the training triplets (or ``config.steps_per_epoch``)."""
    available = manifest["splits"]["train"]["num_triplets"]
    if config.batch_size > available:
        raise ValueError(
            f"--batch_size={config.batch_size} is larger than the {available} "
            f"training triplets in {config.records_dir}: lower --batch_size."
        )
    return config.steps_per_epoch or available // config.batch_size


# --------------------------------------------------------------------------
# Devices, precision, model.


def resolve_precision(name: str) -> str:
    """``auto``: bfloat16 on GPUs that have it, float16 on older GPUs,
    float32 on CPU."""
    if name != "auto":
        return name
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "float32"
    capability = tf.config.experimental.get_device_details(gpus[0]).get(
        "compute_capability", (0, 0)
    )
    return "mixed_bfloat16" if tuple(capability) >= (8, 0) else "mixed_float16"


def cluster_workers() -> int:
    """Workers (chief included) that ``TF_CONFIG`` names; 0 without it."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return 0
    try:
        cluster = json.loads(raw).get("cluster", {})
    except (json.JSONDecodeError, AttributeError) as error:
        raise ValueError(
            f"TF_CONFIG is not a JSON object ({error}): see the README's "
            "multi-worker recipe for its form."
        ) from None
    return len(cluster.get("chief", [])) + len(cluster.get("worker", []))


def make_strategy(name: str) -> tf.distribute.Strategy:
    """``auto``: MultiWorkerMirroredStrategy when ``TF_CONFIG`` names several
    workers, MirroredStrategy over several GPUs, else the default strategy.

    Call it before anything else runs TensorFlow ops: the multi-worker
    strategy must configure the runtime's collectives first.
    """
    if name == "multi_worker" or (name == "auto" and cluster_workers() > 1):
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "none":
        return tf.distribute.get_strategy()
    gpus = tf.config.list_logical_devices("GPU")
    if name == "mirrored" or (name == "auto" and len(gpus) > 1):
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the workdir (always, but for the
    non-chief workers of a multi-worker cluster)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def learning_rate_schedule(config, per_epoch: int):
    """``learning_rate`` for the first epochs, ÷10 for the last
    ``decay_epochs`` (paper: 25 + 5), counted in optimizer steps.

    Always a schedule (with no decay, its boundary lies past the last step)
    so that the optimizer has the same variables whatever the epochs, and a
    run resumes with a longer or differently decayed schedule.
    """
    boundary = (config.epochs - config.decay_epochs) * per_epoch
    return keras.optimizers.schedules.PiecewiseConstantDecay(
        [boundary], [config.learning_rate, config.learning_rate / 10.0]
    )


def make_optimizer(config, schedule, precision: str, name: str):
    if config.optimizer == "adam":
        optimizer = keras.optimizers.Adam(schedule, beta_1=config.beta_1, name=name)
    else:
        optimizer = keras.optimizers.SGD(schedule, momentum=config.momentum, name=name)
    if precision == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer, name=f"{name}_scaled")
    if config.skip_nonfinite:
        # Scale 1 never changes the numbers; the wrapper skips non-finite steps.
        return keras.optimizers.LossScaleOptimizer(
            optimizer,
            initial_scale=1.0,
            dynamic_growth_steps=2**31 - 1,
            name=f"{name}_skip",
        )
    return optimizer


def build_model(config, per_epoch: int, precision: str, synchronized_bn: bool):
    """The compiled ``PixelLevelDomainTransfer`` of a configuration."""
    dtype = None if precision == "float32" else precision
    keras.utils.set_random_seed(config.seed)
    converter = networks.build_converter(config.width, synchronized_bn, dtype)
    real_fake = domain = None
    if model_lib.uses_real_fake(config.method):
        real_fake = networks.build_discriminator(
            "real_fake", config.width, synchronized_bn, dtype
        )
    if model_lib.uses_domain(config.method):
        domain = networks.build_discriminator(
            "domain", config.width, synchronized_bn, dtype
        )
    model = model_lib.PixelLevelDomainTransfer(
        converter,
        real_fake,
        domain,
        method=config.method,
        selection=config.selection,
        converter_loss=config.converter_loss,
        seed=config.seed,
    )
    schedule = learning_rate_schedule(config, per_epoch)
    model.compile(
        make_optimizer(config, schedule, precision, "converter_optimizer"),
        make_optimizer(config, schedule, precision, "real_fake_optimizer")
        if real_fake
        else None,
        make_optimizer(config, schedule, precision, "domain_optimizer")
        if domain
        else None,
        jit_compile=config.jit_compile,
    )
    return model


# --------------------------------------------------------------------------
# The run.


@dataclasses.dataclass
class TrainResult:
    workdir: str
    steps: int
    final_samples: str
    checkpoint: str | None
    health_violations: int
    validation: dict
    seconds: float


def _sample_batch(config, split: str) -> dict:
    dataset = pipeline.triplet_dataset(
        config.records_dir,
        split,
        config.num_samples,
        training=False,
        options=pipeline.PipelineOptions(direction=config.direction),
    )
    batch = next(iter(dataset))
    return {k: batch[k].numpy() for k in ("source", "target")}


def _write_config(config) -> None:
    os.makedirs(config.workdir, exist_ok=True)
    with open(os.path.join(config.workdir, "config.json"), "w") as file:
        file.write(config.to_json() + "\n")


def _restore(config, checkpoint) -> None:
    latest = tf.train.latest_checkpoint(os.path.join(config.workdir, "checkpoints"))
    if not latest or not config.resume:
        if latest:
            raise ValueError(
                f"{config.workdir!r} already holds checkpoints ({latest}) and "
                "--noresume was given: choose a new --workdir or drop --noresume."
            )
        return
    try:
        checkpoint.restore(latest).assert_existing_objects_matched()
    except (ValueError, AssertionError) as error:
        raise ValueError(
            f"{latest} does not fit the model these flags build ({error}). "
            "Flags that change the networks or optimizers (--width, --method, "
            "--optimizer, --precision, --direction) must stay as in "
            f"{os.path.join(config.workdir, 'config.json')}; or train into a "
            "new --workdir."
        ) from None
    logging.info("Resumed from %s", latest)
    print(f"Resuming from {latest}", flush=True)


def train(config: config_lib.TrainConfig) -> TrainResult:
    """Trains per ``config`` into ``config.workdir``; resumable at any point."""
    config_lib.validate(config)
    start = time.time()
    strategy = make_strategy(config.distribute)  # first, see make_strategy
    chief = is_chief(strategy)
    multi_worker = isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
    if multi_worker and not config_lib.records_available(config):
        raise ValueError(
            f"--records_dir={config.records_dir!r} holds no records: under "
            "multi-worker training every worker reads them, so build them "
            "first (tools/build_tfrecords.py, or one single-process run)."
        )
    manifest = prepare_data(config)
    per_epoch = steps_per_epoch(config, manifest)
    precision = resolve_precision(config.precision)
    synchronized = strategy.num_replicas_in_sync > 1
    print(
        f"{type(strategy).__name__}: replicas={strategy.num_replicas_in_sync}"
        + ("" if chief else " (not the chief: writes nothing to the workdir)"),
        flush=True,
    )
    # Every worker runs the callbacks (saving involves all of them), but only
    # the chief writes the workdir; the others write a scratch folder that is
    # removed at the end (TensorFlow's multi-worker checkpointing pattern).
    output_dir = config.workdir if chief else tempfile.mkdtemp(prefix="pldt_worker_")
    if chief:
        _write_config(config)
    with strategy.scope():
        model = build_model(config, per_epoch, precision, synchronized)
    checkpoint = tf.train.Checkpoint(model=model)
    manager = tf.train.CheckpointManager(
        checkpoint, os.path.join(output_dir, "checkpoints"), config.keep_checkpoints
    )
    _restore(config, checkpoint)
    step = int(model.converter_optimizer.iterations.numpy())
    total = config.epochs * per_epoch
    logging.info(
        "precision=%s replicas=%d steps/epoch=%d step=%d of %d",
        precision,
        strategy.num_replicas_in_sync,
        per_epoch,
        step,
        total,
    )
    triplets = pipeline.triplet_dataset(
        config.records_dir,
        "train",
        config.batch_size,
        training=True,
        options=pipeline.PipelineOptions(
            direction=config.direction,
            negatives=config.negatives,
            hard_negatives=config.hard_negatives,
            hard_negative_pool=config.hard_negative_pool,
            seed=config.seed,
        ),
    )
    # Under a multi-worker strategy each worker keeps its part of every global
    # batch (sharding by file would give workers unequal shards).
    shard = tf.data.Options()
    shard.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.DATA
    )
    triplets = triplets.with_options(shard)
    validation = pipeline.triplet_dataset(
        config.records_dir,
        "validation",
        64,
        training=False,
        options=pipeline.PipelineOptions(direction=config.direction),
    )
    writer = tf.summary.create_file_writer(os.path.join(output_dir, "logs"))
    health = callbacks.TrainingHealth()
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
    history: dict[str, list] = {}
    epoch = step // per_epoch
    if step % per_epoch and step < total:  # finish the interrupted epoch first
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
    final = _final_samples(config, model, output_dir)
    if history.get("val_rmse"):  # SampleGrids scored the last epoch already
        scores = {"rmse": history["val_rmse"][-1], "c_ssim": history["val_c_ssim"][-1]}
    else:
        scores = callbacks.evaluate_pixels(model.converter, validation)
    with open(os.path.join(output_dir, "train_summary.json"), "w") as file:
        json.dump(
            {
                "steps": int(model.converter_optimizer.iterations.numpy()),
                "validation": scores,
                "health_violations": health.violations,
                "history": {k: [float(x) for x in v] for k, v in history.items()},
            },
            file,
            indent=1,
        )
    latest = tf.train.latest_checkpoint(os.path.join(config.workdir, "checkpoints"))
    if not chief:
        shutil.rmtree(output_dir, ignore_errors=True)
    return TrainResult(
        workdir=config.workdir,
        steps=int(model.converter_optimizer.iterations.numpy()),
        final_samples=os.path.join(config.workdir, os.path.basename(final)),
        checkpoint=latest,
        health_violations=health.violations,
        validation=scores,
        seconds=time.time() - start,
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


def load_config(workdir: str) -> config_lib.TrainConfig:
    """The resolved configuration a training workdir was trained with."""
    path = os.path.join(workdir, "config.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"{path!r} not found: {workdir!r} is not a training workdir "
            "(python -m pldt_tf.train writes one)."
        )
    with open(path) as file:
        values = json.load(file)
    known = {field.name for field in dataclasses.fields(config_lib.TrainConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(
            f"{path!r} has settings this version does not know ({unknown}): it "
            "was written by another version of pldt_tf; retrain into a new "
            "--workdir or use the version that wrote it."
        )
    return config_lib.TrainConfig(**values)


def load_model_and_step(
    workdir: str, checkpoint: str | None = None
) -> tuple[model_lib.PixelLevelDomainTransfer, int]:
    """The trained model of a workdir (latest or named checkpoint: converter
    and discriminators) and the training step it was saved at."""
    config = load_config(workdir)
    model = build_model(config, 1, "float32", synchronized_bn=False)
    restorer = tf.train.Checkpoint(model=model)
    if checkpoint is None:
        checkpoint = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
    if checkpoint is None:
        raise FileNotFoundError(
            f"No checkpoint in {os.path.join(workdir, 'checkpoints')!r}."
        )
    restorer.restore(checkpoint).expect_partial()
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
