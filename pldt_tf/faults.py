"""The faults real disks and buckets produce, as one-line errors.

A small, explicit mapping from TensorFlow's and the OS's runtime errors to
``errors.UserError`` at the places where a user's files are read or written
(docs/training.md#when-something-breaks): a full disk while a workdir or a
records folder is written, damaged bytes in a TFRecord shard, a damaged
checkpoint, a damaged export. Each message names the file or folder, what
was kept, and the next command. Anything else keeps its traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shlex
import sys

import tensorflow as tf

from pldt_tf import errors, storage

NO_SPACE = "No space left on device"
# What restoring a cut-short or damaged checkpoint raises: the reader's
# IndexError ("Read less bytes than requested"), or a TensorFlow error.
DAMAGED_CHECKPOINT = (
    IndexError,
    tf.errors.DataLossError,
    tf.errors.NotFoundError,
    tf.errors.OutOfRangeError,
    tf.errors.InvalidArgumentError,
    tf.errors.InternalError,
)


def is_out_of_space(error: BaseException) -> bool:
    """Whether ``error`` says the disk is full (ENOSPC, or TensorFlow's
    ResourceExhaustedError with the OS's words)."""
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return True
    return isinstance(error, tf.errors.OpError) and NO_SPACE in (error.message or "")


def command_line(module: str) -> str:
    """``python -m module`` with this process's arguments, to run it again."""
    return " ".join(["python", "-m", module, *map(shlex.quote, sys.argv[1:])])


def first_line(error: BaseException) -> str:
    """The error's own words: its first line, without TensorFlow's function
    and op decorations."""
    text = (getattr(error, "message", None) or str(error)).strip()
    text = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", text)
    text = re.sub(r"\s*\[Op:[^\]]*\].*$", "", text.splitlines()[0] if text else "")
    return text.strip() or type(error).__name__


def disk_full(folder: str, what: str, kept: str, then: str) -> errors.UserError:
    """The disk holding ``folder`` filled up while writing ``what``."""
    return errors.UserError(
        f"no space left on the disk of {storage.shown_path(folder)} while "
        f"writing {what}; {kept}. Free space there (or choose a folder on "
        f"another disk) and run: {then}"
    )


@contextlib.contextmanager
def disk_space(folder: str, what: str):
    """Turns running out of space while an atomic folder (``data.atomic``) is
    written into the one-line error: the partial folder is already gone and
    whatever stood at ``folder`` before is untouched."""
    try:
        yield
    except (OSError, tf.errors.OpError) as error:
        if not is_out_of_space(error):
            raise
        kept = (
            "nothing was replaced: the partial folder was removed and anything "
            "already at that path is as it was"
        )
        raise disk_full(folder, what, kept, "the same command again") from None


# -- records ------------------------------------------------------------------


def check_records(records_dir: str) -> dict:
    """Reads every shard ``dataset.json`` lists once and checks its count.

    Returns ``{"shards": n, "records": n, "damaged": [...], "missing": [...],
    "wrong_count": [...]}``; each problem entry is ``{"file", "reason"}``.
    Cheap enough before a long job: the records are read, not decoded.
    """
    from pldt_tf.data import records

    manifest = records.load_manifest(records_dir)
    report = {"shards": 0, "records": 0}
    report.update({key: [] for key in ("damaged", "missing", "wrong_count")})
    for split, info in manifest["splits"].items():
        for kind, expected in (
            ("triplet", info.get("num_triplets")),
            ("product", info.get("num_product_images")),
        ):
            found = 0
            names = info.get(f"{kind}_files", [])
            for name in names:
                path = os.path.join(records_dir, name)
                report["shards"] += 1
                if not storage.isfile(path):
                    report["missing"].append({"file": name, "reason": "not found"})
                    continue
                try:
                    count = int(
                        tf.data.TFRecordDataset(path).reduce(
                            tf.constant(0, tf.int64), lambda n, _: n + 1
                        )
                    )
                except tf.errors.OpError as error:
                    report["damaged"].append(
                        {"file": name, "reason": first_line(error)}
                    )
                    continue
                found += count
                report["records"] += count
            complete = names and not any(
                p["file"] in names for p in report["damaged"] + report["missing"]
            )
            if complete and expected is not None and found != expected:
                report["wrong_count"].append(
                    {
                        "file": f"{split} {kind} shards",
                        "reason": f"{found} records, dataset.json says {expected}",
                    }
                )
    return report


def rebuild_command(records_dir: str) -> str:
    """The command that builds ``records_dir`` again from its source."""
    from pldt_tf.data import records

    try:
        manifest = records.load_manifest(records_dir)
    except errors.UserError:
        manifest = {}
    shown = storage.shown_path(records_dir)
    if "pairs_csv" in manifest:
        source = f"--pairs_csv={storage.shown_path(manifest['pairs_csv'])}"
    else:
        folder = manifest.get("source_dir", "...")
        source = f"--lookbook_dir={storage.shown_path(folder)}"
    return f"python tools/build_tfrecords.py {source} --output_dir={shown} --overwrite"


def records_problems(report: dict) -> list[str]:
    return [
        f"{entry['file']} ({entry['reason']})"
        for key in ("damaged", "missing", "wrong_count")
        for entry in report[key]
    ]


def verify_records(records_dir: str) -> dict:
    """``check_records``, raising the one-line error if anything is wrong."""
    report = check_records(records_dir)
    if records_problems(report):
        raise damaged_records(records_dir, report=report)
    return report


def damaged_records(
    records_dir: str, error: BaseException | None = None, report: dict | None = None
) -> errors.UserError:
    """A read of ``records_dir`` failed with ``error`` (or ``report`` found
    problems): which shards are damaged and how to rebuild them."""
    try:
        problems = records_problems(report or check_records(records_dir))
    except errors.UserError as unreadable:
        problems = [str(unreadable)]
    found = "; ".join(problems) if problems else f"a shard ({first_line(error)})"
    return errors.UserError(
        f"damaged records in {storage.shown_path(records_dir)}: {found}. Rebuild "
        f"them, then run again: {rebuild_command(records_dir)}"
    )


# -- checkpoints --------------------------------------------------------------


def checkpoint_files(path: str) -> list[str]:
    """The files of checkpoint ``path`` (its index and data shards)."""
    return storage.glob(path + ".*")


def restore_newest_intact(restore, directory: str) -> tuple[str | None, list]:
    """Calls ``restore(path)`` on the checkpoints of ``directory``, newest
    first, until one restores. Returns (that path or None, [(skipped path,
    reason), ...]). A checkpoint whose files are cut short or damaged is
    skipped, never deleted; any other error (a model that does not fit)
    propagates."""
    state = tf.train.get_checkpoint_state(directory)
    if state is None:
        return None, []
    # TensorFlow has already joined the file's relative names to directory.
    paths = list(state.all_model_checkpoint_paths) or [state.model_checkpoint_path]
    skipped = []
    for path in reversed(paths):
        if not checkpoint_files(path):
            skipped.append((path, "its files are missing"))
            continue
        try:
            restore(path)
        except DAMAGED_CHECKPOINT as error:
            skipped.append((path, f"{type(error).__name__}: {first_line(error)}"))
            continue
        return path, skipped
    return None, skipped


def none_restores(directory: str, skipped: list, then: str) -> errors.UserError:
    listed = "; ".join(f"{os.path.basename(p)} ({why})" for p, why in skipped)
    return errors.UserError(
        f"no checkpoint in {storage.shown_path(directory)} restores: {listed}. "
        f"They are kept as they are; {then}"
    )


def skipped_lines(skipped: list, used: str, kept_where: str = "") -> list[str]:
    """One line per damaged checkpoint passed over for ``used``."""
    where = ""
    if kept_where:
        where = f"; its files are kept in {storage.shown_path(kept_where)}"
    return [
        f"skipped damaged checkpoint {os.path.basename(path)} ({why}){where}; "
        f"using {os.path.basename(used)}"
        for path, why in skipped
    ]


def set_aside(directory: str, skipped: list, used: str) -> str:
    """Makes ``used`` the newest checkpoint of ``directory``'s state, then
    moves the files of each skipped checkpoint into ``<directory>/damaged/``
    (so that training does not write over them). Returns that folder."""
    state = tf.train.get_checkpoint_state(directory)
    gone = {os.path.basename(path) for path, _ in skipped}
    kept = [
        os.path.join(directory, os.path.basename(p))
        for p in state.all_model_checkpoint_paths
        if os.path.basename(p) not in gone
    ]
    # TensorFlow writes these relative to the folder, as CheckpointManager
    # does, so the workdir can be moved or named from another working folder.
    tf.compat.v1.train.update_checkpoint_state(
        directory,
        model_checkpoint_path=os.path.join(directory, os.path.basename(used)),
        all_model_checkpoint_paths=kept,
    )
    folder = os.path.join(directory, "damaged")
    storage.makedirs(folder)
    for path, _ in skipped:
        for name in checkpoint_files(path):
            storage.rename(name, os.path.join(folder, os.path.basename(name)))
    return folder
