"""File names, grouping by product and the split by product."""

from __future__ import annotations

import pytest

import lookbook_fixtures as fx
from pldt_tf.data import lookbook


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("PID000123_CLEAN1_IID000456.jpg", (123, True, 456)),
        ("PID000123_CLEAN0_IID000456.JPG", (123, False, 456)),
        ("PID000123_CLEAN0_IID000456.jpeg", (123, False, 456)),
        ("PID000123_CLEAN0_IID000456.Png", (123, False, 456)),
        ("PID1234567_CLEAN0_IID000456.png", (1234567, False, 456)),
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
        assert (entry.product_id, entry.is_product, entry.image_id) == expected
        assert entry.name == file_name


def test_list_folder_skips_and_counts_misnamed(lookbook_folder):
    folder, expected = lookbook_folder
    entries, skipped = lookbook.list_folder(folder)
    misnamed = {s["file"] for s in skipped}
    assert misnamed <= set(expected["skipped"])
    assert "subfolder" in misnamed and "notes.txt" in misnamed
    assert all(lookbook.parse_filename(e.name) for e in entries)
    assert len(entries) + len(skipped) == len(__import__("os").listdir(folder))


def test_list_folder_missing_folder_names_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="make_synthetic"):
        lookbook.list_folder(tmp_path / "nope")


def test_group_products_keeps_every_product_image_and_drops_incomplete():
    entries = [
        lookbook.ImageEntry(1, True, 1, "a1"),
        lookbook.ImageEntry(1, True, 2, "a2"),
        lookbook.ImageEntry(1, False, 3, "a3"),
        lookbook.ImageEntry(2, True, 1, "b1"),
        lookbook.ImageEntry(3, False, 1, "c1"),
    ]
    products, dropped = lookbook.group_products(entries)
    assert list(products) == [1]
    assert products[1].product_images == ("a1", "a2")
    assert products[1].photos == ("a3",)
    assert dropped == {"no_photos": [2], "no_product_image": [3]}


def test_split_sizes_match_the_paper_on_lookbook_count():
    splits = lookbook.split_products(range(9732), seed=0)
    sizes = {name: len(ids) for name, ids in splits.items()}
    assert sizes == {"train": 9732 - 2 * 487, "validation": 487, "test": 487}


def test_split_is_disjoint_complete_and_deterministic():
    ids = list(range(1000, 1400))
    a = lookbook.split_products(ids, seed=7)
    b = lookbook.split_products(list(reversed(ids)), seed=7)
    c = lookbook.split_products(ids, seed=8)
    assert a == b
    assert a != c
    sets = [set(a[name]) for name in lookbook.SPLITS]
    assert set.union(*sets) == set(ids)
    assert sum(len(s) for s in sets) == len(ids)


def test_split_rejects_fractions_leaving_no_training():
    with pytest.raises(ValueError, match="no training"):
        lookbook.split_products(range(10), 0, 0.5, 0.5)


def test_fixture_names_parse():
    assert lookbook.parse_filename(fx.name(3, 0, 7, "JPEG")).product_id == 3
