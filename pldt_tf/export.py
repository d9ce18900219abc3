r"""Exports a trained converter as a SavedModel for TF Serving.

  python -m pldt_tf.export --workdir=workdirs/demo --export_dir=exports

writes exports/pldt/<version>/ (signatures: serving_default, transfer_uint8,
transfer_float; see pldt_tf/serving/export_lib.py and docs/serving.md). The
version is the next integer after the highest already there (1 for the
first), so versions only grow and TF Serving serves the newest export; the
training step and workdir are kept in the version's
assets.extra/pldt_tf.json.
"""

from __future__ import annotations

from absl import app, flags

from pldt_tf import cli, storage

_WORKDIR = flags.DEFINE_string("workdir", None, "Training workdir to export.")
_EXPORT_DIR = flags.DEFINE_string("export_dir", "exports", "TF Serving model base.")
_MODEL_NAME = flags.DEFINE_string("model_name", "pldt", "Model name (sub-folder).")
_CHECKPOINT = flags.DEFINE_string(
    "checkpoint", None, "A checkpoint path; default: the workdir's latest."
)
_VERSION = flags.DEFINE_integer(
    "version",
    None,
    "Version folder; default: the next integer after the highest present "
    "(TF Serving serves the highest).",
    lower_bound=0,
)
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace an existing version.")

_MAX_PIXELS, _MAX_REQUEST_PIXELS = cli.define_pixel_limits(
    "refused by serving_default before decoding", request=True
)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    from pldt_tf.serving import export_lib
    from pldt_tf.training import workdir as workdir_lib

    converter, step = workdir_lib.load_converter_and_step(
        _WORKDIR.value, _CHECKPOINT.value
    )
    version = _VERSION.value
    if version is None:
        version = export_lib.next_version(_EXPORT_DIR.value, _MODEL_NAME.value)
    path = export_lib.export(
        converter,
        _EXPORT_DIR.value,
        _MODEL_NAME.value,
        version,
        _OVERWRITE.value,
        _MAX_PIXELS.value,
        _MAX_REQUEST_PIXELS.value,
        metadata={
            "step": step,
            "workdir": storage.absolute(_WORKDIR.value),
            "checkpoint": _CHECKPOINT.value or "latest",
        },
    )
    print(f"Exported {_WORKDIR.value} (step {step}) to {path}")


def run() -> None:
    """The ``pldt-export`` console script (``python -m pldt_tf.export``)."""
    flags.mark_flags_as_required(["workdir"])
    cli.run(main)


if __name__ == "__main__":
    run()
