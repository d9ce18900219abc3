"""What every command line of the project shares: the flags that name a
method, a selection and a precision (defined here once, with one help text),
and how a tool ends on a user's mistake.

Importing this module loads TensorFlow (the choices live beside the code
that implements them).
"""

from __future__ import annotations

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
    app.run(guarded(main), flags_parser=parse_flags)
