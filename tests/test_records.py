"""Building records folders: manifest, triplets, atomicity, determinism."""

from __future__ import annotations

import json
import os
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from pldt_tf.data import catalogue, lookbook, records


def _build(folder, out, **options):
    options.setdefault("validation_fraction", 0.15)
    options.setdefault("test_fraction", 0.15)
    options.setdefault("records_per_shard", 8)
    return records.build_records(
        lookbook.read_folder(folder), out, records.BuildOptions(**options)
    )


@pytest.fixture(scope="module")
def built(lookbook_folder, tmp_path_factory):
    folder, expected = lookbook_folder
    out = str(tmp_path_factory.mktemp("records") / "rec")
    return _build(folder, out), out, expected


def _contents(folder):
    return {p.name: p.read_bytes() for p in pathlib.Path(folder).iterdir()}


def _read(path, features):
    return [records.decode_example(s, features) for s in tf.data.TFRecordDataset(path)]


def test_manifest_counts_and_skips(built):
    manifest, out, expected = built
    with open(os.path.join(out, records.MANIFEST_NAME)) as file:
        assert manifest == json.load(file)
    assert sorted(s["file"] for s in manifest["skipped_files"]) == expected["skipped"]
    assert all(s["reason"] for s in manifest["skipped_files"])
    counts = manifest["counts"]
    assert counts["skipped_files"] == len(expected["skipped"])
    assert counts["products"] == expected["products"]
    assert counts["photos"] == expected["photos"]
    assert manifest["dropped_products"]["no_photos"] == expected["no_photos"]
    assert (
        manifest["dropped_products"]["no_product_image"] == expected["no_product_image"]
    )
    assert counts["files_in_folder"] == len(os.listdir(lookbook_folder_of(manifest)))


def lookbook_folder_of(manifest):
    return manifest["source_dir"]


def test_splits_are_disjoint_and_records_match_them(built):
    manifest, out, _ = built
    split_ids = {s: set(info["product_ids"]) for s, info in manifest["splits"].items()}
    assert not split_ids["train"] & split_ids["validation"]
    assert not split_ids["train"] & split_ids["test"]
    assert not split_ids["validation"] & split_ids["test"]
    for split in catalogue.SPLITS:
        info = manifest["splits"][split]
        triplets = [
            t
            for path in records.split_files(out, split)
            for t in _read(path, records.TRIPLET_FEATURES)
        ]
        assert len(triplets) == info["num_triplets"]
        for t in triplets:
            assert int(t["source_product_id"]) in split_ids[split]
            assert int(t["negative_product_id"]) in split_ids[split]
            assert int(t["source_product_id"]) != int(t["negative_product_id"])
            assert t["source"].shape == (64, 64, 3) and t["source"].dtype == tf.uint8
            pid = int(t["source_product_id"])
            assert t["source_name"].numpy().decode().startswith(f"PID{pid:06d}_CLEAN0")
            assert t["target_name"].numpy().decode().startswith(f"PID{pid:06d}_CLEAN1")
        products = [
            p
            for path in records.split_files(out, split, "product")
            for p in _read(path, records.PRODUCT_FEATURES)
        ]
        assert {int(p["product_id"]) for p in products} == split_ids[split]


def test_every_photo_becomes_one_triplet(built):
    manifest, _, expected = built
    total = sum(info["num_triplets"] for info in manifest["splits"].values())
    assert total == expected["photos"]


def test_preprocessed_pixels_follow_the_source(built, lookbook_folder):
    from lookbook_fixtures import product_color

    manifest, out, _ = built
    path = records.split_files(out, "train")[0]
    t = _read(path, records.TRIPLET_FEATURES)[0]
    pid = int(t["source_product_id"])
    if pid < 900:  # ordinary products: 90x60 photo → 64 high, 43 wide, centred
        source = t["source"].numpy().astype(int)
        np.testing.assert_allclose(source[32, 32], product_color(pid), atol=6)
        assert np.all(source[:, :10] == 255)


def test_rebuild_is_byte_identical(built, lookbook_folder, tmp_path):
    manifest, out, _ = built
    again = str(tmp_path / "again")
    _build(lookbook_folder[0], again)
    for name in sorted(os.listdir(out)):
        with (
            open(os.path.join(out, name), "rb") as a,
            open(os.path.join(again, name), "rb") as b,
        ):
            assert a.read() == b.read(), name


def test_refuses_to_overwrite_and_overwrite_replaces(lookbook_folder, tmp_path):
    out = str(tmp_path / "rec")
    _build(lookbook_folder[0], out)
    with pytest.raises(FileExistsError, match="--overwrite"):
        _build(lookbook_folder[0], out)
    manifest = _build(lookbook_folder[0], out, overwrite=True, seed=5)
    assert records.load_manifest(out)["seed"] == 5 == manifest["seed"]
    assert [p for p in os.listdir(tmp_path) if p.startswith(".")] == []


def test_interrupted_build_leaves_previous_folder_intact(
    lookbook_folder, tmp_path, monkeypatch
):
    out = str(tmp_path / "rec")
    _build(lookbook_folder[0], out)
    before = _contents(out)

    def failing_write_split(folder, split, *args, **kwargs):
        if split == "validation":  # after the train shards are written
            raise KeyboardInterrupt("simulated kill mid-build")
        return original(folder, split, *args, **kwargs)

    original = records._write_split
    monkeypatch.setattr(records, "_write_split", failing_write_split)
    with pytest.raises(KeyboardInterrupt):
        _build(lookbook_folder[0], out, overwrite=True, seed=9)
    assert _contents(out) == before
    assert os.listdir(tmp_path) == ["rec"]  # no temporary folder left behind
    with pytest.raises(KeyboardInterrupt):
        _build(lookbook_folder[0], str(tmp_path / "new"))
    assert not os.path.exists(tmp_path / "new")


def test_too_few_products_is_a_clear_error(tmp_path):
    import lookbook_fixtures as fx

    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / fx.name(1, 1, 1)).write_bytes(fx.jpeg_bytes(fx.solid(8, 8, (0, 0, 0))))
    (folder / fx.name(1, 0, 2)).write_bytes(fx.jpeg_bytes(fx.solid(8, 8, (0, 0, 0))))
    with pytest.raises(ValueError, match="at least 2 training products"):
        _build(str(folder), str(tmp_path / "out"))
    assert not os.path.exists(tmp_path / "out")


def test_load_manifest_errors_name_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="build_tfrecords"):
        records.load_manifest(str(tmp_path))
    (tmp_path / records.MANIFEST_NAME).write_text('{"schema_version": 99}')
    with pytest.raises(ValueError, match="Rebuild"):
        records.load_manifest(str(tmp_path))


def test_summary_mentions_skips(built):
    manifest, _, _ = built
    text = records.summary(manifest)
    assert "skipped" in text and "train" in text
