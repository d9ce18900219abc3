"""Errors that are the user's to fix.

A ``UserError`` says what is wrong, which flag or path, and the fix; the
command-line tools print it as one line and exit with status 2, without a
traceback (``pldt_tf.cli.run``). Anything else is a bug or an environment
failure and keeps its traceback. The subclasses keep the built-in type a
caller may already catch.
"""

from __future__ import annotations


class UserError(ValueError):
    """A bad flag value, input file or folder; the message names the fix."""


class MissingInputError(UserError, FileNotFoundError):
    """A file or folder the user named does not exist (or holds nothing)."""


class OutputExistsError(UserError, FileExistsError):
    """An output the user named exists and would be overwritten."""
