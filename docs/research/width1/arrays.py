"""Reads the .npz (optionally xz-compressed) files these scripts exchange."""

import io
import lzma

import numpy as np


def load(path: str) -> dict:
    with open(path, "rb") as f:
        raw = f.read()
    if path.endswith(".xz"):
        raw = lzma.decompress(raw)
    return dict(np.load(io.BytesIO(raw)))
