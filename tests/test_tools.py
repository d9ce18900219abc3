"""The command-line tools, run as a user would (subprocesses)."""

from __future__ import annotations

import json

import pytest
from tool_runner import run_tool


@pytest.mark.slow
def test_make_synthetic_then_build_records(tmp_path):
    out = tmp_path / "syn"
    sheet = tmp_path / "sheet.png"
    result = run_tool(
        "tools/make_synthetic.py",
        f"--output_dir={out}",
        "--num_products=24",
        "--workers=2",
        f"--contact_sheet={sheet}",
    )
    assert result.returncode == 0, result.stderr
    assert "Wrote" in result.stdout and sheet.stat().st_size > 1000
    result = run_tool(
        "tools/build_tfrecords.py",
        f"--lookbook_dir={out / 'lookbook'}",
        f"--attributes={out / 'attributes.csv'}",
        f"--output_dir={out / 'records'}",
        "--validation_fraction=0.1",
        "--test_fraction=0.1",
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "records" / "dataset.json").read_text())
    assert manifest["counts"]["products"] == 24
    assert (out / "records" / "attributes.csv").exists()
    again = run_tool(
        "tools/build_tfrecords.py",
        f"--lookbook_dir={out / 'lookbook'}",
        f"--output_dir={out / 'records'}",
    )
    assert again.returncode != 0 and "--overwrite" in again.stderr


def test_make_synthetic_names_an_unknown_pattern(tmp_path):
    result = run_tool(
        "tools/make_synthetic.py", f"--output_dir={tmp_path / 'x'}", "--patterns=plaid"
    )
    assert result.returncode != 0
    assert "--patterns" in result.stderr and "plaid" in result.stderr
    assert not (tmp_path / "x").exists()


def test_build_records_requires_flags(tmp_path):
    result = run_tool("tools/build_tfrecords.py")
    assert result.returncode != 0 and "output_dir" in result.stderr
    for source in ([], ["--lookbook_dir=x", "--pairs_csv=y"]):
        result = run_tool(
            "tools/build_tfrecords.py", f"--output_dir={tmp_path / 'r'}", *source
        )
        assert result.returncode == 2
        assert "exactly one of --lookbook_dir and --pairs_csv" in result.stderr


@pytest.mark.slow
def test_gpu_check_runs_small_on_cpu(synthetic_data):
    _, records_dir = synthetic_data
    result = run_tool("tools/gpu_check.py", "--small", f"--records_dir={records_dir}")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line.split() for line in result.stdout.splitlines()]
    measured = {(r[0], r[1]) for r in rows if len(r) == 6 and r[-1].endswith("h")}
    assert measured == {
        (p, x)
        for p in ("float32", "mixed_float16", "mixed_bfloat16")
        for x in ("off", "on")
    }
    assert "no GPU: CPU only" in result.stdout
    assert "TFRecord pipeline" in result.stdout and "keeps up" in result.stdout


@pytest.mark.slow
def test_shop_folders_to_manifest_to_records(tmp_path):
    shop = tmp_path / "shop"
    result = run_tool(
        "tools/make_synthetic.py",
        f"--output_dir={tmp_path / 'syn'}",
        "--num_products=12",
        "--workers=1",
        f"--shop_dir={shop}",
    )
    assert result.returncode == 0, result.stderr
    assert "Shop layout: 12 products" in result.stdout
    assert (shop / "products.csv").read_text().startswith("product_id,category,colour")
    result = run_tool(
        "tools/folders_to_pairs.py",
        f"--root={shop}",
        f"--attributes={shop}/products.csv",
    )
    assert result.returncode == 0, result.stderr
    result = run_tool(
        "tools/build_tfrecords.py",
        f"--pairs_csv={shop / 'pairs.csv'}",
        f"--output_dir={shop / 'records'}",
        "--validation_fraction=0.2",
        "--test_fraction=0.2",
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((shop / "records" / "dataset.json").read_text())
    assert manifest["counts"]["products"] == 12
    assert manifest["product_ids"]["0"] == "A0001"  # text ids: numbered in order
    attributes = (shop / "records" / "attributes.csv").read_text().splitlines()
    assert attributes[0] == "product_id,category,colour"
