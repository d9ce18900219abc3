"""Scores a trained converter on a split (docs/paper.md#evaluation): pixel
metrics and noise, the attribute probe (category, attributes, realism), and
product retrieval.

Writes ``evaluation-<split>.json``, ``evaluation-<split>.md`` and
``comparison-<split>.png`` (paper Fig. 5: source | generated | ground truth)
into the workdir.
"""

from __future__ import annotations

import os
import time

import numpy as np
import tensorflow as tf

from pldt_tf import errors, metrics, storage, visualize
from pldt_tf.data import pipeline, synthetic
from pldt_tf.evaluation import probe as probe_lib
from pldt_tf.evaluation import retrieval
from pldt_tf.training import workdir as workdir_lib

# Key of the probe's category confusion counts (kept beside the scores,
# which are all numbers).
CONFUSION = "probe_category_confusion"


def generate_split(converter, records_dir: str, split: str, direction: str) -> dict:
    """Sources, generated images, ground truth and ids of a whole split."""
    return pipeline.split_arrays(
        records_dir,
        split,
        keys=("source", "target", "source_id"),
        computed={"generated": lambda b: converter(b["source"], training=False)},
        batch_size=64,
        options=pipeline.PipelineOptions(direction=direction),
    )


def dd_retrieval(model, records_dir: str, data: dict, max_queries: int) -> dict:
    """Paper Table 2's Retrieval by DD-score: each source's "generated" image
    is the *training* product image that D_A scores highest."""
    if model.domain is None:
        raise errors.UserError(
            f"method {model.method!r} has no domain discriminator: Retrieval by "
            "DD-score needs a c_rf_dd or c_rf_dd_neg workdir."
        )
    gallery, _ = probe_lib.product_arrays(records_dir, "train")
    count = min(max_queries, len(data["source"]))
    data = {k: v[:count] for k, v in data.items()}
    domain = model.domain

    def score(sources, targets):
        return domain([sources, targets], training=False)

    start = time.perf_counter()
    score(data["source"][:1].repeat(min(256, len(gallery)), 0), gallery[:256])
    per_batch = time.perf_counter() - start
    batches = count * -(-len(gallery) // 256)
    print(
        f"Retrieval by DD-score: {count} queries x {len(gallery)} training product "
        f"images = {count * len(gallery):,} D_A pairs, about "
        f"{batches * per_batch / 60:.1f} min.",
        flush=True,
    )
    best = retrieval.retrieve_by_score(score, data["source"], gallery)
    data["generated"] = gallery[best]
    return data


def fig4_sheet(data: dict, products: int = 4, photos: int = 4) -> np.ndarray:
    """Paper Fig. 4: several photos of one product and what is drawn from
    each — one product per row (photo | generated | ground truth)."""
    ids, counts = np.unique(data["source_id"], return_counts=True)
    chosen = ids[counts >= photos][:products]
    rows = [np.where(data["source_id"] == pid)[0][:photos] for pid in chosen]
    if not rows:
        return visualize.triplet_grid(
            data["source"][:1], data["generated"][:1], data["target"][:1]
        )
    index = np.concatenate(rows)
    return visualize.triplet_grid(
        data["source"][index],
        data["generated"][index],
        data["target"][index],
        columns=photos,
    )


def nearest_photo_scores(data: dict) -> dict:
    """product_to_human: one product image has several true photos, so each
    product's drawing is scored against the *nearest* of them (lowest RMSE,
    highest C-SSIM, each taken on its own), once per product."""
    rmse, c_ssim = [], []
    for pid in np.unique(data["source_id"]):
        index = np.where(data["source_id"] == pid)[0]
        photos = metrics.to_unit_interval(data["target"][index])
        drawn = metrics.to_unit_interval(data["generated"][index[:1]])
        drawn = tf.repeat(drawn, len(index), axis=0)
        rmse.append(float(tf.reduce_min(metrics.rmse(drawn, photos))))
        c_ssim.append(float(tf.reduce_max(metrics.c_ssim(drawn, photos))))
    return {
        "rmse_nearest_photo": float(np.mean(rmse)),
        "c_ssim_nearest_photo": float(np.mean(c_ssim)),
        "products": len(rmse),
    }


def photo_realism(records_dir: str, data: dict, epochs: int) -> dict:
    """product_to_human: Fréchet distance between probe features of the
    drawn photos and of the split's real photos (one drawing per product,
    as many real photos, so the two sets have equal size)."""
    probe = probe_lib.load_or_train_probe(records_dir, epochs)
    _, first = np.unique(data["source_id"], return_index=True)
    drawn = probe_lib.predict(probe, data["generated"][first])["features"]
    real = probe_lib.predict(probe, data["target"][first])["features"]
    return {
        "realism_frechet": _unless_unavailable(probe_lib.frechet_distance, drawn, real)
    }


def _unless_unavailable(metric, *args):
    """The metric's value, or ``Unavailable(reason)`` when the data at hand
    cannot give it: one metric never costs the whole report."""
    try:
        return metric(*args)
    except probe_lib.MetricUnavailable as error:
        return Unavailable(str(error))


class Unavailable(str):
    """A metric's reason for having no value (a str, so JSON keeps it)."""


def _unavailable(scores: dict) -> dict:
    """{metric: reason} for the metrics that have none; removed from scores,
    which stay all numbers."""
    missing = {k: str(v) for k, v in scores.items() if isinstance(v, Unavailable)}
    for key in missing:
        scores[key] = None
    return missing


NOT_SYNTHETIC_PALETTE = (
    "color_match names garment colours by the synthetic set's 12-colour "
    "palette, and these records are not the synthetic set: see "
    "color_agreement, which needs no palette"
)


def pixel_scores(generated: np.ndarray, target: np.ndarray, palette: bool) -> dict:
    """Scores of the drawings against their targets; ``palette``: the data
    are the synthetic set, whose colours ``color_match`` names."""
    g, t = metrics.to_unit_interval(generated), metrics.to_unit_interval(target)
    colors = tf.constant(np.array(list(synthetic.COLORS.values()), np.float32) / 255)
    color_match = (
        float(tf.reduce_mean(metrics.color_match(g, t, colors)))
        if palette
        else Unavailable(NOT_SYNTHETIC_PALETTE)
    )
    return {
        "rmse": float(tf.reduce_mean(metrics.rmse(g, t))),
        "c_ssim": float(tf.reduce_mean(metrics.c_ssim(g, t))),
        "color_match": color_match,
        "color_agreement": float(tf.reduce_mean(metrics.color_agreement(g, t))),
        # Noise: high-frequency energy against the real products' (1: as
        # much as real product shots), and speckle on the white background.
        "noise_hf_ratio": float(
            tf.reduce_mean(metrics.high_frequency_energy(g))
            / tf.maximum(tf.reduce_mean(metrics.high_frequency_energy(t)), 1e-12)
        ),
        "background_speckle": float(tf.reduce_mean(metrics.background_speckle(g, t))),
    }


def probe_scores(records_dir: str, split: str, data: dict, epochs: int) -> dict:
    """Probe accuracy on real products of the split and on generated images,
    and the Fréchet distance between their probe features. Without
    attributes, only the distance (features of the rotation probe)."""
    heads, _ = probe_lib.heads_for(records_dir)
    probe = probe_lib.load_or_train_probe(records_dir, epochs)
    real, real_ids = probe_lib.product_arrays(records_dir, split)
    on_real = probe_lib.predict(probe, real)
    on_generated = probe_lib.predict(probe, data["generated"])
    realism = _unless_unavailable(
        probe_lib.frechet_distance, on_generated["features"], on_real["features"]
    )
    if probe_lib.ROTATION in heads:
        reason = Unavailable(
            "the data set has no attribute column with two or more values in "
            "its train split (add columns such as category or colour to the "
            "pairs manifest)"
        )
        return {
            "probe_on_real_products": reason,
            "probe_on_generated": reason,
            "realism_frechet": realism,
        }
    attributes = probe_lib.attribute_table(records_dir)[1]
    labels = probe_lib.labels_for(data["source_id"], attributes, heads)
    scores = {
        "probe_on_real_products": probe_lib.accuracies(
            on_real, probe_lib.labels_for(real_ids, attributes, heads)
        ),
        "probe_on_generated": probe_lib.accuracies(on_generated, labels),
    }
    confusion = None
    if "category" in heads:
        names = heads["category"]
        known = labels["category"] >= 0
        counts = probe_lib.confusion(
            on_generated["category"][known], labels["category"][known], len(names)
        )
        # Share of each true category's drawings the probe reads as that
        # category (categories with no photo in the split are left out).
        scores["probe_category_by_true_category"] = {
            name: float(row[i] / row.sum())
            for i, (name, row) in enumerate(zip(names, counts, strict=True))
            if row.sum()
        }
        confusion = {"classes": names, "counts": counts.tolist()}
    scores["realism_frechet"] = realism
    if confusion is not None:
        scores[CONFUSION] = confusion
    return scores


def probe_notes(records_dir: str, split: str, data: dict) -> dict:
    """What the probe's scores rest on: its heads, the attribute columns it
    left out and why, and per head how many of the split's photos have a
    value it cannot score (unknown, or never seen in the train split)."""
    heads, left_out = probe_lib.heads_for(records_dir)
    notes = {
        "heads": {head: len(classes) for head, classes in heads.items()},
        "columns_left_out": left_out,
    }
    if probe_lib.ROTATION in heads:
        notes["features"] = (
            "the probe was trained to tell quarter turns of the train split's "
            "product images, and realism uses its features (not comparable "
            "with a labelled probe's)"
        )
        return notes
    attributes = probe_lib.attribute_table(records_dir)[1]
    labels = probe_lib.labels_for(data["source_id"], attributes, heads)
    notes["photos_not_scored"] = {
        head: int(np.sum(truth < 0)) for head, truth in labels.items()
    }
    return notes


def retrieval_scores(records_dir: str, split: str, data: dict) -> dict:
    gallery, gallery_ids = probe_lib.product_arrays(records_dir, split)
    ranks = retrieval.truth_ranks(
        retrieval.descriptor(data["generated"]),
        retrieval.descriptor(gallery),
        gallery_ids,
        data["source_id"],
    )
    return {
        "retrieval_top1": retrieval.top_k(ranks, 1),
        "retrieval_top5": retrieval.top_k(ranks, 5),
        "gallery_products": int(len(np.unique(gallery_ids))),
    }


def markdown(results: dict) -> str:
    title = (
        f"{results['workdir']} ({results['method']}, {results['split']}, "
        f"step {results['step']})"
    )
    lines = [
        f"# Evaluation of {title}",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    for key, value in results["scores"].items():
        if value is None:
            reason = results.get("unavailable", {}).get(key, "")
            lines.append(f"| {key} | unavailable: {reason} |")
        elif isinstance(value, dict):
            for sub, v in value.items():
                lines.append(f"| {key} / {sub} | {v:.4f} |")
        else:
            lines.append(f"| {key} | {value:.4f} |")
    if results.get(CONFUSION):
        classes = results[CONFUSION]["classes"]
        lines += [
            "",
            "## The probe's category on the generated images",
            "",
            "Rows: the photo's true category; columns: what the probe reads.",
            "",
            "| photo's category | " + " | ".join(classes) + " |",
            "|---" * (len(classes) + 1) + "|",
        ]
        for name, row in zip(classes, results[CONFUSION]["counts"], strict=True):
            lines.append(f"| {name} | " + " | ".join(str(c) for c in row) + " |")
    lines += _probe_lines(results.get("probe") or {})
    return "\n".join(lines) + "\n"


def _probe_lines(notes: dict) -> list[str]:
    """The probe section of the Markdown report: what its scores rest on."""
    if not notes:
        return []
    heads = ", ".join(f"{h} ({n} classes)" for h, n in notes["heads"].items())
    lines = ["", "## The probe", "", f"Heads: {heads}."]
    if notes.get("features"):
        lines.append(f"Without attribute heads: {notes['features']}.")
    for column, reason in notes.get("columns_left_out", {}).items():
        lines.append(f"Column {column} left out: {reason}.")
    for head, count in notes.get("photos_not_scored", {}).items():
        if count:
            lines.append(
                f"{head}: {count} photos not scored (value unknown, or not "
                "among the train split's values)."
            )
    return lines


METHODS = ("converter", "dd_retrieval")


def evaluate(
    workdir: str,
    split: str = "test",
    records_dir: str | None = None,
    checkpoint: str | None = None,
    probe_epochs: int = 40,
    method: str = "converter",
    max_queries: int = 100,
    max_sources: int | None = None,
) -> dict:
    """Scores the workdir's converter (or its D_A as Retrieval by DD-score);
    writes JSON, Markdown and figures into the workdir.

    ``max_sources`` keeps the split's first sources only (the order is fixed),
    so that methods can be compared on the same photos — the Fréchet
    distance depends on the number of images.
    """
    if method not in METHODS:
        raise errors.UserError(f"method must be one of {METHODS}, got {method!r}")
    config = workdir_lib.load_config(workdir)
    records_dir = records_dir or config.records_dir
    model, step = workdir_lib.load_model_and_step(workdir, checkpoint)
    data = generate_split(model.converter, records_dir, split, config.direction)
    if max_sources is not None:
        data = {k: v[:max_sources] for k, v in data.items()}
    if method == "dd_retrieval":
        data = dd_retrieval(model, records_dir, data, max_queries)
    synthetic_set = probe_lib.holds_synthetic_attributes(records_dir)
    scores = pixel_scores(data["generated"], data["target"], synthetic_set)
    human_to_product = config.direction == "human_to_product"
    if human_to_product:
        scores.update(probe_scores(records_dir, split, data, probe_epochs))
        scores.update(retrieval_scores(records_dir, split, data))
    else:  # the photos' colours are not the garment's
        del scores["color_match"], scores["color_agreement"]
        scores.update(nearest_photo_scores(data))
        scores.update(photo_realism(records_dir, data, probe_epochs))
    confusion = scores.pop(CONFUSION, None)  # counts, not a score
    unavailable = _unavailable(scores)
    for key, reason in unavailable.items():
        print(f"{key}: unavailable — {reason}", flush=True)
    results = {
        "workdir": workdir,
        "method": method,
        "direction": config.direction,
        "split": split,
        "step": step,
        "photos": int(len(data["source"])),
        "max_sources": max_sources,
        "records_dir": records_dir,
        "scores": scores,
        "unavailable": unavailable,
        "probe": probe_notes(records_dir, split, data),
        CONFUSION: confusion,
    }
    suffix = split if method == "converter" else f"{split}-{method}"
    base = os.path.join(workdir, f"evaluation-{suffix}")
    storage.write_json(f"{base}.json", results)
    storage.write_text(f"{base}.md", markdown(results))
    visualize.save_png(os.path.join(workdir, f"fig4-{suffix}.png"), fig4_sheet(data))
    count = min(16, len(data["source"]))
    visualize.save_png(
        os.path.join(workdir, f"comparison-{suffix}.png"),
        visualize.triplet_grid(
            data["source"][:count], data["generated"][:count], data["target"][:count]
        ),
    )
    return results
