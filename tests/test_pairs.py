"""Pairs manifests: reading, every awkward input, and the same records as
LookBook ingestion."""

from __future__ import annotations

import csv
import io
import json
import os
import pathlib
import shutil

import pytest
import tensorflow as tf

import lookbook_fixtures as fx
from pldt_tf.data import lookbook, pairs, records

HEADER = ["photo", "product_id", "product_image"]
OPTIONS = records.BuildOptions(
    seed=1, validation_fraction=0.2, test_fraction=0.2, records_per_shard=8
)


def _tfrecords(folder) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes() for p in sorted(pathlib.Path(folder).glob("*.tfrecord"))
    }


def _shop(tmp_path, extra_rows=(), header=(*HEADER, "category"), **csv_args):
    root = tmp_path / "shop"
    shop = fx.make_shop(str(root))
    path = fx.write_csv(
        str(root / "pairs.csv"),
        list(header),
        shop["rows"] + list(extra_rows),
        **csv_args,
    )
    return root, path, shop


def _reasons(data) -> dict[str, str]:
    return {s["file"]: s["reason"] for s in data.skipped}


# --------------------------------------------------------------------------
# The same records as LookBook ingestion.


def test_lookbook_folder_and_its_manifest_give_byte_identical_records(
    lookbook_folder, tmp_path
):
    source, expected = lookbook_folder
    folder = tmp_path / "lookbook"
    shutil.copytree(source, folder)
    manifest_path = fx.lookbook_manifest(str(folder))
    from_folder = records.build_records(
        lookbook.read_folder(str(folder)), str(tmp_path / "a"), OPTIONS
    )
    from_manifest = records.build_records(
        pairs.read_manifest(manifest_path), str(tmp_path / "b"), OPTIONS
    )
    shards = _tfrecords(tmp_path / "a")
    assert shards and shards == _tfrecords(tmp_path / "b")
    assert from_folder["splits"] == from_manifest["splits"]
    assert from_folder["dropped_products"]["no_photos"] == expected["no_photos"]
    # The manifest's report names them as the manifest does (zeros first).
    assert from_manifest["dropped_products"] == {
        why: [f"{n:06d}" for n in numbers]
        for why, numbers in from_folder["dropped_products"].items()
    }
    # The manifest lists no misnamed files: it skips only the unreadable ones.
    unreadable = [s for s in from_folder["skipped_files"] if s["file"] != "pairs.csv"]
    unreadable = [s for s in unreadable if lookbook.parse_filename(s["file"])]
    assert from_manifest["skipped_files"] == unreadable
    assert from_manifest["product_ids"]["901"] == "000901"  # zeros first, as named
    # A rebuild from the manifest is byte-identical, dataset.json included.
    again = records.build_records(
        pairs.read_manifest(manifest_path), str(tmp_path / "c"), OPTIONS
    )
    assert again == from_manifest
    for name in (*shards, records.MANIFEST_NAME):
        assert (tmp_path / "b" / name).read_bytes() == (
            tmp_path / "c" / name
        ).read_bytes()


# --------------------------------------------------------------------------
# Paths.


def test_paths_with_subfolders_spaces_and_non_ascii_letters(tmp_path):
    root, path, shop = _shop(tmp_path)
    data = pairs.read_manifest(path)
    names = {e.name for e in data.entries}
    assert names == {r[0] for r in shop["rows"]} | {r[2] for r in shop["rows"]}
    assert "photos/shirt A/Ärmel 0 ü.jpg" in names
    manifest = records.build_records(data, str(tmp_path / "rec"), OPTIONS)
    assert manifest["counts"]["products"] == len(shop["ids"])
    assert manifest["skipped_files"] == []
    first = next(
        iter(
            tf.data.TFRecordDataset(records.split_files(str(tmp_path / "rec"), "train"))
        )
    )
    example = records.decode_example(first, records.TRIPLET_FEATURES)
    assert example["source_name"].numpy().decode("utf-8") in names


def test_bom_semicolons_and_tabs_read_like_plain_csv(tmp_path):
    _, plain, _ = _shop(tmp_path / "plain")
    expected = pairs.read_manifest(plain)
    for variant, args in (
        ("bom", {"bom": True}),
        ("semicolon", {"delimiter": ";"}),
        ("tab", {"delimiter": "\t", "bom": True}),
    ):
        _, path, _ = _shop(tmp_path / variant, **args)
        data = pairs.read_manifest(path)
        assert data.entries == expected.entries, variant
        assert data.attributes_csv == expected.attributes_csv, variant


def test_absolute_and_escaping_paths_are_refused_unless_allowed(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    escaped = outside / "photo.jpg"
    escaped.write_bytes(fx.jpeg_bytes(fx.solid(40, 30, (200, 10, 10))))
    root, _, shop = _shop(tmp_path)
    (root / "link").symlink_to(outside)
    for name in ("X.jpg", "Y.jpg"):
        (root / "products" / name).write_bytes(fx.jpeg_bytes(fx.solid(9, 9, (5, 5, 5))))
    absolute = str(root / "products" / "X.jpg")
    rows = [
        ["../elsewhere/photo.jpg", "X", absolute, "top"],
        ["link/photo.jpg", "Y", "products/Y.jpg", "top"],
    ]
    path = fx.write_csv(
        str(root / "pairs.csv"), HEADER + ["category"], shop["rows"] + rows
    )
    refused = _reasons(pairs.read_manifest(path))
    for cell in ("../elsewhere/photo.jpg", absolute, "link/photo.jpg"):
        assert "--allow_outside_paths" in refused[cell], cell
    assert "absolute path" in refused[absolute]
    assert "leads outside" in refused["../elsewhere/photo.jpg"]
    allowed = pairs.read_manifest(path, allow_outside=True)
    names = {e.name: e for e in allowed.entries}
    assert str(escaped) in names and not names[str(escaped)].is_product
    assert "link/photo.jpg" in names  # inside the folder by name, kept so
    assert "products/X.jpg" in names  # an absolute path inside: named relative
    assert not _reasons(allowed)


# --------------------------------------------------------------------------
# Bad files, contradictions, duplicates.


def test_missing_and_corrupt_images_are_skipped_and_listed(tmp_path):
    root, _, shop = _shop(tmp_path)
    (root / "photos" / "broken.jpg").write_bytes(b"not a jpeg" * 20)
    path = fx.write_csv(
        str(root / "pairs.csv"),
        HEADER,
        [r[:3] for r in shop["rows"]]
        + [["photos/gone.jpg", "shirt A", "products/shirt A.jpg"]]
        + [["photos/broken.jpg", "lonely", "products/shirt B.jpg"]],
    )
    manifest = records.build_records(
        pairs.read_manifest(path), str(tmp_path / "rec"), OPTIONS
    )
    reasons = {s["file"]: s["reason"] for s in manifest["skipped_files"]}
    assert reasons["photos/gone.jpg"].startswith("cannot read file")
    assert reasons["photos/broken.jpg"] == "not an image PIL can identify"
    # "lonely" lost its only photo; its product image is another product's
    # too, so it is nobody's: dropped, and said so.
    assert manifest["counts"]["products"] == len(shop["ids"]) - 1
    kinds = {c["kind"] for c in manifest["contradictions"]}
    assert "product_image_of_several_products" in kinds


def test_contradictions_are_resolved_by_the_stated_rules(tmp_path):
    root, _, shop = _shop(tmp_path)
    rows = [list(r) for r in shop["rows"]]
    line = {tuple(r): n for n, r in enumerate(rows, start=2)}

    def photos(pid):
        return [r[0] for r in rows if r[1] == pid]

    back = "products/shirt A back.jpg"
    (root / back).write_bytes(fx.jpeg_bytes(fx.solid(80, 60, (1, 2, 3))))
    added = [
        # A second, different product image for shirt A: both kept.
        [photos("shirt A")[1], "shirt A", back, "shirt"],
        # A photo of shirt C listed for shirt D too: used for neither.
        [photos("shirt C")[0], "shirt D", "products/shirt D.jpg", "top"],
        # Shirt F's product image as a photo of shirt E: used as neither.
        ["products/shirt F.jpg", "shirt E", "products/shirt E.jpg", "shirt"],
        # Shirt E's product image given to shirt F as well: nobody's.
        [photos("shirt F")[0], "shirt F", "products/shirt E.jpg", "top"],
        # Shirt B called a "blouse" here, a "top" in its other rows.
        [photos("shirt B")[0], "shirt B", "products/shirt B.jpg", "blouse"],
    ]
    path = fx.write_csv(str(root / "pairs.csv"), HEADER + ["category"], rows + added)
    data = pairs.read_manifest(path)
    found = {c["kind"]: c for c in data.report["contradictions"]}
    (several,) = data.report["several_product_images"]  # information, kept apart
    assert set(found) == set(pairs.RULES) - {"several_product_images"}
    found["several_product_images"] = several
    assert all(c["rule"] == pairs.RULES[c["kind"]] for c in found.values())
    assert data.counts["contradictions"] == 4
    assert data.counts["products_with_several_images"] == 1
    assert found["several_product_images"]["files"] == [back, "products/shirt A.jpg"]
    a_lines = [line[tuple(r)] for r in rows if r[1] == "shirt A"]
    assert found["several_product_images"]["rows"] == [*a_lines, len(rows) + 2]
    assert found["photo_of_several_products"]["product_ids"] == ["shirt C", "shirt D"]
    assert found["file_in_two_roles"]["file"] == "products/shirt F.jpg"
    assert found["product_image_of_several_products"]["file"] == (
        "products/shirt E.jpg"
    )
    b_lines = [line[tuple(r)] for r in rows if r[1] == "shirt B"]
    assert found["attribute_disagrees"]["values"] == {
        "blouse": [len(rows) + 6],
        "top": b_lines,
    }
    names = {e.name for e in data.entries}
    assert photos("shirt C")[0] not in names
    assert "products/shirt F.jpg" not in names and "products/shirt E.jpg" not in names
    assert back in names
    table = list(csv.DictReader(io.StringIO(data.attributes_csv.decode())))
    number = {pid: int(n) for n, pid in data.report["product_ids"].items()}
    category = {int(r["product_id"]): r["category"] for r in table}
    assert category[number["shirt B"]] == ""  # disagreement: unknown
    assert category[number["shirt C"]] == "shirt"
    reasons = _reasons(data)
    assert pairs.RULES["photo_of_several_products"] in reasons[photos("shirt C")[0]]
    # Built, shirts E and F have no product image left: dropped, reported.
    manifest = records.build_records(data, str(tmp_path / "rec"), OPTIONS)
    # Named as the manifest names them, in the report and the summary.
    assert manifest["dropped_products"]["no_product_image"] == ["shirt E", "shirt F"]
    assert "dropped without a product image: shirt E, shirt F" in records.summary(
        manifest
    )
    assert "1 products with several product images (all kept" in records.summary(
        manifest
    )


def test_duplicate_rows_count_once_and_are_reported(tmp_path):
    root, _, shop = _shop(tmp_path)
    rows = shop["rows"] + [
        shop["rows"][0],
        ["./" + shop["rows"][0][0], *shop["rows"][0][1:]],
    ]
    path = fx.write_csv(str(root / "pairs.csv"), HEADER + ["category"], rows)
    data = pairs.read_manifest(path)
    duplicates = data.report["duplicate_rows"]
    assert duplicates == [
        {"row": len(shop["rows"]) + 2, "same_as": 2},
        {"row": len(shop["rows"]) + 3, "same_as": 2},
    ]
    assert data.counts["duplicate_rows"] == 2
    assert len([e for e in data.entries if not e.is_product]) == len(shop["rows"])


# --------------------------------------------------------------------------
# Manifests that cannot be read, and rows that cannot be used.


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\n\n", "is empty"),
        (b"photo,product_id,product_image\r\n", "header but no rows"),
        (b"\xef\xbb\xbfphoto,product_id,product_image\n", "header but no rows"),
        (b"photo,product,product_image\na.jpg,1,b.jpg\n", "no column 'product_id'"),
        (b"image,product_id\na.jpg,1\n", "no column 'photo' or 'product_image'"),
        (
            b"photo,product_id,product_image,photo\na,1,b,c\n",
            "names column 'photo' twice",
        ),
        (b"photo,product_id,product_image,,x\n", "column 4 of the header has no name"),
        (
            b"photo,product_id,product_image\ncaf\xe9.jpg,1,b.jpg\n",
            "line 2 is not UTF-8",
        ),
    ],
)
def test_unreadable_manifests_name_the_problem_and_the_fix(tmp_path, content, message):
    path = tmp_path / "pairs.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        pairs.read_manifest(str(path))
    assert str(path) in str(error.value) and pairs.DOCS in str(error.value)


def test_missing_manifest_names_the_converter(tmp_path):
    with pytest.raises(FileNotFoundError, match="folders_to_pairs"):
        pairs.read_manifest(str(tmp_path / "nope.csv"))


def test_header_names_are_matched_loosely_and_attributes_kept_as_written(tmp_path):
    root, _, shop = _shop(
        tmp_path, header=(" Photo", "PRODUCT_ID ", "Product_Image", "Colour")
    )
    data = pairs.read_manifest(str(root / "pairs.csv"))
    assert data.attributes_csv.decode().splitlines()[0] == "product_id,Colour"


def test_bad_rows_are_skipped_with_their_line_numbers(tmp_path):
    root, _, shop = _shop(tmp_path)
    good = shop["rows"][0]
    text = (
        "photo,product_id,product_image,category\n"
        + ",".join(f'"{c}"' for c in good)
        + "\n"
        + '"a\nb.jpg",,products/x.jpg,top\n'  # a cell over two lines, no id
        + "\n"
        + "only,two\n"
        + ",shirt A,,top\n"
        + ",,,\n"
    )
    (root / "pairs.csv").write_text(text, encoding="utf-8")
    data = pairs.read_manifest(str(root / "pairs.csv"))
    assert data.report["skipped_rows"] == [
        {"row": 3, "reason": "no product_id"},
        {"row": 6, "reason": "has 2 cells, the header has 4"},
        {"row": 7, "reason": "neither a photo nor a product_image"},
    ]
    assert data.counts["manifest_rows"] == 4  # blank rows are not rows


def test_product_numbers_keep_whole_numbers_and_number_text_in_order():
    assert pairs.product_numbers(["000901", "7"]) == {"000901": 901, "7": 7}
    assert pairs.product_numbers(["01", "1", "2"]) == {"01": 0, "1": 1, "2": 2}
    assert pairs.product_numbers(["b-2", "a-1", "10"]) == {"10": 0, "a-1": 1, "b-2": 2}
    assert pairs.product_numbers(["٣"]) == {"٣": 0}  # a digit, but not ASCII


def test_records_summary_reports_the_manifest(tmp_path):
    _, path, _ = _shop(tmp_path, extra_rows=[["", "", "", ""]] + [[",", "", "x", ""]])
    manifest = records.build_records(
        pairs.read_manifest(path), str(tmp_path / "r"), OPTIONS
    )
    text = records.summary(manifest)
    assert str(path) in text.splitlines()[0]
    assert "skipped 1" in text and "skipped row" in text
    with open(tmp_path / "r" / records.MANIFEST_NAME) as file:
        assert json.load(file)["pairs_csv_sha256"] == pairs.digest(path)


def test_records_folder_from_a_manifest_keeps_nothing_outside(tmp_path):
    _, path, _ = _shop(tmp_path)
    records.build_records(pairs.read_manifest(path), str(tmp_path / "r"), OPTIONS)
    assert os.path.isfile(tmp_path / "r" / records.ATTRIBUTES_NAME)
    assert not list(tmp_path.glob(".*tmp*"))


def test_a_malformed_record_stops_with_its_line_and_a_nul_path_is_skipped(
    tmp_path,
):
    path = tmp_path / "pairs.csv"
    path.write_text("photo,product_id,product_image\n" + "a" * 200_000 + ",1,b\n")
    with pytest.raises(ValueError, match="line 2: field larger than field limit"):
        pairs.read_manifest(str(path))
    path.write_text("photo,product_id,product_image\na\x00b.jpg,1,b.jpg\n")
    reasons = _reasons(pairs.read_manifest(str(path)))
    assert reasons["a\x00b.jpg"] == "row 2: the path holds a NUL character"
