"""Folders that appear complete or not at all.

On a local filesystem, data folders (a synthetic LookBook, a records
folder, an export version) are written under a temporary name beside their
final place and renamed into it at the end, so an interrupted run never
leaves a folder a reader would take as complete, and an existing folder is
only replaced once its successor is whole.

An object store (``gs://``, any ``storage.is_url`` path) cannot rename a
folder in one step. There the folder is written in place and its writer
writes the folder's *completion marker* (``dataset.json`` for records,
``saved_model.pb`` for a SavedModel) last; readers refuse a folder without
its marker. ``overwrite`` deletes the old folder's marker, then the old
folder, before writing: the old folder is gone from that moment.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from collections.abc import Iterator

from pldt_tf import errors, storage


def check_absent(output_dir: str, overwrite: bool) -> None:
    """Raises ``FileExistsError`` for an existing folder unless ``overwrite``."""
    if storage.exists(output_dir) and not overwrite:
        raise errors.OutputExistsError(
            f"{output_dir!r} already exists. Pass --overwrite to replace it (the "
            "old folder stays intact until the new one is complete), or choose "
            "another destination."
        )


def remove_leftovers(parent: str, name: str) -> list[str]:
    """Deletes the temporary folders that a killed build of ``name`` left in
    ``parent`` (``.<name>.tmp-*``): never complete, never read, only litter.
    Returns their paths (none on an object store, where none are made)."""
    if storage.is_url(parent):
        return []
    leftovers = sorted(glob.glob(os.path.join(glob.escape(parent), f".{name}.tmp-*")))
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)
    return leftovers


@contextlib.contextmanager
def atomic_folder(
    output_dir: str, overwrite: bool = False, marker: str | None = None
) -> Iterator[str]:
    """Yields a temporary folder that becomes ``output_dir`` on success.

    Args:
      output_dir: The folder to create.
      overwrite: Replace an existing ``output_dir``; otherwise raise
        ``FileExistsError`` before anything is written.
      marker: The file the caller writes last, which readers require (on an
        object store, the only sign that the folder is whole).

    On an exception the temporary folder is deleted and ``output_dir`` is left
    as it was. On an object store the yielded folder is ``output_dir``
    itself (see the module docstring).
    """
    if not storage.renames_atomically(output_dir):
        yield from _in_place(storage.absolute(output_dir), overwrite, marker)
        return
    output_dir = os.path.abspath(output_dir)
    check_absent(output_dir, overwrite)
    parent, name = os.path.split(output_dir)
    os.makedirs(parent, exist_ok=True)
    remove_leftovers(parent, name)
    tmp_dir = tempfile.mkdtemp(dir=parent, prefix=f".{name}.tmp-")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_dir, 0o777 & ~umask)  # mkdtemp makes it private (0700)
    try:
        yield tmp_dir
        if os.path.exists(output_dir):
            old = f"{tmp_dir}.old"
            os.rename(output_dir, old)
            os.rename(tmp_dir, output_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp_dir, output_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise


def _in_place(output_dir: str, overwrite: bool, marker: str | None) -> Iterator[str]:
    """``atomic_folder`` on an object store: an old folder loses its marker
    first (readers refuse it from then on), then the rest; the caller writes
    the new folder's marker last, and a write that fails or leaves no marker
    is deleted."""
    check_absent(output_dir, overwrite)
    if storage.exists(output_dir):
        if marker and storage.exists(os.path.join(output_dir, marker)):
            storage.remove(os.path.join(output_dir, marker))
        storage.rmtree(output_dir)
    storage.makedirs(output_dir)
    try:
        yield output_dir
        if marker and not storage.exists(os.path.join(output_dir, marker)):
            raise RuntimeError(f"{output_dir} was written without its marker {marker}")
    except BaseException:
        storage.rmtree(output_dir)
        raise
