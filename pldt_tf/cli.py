"""What every command line of the project shares: the flags that name a
method, a selection and a precision (defined here once, with one help text),
and how a tool ends on a user's mistake.

Importing this module loads TensorFlow (the choices live beside the code
that implements them).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from typing import NoReturn

from absl import app, flags

# Before TensorFlow loads (next import): hide the C++ runtime's INFO lines
# (CPU-feature and oneDNN notices) unless the user chose a level.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

from pldt_tf import config as config_lib  # noqa: E402
from pldt_tf import (
    errors,  # noqa: E402
    networks,  # noqa: E402
)
from pldt_tf import model as model_lib  # noqa: E402

METHOD_HELP = (
    "Paper Table 2 method: "
    + ", ".join(
        f"{name} ({method.summary})" for name, method in model_lib.METHODS.items()
    )
    + "."
)
SELECTION_HELP = (
    "per_case: associated / unassociated / generated each as a pure batch; "
    "per_sample: the paper's Algorithm 1 mixed batch; joint: every case of "
    "every sample through each discriminator as one batch "
    "(docs/research/selection.md)."
)
PRECISION_HELP = (
    "auto: mixed_bfloat16 on GPUs with bf16, mixed_float16 on older GPUs, "
    "float32 on CPU."
)


def define_method(default: str = "c_rf_dd") -> flags.FlagHolder:
    return flags.DEFINE_enum("method", default, list(model_lib.METHODS), METHOD_HELP)


def define_selection(default: str = "per_case") -> flags.FlagHolder:
    return flags.DEFINE_enum(
        "selection", default, list(model_lib.SELECTIONS), SELECTION_HELP
    )


UPSAMPLING_HELP = (
    "The decoder's x2 layers: transposed5 (the paper's 5x5 fractionally "
    "strided convolutions), transposed4 (4x4 kernels, which stride 2 divides) "
    "or resize_conv (nearest-neighbour x2, then a 5x5 convolution; the same "
    "parameters, 4x the decoder's multiply-adds; docs/research/upsampling.md)."
)


def define_upsampling(default: str = "transposed5") -> flags.FlagHolder:
    return flags.DEFINE_enum(
        "upsampling", default, list(networks.UPSAMPLINGS), UPSAMPLING_HELP
    )


def define_precision(default: str = "auto") -> flags.FlagHolder:
    return flags.DEFINE_enum(
        "precision", default, list(config_lib.PRECISIONS), PRECISION_HELP
    )


def define_pixel_limits(what: str, request: bool = False) -> tuple:
    """``--max_pixels`` (and ``--max_request_pixels`` with ``request``): the
    decoded-pixel budgets, with the same default and meaning wherever images
    come in (ingestion, the SavedModel, the server). ``what`` says what this
    tool does with an image over the limit."""
    from pldt_tf.serving import export_lib

    holders = [
        flags.DEFINE_integer(
            "max_pixels",
            export_lib.DEFAULT_MAX_PIXELS,
            f"An image with more pixels (width x height, read from its header) "
            f"is {what}.",
            lower_bound=1,
        )
    ]
    if request:
        holders.append(
            flags.DEFINE_integer(
                "max_request_pixels",
                export_lib.DEFAULT_MAX_REQUEST_PIXELS,
                f"A request whose images declare more pixels together is {what}.",
                lower_bound=1,
            )
        )
    return tuple(holders)


def define_pairs_source() -> tuple[flags.FlagHolder, flags.FlagHolder]:
    """``--pairs_csv`` and ``--allow_outside_paths``, as every tool that
    builds records from a pairs manifest names them."""
    pairs_csv = flags.DEFINE_string(
        "pairs_csv",
        "",
        "Pairs manifest: a CSV with the columns photo, product_id, "
        "product_image and any attribute columns, paths relative to its folder "
        "(docs/data.md#your-own-data-a-pairs-manifest). Write one from "
        "products/<id>.jpg + photos/<id>/*.jpg folders with "
        "tools/folders_to_pairs.py.",
    )
    allow_outside = flags.DEFINE_bool(
        "allow_outside_paths",
        False,
        "Let --pairs_csv name absolute paths and paths leading outside its "
        "folder (through '..' or a symbolic link); off, such cells are "
        "skipped and listed in dataset.json.",
    )
    return pairs_csv, allow_outside


def define_precisions(default: list[str]) -> flags.FlagHolder:
    """``--precisions``: a comma-separated list, for tools that compare them."""
    holder = flags.DEFINE_list(
        "precisions", default, "Comma-separated; each one of: " + PRECISION_HELP
    )
    flags.register_validator(
        "precisions",
        lambda values: set(values) <= set(config_lib.PRECISIONS),
        message=f"--precisions: each must be one of {list(config_lib.PRECISIONS)}.",
    )
    return holder


def tool_command(module: str, **flag_values) -> list[str]:
    """``python -m <module> --name=value ...`` with this interpreter: how one
    tool starts another in a subprocess (the benchmark's memory runs,
    tools/table3.py, the tests)."""
    flags_given = [f"--{name}={value}" for name, value in flag_values.items()]
    return [sys.executable, "-m", module, *flags_given]


def _one_line(error: Exception) -> NoReturn:
    print(f"error: {error}", file=sys.stderr, flush=True)
    sys.exit(2)


def parse_flags(argv: list[str]) -> list[str]:
    """absl's flag parsing, but a bad flag value (an unknown choice, a
    number out of bounds, a missing flag file) ends in one line and exit
    status 2, as ``run`` ends on a ``UserError``."""
    try:
        return flags.FLAGS(argv)
    except flags.Error as error:
        _one_line(error)


def guarded(main: Callable[[list[str]], object]) -> Callable[[list[str]], object]:
    """``main``, ending on a ``UserError`` (a ``ValueError`` that names the
    fix) or ``UsageError`` with one line on stderr and exit status 2 instead
    of a traceback."""

    def run_main(argv):
        try:
            return main(argv)
        except (errors.UserError, app.UsageError) as error:
            _one_line(error)

    return run_main


def run(main: Callable[[list[str]], object]) -> None:
    """``absl.app.run(main)`` where every mistake of the user's — a bad flag
    value or a ``UserError`` — ends in one line and exit status 2."""
    # --help lists the key flags of sys.argv[0]: under a console script
    # (pldt-train) that is the script, so name the tool's own flags there.
    for module in {main.__module__, __name__}:
        for flag in flags.FLAGS.get_key_flags_for_module(module):
            flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)
    try:
        app.run(guarded(main), flags_parser=parse_flags)
    except SystemExit as stop:
        # absl exits with status 1 after printing the help it was asked for.
        asked = {"--help", "-h", "-?", "--helpshort", "--helpfull", "--helpxml"}
        if stop.code == 1 and asked & set(sys.argv[1:]):
            sys.exit(0)
        raise


def define_training_flags() -> None:
    """Defines every flag of ``python -m pldt_tf.train``, one per field of
    ``config.TrainConfig`` (its defaults), so that any tool can read a
    training flag file (``python -m pldt_tf.benchmark --flagfile=...``)."""
    from pldt_tf import losses
    from pldt_tf.data import pipeline, synthetic

    default = config_lib.TrainConfig  # defaults come from the dataclass

    # Data.
    flags.DEFINE_string("workdir", None, "Folder for checkpoints, logs and samples.")
    flags.DEFINE_string(
        "records_dir",
        default.records_dir,
        "TFRecords folder (built here if missing; name one with --pairs_csv).",
    )
    define_pairs_source()
    flags.DEFINE_string(
        "lookbook_dir",
        default.lookbook_dir,
        "LookBook-layout folder to build --records_dir from when it is missing "
        "(not used with --pairs_csv).",
    )
    flags.DEFINE_integer(
        "synthetic_products",
        default.synthetic_products,
        "If > 0 and --lookbook_dir is missing, generate the synthetic LookBook with "
        "this many products there (the embedded default). An existing synthetic "
        "folder must have been drawn with the same --synthetic_* and --data_seed "
        "flags (its synthetic.json says), or training stops and says so.",
    )
    flags.DEFINE_enum(
        "synthetic_variation",
        default.synthetic_variation,
        list(synthetic.VARIATIONS),
        "Product-shot variation of a generated synthetic set.",
    )
    flags.DEFINE_list(
        "synthetic_colors",
        list(default.synthetic_colors),
        "Primary colours a generated synthetic set draws from (empty: all 12). "
        "One colour and --synthetic_patterns=solid leave the category as the only "
        "attribute (configs/category_only.flags, docs/research/category.md).",
    )
    flags.DEFINE_list(
        "synthetic_patterns",
        list(default.synthetic_patterns),
        "Patterns a generated synthetic set draws from (empty: all 6).",
    )
    flags.DEFINE_integer(
        "data_seed", default.data_seed, "Seed of data generation and split."
    )
    # Method.
    define_method(default.method)
    define_selection(default.selection)
    flags.DEFINE_enum(
        "converter_loss",
        default.converter_loss,
        list(losses.CONVERTER_LOSSES),
        "non_saturating: -log D(G); minimax: log(1 - D(G)) (Eq. 6 literally).",
    )
    flags.DEFINE_enum(
        "pixel_loss",
        default.pixel_loss,
        ["none", *losses.PIXEL_LOSSES],
        "Beyond the paper: adds --pixel_weight times a pixel loss between the "
        "drawing and the target (l1: mean |g - t|, mse: mean (g - t)^2, images in "
        "[-1, 1]) to an adversarial method's converter loss, as pix2pix does "
        "(Isola et al. 2017: l1, weight 100). none: the paper's losses. "
        "docs/research/pixel_loss.md.",
    )
    flags.DEFINE_float(
        "pixel_weight",
        default.pixel_weight,
        "Weight of the --pixel_loss term (> 0 with a pixel loss; 0 without).",
    )
    flags.DEFINE_float(
        "feature_matching_weight",
        default.feature_matching_weight,
        "Beyond the paper: adds this weight times pix2pixHD's feature-matching "
        "term to the converter's loss -- the mean |D_k(drawing) - D_k(target)| of "
        "each discriminator's hidden layers k, summed over k, averaged over the "
        "discriminators (Wang et al. 2018: weight 10). 0: none. Needs "
        "--selection=per_case. docs/research/recipe.md.",
    )
    flags.DEFINE_enum(
        "direction",
        default.direction,
        list(pipeline.DIRECTIONS),
        "Which domain is the source.",
    )
    flags.DEFINE_enum(
        "negatives",
        default.negatives,
        list(pipeline.NEGATIVE_MODES),
        "fresh: new unassociated targets every epoch; stored: those in the records.",
    )
    flags.DEFINE_float(
        "hard_negatives",
        default.hard_negatives,
        "Share of fresh negatives drawn among the --hard_negative_pool products "
        "closest in garment colour to the source's product (mostly same colour, "
        "other shape), so that D_A must look at the shape. Not the paper's "
        "sampling (0); see docs/research/selection.md.",
    )
    flags.DEFINE_integer(
        "hard_negative_pool",
        default.hard_negative_pool,
        "Closest products (by garment colour histogram) a hard negative is drawn from.",
    )
    # Model and schedule.
    flags.DEFINE_float("width", default.width, "Hidden-channel multiplier (paper: 1).")
    define_upsampling(default.upsampling)
    flags.DEFINE_integer(
        "batch_size", default.batch_size, "Global batch size (paper: 128)."
    )
    flags.DEFINE_integer("epochs", default.epochs, "Total epochs (paper: 25 + 5 = 30).")
    flags.DEFINE_integer(
        "decay_epochs",
        default.decay_epochs,
        "Last epochs at learning_rate / 10 (paper: 5).",
    )
    flags.DEFINE_integer(
        "steps_per_epoch",
        default.steps_per_epoch,
        "Steps per epoch; unset: one pass over the training triplets.",
    )
    flags.DEFINE_enum(
        "optimizer", default.optimizer, list(config_lib.OPTIMIZERS), "Per network."
    )
    flags.DEFINE_float("learning_rate", default.learning_rate, "Initial learning rate.")
    flags.DEFINE_float(
        "discriminator_learning_rate",
        default.discriminator_learning_rate,
        "Beyond the paper: the discriminators' initial learning rate, decayed as "
        "--learning_rate is (a two time-scale update, Heusel et al. 2017). "
        "Unset: --learning_rate for every network, as in the paper.",
    )
    flags.DEFINE_float("beta_1", default.beta_1, "Adam beta_1 (DCGAN: 0.5).")
    flags.DEFINE_float(
        "momentum", default.momentum, "SGD momentum (the paper's text: 0.5)."
    )
    define_precision(default.precision)
    flags.DEFINE_bool("jit_compile", default.jit_compile, "Compile the step with XLA.")
    flags.DEFINE_enum(
        "distribute",
        default.distribute,
        list(config_lib.DISTRIBUTIONS),
        "auto: MultiWorkerMirroredStrategy when TF_CONFIG names several "
        "workers (docs/training.md#several-machines), else MirroredStrategy "
        "when there are several GPUs. multi_worker: from TF_CONFIG. none: one "
        "device.",
    )
    flags.DEFINE_integer(
        "seed", default.seed, "Seed of weights, shuffling and case draws."
    )
    # Workdir.
    flags.DEFINE_integer(
        "checkpoint_every_steps",
        default.checkpoint_every_steps,
        "Also at every epoch end.",
    )
    flags.DEFINE_integer(
        "keep_checkpoints", default.keep_checkpoints, "Checkpoints kept."
    )
    flags.DEFINE_integer(
        "sample_every_steps",
        default.sample_every_steps,
        "Sample-grid PNG + TensorBoard image.",
    )
    flags.DEFINE_integer(
        "num_samples", default.num_samples, "Validation sources in the grids."
    )
    flags.DEFINE_bool(
        "resume", default.resume, "Continue from the workdir's last checkpoint if any."
    )
    flags.DEFINE_bool(
        "skip_nonfinite",
        default.skip_nonfinite,
        "Skip steps with NaN/Inf gradients instead of stopping.",
    )


def training_config() -> config_lib.TrainConfig:
    """Reads the flags of ``define_training_flags`` once into the frozen
    configuration."""
    names = [f.name for f in dataclasses.fields(config_lib.TrainConfig)]
    values = {name: getattr(flags.FLAGS, name) for name in names if name in flags.FLAGS}
    return config_lib.TrainConfig(**values)
