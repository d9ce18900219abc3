"""The attribute probe: a small CNN that reads a product's attributes off a
64×64 product image — our automated stand-in for the paper's human raters
(docs/paper.md#evaluation).

Its heads are the data set's attribute columns (``heads_for``): on the
synthetic set category, primary colour and pattern with their fixed
vocabularies; on a user's data every attribute column with at least two
values among the train split's products. A data set without attribute
columns gets a probe trained to tell how a product image is rotated (0, 90,
180 or 270 degrees), a task that needs no labels, so that realism can still
be scored; it has no attribute accuracies to report.

It is trained once per data set, on the *real product images of the train
split only*, and cached in the records folder under a key derived from the
data set's manifest and attributes (not from the folder it was built from),
so every method is scored by the same probe. Its penultimate layer gives
the features for the realism score (a Fréchet distance between generated and
real test products).

What it measures and how it differs from people: it answers "which category,
colour and pattern does this image show?" with a classifier that has only
ever seen clean product shots. Unlike a rater it cannot say "this is not a
garment at all" — an off-distribution image still gets some label —, which is
why realism is scored separately, by the feature-space distance.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile

import keras
import numpy as np
from absl import logging

from pldt_tf import errors, storage
from pldt_tf.data import pipeline, records, synthetic

# The synthetic set's heads: what the paper's raters judged (the secondary
# colour is not), in the vocabularies' order.
HEADS = {
    "category": list(synthetic.CATEGORIES),
    "primary_color": list(synthetic.COLORS),
    "pattern": list(synthetic.PATTERNS),
}
ROTATION = "rotation"  # the label-free head: quarter turns
ROTATIONS = ["0", "90", "180", "270"]
FEATURES = 128


def manifest_key(records_dir: str) -> str:
    """A short hash of the data set's identity: its manifest and attributes.

    The manifest's ``source_dir`` and ``pairs_csv`` (where the data was read
    from) are left out, so the same data set built from another folder, or a
    records folder whose probe file is copied in, keeps its probe instead of
    training a new one; the attributes file's content is hashed in, so two
    data sets whose products are labelled differently never share a probe.
    """
    manifest = records.load_manifest(records_dir)
    where = ("source_dir", "pairs_csv")
    identity = {key: value for key, value in manifest.items() if key not in where}
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8"))
    name = manifest.get("attributes_file")
    if name and storage.isfile(os.path.join(records_dir, name)):
        digest.update(storage.read_bytes(os.path.join(records_dir, name)))
    return digest.hexdigest()[:16]


def probe_path(records_dir: str) -> str:
    return os.path.join(records_dir, f"probe-{manifest_key(records_dir)}.keras")


def attribute_table(records_dir: str) -> tuple[list[str], dict[int, dict]] | None:
    """The records' attribute columns and ``{product id: {column: value}}``
    (empty: unknown), or None when the data set has no attributes."""
    name = records.load_manifest(records_dir).get("attributes_file")
    if not name:
        return None
    text = storage.read_text(os.path.join(records_dir, name))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    table = {
        int(row["product_id"]): {k: v for k, v in row.items() if k != "product_id"}
        for row in reader
    }
    columns = [c for c in reader.fieldnames or () if c != "product_id"]
    return columns, table


def is_synthetic(columns: list[str]) -> bool:
    return ["product_id", *columns] == list(synthetic.ATTRIBUTE_FIELDS)


def holds_synthetic_attributes(records_dir: str) -> bool:
    """Whether the records carry the synthetic set's attribute columns."""
    found = attribute_table(records_dir)
    return found is not None and is_synthetic(found[0])


def load_attributes(records_dir: str) -> dict[int, dict]:
    """The synthetic set's attributes (category, colours, pattern) per
    product, for the analyses that need exactly those."""
    found = attribute_table(records_dir)
    if found is None or not is_synthetic(found[0]):
        raise errors.MissingInputError(
            f"{records_dir!r} does not hold the synthetic set's attributes "
            f"({', '.join(synthetic.ATTRIBUTE_FIELDS[1:])}): this analysis is "
            "made for the synthetic set."
        )
    return found[1]


def heads_for(records_dir: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The probe's heads (name → class names) and the attribute columns left
    out, each with the reason.

    The synthetic set keeps ``HEADS``. Otherwise every attribute column is a
    head whose classes are the values its train-split products show (the
    probe is fitted on those only); a column with fewer than two is left
    out. Without any head, the probe tells rotations (``ROTATION``).
    """
    found = attribute_table(records_dir)
    if found is None:
        return {ROTATION: ROTATIONS}, {}
    columns, table = found
    if is_synthetic(columns):
        return dict(HEADS), {}
    train_ids = records.load_manifest(records_dir)["splits"]["train"]["product_ids"]
    heads, left_out = {}, {}
    for column in columns:
        values = sorted(
            {table[pid][column] for pid in train_ids if table.get(pid, {}).get(column)}
        )
        if len(values) < 2:
            left_out[column] = (
                f"its train-split products show {len(values)} value(s); a "
                "classifier needs at least 2"
            )
        else:
            heads[column] = values
    return (heads or {ROTATION: ROTATIONS}), left_out


def product_arrays(records_dir: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """All product images of a split ([N, 64, 64, 3] in [-1, 1]) and ids."""
    images, ids = [], []
    for batch in pipeline.product_dataset(records_dir, split, 256):
        images.append(batch["image"].numpy())
        ids.append(batch["product_id"].numpy())
    return np.concatenate(images), np.concatenate(ids)


def labels_for(
    ids: np.ndarray, attributes: dict[int, dict], heads: dict | None = None
) -> dict[str, np.ndarray]:
    """Class index per head for each product id; -1 where the value is
    unknown or not among the head's classes (unseen in the train split)."""
    heads = HEADS if heads is None else heads
    labels = {}
    for head, names in heads.items():
        index = {name: i for i, name in enumerate(names)}
        labels[head] = np.array(
            [index.get(attributes.get(int(i), {}).get(head, ""), -1) for i in ids],
            np.int32,
        )
    return labels


def build_probe(seed: int = 0, heads: dict | None = None) -> keras.Model:
    """One head per attribute on a shared CNN; outputs a dict of logits and
    features.

    Measured on the 1,500-product mild synthetic set (train product images,
    40 epochs, 7 min on 2 cores): test-product accuracy 98.8% category,
    96.3% colour, 91.3% pattern. A shallower variant with batch norm stayed
    at 65% category (underfitting).
    """
    heads = HEADS if heads is None else heads
    keras.utils.set_random_seed(seed)
    image = keras.Input((64, 64, 3), name="image")
    x = image
    for index, filters in enumerate((32, 64, 128, 256), start=1):
        for part in "ab":
            x = keras.layers.Conv2D(
                filters, 3, padding="same", activation="relu", name=f"conv{index}{part}"
            )(x)
        x = keras.layers.MaxPooling2D(name=f"pool{index}")(x)  # 64 → 4 after 4
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    features = keras.layers.Dense(FEATURES, activation="relu", name="features")(x)
    outputs = {"features": features}
    for head, names in heads.items():
        outputs[head] = keras.layers.Dense(len(names), name=head)(features)
    return keras.Model(image, outputs, name="attribute_probe")


def rotated(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each image at its four quarter turns, and the number of turns."""
    turns = [np.rot90(images, k, axes=(1, 2)) for k in range(len(ROTATIONS))]
    labels = np.repeat(np.arange(len(ROTATIONS), dtype=np.int32), len(images))
    return np.concatenate(turns), labels


def train_probe(
    records_dir: str, epochs: int = 40, seed: int = 0, verbose: int = 0
) -> keras.Model:
    """Trains the probe on the train split's real product images only.

    ``verbose`` is Keras' ``fit`` verbosity (2: a line per epoch). The
    rotation probe sees each image four times per epoch, so it runs a
    quarter of the epochs (as many steps as a labelled probe).
    """
    heads, _ = heads_for(records_dir)
    images, ids = product_arrays(records_dir, "train")
    if ROTATION in heads:
        images, turns = rotated(images)
        labels = {ROTATION: turns}
        epochs = max(1, epochs // len(ROTATIONS))
    else:
        labels = labels_for(ids, attribute_table(records_dir)[1], heads)
    probe = build_probe(seed, heads)
    names = list(heads)
    trainer = keras.Model(probe.input, [probe.output[h] for h in names])
    trainer.compile(
        keras.optimizers.Adam(1e-3),
        # Unknown values (-1) teach nothing; the synthetic set has none.
        loss=[
            keras.losses.SparseCategoricalCrossentropy(
                from_logits=True,
                ignore_class=-1 if np.any(labels[h] < 0) else None,
            )
            for h in names
        ],
    )
    trainer.fit(
        images,
        tuple(labels[h] for h in names),
        epochs=epochs,
        batch_size=64,
        shuffle=True,
        verbose=verbose,
    )
    return probe


def load_or_train_probe(records_dir: str, epochs: int = 40) -> keras.Model:
    """The data set's cached probe, trained on first use."""
    path = probe_path(records_dir)
    if storage.isfile(path):
        return _load(path)
    logging.info(
        "No attribute probe for this data set yet: training it on the train "
        "split's product images (%d epochs; 7 to 8 minutes on 2 CPU cores for "
        "the demo set), then caching it as %s",
        epochs,
        path,
    )
    probe = train_probe(records_dir, epochs, verbose=2)
    if storage.is_url(path):  # written whole: one object
        with tempfile.TemporaryDirectory() as folder:
            probe.save(os.path.join(folder, "probe.keras"))
            storage.write_bytes(
                path, storage.read_bytes(os.path.join(folder, "probe.keras"))
            )
        return probe
    tmp = f"{path}.tmp.keras"
    probe.save(tmp)
    os.replace(tmp, path)
    return probe


def _load(path: str) -> keras.Model:
    if not storage.is_url(path):
        return keras.saving.load_model(path)
    with tempfile.TemporaryDirectory() as folder:
        local = os.path.join(folder, "probe.keras")
        storage.write_bytes(local, storage.read_bytes(path))
        return keras.saving.load_model(local)


def predict(probe: keras.Model, images: np.ndarray, batch_size: int = 256) -> dict:
    """Predicted class indices per head and the features, for [-1, 1] images."""
    outputs = probe.predict(images, batch_size=batch_size, verbose=0)
    result = {h: np.argmax(v, axis=-1) for h, v in outputs.items() if h != "features"}
    result["features"] = outputs["features"]
    return result


def accuracies(predicted: dict, labels: dict) -> dict[str, float]:
    """Per-head accuracy over the images whose label is known (>= 0), plus
    colour-and-pattern together ("attribute") on the synthetic set."""
    scores = {}
    for head, truth in labels.items():
        known = truth >= 0
        if np.any(known):
            scores[head] = float(np.mean(predicted[head][known] == truth[known]))
    if "primary_color" in scores and "pattern" in scores:
        both = (predicted["primary_color"] == labels["primary_color"]) & (
            predicted["pattern"] == labels["pattern"]
        )
        scores["color_and_pattern"] = float(np.mean(both))
    return scores


def confusion(predicted: np.ndarray, labels: np.ndarray, classes: int) -> np.ndarray:
    """[classes, classes] counts: row = true class, column = predicted class."""
    flat = np.asarray(labels) * classes + np.asarray(predicted)
    return np.bincount(flat, minlength=classes * classes).reshape(classes, classes)


class MetricUnavailable(ValueError):  # noqa: N818 (a result, not a failure)
    """A metric that cannot be computed on the data at hand; the message says
    why. The evaluation reports it as unavailable and writes the others."""


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets.

    Raises:
      MetricUnavailable: fewer than 2 feature vectors on a side (no
        covariance to fit), non-finite features, or no convergence.
    """
    if len(a) < 2 or len(b) < 2:
        raise MetricUnavailable(
            f"a covariance needs at least 2 images on each side; got {len(a)} "
            f"generated and {len(b)} real (use a larger split or data set)"
        )
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise MetricUnavailable("the probe's features are not finite")
    try:
        return _frechet(a, b)
    except np.linalg.LinAlgError as error:
        raise MetricUnavailable(f"the covariance did not decompose ({error})") from None


def _frechet(a: np.ndarray, b: np.ndarray) -> float:
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.cov(a, rowvar=False) + 1e-6 * np.eye(a.shape[1])
    cov_b = np.cov(b, rowvar=False) + 1e-6 * np.eye(b.shape[1])
    # sqrt(cov_a · cov_b) via the symmetric form cov_a^½ cov_b cov_a^½.
    values, vectors = np.linalg.eigh(cov_a)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_sqrt = float(np.sum(np.sqrt(np.clip(middle, 0, None))))
    return float(
        np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt
    )
