"""How messages show paths."""

from __future__ import annotations

import os

from pldt_tf import errors


def test_shown_path_is_relative_inside_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inside = tmp_path / "data" / "shop" / "pairs.csv"
    assert errors.shown_path(str(inside)) == os.path.join("data", "shop", "pairs.csv")
    assert errors.shown_path("data/shop") == os.path.join("data", "shop")
    outside = tmp_path.parent / "elsewhere.csv"
    assert errors.shown_path(str(outside)) == str(outside)
    assert errors.shown_path("gs://bucket/w/final_samples.png") == (
        "gs://bucket/w/final_samples.png"
    )
