"""Paper Table 3 over methods and seeds: the summary statistics and the
paper's six claims (docs/paper.md#evaluation; tools/table3.py runs the
trainings and writes the report).
"""

from __future__ import annotations

import numpy as np

TRAINED = ("c_rf", "c_mse", "c_rf_dd_neg", "c_rf_dd")
RETRIEVAL = "dd_retrieval"
NAMES = {
    "c_rf": "C+RF",
    "c_mse": "C+MSE",
    "c_rf_dd_neg": "C+RF+DD−Neg",
    RETRIEVAL: "Retrieval by DD-score",
    "c_rf_dd": "C+RF+DD (ours)",
}
ORDER = ("c_rf", "c_mse", "c_rf_dd_neg", RETRIEVAL, "c_rf_dd")
# (key in the scores, label, higher is better; None: neither)
METRICS = (
    ("rmse", "RMSE", False),
    ("c_ssim", "C-SSIM", True),
    ("probe_on_generated/category", "Category (probe)", True),
    ("probe_on_generated/color_and_pattern", "Attribute: colour & pattern", True),
    ("probe_on_generated/primary_color", "Attribute: colour", True),
    ("probe_on_generated/pattern", "Attribute: pattern", True),
    ("realism_frechet", "Realism: Fréchet ↓", False),
    ("color_match", "Colour match", True),
    ("retrieval_top1", "Retrieval top-1", True),
    ("retrieval_top5", "Retrieval top-5", True),
    ("noise_hf_ratio", "Noise: high-frequency energy ÷ real products'", None),
    ("background_speckle", "Noise: speckle on the white background ↓", False),
)


def get(scores: dict, key: str) -> float:
    value = scores
    for part in key.split("/"):
        value = value[part]
    return float(value)


def _mean(table, method, key):
    return table[method][key][0]


def claims(table: dict) -> list[tuple[str, bool, str, bool]]:
    """(claim, holds, the numbers, clear) for the paper's six claims;
    ``clear``: every difference the claim rests on exceeds the two seeds'
    standard deviations added.

    ``table[method][metric] = (mean, std)``. The user-study criteria map to
    the stand-in: Realistic → Fréchet distance (lower is better), Attribute →
    colour-and-pattern accuracy, Category → category accuracy, both of the
    probe on the generated images.
    """
    cat, attr, real = (
        "probe_on_generated/category",
        "probe_on_generated/color_and_pattern",
        "realism_frechet",
    )

    def gap(a, b, key):
        """Is the difference larger than the two seeds' spreads together?"""
        (mean_a, std_a, _), (mean_b, std_b, _) = table[a][key], table[b][key]
        return abs(mean_a - mean_b) > std_a + std_b

    def show(key, methods, digits=3):
        return ", ".join(
            f"{NAMES[m]} {_mean(table, m, key):.{digits}f}" for m in methods
        )

    def best(method, key, label, methods, lower):
        """(method is best on key, the numbers, clearly best)."""
        pick = min if lower else max
        return (
            pick(methods, key=lambda m: _mean(table, m, key)) == method,
            f"{label}: " + show(key, methods),
            all(gap(method, m, key) for m in methods if m != method),
        )

    def beats(a, b, keys):
        """(a is ahead of b on every key, the numbers, clearly ahead)."""
        return (
            all(_mean(table, a, k) > _mean(table, b, k) for k in keys),
            "; ".join(f"{label}: {show(k, [a, b])}" for k, label in keys.items()),
            all(gap(a, b, k) for k in keys),
        )

    generative = [m for m in ORDER if m in table]
    out = [
        (
            "1. C+MSE has the lowest RMSE",
            *best("c_mse", "rmse", "RMSE", generative, lower=True),
        ),
        (
            "2. C+RF+DD has the highest C-SSIM",
            *best("c_rf_dd", "c_ssim", "C-SSIM", generative, lower=False),
        ),
        (
            "3. C+RF+DD beats C+RF+DD−Neg (category and attribute)",
            *beats("c_rf_dd", "c_rf_dd_neg", {cat: "category", attr: "attribute"}),
        ),
        (
            "4. C+RF+DD beats Retrieval by DD-score (category, attribute, C-SSIM)",
            *beats(
                "c_rf_dd",
                RETRIEVAL,
                {cat: "category", attr: "attribute", "c_ssim": "C-SSIM"},
            ),
        ),
    ]
    trained = [m for m in TRAINED if m in table]
    most_real = sorted(trained, key=lambda m: _mean(table, m, real))
    chance = 1 / 6
    out.append(
        (
            "5. C+RF looks real (Fréchet better than C+MSE) but ignores the input "
            "(category at most chance + 10 points, below C+MSE)",
            _mean(table, "c_rf", real) < _mean(table, "c_mse", real)
            and _mean(table, "c_rf", cat) <= chance + 0.10
            and _mean(table, "c_rf", cat) < _mean(table, "c_mse", cat),
            f"Fréchet: {show(real, trained, 1)}; category: {show(cat, trained)} "
            f"(chance {chance:.3f})",
            gap("c_rf", "c_mse", real) and gap("c_rf", "c_mse", cat),
        )
    )
    best_everywhere = (
        all(
            max(trained, key=lambda m: _mean(table, m, k)) == "c_rf_dd"
            for k in (cat, attr)
        )
        and most_real[0] == "c_rf_dd"
    )
    out.append(
        (
            "6. C+MSE is the least realistic yet beats C+RF on attribute and "
            "category; C+RF+DD is best on all three criteria",
            most_real[-1] == "c_mse"
            and all(
                _mean(table, "c_mse", k) > _mean(table, "c_rf", k) for k in (cat, attr)
            )
            and best_everywhere,
            f"Fréchet: {show(real, trained, 1)}; category: {show(cat, trained)}; "
            f"attribute: {show(attr, trained)}",
            all(gap("c_mse", m, real) for m in trained if m != "c_mse")
            and all(gap("c_mse", "c_rf", k) for k in (cat, attr))
            and all(
                gap("c_rf_dd", m, k)
                for m in trained
                if m != "c_rf_dd"
                for k in (cat, attr, real)
            ),
        )
    )
    return out


def summarise(scores: dict, metrics=None) -> dict:
    """{method: {metric: (mean, sample std over seeds, n)}} from
    {method: [scores of one seed, ...]}; ``metrics``: keys (default METRICS)."""
    keys = metrics or [key for key, _, _ in METRICS]
    table = {}
    for method, per_seed in scores.items():
        table[method] = {}
        for key in keys:
            values = [get(s, key) for s in per_seed]
            table[method][key] = (
                float(np.mean(values)),
                float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
                len(values),
            )
    return table


def clearly(better: tuple, worse: tuple, higher: bool) -> bool:
    """Whether mean ± std ``better`` beats ``worse`` by more than the two
    standard deviations added (the rule the claims use)."""
    gap = better[0] - worse[0] if higher else worse[0] - better[0]
    return gap > better[1] + worse[1]


# docs/research/upsampling.md states this rule before the measurement.
UPSAMPLING_RULE = {
    "less noise": (("background_speckle", False),),
    "better capture": (("color_match", True), ("retrieval_top5", True)),
    "nothing clearly worse": (
        ("probe_on_generated/category", True),
        ("probe_on_generated/primary_color", True),
        ("probe_on_generated/pattern", True),
        ("realism_frechet", False),
        ("rmse", False),
        ("c_ssim", True),
    ),
}


def upsampling_verdict(paper: dict, candidate: dict) -> tuple[bool, list[str]]:
    """Applies the rule to two tables' C+RF+DD rows ({metric: (mean, std,
    n)}): (whether the candidate wins, one sentence per part)."""
    lines, wins = [], True
    for part, checks in UPSAMPLING_RULE.items():
        if part == "nothing clearly worse":
            losses = [
                key
                for key, higher in checks
                if clearly(paper[key], candidate[key], higher)
            ]
            held = not losses
            detail = (
                "no clear loss" if held else "clearly worse on " + ", ".join(losses)
            )
        else:
            missed = [
                key
                for key, higher in checks
                if not clearly(candidate[key], paper[key], higher)
            ]
            held = not missed
            detail = (
                "clear on every figure" if held else "not clear on " + ", ".join(missed)
            )
        wins = wins and held
        lines.append(f"{part}: {'holds' if held else 'does not hold'} ({detail})")
    return wins, lines
