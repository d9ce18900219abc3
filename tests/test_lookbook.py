"""LookBook file names and folders."""

from __future__ import annotations

import os

import pytest

import lookbook_fixtures as fx
from pldt_tf.data import lookbook


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("PID000123_CLEAN1_IID000456.jpg", (123, True)),
        ("PID000123_CLEAN0_IID000456.JPG", (123, False)),
        ("PID000123_CLEAN0_IID000456.jpeg", (123, False)),
        ("PID000123_CLEAN0_IID000456.Png", (123, False)),
        ("PID1234567_CLEAN0_IID000456.png", (1234567, False)),
        ("PID12_CLEAN1_IID3.jpg", None),
        ("PID000123_CLEAN2_IID000456.jpg", None),
        ("PID000123_CLEAN1_IID000456.gif", None),
        ("PID000123_CLEAN1_IID000456.jpg.bak", None),
        ("xPID000123_CLEAN1_IID000456.jpg", None),
    ],
)
def test_parse_filename(file_name, expected):
    entry = lookbook.parse_filename(file_name)
    if expected is None:
        assert entry is None
    else:
        assert (entry.product_id, entry.is_product) == expected
        assert entry.name == file_name


def test_list_folder_skips_and_counts_misnamed(lookbook_folder):
    folder, expected = lookbook_folder
    entries, skipped = lookbook.list_folder(folder)
    misnamed = {s["file"] for s in skipped}
    assert misnamed <= set(expected["skipped"])
    assert "subfolder" in misnamed and "notes.txt" in misnamed
    assert all(lookbook.parse_filename(e.name) for e in entries)
    assert len(entries) + len(skipped) == len(os.listdir(folder))


def test_list_folder_missing_folder_names_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="make_synthetic"):
        lookbook.list_folder(tmp_path / "nope")


def test_fixture_names_parse():
    assert lookbook.parse_filename(fx.name(3, 0, 7, "JPEG")).product_id == 3


def test_read_folder_lists_every_product_and_copies_attributes(
    lookbook_folder, tmp_path
):
    folder, expected = lookbook_folder
    attributes = tmp_path / "attributes.csv"
    attributes.write_bytes(b"product_id,category\r\n1,shirt\r\n")
    data = lookbook.read_folder(folder, str(attributes))
    assert data.attributes_csv == attributes.read_bytes()  # copied byte for byte
    assert data.product_ids == tuple(sorted({e.product_id for e in data.entries}))
    assert data.counts["files_in_folder"] == len(os.listdir(folder))
    assert {s["file"] for s in data.skipped} <= set(expected["skipped"])
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        lookbook.read_folder(folder, str(tmp_path / "nope.csv"))
