"""Running a trained converter on image files: model loading, batching,
writing, for ``python -m pldt_tf.transfer``.

A model is a SavedModel folder (``saved_model.pb``), a TF Serving model base
(``<name>/<version>/``: the highest version is used), or a training workdir
(its latest checkpoint, wrapped in the same serving module as an export).
Photos are read with the training data path (``preprocess``: EXIF, colour
modes, resize and pad), so the CLI sees exactly what training saw.
"""

from __future__ import annotations

import dataclasses
import glob
import os
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

from pldt_tf import errors, faults, storage, visualize
from pldt_tf.data import preprocess
from pldt_tf.serving import export_lib

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")

SAVED_MODEL_FILE = export_lib.SAVED_MODEL_FILE

TransferFn = Callable[[np.ndarray], np.ndarray]  # uint8 [N,64,64,3] → same


def find_saved_model(path: str) -> str:
    """The SavedModel folder at ``path``, or its highest integer version."""
    if not storage.exists(path):
        raise errors.MissingInputError(
            f"--model={path!r} does not exist: pass an export (python -m "
            "pldt_tf.export writes one) or a training workdir."
        )
    # saved_model.pb is written last: a version folder without it is not
    # complete (an export still being written to an object store).
    if storage.isfile(os.path.join(path, SAVED_MODEL_FILE)):
        return path
    versions = [
        int(name)
        for name in (storage.listdir(path) if storage.isdir(path) else [])
        if name.isdigit() and storage.isfile(os.path.join(path, name, SAVED_MODEL_FILE))
    ]
    if not versions:
        raise errors.MissingInputError(
            f"{path!r} holds no complete SavedModel (saved_model.pb, written "
            "last) and no version folder with one: export one with python -m "
            "pldt_tf.export (or wait for the export being written), or pass a "
            "training workdir."
        )
    return os.path.join(path, str(max(versions)))


def load_saved_model(path: str):
    """``tf.saved_model.load``; a SavedModel whose files are cut short or
    damaged is a one-line error naming the folder and the fix."""
    try:
        return tf.saved_model.load(path)
    except (OSError, ValueError, *faults.DAMAGED_CHECKPOINT) as error:
        try:
            workdir = export_lib.read_metadata(path).get("workdir", "WORKDIR")
        except errors.UserError:
            workdir = "WORKDIR"
        model_dir = storage.parent(storage.absolute(path))
        name = os.path.basename(model_dir)
        raise errors.UserError(
            f"the export {storage.shown_path(path)} is damaged "
            f"({faults.first_line(error)}): export it again from its training "
            f"workdir: python -m pldt_tf.export --workdir={storage.shown_path(workdir)}"
            f" --export_dir={storage.shown_path(storage.parent(model_dir))}"
            + ("" if name == "pldt" else f" --model_name={name}")
        ) from None


def load_signature(model: str, name: str) -> tuple[Callable, int]:
    """(signature ``name``, version) of an export (or its base folder, highest
    version) or of a training workdir (its latest checkpoint; the version is
    the training step). The signature takes ``images=`` and returns a dict."""
    if storage.isfile(os.path.join(model, "config.json")):
        from pldt_tf.training import workdir as workdir_lib

        converter, step = workdir_lib.load_converter_and_step(model)
        module = export_lib.ConverterModule(converter)
        method = getattr(module, name)

        def call_module(images):
            # A tf.function method holds its module weakly: keep it alive.
            return method(images=images) if module is not None else None

        return call_module, step
    path = find_saved_model(model)
    loaded = load_saved_model(path)
    signature = loaded.signatures[name]
    version = os.path.basename(os.path.normpath(path))

    def call(images):  # keeps `loaded`, which owns the variables, alive
        return signature(images=images) if loaded is not None else None

    return call, int(version) if version.isdigit() else 0


def load_transfer_fn(model: str) -> TransferFn:
    """A function from preprocessed uint8 [N, 64, 64, 3] to generated uint8."""
    signature, _ = load_signature(model, "transfer_float")

    def transfer(images: np.ndarray) -> np.ndarray:
        unit = preprocess.to_unit_range(tf.constant(images))
        generated = signature(images=unit)["image"]
        return preprocess.from_unit_range(generated).numpy()

    return transfer


def list_inputs(pattern: str) -> list[str]:
    """An image file, every image of a folder, or the files of a glob."""
    if storage.isdir(pattern):
        return [
            os.path.join(pattern, n)
            for n in storage.listdir(pattern)
            if n.lower().endswith(IMAGE_EXTENSIONS)
        ]
    if storage.isfile(pattern):
        return [pattern]
    glob_fn = tf.io.gfile.glob if storage.is_url(pattern) else glob.glob
    found = glob_fn(pattern)
    matches = sorted(p for p in found if storage.isfile(p))
    if not matches:
        raise errors.MissingInputError(
            f"--input={pattern!r} matches no file or folder."
        )
    return matches


@dataclasses.dataclass
class TransferReport:
    written: list[str] = dataclasses.field(default_factory=list)
    existing: list[str] = dataclasses.field(default_factory=list)
    failed: list[tuple[str, str]] = dataclasses.field(default_factory=list)


def output_path(output_dir: str, path: str) -> str:
    return os.path.join(
        output_dir, os.path.splitext(os.path.basename(path))[0] + ".png"
    )


def transfer_files(
    transfer: TransferFn,
    paths: Sequence[str],
    output_dir: str,
    batch_size: int = 32,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> tuple[TransferReport, list[tuple[np.ndarray, np.ndarray]]]:
    """Writes one generated PNG per readable input.

    Unreadable inputs are reported and skipped; existing outputs are kept
    unless ``overwrite``. Returns the report and (input, output) pairs of
    64×64 images for a side-by-side sheet.
    """
    storage.makedirs(output_dir)
    report, pairs, pending = TransferReport(), [], []

    def flush():
        if not pending:
            return
        generated = transfer(np.stack([pixels for _, pixels in pending]))
        for (path, pixels), image in zip(pending, generated, strict=True):
            visualize.save_png(output_path(output_dir, path), image)
            report.written.append(path)
            pairs.append((pixels, image))
        pending.clear()

    for count, path in enumerate(paths, start=1):
        target = output_path(output_dir, path)
        if storage.exists(target) and not overwrite:
            report.existing.append(path)
        else:
            decoded = preprocess.decode_image_file(path)
            if decoded.pixels is None:
                report.failed.append((path, decoded.reason))
            else:
                pending.append(
                    (path, preprocess.resize_and_pad(decoded.pixels).numpy())
                )
        if len(pending) >= batch_size:
            flush()
        if progress is not None:
            progress(count)
    flush()
    return report, pairs


def side_by_side(pairs: Sequence[tuple[np.ndarray, np.ndarray]], columns: int = 4):
    """input | output cells on white, as a uint8 array."""
    from pldt_tf import visualize

    inputs, outputs = zip(*pairs, strict=True)
    return visualize.grid([np.stack(inputs), np.stack(outputs)], columns=columns)
