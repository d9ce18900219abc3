"""The attribute probe: a small CNN that reads category, primary colour and
pattern off a 64×64 product image — our automated stand-in for the paper's
human raters (docs/paper.md#evaluation).

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

import hashlib
import json
import os

import keras
import numpy as np
from absl import logging

from pldt_tf import errors
from pldt_tf.data import pipeline, records, synthetic

HEADS = {
    "category": list(synthetic.CATEGORIES),
    "primary_color": list(synthetic.COLORS),
    "pattern": list(synthetic.PATTERNS),
}
FEATURES = 128


def manifest_key(records_dir: str) -> str:
    """A short hash of the data set's identity: its manifest and attributes.

    The manifest's ``source_dir`` (where the images were read from) is left
    out, so the same data set built from another folder, or a records folder
    whose probe file is copied in, keeps its probe instead of training a new
    one; the attributes file's content is hashed in, so two data sets whose
    products are labelled differently never share a probe.
    """
    manifest = records.load_manifest(records_dir)
    identity = {key: value for key, value in manifest.items() if key != "source_dir"}
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8"))
    name = manifest.get("attributes_file")
    if name and os.path.isfile(os.path.join(records_dir, name)):
        with open(os.path.join(records_dir, name), "rb") as file:
            digest.update(file.read())
    return digest.hexdigest()[:16]


def probe_path(records_dir: str) -> str:
    return os.path.join(records_dir, f"probe-{manifest_key(records_dir)}.keras")


def load_attributes(records_dir: str) -> dict[int, dict]:
    manifest = records.load_manifest(records_dir)
    name = manifest.get("attributes_file")
    if not name:
        raise errors.MissingInputError(
            f"{records_dir!r} has no attributes file: the attribute probe needs "
            "known product attributes (the synthetic data set has them)."
        )
    return synthetic.read_attributes(os.path.join(records_dir, name))


def product_arrays(records_dir: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """All product images of a split ([N, 64, 64, 3] in [-1, 1]) and ids."""
    images, ids = [], []
    for batch in pipeline.product_dataset(records_dir, split, 256):
        images.append(batch["image"].numpy())
        ids.append(batch["product_id"].numpy())
    return np.concatenate(images), np.concatenate(ids)


def labels_for(ids: np.ndarray, attributes: dict[int, dict]) -> dict[str, np.ndarray]:
    return {
        head: np.array([names.index(attributes[int(i)][head]) for i in ids], np.int32)
        for head, names in HEADS.items()
    }


def build_probe(seed: int = 0) -> keras.Model:
    """Three heads on a shared CNN; outputs a dict of logits and features.

    Measured on the 1,500-product mild synthetic set (train product images,
    40 epochs, 7 min on 2 cores): test-product accuracy 98.8% category,
    96.3% colour, 91.3% pattern. A shallower variant with batch norm stayed
    at 65% category (underfitting).
    """
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
    for head, names in HEADS.items():
        outputs[head] = keras.layers.Dense(len(names), name=head)(features)
    return keras.Model(image, outputs, name="attribute_probe")


def train_probe(
    records_dir: str, epochs: int = 40, seed: int = 0, verbose: int = 0
) -> keras.Model:
    """Trains the probe on the train split's real product images only.

    ``verbose`` is Keras' ``fit`` verbosity (2: a line per epoch).
    """
    attributes = load_attributes(records_dir)
    images, ids = product_arrays(records_dir, "train")
    labels = labels_for(ids, attributes)
    probe = build_probe(seed)
    heads = list(HEADS)
    trainer = keras.Model(probe.input, [probe.output[h] for h in heads])
    trainer.compile(
        keras.optimizers.Adam(1e-3),
        loss=[keras.losses.SparseCategoricalCrossentropy(from_logits=True)]
        * len(heads),
    )
    trainer.fit(
        images,
        tuple(labels[h] for h in heads),
        epochs=epochs,
        batch_size=64,
        shuffle=True,
        verbose=verbose,
    )
    return probe


def load_or_train_probe(records_dir: str, epochs: int = 40) -> keras.Model:
    """The data set's cached probe, trained on first use."""
    path = probe_path(records_dir)
    if os.path.isfile(path):
        return keras.saving.load_model(path)
    logging.info(
        "No attribute probe for this data set yet: training it on the train "
        "split's product images (%d epochs; 7 to 8 minutes on 2 CPU cores for "
        "the demo set), then caching it as %s",
        epochs,
        path,
    )
    probe = train_probe(records_dir, epochs, verbose=2)
    tmp = f"{path}.tmp.keras"
    probe.save(tmp)
    os.replace(tmp, path)
    return probe


def predict(probe: keras.Model, images: np.ndarray, batch_size: int = 256) -> dict:
    """Predicted class indices per head and the features, for [-1, 1] images."""
    outputs = probe.predict(images, batch_size=batch_size, verbose=0)
    result = {h: np.argmax(outputs[h], axis=-1) for h in HEADS}
    result["features"] = outputs["features"]
    return result


def accuracies(predicted: dict, labels: dict) -> dict[str, float]:
    """Per-head accuracy plus colour-and-pattern together ("attribute")."""
    scores = {h: float(np.mean(predicted[h] == labels[h])) for h in HEADS}
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
