"""Grouping by product and the split by product, whatever the source."""

from __future__ import annotations

import os

import pytest

from pldt_tf.data import catalogue


def test_group_products_keeps_every_product_image_and_drops_incomplete():
    entries = [
        catalogue.ImageEntry(1, True, "a1"),
        catalogue.ImageEntry(1, True, "a2"),
        catalogue.ImageEntry(1, False, "a3"),
        catalogue.ImageEntry(2, True, "b1"),
        catalogue.ImageEntry(3, False, "c1"),
    ]
    products, dropped = catalogue.group_products(entries)
    assert list(products) == [1]
    assert products[1].product_images == ("a1", "a2")
    assert products[1].photos == ("a3",)
    assert dropped == {"no_photos": [2], "no_product_image": [3]}


def test_split_sizes_match_the_paper_on_lookbook_count():
    splits = catalogue.split_products(range(9732), seed=0)
    sizes = {name: len(ids) for name, ids in splits.items()}
    assert sizes == {"train": 9732 - 2 * 487, "validation": 487, "test": 487}


def test_split_is_disjoint_complete_and_deterministic():
    ids = list(range(1000, 1400))
    a = catalogue.split_products(ids, seed=7)
    b = catalogue.split_products(list(reversed(ids)), seed=7)
    c = catalogue.split_products(ids, seed=8)
    assert a == b
    assert a != c
    sets = [set(a[name]) for name in catalogue.SPLITS]
    assert set.union(*sets) == set(ids)
    assert sum(len(s) for s in sets) == len(ids)


def test_split_rejects_fractions_leaving_no_training():
    with pytest.raises(ValueError, match="no training"):
        catalogue.split_products(range(10), 0, 0.5, 0.5)


def test_group_products_reports_listed_products_without_readable_files():
    entries = [
        catalogue.ImageEntry(1, True, "a1"),
        catalogue.ImageEntry(1, False, "a2"),
    ]
    products, dropped = catalogue.group_products(entries, product_ids=[1, 7])
    assert list(products) == [1]
    assert dropped == {"no_photos": [], "no_product_image": [7]}


def test_catalogue_path_joins_relative_names_and_keeps_absolute_ones():
    data = catalogue.Catalogue(root="/data/shop", entries=())
    relative = catalogue.ImageEntry(1, True, "products/a b.jpg")
    absolute = catalogue.ImageEntry(1, False, "/elsewhere/p.jpg")
    assert data.path(relative) == os.path.join("/data/shop", "products/a b.jpg")
    assert data.path(absolute) == "/elsewhere/p.jpg"
