"""A pairs manifest from a shop's folder tree, and the tool that writes it."""

from __future__ import annotations

import pytest
from tool_runner import run_tool

import lookbook_fixtures as fx
from pldt_tf.data import folders, pairs, records


def _image(path, color=(9, 90, 200)):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(fx.jpeg_bytes(fx.solid(30, 20, color)))


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "shop"
    for pid in ("a1", "a2", "a3"):
        _image(root / "products" / f"{pid}.jpg")
        for k in range(2):
            _image(root / "photos" / pid / f"{k}.JPG")
    _image(root / "products" / "b 7" / "front.png")  # several shots
    _image(root / "products" / "b 7" / "back.png")
    _image(root / "photos" / "b 7" / "x.jpeg")
    _image(root / "products" / "lonely.jpg")  # no photos
    _image(root / "photos" / "orphan" / "0.jpg")  # no product image
    (root / "photos" / "empty").mkdir()
    (root / "products" / "notes.txt").write_text("x")
    (root / "photos" / "a1" / "Thumbs.db").write_bytes(b"x")
    (root / "photos" / "stray.jpg").write_bytes(b"x")
    return root


def test_scan_writes_one_row_per_photo_and_keeps_incomplete_products(tree):
    found = folders.scan(str(tree))
    assert ("photos/a1/0.JPG", "a1", "products/a1.jpg") in found.rows
    assert ("photos/b 7/x.jpeg", "b 7", "products/b 7/back.png") in found.rows
    assert ("", "b 7", "products/b 7/front.png") in found.rows
    assert ("", "lonely", "products/lonely.jpg") in found.rows
    assert ("photos/orphan/0.jpg", "orphan", "") in found.rows
    assert len([r for r in found.rows if r[0]]) == 8
    assert dict(found.ignored) == {
        "products/notes.txt": "not an image file or a product's folder",
        "photos/a1/Thumbs.db": "not an image file",
        "photos/stray.jpg": "not a folder: photos go in photos/<id>/",
        "photos/empty": "holds no image",
    }


def test_scanned_manifest_builds_records_and_reports_the_incomplete(tree, tmp_path):
    columns, values = ["category"], {"a1": ["shirt"], "a2": ["top"]}
    text = folders.manifest_text(folders.scan(str(tree)), columns, values)
    (tree / "pairs.csv").write_text(text, encoding="utf-8")
    data = pairs.read_manifest(str(tree / "pairs.csv"))
    assert data.attributes_csv.decode().splitlines()[0] == "product_id,category"
    manifest = records.build_records(
        data,
        str(tmp_path / "rec"),
        records.BuildOptions(validation_fraction=0, test_fraction=0.2),
    )
    assert manifest["counts"]["products"] == 4
    assert manifest["dropped_products"] == {
        "no_photos": ["lonely"],
        "no_product_image": ["orphan"],
    }
    several = manifest["several_product_images"]
    assert [c["product_id"] for c in several] == ["b 7"]
    assert not [c for c in manifest["contradictions"] if c.get("product_id") == "b 7"]


def test_scan_names_a_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="--products_dir"):
        folders.scan(str(tmp_path))


def test_attributes_file_needs_a_product_id_column(tmp_path):
    path = fx.write_csv(str(tmp_path / "a.csv"), ["sku", "category"], [["a1", "x"]])
    with pytest.raises(ValueError, match="product_id"):
        folders.read_attributes(path)
    path = fx.write_csv(
        str(tmp_path / "b.csv"), ["category", "product_id"], [["x", "a1"]], bom=True
    )
    assert folders.read_attributes(path) == (["category"], {"a1": ["x"]})


def test_tool_writes_the_manifest_once(tree, tmp_path):
    attributes = fx.write_csv(
        str(tmp_path / "products.csv"), ["product_id", "colour"], [["a1", "red"]]
    )
    result = run_tool(
        "tools/folders_to_pairs.py", f"--root={tree}", f"--attributes={attributes}"
    )
    assert result.returncode == 0, result.stderr
    assert "Wrote" in result.stdout and "ignored photos/stray.jpg" in result.stdout
    assert "5 products have no row" in result.stdout
    lines = (tree / "pairs.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "photo,product_id,product_image,colour"
    assert "photos/a1/0.JPG,a1,products/a1.jpg,red" in lines
    before = (tree / "pairs.csv").read_bytes()
    again = run_tool("tools/folders_to_pairs.py", f"--root={tree}")
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert (tree / "pairs.csv").read_bytes() == before
    outside = run_tool(
        "tools/folders_to_pairs.py", f"--root={tree}", f"--output={tmp_path / 'p.csv'}"
    )
    assert outside.returncode != 0 and "must lie in --root" in outside.stderr


def test_attributes_file_that_is_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "products.csv"
    path.write_bytes(b"product_id,colour\na1,r\xf6d\n")
    with pytest.raises(ValueError, match="line 2 is not UTF-8"):
        folders.read_attributes(str(path))
