"""Folders that appear complete or not at all."""

from __future__ import annotations

import os

import pytest

from pldt_tf import errors
from pldt_tf.data import atomic


def _write(folder, name, text):
    with open(os.path.join(folder, name), "w") as file:
        file.write(text)


def test_success_renames_into_place_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out"
    with atomic.atomic_folder(str(target)) as tmp:
        _write(tmp, "a.txt", "new")
        assert not target.exists()  # nothing visible until complete
    assert (target / "a.txt").read_text() == "new"
    assert os.listdir(tmp_path) == ["out"]


def test_failure_removes_the_temporary_and_keeps_the_old_folder(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "a.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic.atomic_folder(str(target), True) as tmp:
        _write(tmp, "a.txt", "half")
        raise RuntimeError("interrupted")
    assert (target / "a.txt").read_text() == "old"
    assert os.listdir(tmp_path) == ["out"]


def test_existing_folder_is_refused_before_anything_is_written(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(errors.OutputExistsError, match="--overwrite"):  # noqa: SIM117
        with atomic.atomic_folder(str(target)):
            pytest.fail("the body must not run")
    assert os.listdir(tmp_path) == ["out"]


def test_overwrite_replaces_only_once_the_new_folder_is_whole(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with atomic.atomic_folder(str(target), overwrite=True) as tmp:
        _write(tmp, "new.txt", "new")
        assert (target / "old.txt").exists()
    assert sorted(os.listdir(target)) == ["new.txt"]
    assert os.listdir(tmp_path) == ["out"]


def test_a_killed_builds_temporary_is_removed_by_the_next_build(tmp_path):
    stale = tmp_path / ".out.tmp-dead1234"
    stale.mkdir()
    (stale / "half.tfrecord").write_bytes(b"x" * 100)
    other = tmp_path / ".another.tmp-keep"  # another destination's: kept
    other.mkdir()
    with atomic.atomic_folder(str(tmp_path / "out")) as tmp:
        _write(tmp, "a.txt", "new")
    assert sorted(os.listdir(tmp_path)) == [".another.tmp-keep", "out"]
