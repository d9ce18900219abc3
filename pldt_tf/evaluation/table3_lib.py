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


# The rules of the studies that ask whether an option of ours beats a
# baseline C+RF+DD, each stated in its docs/research page before the
# measurement: {part: ((metric, higher is better), ...)}. A part named
# ``NOTHING_WORSE`` holds when no metric of it is clearly worse; a part whose
# name starts with ``ANY_OF`` when at least one of its metrics is clearly
# better; every other part when each of its metrics is clearly better.
NOTHING_WORSE = "nothing clearly worse"
ANY_OF = "one of"
_PIXEL_LOSS_GUARD = (
    ("probe_on_generated/primary_color", True),
    ("probe_on_generated/pattern", True),
    ("color_match", True),
    ("realism_frechet", False),
    ("retrieval_top5", True),
    ("rmse", False),
    ("c_ssim", True),
)
# The pixel-term rule's metrics, with the category and the speckle it won on.
_RECIPE_GUARD = (
    ("probe_on_generated/category", True),
    *_PIXEL_LOSS_GUARD,
    ("background_speckle", False),
)
RULES = {
    # docs/research/upsampling.md
    "upsampling": {
        "less noise": (("background_speckle", False),),
        "better capture": (("color_match", True), ("retrieval_top5", True)),
        NOTHING_WORSE: (
            ("probe_on_generated/category", True),
            ("probe_on_generated/primary_color", True),
            ("probe_on_generated/pattern", True),
            ("realism_frechet", False),
            ("rmse", False),
            ("c_ssim", True),
        ),
    },
    # docs/research/pixel_loss.md
    "pixel_loss": {
        "draws the category": (("probe_on_generated/category", True),),
        "less noise": (("background_speckle", False),),
        NOTHING_WORSE: _PIXEL_LOSS_GUARD,
    },
    # docs/research/recipe.md, part 2: cleaner or better drawn, nothing worse.
    "recipe": {
        f"{ANY_OF} cleaner or better drawn": (
            ("background_speckle", False),
            ("noise_hf_ratio", False),
            ("probe_on_generated/category", True),
            ("probe_on_generated/pattern", True),
        ),
        NOTHING_WORSE: _RECIPE_GUARD,
    },
    # docs/research/recipe.md, part 1b: bfloat16 against float32.
    "bfloat16": {NOTHING_WORSE: _RECIPE_GUARD},
}
# Among several candidates that win, the one adopted: the highest mean of
# this metric (None: the rule compares one candidate, or its page says how
# winners combine: recipe.md trains them together first).
TIE_BREAKS = {
    "upsampling": None,
    "pixel_loss": "probe_on_generated/category",
    "recipe": None,
    "bfloat16": None,
}


def verdict(rule: str, paper: dict, candidate: dict) -> tuple[bool, list[str]]:
    """Applies ``RULES[rule]`` to two C+RF+DD rows ({metric: (mean, std,
    n)}): (whether the candidate wins, one sentence per part)."""
    lines, wins = [], True
    for part, checks in RULES[rule].items():
        if part == NOTHING_WORSE:
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
            gains = [
                key
                for key, higher in checks
                if clearly(candidate[key], paper[key], higher)
            ]
            missed = [key for key, _ in checks if key not in gains]
            if part.startswith(ANY_OF):
                held = bool(gains)
                detail = "clear on " + ", ".join(gains) if held else "clear on none"
            else:
                held = not missed
                detail = (
                    "clear on every figure"
                    if held
                    else "not clear on " + ", ".join(missed)
                )
        wins = wins and held
        lines.append(f"{part}: {'holds' if held else 'does not hold'} ({detail})")
    return wins, lines


# --------------------------------------------------------------------------
# Reports.


def cell(entry: tuple) -> str:
    """``mean ± std`` with three decimals, or none for large figures."""
    mean, std = entry[0], entry[1]
    return f"{mean:.3f} ± {std:.3f}" if abs(mean) < 10 else f"{mean:.0f} ± {std:.0f}"


def metric_rows(columns: list[dict], bold_best: bool = True) -> list[str]:
    """One Markdown row per metric of ``METRICS`` that every column has;
    ``columns``: rows {metric: (mean, std, n)}, in order. With
    ``bold_best``, the best mean of a metric with a direction is bold."""
    lines = []
    for key, label, higher in METRICS:
        if not all(key in column for column in columns):
            continue
        means = [column[key][0] for column in columns]
        best = None
        if bold_best and higher is not None:
            best = means.index(max(means) if higher else min(means))
        cells = [
            f"**{cell(column[key])}**" if index == best else cell(column[key])
            for index, column in enumerate(columns)
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def evaluation_is_current(cached: dict | None, step: int, max_sources: int) -> bool:
    """Whether a stored evaluation can stand for a run: it scored the final
    ``step`` on the same number of test photos, with every metric of
    ``METRICS`` (older evaluations lack the newer ones)."""
    if not cached or (cached["step"], cached.get("max_sources")) != (
        step,
        max_sources,
    ):
        return False
    return all(_has(cached["scores"], key) for key, _, _ in METRICS)


def _has(scores: dict, key: str) -> bool:
    try:
        get(scores, key)
    except KeyError:
        return False
    return True


def study_report(tables: dict[str, dict], rule: str, paper_label: str) -> str:
    """The figures of several Table 3 runs side by side and ``rule`` applied
    to each candidate's C+RF+DD against ``tables[paper_label]``'s.

    ``tables``: {label: {method: {metric: (mean, std, n)}}} (each the
    ``table3.json`` of a ``tools/table3.py`` run). Columns go by method, then
    by table; every table but the paper's with a C+RF+DD row is a candidate.
    """
    columns = [
        (f"{NAMES[method]}, {label}", table[method])
        for method in ORDER
        for label, table in tables.items()
        if method in table
    ]
    lines = [
        "| metric | " + " | ".join(name for name, _ in columns) + " |",
        "|---|" + "---|" * len(columns),
        *metric_rows([row for _, row in columns], bold_best=False),
    ]
    paper = tables[paper_label]["c_rf_dd"]
    winners = []
    for label, table in tables.items():
        if label == paper_label or "c_rf_dd" not in table:
            continue
        wins, parts = verdict(rule, paper, table["c_rf_dd"])
        lines += ["", f"The rule, for C+RF+DD ({label} against {paper_label}):", ""]
        lines += [f"- {part}" for part in parts]
        lines += ["", f"**{label} {'wins' if wins else 'does not win'}.**"]
        if wins:
            winners.append(label)
    tie_break = TIE_BREAKS[rule]
    if tie_break and len(winners) > 1:
        chosen = max(winners, key=lambda w: tables[w]["c_rf_dd"][tie_break][0])
        lines += ["", f"Adopted among the winners (highest {tie_break}): **{chosen}**."]
    return "\n".join(lines)


def report(
    table: dict,
    *,
    header: str,
    chance: str,
    paper_link: str,
    figure_link: str,
    runs: dict[str, float],
    config_text: str,
    notes: str = "",
) -> str:
    """The Markdown report of ``tools/table3.py``: ``header`` (the command,
    machine and protocol paragraphs), the table with the best of each
    metric in bold, the paper's claims, the figure, the runs' wall times,
    the shared config and the hand-written ``notes``."""
    present = [m for m in ORDER if m in table]
    lines = [
        header,
        "",
        "| metric | " + " | ".join(NAMES[m] for m in present) + " |",
        "|---|" + "---|" * len(present),
        *metric_rows([table[m] for m in present]),
        "",
        chance,
        "",
        "## The paper's claims",
        "",
        f"As [the paper states them]({paper_link}#evaluation).",
        "",
    ]
    if all(m in table for m in ORDER):
        for claim, holds, numbers, clear in claims(table):
            verdict_text = "holds" if holds else "does not hold"
            if holds and not clear:
                verdict_text += " (but within the seeds' spread)"
            lines.append(f"- **{claim}: {verdict_text}.** {numbers}")
    else:
        lines.append("Not checked: the claims compare all five methods.")
    lines += [
        "",
        "## Comparison",
        "",
        f"![one row per test photo]({figure_link})",
        "",
        "Columns: source photo | "
        + " | ".join(NAMES[m] for m in present)
        + " | ground truth (seed 0).",
        "",
        "## Training runs",
        "",
        "| run | wall time |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v / 60:.1f} min |" for k, v in sorted(runs.items())]
    lines += ["", "## The shared config", "", "```", config_text, "```", ""]
    if notes:
        lines += [notes.strip(), ""]
    return "\n".join(lines)


def comparison_figure(columns: list[tuple[str, str]], rows: int):
    """Rows of test photos: source | one drawing per column | ground truth.

    ``columns``: (training workdir, ``"converter"`` for its converter's
    drawings or ``RETRIEVAL`` for the training product its D_A picks).
    """
    from pldt_tf import visualize
    from pldt_tf.evaluation import evaluate_lib
    from pldt_tf.training import workdir as workdir_lib

    drawings, source, target = [], None, None
    for workdir, method in columns:
        config = workdir_lib.load_config(workdir)
        model, _ = workdir_lib.load_model_and_step(workdir)
        data = evaluate_lib.generate_split(
            model.converter, config.records_dir, "test", config.direction
        )
        data = {k: v[:rows] for k, v in data.items()}
        if method == RETRIEVAL:
            data = evaluate_lib.dd_retrieval(model, config.records_dir, data, rows)
        drawings.append(data["generated"])
        source, target = data["source"], data["target"]
    return visualize.grid([source, *drawings, target], columns=1)
