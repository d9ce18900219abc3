"""Files and folders wherever TensorFlow can reach them.

Every path a user gives — a records folder, a workdir, an export folder, a
LookBook folder, a pairs manifest — may be a local path or a URL of one of
TensorFlow's filesystems (``gs://bucket/...`` for Google Cloud Storage,
``ram://...`` in-process); these helpers reach both through ``tf.io.gfile``
and treat local paths exactly as ``os`` does.

Object stores cannot rename a folder in one step, so a folder meant to
appear whole (``pldt_tf.data.atomic``) is written in place there, its
completion marker last, and readers refuse a folder without its marker.
"""

from __future__ import annotations

import json
import os
import posixpath
from typing import Any

import tensorflow as tf

from pldt_tf import errors


def is_url(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a TensorFlow filesystem (``scheme://...``)."""
    return "://" in os.fspath(path)


def absolute(path: str) -> str:
    """An absolute local path, or the URL as given (normalised)."""
    if is_url(path):
        scheme, rest = path.split("://", 1)
        return f"{scheme}://{posixpath.normpath(rest)}" if rest else path
    return os.path.abspath(path)


def parent(path: str) -> str:
    return (
        posixpath.dirname(path.rstrip("/")) if is_url(path) else os.path.dirname(path)
    )


def shown_path(path: str) -> str:
    """A path as a message shows it: relative to the working folder when it
    lies inside it (what the user typed from there), absolute otherwise; a
    URL as it is."""
    if is_url(path):
        return path
    absolute_path = os.path.abspath(path)
    relative = os.path.relpath(absolute_path)
    return absolute_path if relative.startswith(os.pardir) else relative


def renames_atomically(path: str) -> bool:
    """Whether a folder at ``path`` can be renamed into place in one step
    (a local filesystem; not an object store)."""
    return not is_url(path)


def exists(path: str) -> bool:
    return tf.io.gfile.exists(path)


def isdir(path: str) -> bool:
    return tf.io.gfile.isdir(path)


def isfile(path: str) -> bool:
    return tf.io.gfile.exists(path) and not tf.io.gfile.isdir(path)


def makedirs(path: str) -> None:
    tf.io.gfile.makedirs(path)


def listdir(path: str) -> list[str]:
    """The entries of a folder, sorted, without trailing slashes."""
    return sorted(name.rstrip("/") for name in tf.io.gfile.listdir(path))


def rmtree(path: str) -> None:
    """Deletes a folder and everything in it, if it exists."""
    if tf.io.gfile.exists(path):
        tf.io.gfile.rmtree(path)


def remove(path: str) -> None:
    tf.io.gfile.remove(path)


def glob(pattern: str) -> list[str]:
    """The paths matching ``pattern``, sorted."""
    return sorted(tf.io.gfile.glob(pattern))


def rename(source: str, destination: str) -> None:
    """Moves a file; refuses to replace one."""
    tf.io.gfile.rename(source, destination, overwrite=False)


def open_file(path: str, mode: str = "r"):
    """A file object (``tf.io.gfile.GFile``) for ``open``'s modes."""
    return tf.io.gfile.GFile(path, mode)


def read_bytes(path: str) -> bytes:
    with open_file(path, "rb") as file:
        return file.read()


def read_text(path: str) -> str:
    return read_bytes(path).decode("utf-8")


def write_bytes(path: str, data: bytes) -> None:
    """Writes ``data`` to ``path``, making its folder if needed."""
    folder = parent(path)
    if folder:
        makedirs(folder)
    with open_file(path, "wb") as file:
        file.write(data)


def write_text(path: str, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def copy_folder(source: str, destination: str, last: str | None = None) -> None:
    """Copies every file under ``source`` to the same place under
    ``destination``; the file named ``last`` (relative to ``source``) is
    copied after all others — a completion marker."""
    names = []
    for folder, _, files in tf.io.gfile.walk(source):
        relative = os.path.relpath(folder, source)
        names += [os.path.normpath(os.path.join(relative, name)) for name in files]
    names.sort(key=lambda name: (name == last, name))
    for name in names:
        write_bytes(
            os.path.join(destination, name), read_bytes(os.path.join(source, name))
        )


def read_json(path: str, fix: str = "restore it, or write it again") -> Any:
    """The JSON value in ``path``; a file that is empty, cut short or not
    JSON is a one-line ``UserError`` naming it and ``fix``."""
    text = read_text(path)
    try:
        return json.loads(text)
    except ValueError as error:
        state = "empty" if not text.strip() else f"not valid JSON ({error})"
        raise errors.UserError(f"{shown_path(path)} is {state}: {fix}.") from None


def write_json(path: str, value: Any, **dump_options) -> None:
    """``json.dump`` to ``path`` (indent 1 unless given)."""
    dump_options.setdefault("indent", 1)
    write_text(path, json.dumps(value, **dump_options))
