"""Builds small LookBook-layout folders for the tests (nothing downloaded).

``make_lookbook`` writes a folder with ordinary products and every kind of
awkward file ingestion must survive; ``EXPECTED`` records what ingestion
should make of it. ``build_synthetic_records`` builds the records of the
tests' synthetic set (the ``synthetic_data`` fixture) with one set of options.
"""

from __future__ import annotations

import io
import os
import struct
import zlib

import numpy as np
from PIL import Image

from pldt_tf.data import lookbook, records


def name(pid: int, clean: int, iid: int, ext: str = "jpg") -> str:
    return f"PID{pid:06d}_CLEAN{clean}_IID{iid:06d}.{ext}"


def solid(height: int, width: int, color) -> np.ndarray:
    return np.broadcast_to(np.array(color, np.uint8), (height, width, 3)).copy()


def jpeg_bytes(pixels: np.ndarray, **save_args) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=95, **save_args)
    return buffer.getvalue()


def png16_rgb_bytes(pixels: np.ndarray) -> bytes:
    """A 16-bit-per-channel RGB PNG (PIL cannot write one), by hand."""
    height, width, _ = pixels.shape
    raw = b"".join(b"\x00" + pixels[y].astype(">u2").tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def exif_rotated_jpeg(pixels: np.ndarray, orientation: int = 6) -> bytes:
    """JPEG whose stored pixels must be rotated per its EXIF Orientation."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return jpeg_bytes(pixels, exif=exif.tobytes())


def _write(folder: str, file_name: str, data: bytes) -> None:
    with open(os.path.join(folder, file_name), "wb") as file:
        file.write(data)


def _save(folder: str, file_name: str, image: Image.Image, **args) -> None:
    image.save(os.path.join(folder, file_name), **args)


def product_color(pid: int) -> tuple[int, int, int]:
    rng = np.random.default_rng(pid)
    return tuple(int(c) for c in rng.integers(0, 256, size=3))


def make_lookbook(folder: str, num_products: int = 12) -> dict:
    """Writes a LookBook-layout folder with awkward files mixed in.

    Products 1..num_products are ordinary (a product image and 2-4 photos in
    the product's colour); further products exercise the odd cases.

    Returns:
      What ingestion must report: skipped file names, dropped product ids, the
      number of usable products and photos.
    """
    os.makedirs(folder, exist_ok=True)
    photos = 0
    for pid in range(1, num_products + 1):
        color = product_color(pid)
        _write(folder, name(pid, 1, pid * 100), jpeg_bytes(solid(80, 60, color)))
        for k in range(2 + pid % 3):
            _write(
                folder,
                name(pid, 0, pid * 100 + 1 + k),
                jpeg_bytes(solid(90, 60, color)),
            )
            photos += 1
    good = solid(40, 30, (10, 200, 30))
    odd = 900  # product ids of the awkward cases
    # Colour modes, each a photo of its own complete product.
    _save(folder, name(odd + 1, 1, 1), Image.fromarray(good))
    _save(folder, name(odd + 1, 0, 2), Image.fromarray(good[..., 0]), format="JPEG")
    _save(
        folder,
        name(odd + 2, 1, 1, "PNG"),
        Image.fromarray(good).convert("CMYK"),
        format="JPEG",
    )
    _save(
        folder,
        name(odd + 2, 0, 2, "JPG"),
        Image.fromarray(good).convert("CMYK"),
        format="JPEG",
    )
    rgba = np.concatenate([good, np.full((40, 30, 1), 128, np.uint8)], axis=-1)
    _save(folder, name(odd + 3, 1, 1, "png"), Image.fromarray(rgba), format="PNG")
    gray16 = np.full((40, 30), 40000, np.uint16)
    _save(folder, name(odd + 3, 0, 2, "png"), Image.fromarray(gray16), format="PNG")
    _write(
        folder,
        name(odd + 4, 1, 1, "png"),
        png16_rgb_bytes(np.full((20, 20, 3), 65535, np.uint16)),
    )
    palette = Image.fromarray(good).convert("P")
    palette.info["transparency"] = 0
    _save(folder, name(odd + 4, 0, 2, "png"), palette, format="PNG", transparency=0)
    # EXIF rotation and an extreme aspect ratio.
    _write(folder, name(odd + 5, 1, 1, "jpeg"), jpeg_bytes(solid(64, 64, (250, 0, 0))))
    _write(
        folder,
        name(odd + 5, 0, 2, "JPEG"),
        exif_rotated_jpeg(solid(20, 40, (0, 0, 250))),
    )
    _save(folder, name(odd + 5, 0, 3), Image.fromarray(solid(500, 1, (0, 0, 0))))
    photos += 6  # products 901-904 have one photo each, 905 has two
    # Broken files: corrupt, empty, truncated, and a decompression bomb.
    skipped = []
    for iid, data in (
        (11, b"this is not a jpeg at all" * 10),
        (12, b""),
        (13, jpeg_bytes(solid(200, 200, (9, 9, 9)))[:300]),
    ):
        _write(folder, name(odd + 6, 0, iid), data)
        skipped.append(name(odd + 6, 0, iid))
    bomb = Image.new("1", (20_000, 10_000))
    _save(folder, name(odd + 6, 0, 14, "png"), bomb, format="PNG")
    skipped.append(name(odd + 6, 0, 14, "png"))
    # Product odd+6 has a product image but only broken photos: dropped.
    _write(folder, name(odd + 6, 1, 1), jpeg_bytes(good))
    # A product with no photos, photos with no product.
    _write(folder, name(odd + 7, 1, 1), jpeg_bytes(good))
    _write(folder, name(odd + 8, 0, 1), jpeg_bytes(good))
    _write(folder, name(odd + 8, 0, 2), jpeg_bytes(good))
    # Misnamed files and a sub-folder.
    for bad in (
        "PID12_CLEAN1_IID3.jpg",
        "PID000001_CLEAN2_IID000001.jpg",
        "PID000001_CLEAN1_IID000001.gif",
        "notes.txt",
        ".DS_Store",
    ):
        _write(folder, bad, b"x")
        skipped.append(bad)
    os.makedirs(os.path.join(folder, "subfolder"))
    skipped.append("subfolder")
    return {
        "skipped": sorted(skipped),
        "no_photos": [odd + 6, odd + 7],
        "no_product_image": [odd + 8],
        "products": num_products + 5,
        "photos": photos,
    }


def build_synthetic_records(
    lookbook_dir: str, records_dir: str, attributes_file: str
) -> dict:
    """The records of a synthetic LookBook folder, as the ``synthetic_data``
    fixture builds them (seed 3, 10% validation, 10% test)."""
    return records.build_records(
        lookbook.read_folder(lookbook_dir, attributes_file),
        records_dir,
        records.BuildOptions(
            seed=3, validation_fraction=0.1, test_fraction=0.1, records_per_shard=100
        ),
    )


def lookbook_manifest(folder: str, name: str = "pairs.csv") -> str:
    """Writes a pairs manifest into a LookBook-layout folder that describes
    its correctly named files: one row per photo, with the product's first
    product image; rows without a photo for further product images and for
    products without photos; product ids as the names write them (zeros
    first). Returns the manifest's path."""
    photos, images = {}, {}
    for file_name in sorted(os.listdir(folder)):
        entry = lookbook.parse_filename(file_name)
        if entry is not None:
            pid = file_name[3 : file_name.index("_")]
            (images if entry.is_product else photos).setdefault(pid, []).append(
                file_name
            )
    rows = []
    for pid in sorted(set(photos) | set(images)):
        product_images = images.get(pid, [])
        first = product_images[0] if product_images else ""
        rows += [(photo, pid, first) for photo in photos.get(pid, [])]
        rows += [
            ("", pid, image) for image in product_images[1 if pid in photos else 0 :]
        ]
    path = os.path.join(folder, name)
    write_csv(path, ["photo", "product_id", "product_image"], rows)
    return path


def write_csv(
    path: str,
    header: list[str],
    rows: list,
    bom: bool = False,
    delimiter: str = ",",
) -> str:
    """Writes a CSV file as a spreadsheet would (UTF-8, optionally a BOM)."""
    import csv

    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        writer = csv.writer(f, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def make_shop(root: str, num_products: int = 6) -> dict:
    """A shop's folders: products/<id>.jpg (product ``B`` has two shots in
    products/B/), photos/<id>/*.jpg, file names with spaces and non-ASCII
    letters. Returns the manifest rows describing it (photo, product_id,
    product_image, category) and the product ids."""
    rows = []
    ids = [f"shirt {chr(ord('A') + i)}" for i in range(num_products)]
    for index, pid in enumerate(ids):
        color = product_color(index + 1)
        os.makedirs(os.path.join(root, "products"), exist_ok=True)
        product = f"products/{pid}.jpg"
        _write(root, product, jpeg_bytes(solid(80, 60, color)))
        photo_dir = os.path.join(root, "photos", pid)
        os.makedirs(photo_dir, exist_ok=True)
        for k in range(2 + index % 2):
            photo = f"photos/{pid}/Ärmel {k} ü.jpg"
            _write(root, photo, jpeg_bytes(solid(90, 60, color)))
            rows.append([photo, pid, product, "top" if index % 2 else "shirt"])
    return {"rows": rows, "ids": ids}
