"""What does the converter's code know about the photo? (docs/research/category.md)

The converter is encoder → 64-d code → decoder. When its drawings miss an
attribute of the photo (the garment category, at CPU budgets), the
information is lost either in the encoder (the code does not carry it) or in
the decoder (the code carries it, the drawing does not show it). This module
tells them apart with the standard representation probe: a linear softmax
classifier per attribute, fitted on the codes of training photos and scored
on the codes of test photos. Needs the synthetic set's attributes.

Chance is what a classifier that ignores the code scores: it always answers
the training photos' most frequent class. An untrained converter of the same
width is the floor a trained encoder should clear: random convolutional
features already carry some colour.
"""

from __future__ import annotations

import keras
import numpy as np

from pldt_tf.data import pipeline
from pldt_tf.evaluation import probe

HEADS = tuple(probe.HEADS)  # category, primary_color, pattern


def encode(
    encoder: keras.Model, records_dir: str, split: str, limit: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Codes ([N, code size]) and product ids of a split's first ``limit``
    source photos, in the pipeline's fixed order."""
    data = pipeline.split_arrays(
        records_dir,
        split,
        keys=("source_id",),
        computed={"code": lambda b: encoder(b["source"], training=False)},
        limit=limit,
    )
    return data["code"], data["source_id"]


def linear_accuracy(
    train_codes: np.ndarray,
    train_labels: np.ndarray,
    test_codes: np.ndarray,
    test_labels: np.ndarray,
    classes: int,
    epochs: int = 60,
    seed: int = 0,
) -> float:
    """Test accuracy of a softmax regression fitted on standardised codes."""
    mean = train_codes.mean(axis=0)
    scale = train_codes.std(axis=0) + 1e-6
    keras.utils.set_random_seed(seed)
    classifier = keras.Sequential(
        [keras.Input((train_codes.shape[1],)), keras.layers.Dense(classes)]
    )
    classifier.compile(
        keras.optimizers.Adam(1e-2),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    classifier.fit(
        (train_codes - mean) / scale,
        train_labels,
        epochs=epochs,
        batch_size=256,
        verbose=0,
    )
    logits = classifier.predict((test_codes - mean) / scale, verbose=0)
    return float(np.mean(np.argmax(logits, axis=-1) == test_labels))


def run(
    encoder: keras.Model,
    records_dir: str,
    train_photos: int = 6000,
    epochs: int = 60,
    seed: int = 0,
) -> dict[str, float]:
    """Per attribute: the linear probe's test accuracy on all test photos and
    its chance level (``<head>_chance``: the share of test photos with the
    training photos' most frequent label)."""
    attributes = probe.load_attributes(records_dir)
    train_codes, train_ids = encode(encoder, records_dir, "train", train_photos)
    test_codes, test_ids = encode(encoder, records_dir, "test")
    train_labels = probe.labels_for(train_ids, attributes)
    test_labels = probe.labels_for(test_ids, attributes)
    scores = {}
    for head in HEADS:
        classes = len(probe.HEADS[head])
        scores[head] = linear_accuracy(
            train_codes,
            train_labels[head],
            test_codes,
            test_labels[head],
            classes,
            epochs,
            seed,
        )
        majority = np.argmax(np.bincount(train_labels[head], minlength=classes))
        scores[f"{head}_chance"] = float(np.mean(test_labels[head] == majority))
    return scores
