r"""Draws the product for each photo with a trained converter.

  python -m pldt_tf.transfer --model=exports/pldt --input=photos/ --output=out/

--model: an export (SavedModel or TF Serving base) or a training workdir.
--input: an image, a folder or a glob. Writes <output>/<name>.png per input;
unreadable inputs are reported and skipped, existing outputs kept unless
--overwrite.
"""

from __future__ import annotations

import os

from absl import app, flags

from pldt_tf import cli

_MODEL = flags.DEFINE_string("model", None, "Export folder or training workdir.")
_INPUT = flags.DEFINE_string("input", None, "Image file, folder, or glob.")
_OUTPUT = flags.DEFINE_string("output", None, "Folder for the generated PNGs.")
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 32, "Images per batch.", lower_bound=1)
_OVERWRITE = flags.DEFINE_bool("overwrite", False, "Replace existing outputs.")
_SHEET = flags.DEFINE_bool(
    "sheet", False, "Also write <output>/sheet.png: input | output side by side."
)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    import keras

    from pldt_tf import visualize
    from pldt_tf.serving import inference

    try:
        paths = inference.list_inputs(_INPUT.value)
        transfer = inference.load_transfer_fn(_MODEL.value)
    except FileNotFoundError as error:
        raise app.UsageError(str(error)) from None
    bar = keras.utils.Progbar(len(paths), unit_name="image") if len(paths) > 1 else None
    report, pairs = inference.transfer_files(
        transfer,
        paths,
        _OUTPUT.value,
        _BATCH_SIZE.value,
        _OVERWRITE.value,
        progress=bar.update if bar else None,
    )
    if _SHEET.value and pairs:
        visualize.save_png(
            os.path.join(_OUTPUT.value, "sheet.png"), inference.side_by_side(pairs)
        )
    print(
        f"Wrote {len(report.written)} images to {_OUTPUT.value}; kept "
        f"{len(report.existing)} existing (use --overwrite); "
        f"{len(report.failed)} unreadable."
    )
    for path, reason in report.failed:
        print(f"  skipped {path}: {reason}")
    if report.failed and not report.written and not report.existing:
        raise SystemExit(1)


def run() -> None:
    """The ``pldt-transfer`` console script (``python -m pldt_tf.transfer``)."""
    flags.mark_flags_as_required(["model", "input", "output"])
    cli.run(main)


if __name__ == "__main__":
    run()
