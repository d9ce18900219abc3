"""Does the domain discriminator judge pairs, or batches? (docs/research/selection.md)

D_A is trained *alone*, on associated pairs (label 1) and unassociated pairs
(label 0) from the training pipeline, with its batch norm in training mode as
in the GAN, and then asked, for each test photo, which test product goes with
it (inference mode). Two batchings, read from ``model.SELECTIONS`` without
the generated case:

- ``pure``: associated and unassociated pairs as two separate batches, as
  ``--selection=per_case`` feeds them;
- ``mixed``: one batch holding both, as ``--selection=joint`` does.

Scores need the synthetic set's attributes:
- ``category``: the product D_A scores highest has the photo's category;
- ``category_within_colour``: the same among the products of the photo's
  primary colour only, so colour cannot answer it; ``chance_within_colour``
  is what a uniform pick among them would score.

``score_drawings`` asks the same of a trained run's D_A about its converter's
*drawings* (docs/research/category.md): does D_A prefer a photo's own drawing to
drawings of other categories, and does its favourite among other products'
drawings have the photo's category?
"""

from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np
import tensorflow as tf

from pldt_tf import losses, networks
from pldt_tf import model as model_lib
from pldt_tf.data import pipeline
from pldt_tf.evaluation import evaluate_lib, probe

# Each batching's selection: the groups D_A judges there, generated left out.
BATCHINGS = {"pure": "per_case", "mixed": "joint"}


@dataclasses.dataclass(frozen=True)
class Check:
    step: int
    train_loss: float
    category: float
    category_within_colour: float
    chance_within_colour: float
    seconds: float


def _scores(domain, source, candidates) -> np.ndarray:
    """D_A's logits of one source paired with each candidate image."""
    repeated = np.repeat(source[None], len(candidates), axis=0)
    return np.asarray(domain([repeated, candidates], training=False)).reshape(-1)


def _favourite(scores, category, candidates, truth) -> tuple[bool, float]:
    """Whether the candidate D_A scores highest has the ``truth`` category, and
    how often a uniform pick among ``candidates`` (indices) would."""
    best = candidates[np.argmax(scores[candidates])]
    return category[best] == truth, float(np.mean(category[candidates] == truth))


def score(domain, records_dir: str, max_sources: int = 200) -> dict[str, float]:
    """D_A's product choice for the first ``max_sources`` test photos."""
    attributes = probe.load_attributes(records_dir)
    gallery, gallery_ids = probe.product_arrays(records_dir, "test")
    category = np.array([attributes[int(i)]["category"] for i in gallery_ids])
    colour = np.array([attributes[int(i)]["primary_color"] for i in gallery_ids])
    everything = np.arange(len(gallery))
    tests = pipeline.split_arrays(records_dir, "test", limit=max_sources)
    hits = within = chance = 0.0
    for source, source_id in zip(tests["source"], tests["source_id"], strict=True):
        truth = attributes[int(source_id)]
        scores = _scores(domain, source, gallery)
        hits += _favourite(scores, category, everything, truth["category"])[0]
        same = np.flatnonzero(colour == truth["primary_color"])
        hit, uniform = _favourite(scores, category, same, truth["category"])
        within += hit
        chance += uniform
    count = len(tests["source"])
    return {
        "category": hits / count,
        "category_within_colour": within / count,
        "chance_within_colour": chance / count,
    }


def score_drawings(
    domain, converter, records_dir: str, max_sources: int = 200
) -> dict[str, float]:
    """D_A's verdict on the converter's drawings of the first ``max_sources``
    test photos (every photo against every drawing).

    - ``own_over_other_category``: how often D_A scores a photo's own drawing
      above the drawing of a photo of another category (pairs averaged per
      photo; a D_A blind to the drawings scores 50%);
    - ``drawing_category``: D_A's favourite among the drawings of *other
      products'* photos has the photo's category;
    - ``drawing_category_within_colour``: the same among drawings of photos of
      the photo's colour, over the photos that have any
      (``drawing_chance_within_colour``: a uniform pick).
    """
    attributes = probe.load_attributes(records_dir)
    data = evaluate_lib.generate_split(
        converter, records_dir, "test", "human_to_product"
    )
    sources, drawings = data["source"][:max_sources], data["generated"][:max_sources]
    ids = data["source_id"][:max_sources]
    category = np.array([attributes[int(i)]["category"] for i in ids])
    colour = np.array([attributes[int(i)]["primary_color"] for i in ids])
    own_over, hits, within, chance, coloured = [], [], 0.0, 0.0, 0
    for i, source in enumerate(sources):
        scores = _scores(domain, source, drawings)
        other_category = category != category[i]
        if other_category.any():
            own_over.append(np.mean(scores[i] > scores[other_category]))
        others = np.flatnonzero(ids != ids[i])
        if others.size:
            hits.append(_favourite(scores, category, others, category[i])[0])
        same = others[colour[others] == colour[i]]
        if same.size:
            hit, uniform = _favourite(scores, category, same, category[i])
            within += hit
            chance += uniform
            coloured += 1
    return {
        "own_over_other_category": float(np.mean(own_over)) if own_over else 0.0,
        "drawing_category": float(np.mean(hits)) if hits else 0.0,
        "drawing_category_within_colour": within / max(coloured, 1),
        "drawing_chance_within_colour": chance / max(coloured, 1),
    }


def run(
    records_dir: str,
    batching: str,
    width: float = 0.125,
    steps: int = 900,
    batch_size: int = 64,
    hard_negatives: float = 0.0,
    checks: int = 3,
    seed: int = 0,
    max_sources: int = 200,
) -> list[Check]:
    """Trains D_A alone and scores it ``checks`` times along the way."""
    if batching not in BATCHINGS:
        raise ValueError(
            f"batching must be one of {tuple(BATCHINGS)}, got {batching!r}"
        )
    groups = [
        [case for case in group if case != model_lib.GENERATED]
        for group in model_lib.SELECTIONS[BATCHINGS[batching]].groups
    ]
    groups = [group for group in groups if group]
    keras.utils.set_random_seed(seed)
    domain = networks.build_discriminator("domain", width)
    optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
    options = pipeline.PipelineOptions(hard_negatives=hard_negatives, seed=seed)
    dataset = pipeline.triplet_dataset(records_dir, "train", batch_size, True, options)

    domain_adversary = model_lib.ADVERSARIES["domain"]

    def loss_fn(batch):
        images = {
            model_lib.ASSOCIATED: batch["target"],
            model_lib.UNASSOCIATED: batch["negative"],
        }
        judged = []
        for group in groups:  # each group one batch-norm batch, as in training
            logits = domain(
                [
                    model_lib.stacked(batch["source"], len(group)),
                    tf.concat([images[case] for case in group], 0),
                ],
                training=True,
            )
            cases = tf.repeat(group, tf.shape(batch["source"])[0])
            judged.append((logits, domain_adversary.label(cases)))
        return tf.reduce_mean(losses.case_averaged_discriminator_loss(judged))

    @tf.function
    def train_step(batch):
        with tf.GradientTape() as tape:
            loss = loss_fn(batch)
        gradients = tape.gradient(loss, domain.trainable_variables)
        optimizer.apply(gradients, domain.trainable_variables)
        return loss

    results, start = [], time.perf_counter()
    every = max(1, steps // checks)
    progress = keras.utils.Progbar(steps, unit_name="step")
    for step, batch in enumerate(dataset.take(steps), start=1):
        loss = float(train_step(batch))
        progress.update(step, [("loss", loss)])
        if step % every == 0 or step == steps:
            results.append(
                Check(
                    step,
                    loss,
                    **score(domain, records_dir, max_sources),
                    seconds=time.perf_counter() - start,
                )
            )
    return results
