r"""Trains Pixel-Level Domain Transfer.

  python -m pldt_tf.train --flagfile=configs/demo.flags [--workdir=...]

Every flag is documented in --helpfull. On a fresh machine the demo config
generates the synthetic LookBook and its TFRecords first; with
--pairs_csv=... --records_dir=... the records of your own data are built
first (docs/data.md).
"""

from __future__ import annotations

import os

from absl import app, flags

from pldt_tf import cli, losses, storage
from pldt_tf import config as config_lib
from pldt_tf.data import pipeline, synthetic
from pldt_tf.training import fit

_D = config_lib.TrainConfig  # defaults come from the dataclass

# Data.
flags.DEFINE_string("workdir", None, "Folder for checkpoints, logs and samples.")
flags.DEFINE_string(
    "records_dir",
    _D.records_dir,
    "TFRecords folder (built here if missing; name one with --pairs_csv).",
)
cli.define_pairs_source()
flags.DEFINE_string(
    "lookbook_dir",
    _D.lookbook_dir,
    "LookBook-layout folder to build --records_dir from when it is missing "
    "(not used with --pairs_csv).",
)
flags.DEFINE_integer(
    "synthetic_products",
    _D.synthetic_products,
    "If > 0 and --lookbook_dir is missing, generate the synthetic LookBook with "
    "this many products there (the embedded default). An existing synthetic "
    "folder must have been drawn with the same --synthetic_* and --data_seed "
    "flags (its synthetic.json says), or training stops and says so.",
)
flags.DEFINE_enum(
    "synthetic_variation",
    _D.synthetic_variation,
    list(synthetic.VARIATIONS),
    "Product-shot variation of a generated synthetic set.",
)
flags.DEFINE_list(
    "synthetic_colors",
    list(_D.synthetic_colors),
    "Primary colours a generated synthetic set draws from (empty: all 12). "
    "One colour and --synthetic_patterns=solid leave the category as the only "
    "attribute (configs/category_only.flags, docs/research/category.md).",
)
flags.DEFINE_list(
    "synthetic_patterns",
    list(_D.synthetic_patterns),
    "Patterns a generated synthetic set draws from (empty: all 6).",
)
flags.DEFINE_integer("data_seed", _D.data_seed, "Seed of data generation and split.")
# Method.
cli.define_method(_D.method)
cli.define_selection(_D.selection)
flags.DEFINE_enum(
    "converter_loss",
    _D.converter_loss,
    list(losses.CONVERTER_LOSSES),
    "non_saturating: -log D(G); minimax: log(1 - D(G)) (Eq. 6 literally).",
)
flags.DEFINE_enum(
    "pixel_loss",
    _D.pixel_loss,
    ["none", *losses.PIXEL_LOSSES],
    "Beyond the paper: adds --pixel_weight times a pixel loss between the "
    "drawing and the target (l1: mean |g - t|, mse: mean (g - t)^2, images in "
    "[-1, 1]) to an adversarial method's converter loss, as pix2pix does "
    "(Isola et al. 2017: l1, weight 100). none: the paper's losses. "
    "docs/research/pixel_loss.md.",
)
flags.DEFINE_float(
    "pixel_weight",
    _D.pixel_weight,
    "Weight of the --pixel_loss term (> 0 with a pixel loss; 0 without).",
)
flags.DEFINE_float(
    "feature_matching_weight",
    _D.feature_matching_weight,
    "Beyond the paper: adds this weight times pix2pixHD's feature-matching "
    "term to the converter's loss -- the mean |D_k(drawing) - D_k(target)| of "
    "each discriminator's hidden layers k, summed over k, averaged over the "
    "discriminators (Wang et al. 2018: weight 10). 0: none. Needs "
    "--selection=per_case. docs/research/recipe.md.",
)
flags.DEFINE_enum(
    "direction", _D.direction, list(pipeline.DIRECTIONS), "Which domain is the source."
)
flags.DEFINE_enum(
    "negatives",
    _D.negatives,
    list(pipeline.NEGATIVE_MODES),
    "fresh: new unassociated targets every epoch; stored: those in the records.",
)
flags.DEFINE_float(
    "hard_negatives",
    _D.hard_negatives,
    "Share of fresh negatives drawn among the --hard_negative_pool products "
    "closest in garment colour to the source's product (mostly same colour, "
    "other shape), so that D_A must look at the shape. Not the paper's "
    "sampling (0); see docs/research/selection.md.",
)
flags.DEFINE_integer(
    "hard_negative_pool",
    _D.hard_negative_pool,
    "Closest products (by garment colour histogram) a hard negative is drawn from.",
)
# Model and schedule.
flags.DEFINE_float("width", _D.width, "Hidden-channel multiplier (paper: 1).")
cli.define_upsampling(_D.upsampling)
flags.DEFINE_integer("batch_size", _D.batch_size, "Global batch size (paper: 128).")
flags.DEFINE_integer("epochs", _D.epochs, "Total epochs (paper: 25 + 5 = 30).")
flags.DEFINE_integer(
    "decay_epochs", _D.decay_epochs, "Last epochs at learning_rate / 10 (paper: 5)."
)
flags.DEFINE_integer(
    "steps_per_epoch",
    _D.steps_per_epoch,
    "Steps per epoch; unset: one pass over the training triplets.",
)
flags.DEFINE_enum(
    "optimizer", _D.optimizer, list(config_lib.OPTIMIZERS), "Per network."
)
flags.DEFINE_float("learning_rate", _D.learning_rate, "Initial learning rate.")
flags.DEFINE_float(
    "discriminator_learning_rate",
    _D.discriminator_learning_rate,
    "Beyond the paper: the discriminators' initial learning rate, decayed as "
    "--learning_rate is (a two time-scale update, Heusel et al. 2017). "
    "Unset: --learning_rate for every network, as in the paper.",
)
flags.DEFINE_float("beta_1", _D.beta_1, "Adam beta_1 (DCGAN: 0.5).")
flags.DEFINE_float("momentum", _D.momentum, "SGD momentum (the paper's text: 0.5).")
cli.define_precision(_D.precision)
flags.DEFINE_bool("jit_compile", _D.jit_compile, "Compile the step with XLA.")
flags.DEFINE_enum(
    "distribute",
    _D.distribute,
    list(config_lib.DISTRIBUTIONS),
    "auto: MultiWorkerMirroredStrategy when TF_CONFIG names several workers "
    "(docs/training.md#several-machines), else MirroredStrategy when there are several "
    "GPUs. multi_worker: from TF_CONFIG. none: one device.",
)
flags.DEFINE_integer("seed", _D.seed, "Seed of weights, shuffling and case draws.")
# Workdir.
flags.DEFINE_integer(
    "checkpoint_every_steps", _D.checkpoint_every_steps, "Also at every epoch end."
)
flags.DEFINE_integer("keep_checkpoints", _D.keep_checkpoints, "Checkpoints kept.")
flags.DEFINE_integer(
    "sample_every_steps", _D.sample_every_steps, "Sample-grid PNG + TensorBoard image."
)
flags.DEFINE_integer("num_samples", _D.num_samples, "Validation sources in the grids.")
flags.DEFINE_bool(
    "resume", _D.resume, "Continue from the workdir's last checkpoint if any."
)
flags.DEFINE_bool(
    "skip_nonfinite",
    _D.skip_nonfinite,
    "Skip steps with NaN/Inf gradients instead of stopping.",
)

FLAGS = flags.FLAGS


def config_from_flags() -> config_lib.TrainConfig:
    """Reads FLAGS once into the frozen configuration."""
    names = [f.name for f in config_lib.dataclasses.fields(config_lib.TrainConfig)]
    values = {name: getattr(FLAGS, name) for name in names if name in FLAGS}
    return config_lib.TrainConfig(**values)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if not FLAGS.workdir:
        raise app.UsageError("--workdir is required (or set it in the flagfile).")
    if FLAGS.pairs_csv and not FLAGS["records_dir"].present:
        raise app.UsageError(
            "--pairs_csv needs --records_dir: the folder to build its records "
            "in (the default holds the demo's records)."
        )
    result = fit.train(config_from_flags())
    trained = result.steps - result.first_step
    resumed = (
        f" (steps {result.first_step} to {result.steps})" if result.first_step else ""
    )
    print(
        f"\nTrained {trained} steps{resumed} in {result.seconds / 60:.1f} min.\n"
        f"  samples:     {storage.shown_path(result.final_samples)}\n"
        f"  checkpoint:  {result.checkpoint}\n"
        f"  TensorBoard: tensorboard --logdir={os.path.join(result.workdir, 'logs')}\n"
        f"  validation:  RMSE {result.validation['rmse']:.4f}, "
        f"C-SSIM {result.validation['c_ssim']:.4f}\n"
        f"  health:      {result.health_violations} batch-norm-exploit windows"
    )


if __name__ == "__main__":
    cli.run(main)
