"""A data set's records as uint8 arrays, for ``width1_jax.py``.

Runs where TensorFlow is (it reads the project's TFRecords through the
project's own pipeline, in its fixed order); writes one xz-compressed .npz
small enough to travel to a GPU machine without TensorFlow (the demo set:
56 MB).

  python docs/research/width1/export_arrays.py data/demo/records demo.npz.xz

Arrays, per split (train, test): ``<split>_photos`` [N, 64, 64, 3], the
source photos; ``<split>_products`` [P, 64, 64, 3], one product image per
product; ``<split>_product_index`` [N], each photo's row in
``<split>_products``; ``<split>_product_ids`` [P], the products' ids.
"""

import io
import lzma
import sys

import numpy as np

from pldt_tf import visualize
from pldt_tf.data import pipeline


def main(records_dir: str, out: str) -> None:
    arrays = {}
    for split in ("train", "test"):
        data = pipeline.split_arrays(
            records_dir, split, keys=("source", "target", "source_id")
        )
        ids, first, index = np.unique(
            data["source_id"], return_index=True, return_inverse=True
        )
        arrays[f"{split}_photos"] = visualize.to_uint8(data["source"])
        arrays[f"{split}_products"] = visualize.to_uint8(data["target"][first])
        arrays[f"{split}_product_index"] = index.astype(np.int32)
        arrays[f"{split}_product_ids"] = ids
        print(split, arrays[f"{split}_photos"].shape, len(ids), "products")
    raw = io.BytesIO()
    np.savez(raw, **arrays)
    with open(out, "wb") as f:
        f.write(lzma.compress(raw.getvalue(), preset=6))


if __name__ == "__main__":
    main(*sys.argv[1:3])
