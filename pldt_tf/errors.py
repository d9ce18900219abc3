"""Errors that are the user's to fix.

A ``UserError`` says what is wrong, which flag or path, and the fix; the
command-line tools print it as one line and exit with status 2, without a
traceback (``pldt_tf.cli.run``). Anything else is a bug or an environment
failure and keeps its traceback. The subclasses keep the built-in type a
caller may already catch.
"""

from __future__ import annotations

import os


class UserError(ValueError):
    """A bad flag value, input file or folder; the message names the fix."""


class MissingInputError(UserError, FileNotFoundError):
    """A file or folder the user named does not exist (or holds nothing)."""


class OutputExistsError(UserError, FileExistsError):
    """An output the user named exists and would be overwritten."""


def shown_path(path: str) -> str:
    """A path as a message shows it: relative to the working folder when it
    lies inside it (what the user typed from there), absolute otherwise; a
    URL (``gs://...``, ``storage.is_url``) as it is."""
    if "://" in path:
        return path
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute)
    return absolute if relative.startswith(os.pardir) else relative
