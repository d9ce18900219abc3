"""Writing the synthetic LookBook: one flat folder in LookBook's layout,
``attributes.csv`` and ``synthetic.json`` (the settings it was drawn with, so
a folder is never silently reused for other settings)."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
from collections.abc import Sequence

import numpy as np
from PIL import Image

from pldt_tf import errors, storage
from pldt_tf.data import atomic
from pldt_tf.data.synthetic.drawing import render_photo, render_product_image
from pldt_tf.data.synthetic.vocabulary import (
    ATTRIBUTE_FIELDS,
    SETTINGS_NAME,
    VARIATIONS,
    ProductSpec,
    Variation,
    check_vocabulary,
    sample_product,
)


def _jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def product_files(
    spec: ProductSpec, seed: int, variation: Variation
) -> list[tuple[str, bytes]]:
    """All files of one product: (LookBook name, JPEG bytes)."""
    files = []
    pid = spec.product_id
    for k in range(spec.num_product_images):
        rng = np.random.default_rng([seed, pid, 1, k])
        image = render_product_image(spec, rng, variation)
        files.append(
            (f"PID{pid:06d}_CLEAN1_IID{pid * 100 + k:06d}.jpg", _jpeg(image, 95))
        )
    for k in range(spec.num_photos):
        rng = np.random.default_rng([seed, pid, 2, k])
        image = render_photo(spec, rng)
        quality = int(rng.integers(60, 96))
        iid = pid * 100 + 10 + k
        files.append((f"PID{pid:06d}_CLEAN0_IID{iid:06d}.jpg", _jpeg(image, quality)))
    return files


def _write_product(args) -> tuple[dict, int]:
    folder, pid, seed, variation, colors, patterns = args
    spec = sample_product(pid, seed, variation, colors, patterns)
    files = product_files(spec, seed, variation)
    for name, data in files:
        if storage.is_url(folder):
            storage.write_bytes(os.path.join(folder, name), data)
        else:
            with open(os.path.join(folder, name), "wb") as file:
                file.write(data)
    return spec.attributes(), len(files)


def generate(
    output_dir: str,
    num_products: int,
    seed: int = 0,
    variation: str = "full",
    workers: int | None = None,
    overwrite: bool = False,
    progress=None,
    colors: Sequence[str] | None = None,
    patterns: Sequence[str] | None = None,
) -> dict:
    """Writes a synthetic LookBook: ``<output_dir>/lookbook/``,
    ``<output_dir>/attributes.csv`` and ``<output_dir>/synthetic.json`` (the
    settings below).

    The folder is built under a temporary name and renamed into place, so an
    interrupted run leaves nothing that looks complete. The result depends only
    on ``num_products``, ``seed``, ``variation``, ``colors`` and
    ``patterns``, not on ``workers``.

    Args:
      output_dir: Folder to create.
      num_products: Products to draw (ids 1..num_products).
      seed: Seeds everything.
      variation: A key of ``VARIATIONS``.
      workers: Processes (default: all cores).
      overwrite: Replace an existing ``output_dir``.
      progress: Optional callable receiving the number of products done.
      colors, patterns: Restrict the primary colours / patterns drawn
        (names from ``COLORS`` / ``PATTERNS``; None: all).

    Returns:
      Counts: products, images.
    """
    if variation not in VARIATIONS:
        raise errors.UserError(
            f"variation must be one of {sorted(VARIATIONS)}, got {variation!r}"
        )
    if num_products < 2:
        raise errors.UserError(f"num_products must be >= 2, got {num_products}")
    check_vocabulary(colors, patterns)
    colors = None if colors is None else tuple(colors)
    patterns = None if patterns is None else tuple(patterns)
    with atomic.atomic_folder(output_dir, overwrite, SETTINGS_NAME) as tmp_dir:
        folder = os.path.join(tmp_dir, "lookbook")
        storage.makedirs(folder)
        jobs = [
            (folder, pid, seed, VARIATIONS[variation], colors, patterns)
            for pid in range(1, num_products + 1)
        ]
        rows, images = [], 0
        for attributes, count in _run(jobs, workers, in_process=storage.is_url(folder)):
            rows.append(attributes)
            images += count
            if progress is not None:
                progress(len(rows))
        table = io.StringIO(newline="")
        writer = csv.DictWriter(table, fieldnames=ATTRIBUTE_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
        storage.write_text(os.path.join(tmp_dir, "attributes.csv"), table.getvalue())
        # Last: the completion marker (atomic.atomic_folder).
        storage.write_text(
            os.path.join(tmp_dir, SETTINGS_NAME),
            json.dumps(
                settings(num_products, seed, variation, colors, patterns), indent=2
            ),
        )
    return {"products": len(rows), "images": images}


def _run(jobs, workers: int | None, in_process: bool):
    """``_write_product`` of each job, in order: in worker processes, or in
    this one (a URL such as ram:// may be this process's alone)."""
    if in_process:
        yield from map(_write_product, jobs)
        return
    workers = workers or os.cpu_count() or 1
    context = multiprocessing.get_context("spawn" if workers > 1 else None)
    with context.Pool(workers) as pool:
        yield from pool.imap(_write_product, jobs, chunksize=8)


def settings(
    num_products: int,
    seed: int = 0,
    variation: str = "full",
    colors: Sequence[str] | None = None,
    patterns: Sequence[str] | None = None,
) -> dict:
    """What a synthetic folder's draws depend on, as ``generate`` records it
    in ``<output_dir>/synthetic.json`` (None: the whole vocabulary)."""
    return {
        "products": int(num_products),
        "seed": int(seed),
        "variation": variation,
        "colors": None if colors is None else list(colors),
        "patterns": None if patterns is None else list(patterns),
    }


def read_settings(output_dir: str) -> dict | None:
    """The settings a synthetic folder was generated with; None when it has
    no ``synthetic.json`` (a real LookBook, or a folder drawn before the
    settings were recorded)."""
    path = os.path.join(output_dir, SETTINGS_NAME)
    if not storage.isfile(path):
        return None
    return storage.read_json(path)


def settings_mismatch(output_dir: str, expected: dict) -> dict[str, tuple]:
    """{setting: (recorded, expected)} for every setting of ``expected``
    that differs from the one ``output_dir`` was generated with; empty when
    they agree or nothing was recorded."""
    recorded = read_settings(output_dir)
    if recorded is None:
        return {}
    return {
        key: (recorded.get(key), value)
        for key, value in expected.items()
        if recorded.get(key) != value
    }


def read_attributes(path: str) -> dict[int, dict]:
    """``attributes.csv`` → {product id: {category, primary_color, ...}}."""
    with storage.open_file(path) as file:
        text = file.read()
    return {
        int(row["product_id"]): {k: v for k, v in row.items() if k != "product_id"}
        for row in csv.DictReader(io.StringIO(text, newline=""))
    }
