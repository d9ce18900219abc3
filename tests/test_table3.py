"""Table 3: the paper's claims (docs/paper.md#evaluation) on known tables, and
the tool end to end."""

from __future__ import annotations

import json
import os
import re

import pytest
from tool_runner import run_tool

from pldt_tf.evaluation import table3_lib


def _table(**overrides):
    """A table where every claim of the paper holds clearly (std 0.001)."""
    means = {
        # method: rmse, c_ssim, category, attribute, fréchet
        "c_rf": (0.25, 0.35, 0.15, 0.02, 400.0),
        "c_mse": (0.15, 0.40, 0.50, 0.30, 900.0),
        "c_rf_dd_neg": (0.24, 0.41, 0.40, 0.20, 350.0),
        "dd_retrieval": (0.30, 0.38, 0.30, 0.10, 200.0),
        "c_rf_dd": (0.20, 0.50, 0.70, 0.60, 100.0),
    }
    means.update(overrides)
    keys = (
        "rmse",
        "c_ssim",
        "probe_on_generated/category",
        "probe_on_generated/color_and_pattern",
        "realism_frechet",
    )
    return {
        method: {key: (value, 0.001, 3) for key, value in zip(keys, row, strict=True)}
        for method, row in means.items()
    }


def test_every_claim_holds_on_the_papers_ordering():
    verdicts = table3_lib.claims(_table())
    assert len(verdicts) == 6
    assert all(holds and clear for _, holds, _, clear in verdicts), verdicts


def test_claims_fail_or_blur_when_the_numbers_say_so():
    # C+MSE better than ours on C-SSIM and category: claims 2 and 6 fail.
    verdicts = table3_lib.claims(_table(c_mse=(0.15, 0.60, 0.80, 0.30, 900.0)))
    holds = [h for _, h, _, _ in verdicts]
    assert holds == [True, False, True, True, True, False]
    # Ours ahead of −Neg by less than the spread: holds, but not clearly.
    table = _table(c_rf_dd_neg=(0.24, 0.41, 0.6995, 0.5995, 350.0))
    _, holds, _, clear = table3_lib.claims(table)[2]
    assert holds and not clear


def test_summarise_means_and_sample_std():
    scores = [
        {"rmse": r, "probe_on_generated": {"category": c}} for r, c in ((1, 0), (3, 1))
    ]
    metrics = ("rmse", "probe_on_generated/category")
    table = table3_lib.summarise({"c_rf": scores}, metrics)
    assert table["c_rf"]["rmse"] == pytest.approx((2.0, 2**0.5, 2))
    assert table["c_rf"]["probe_on_generated/category"][0] == pytest.approx(0.5)


@pytest.mark.slow
def test_table3_tool_end_to_end_and_resumes(synthetic_data, tmp_path):
    _, records_dir = synthetic_data
    base = tmp_path / "tiny.flags"
    base.write_text(
        "\n".join(
            [
                f"--records_dir={records_dir}",
                "--lookbook_dir=",
                "--synthetic_products=0",
                "--width=0.0625",
                "--precision=float32",
                "--batch_size=8",
                "--epochs=1",
                "--decay_epochs=0",
                "--steps_per_epoch=2",
                "--checkpoint_every_steps=2",
                "--sample_every_steps=2",
                "--num_samples=4",
            ]
        )
        + "\n"
    )
    results, figure = tmp_path / "table.md", tmp_path / "table3.png"
    args = [
        f"--base_flags={base}",
        "--seeds=0,1",
        f"--output_dir={tmp_path / 'runs'}",
        "--max_sources=8",
        "--probe_epochs=1",
        f"--results={results}",
        f"--figure={figure}",
        "--figure_rows=2",
    ]
    (tmp_path / "table_notes.md").write_text("## Hand-written findings\n")
    (tmp_path / "results_notes.md").write_text("## Another report's findings\n")
    # No time limit: Table 3 trains 8 runs.
    first = run_tool("tools/table3.py", *args, timeout=None)
    assert first.returncode == 0, first.stderr[-3000:]
    text = results.read_text()
    assert "| Category (probe) |" in text and "Retrieval by DD-score" in text
    # The printed command reruns this table (its own output and figure).
    assert f"--output_dir={tmp_path / 'runs'} --results={results}" in text
    assert re.search(r"Chance on category is 1/\d, on colour 1/\d+ ", text)
    assert "Hand-written findings" in text and "Another report" not in text
    assert sum(line.startswith("- **") for line in text.splitlines()) == 6
    assert figure.is_file()
    runs = json.loads((tmp_path / "runs" / "runs.json").read_text())
    assert len(runs) == 8  # 4 methods x 2 seeds
    again = run_tool("tools/table3.py", *args, timeout=None)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "pldt_tf.train" not in again.stdout  # nothing retrained
    assert json.loads((tmp_path / "runs" / "runs.json").read_text()) == runs


def _row(**overrides):
    row = {
        "background_speckle": (0.20, 0.01, 3),
        "color_match": (0.50, 0.01, 3),
        "retrieval_top5": (0.40, 0.01, 3),
        "probe_on_generated/category": (0.19, 0.02, 3),
        "probe_on_generated/primary_color": (0.35, 0.02, 3),
        "probe_on_generated/pattern": (0.16, 0.01, 3),
        "realism_frechet": (2500.0, 300.0, 3),
        "rmse": (0.23, 0.01, 3),
        "c_ssim": (0.41, 0.01, 3),
    }
    row.update(overrides)
    return row


def test_upsampling_rule():
    paper = _row()
    better = _row(
        background_speckle=(0.10, 0.01, 3),
        color_match=(0.62, 0.02, 3),
        retrieval_top5=(0.55, 0.03, 3),
    )
    wins, lines = table3_lib.verdict("upsampling", paper, better)
    assert wins, lines
    # A clear loss anywhere else, or a gain within the spread, decides no.
    worse_category = dict(better, **{"probe_on_generated/category": (0.10, 0.01, 3)})
    wins, lines = table3_lib.verdict("upsampling", paper, worse_category)
    assert not wins and "clearly worse on probe_on_generated/category" in lines[2]
    unclear = dict(better, color_match=(0.52, 0.02, 3))
    wins, lines = table3_lib.verdict("upsampling", paper, unclear)
    assert not wins and "not clear on color_match" in lines[1]


def test_table3_tool_refuses_a_pairs_manifest_before_training(tmp_path):
    flags_file = tmp_path / "own.flags"
    flags_file.write_text("--method=c_rf_dd\n--pairs_csv=shop/pairs.csv\n")
    result = run_tool(
        "tools/table3.py",
        f"--base_flags={flags_file}",
        f"--output_dir={tmp_path / 'out'}",
    )
    assert result.returncode != 0
    assert "synthetic set's attributes" in result.stderr
    assert not (tmp_path / "out").exists()


def test_pixel_loss_rule_needs_the_category_less_speckle_and_no_clear_loss():
    paper = _row(**{"probe_on_generated/category": (0.18, 0.05, 3)})
    hybrid = _row(
        **{"probe_on_generated/category": (0.34, 0.02, 3)},
        background_speckle=(0.11, 0.01, 3),
    )
    wins, lines = table3_lib.verdict("pixel_loss", paper, hybrid)
    assert wins, lines
    assert [line.split(":")[0] for line in lines] == [
        "draws the category",
        "less noise",
        "nothing clearly worse",
    ]
    # Within the baseline's spread, the category does not count.
    unclear = dict(hybrid, **{"probe_on_generated/category": (0.24, 0.02, 3)})
    assert not table3_lib.verdict("pixel_loss", paper, unclear)[0]
    # A clear loss of realism (a blur, as C+MSE draws) decides no.
    blurred = dict(hybrid, realism_frechet=(9000.0, 500.0, 3))
    wins, lines = table3_lib.verdict("pixel_loss", paper, blurred)
    assert not wins and "clearly worse on realism_frechet" in lines[2]


def _with_metrics(**means):
    """A row holding every metric of METRICS (std 0.01), ``means`` overriding."""
    row = {key: (0.5, 0.01, 3) for key, _, _ in table3_lib.METRICS}
    row.update({k.replace("__", "/"): (v, 0.01, 3) for k, v in means.items()})
    return row


def test_metric_rows_bold_the_best_in_each_direction():
    rows = table3_lib.metric_rows(
        [_with_metrics(rmse=0.2, c_ssim=0.3), _with_metrics(rmse=0.3, c_ssim=0.4)]
    )
    assert rows[0] == "| RMSE | **0.200 ± 0.010** | 0.300 ± 0.010 |"
    assert rows[1] == "| C-SSIM | 0.300 ± 0.010 | **0.400 ± 0.010** |"
    noise = [r for r in rows if r.startswith("| Noise: high-frequency")]
    assert "**" not in noise[0]  # reported, no better direction
    large = table3_lib.metric_rows([_with_metrics(realism_frechet=2508.8)], False)
    assert "| Realism: Fréchet ↓ | 2509 ± 0 |" in large


def test_evaluation_cache_rule():
    scores = {key: 0.5 for key, _, _ in table3_lib.METRICS if "/" not in key}
    scores["probe_on_generated"] = {
        key.split("/")[1]: 0.5 for key, _, _ in table3_lib.METRICS if "/" in key
    }
    cached = {"step": 1008, "max_sources": 300, "scores": scores}
    assert table3_lib.evaluation_is_current(cached, 1008, 300)
    assert not table3_lib.evaluation_is_current(cached, 1009, 300)  # trained on
    assert not table3_lib.evaluation_is_current(cached, 1008, 200)  # other photos
    assert not table3_lib.evaluation_is_current(None, 1008, 300)
    older = dict(cached, scores={k: v for k, v in scores.items() if k != "color_match"})
    assert not table3_lib.evaluation_is_current(older, 1008, 300)


def test_report_sections_and_claims():
    table = {method: {**_with_metrics(), **row} for method, row in _table().items()}
    text = table3_lib.report(
        table,
        header="# Title",
        chance="Chance is 1/6.",
        paper_link="../paper.md",
        figure_link="../images/t.png",
        runs={"c_rf-seed0": 120.0},
        config_text="--epochs=6",
        notes="## What the numbers say\n\nNotes.",
    )
    assert text.startswith("# Title\n\n| metric | C+RF | C+MSE |")
    assert "| Category (probe) | 0.150 ± 0.001 |" in text
    assert "**0.700 ± 0.001** |" in text  # ours, best on category
    assert text.count("holds.**") == 6
    assert "| c_rf-seed0 | 2.0 min |" in text
    assert "```\n--epochs=6\n```" in text
    assert text.endswith("Notes.\n")
    partial = table3_lib.report(
        {"c_rf": table["c_rf"]},
        header="# T",
        chance="",
        paper_link="p",
        figure_link="f",
        runs={},
        config_text="",
    )
    assert "Not checked: the claims compare all five methods." in partial


def test_study_report_rules_on_each_candidate_and_picks_one():
    paper = {"c_rf_dd": _with_metrics(), "c_mse": _with_metrics(rmse=0.1)}
    strong = {
        "c_rf_dd": _with_metrics(
            probe_on_generated__category=0.9, background_speckle=0.1
        )
    }
    weaker = {
        "c_rf_dd": _with_metrics(
            probe_on_generated__category=0.7, background_speckle=0.1
        )
    }
    text = table3_lib.study_report(
        {"paper": paper, "l1_10": weaker, "l1_100": strong}, "pixel_loss", "paper"
    )
    header = text.splitlines()[0]
    assert header == (
        "| metric | C+MSE, paper | C+RF+DD (ours), paper | C+RF+DD (ours), l1_10 "
        "| C+RF+DD (ours), l1_100 |"
    )
    assert "**l1_10 wins.**" in text and "**l1_100 wins.**" in text
    assert (
        "Adopted among the winners (highest probe_on_generated/category): **l1_100**"
        in text
    )


def test_study_report_tool(tmp_path):
    folders = []
    for label, category in (("paper", 0.5), ("l1_100", 0.9)):
        folder = tmp_path / label
        folder.mkdir()
        row = _with_metrics(probe_on_generated__category=category)
        if label != "paper":
            row["background_speckle"] = (0.1, 0.01, 3)
        (folder / "table3.json").write_text(json.dumps({"c_rf_dd": row}))
        folders.append(f"{label}={folder}")
    result = run_tool(
        "tools/study_report.py", "--rule=pixel_loss", f"--tables={','.join(folders)}"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "**l1_100 wins.**" in result.stdout
    missing = run_tool(
        "tools/study_report.py", "--rule=pixel_loss", f"--tables=a={tmp_path},b=x"
    )
    assert missing.returncode == 2 and "holds no table3.json" in missing.stderr


def test_recipe_rule_needs_one_clear_gain_of_four_and_no_clear_loss():
    base = _row(noise_hf_ratio=(0.40, 0.02, 3))
    cleaner = dict(base, noise_hf_ratio=(0.20, 0.02, 3))
    wins, lines = table3_lib.verdict("recipe", base, cleaner)
    assert wins, lines
    assert lines[0].endswith("(clear on noise_hf_ratio)")
    # Any one of the four counts: the pattern alone.
    patterned = dict(base, **{"probe_on_generated/pattern": (0.30, 0.01, 3)})
    assert table3_lib.verdict("recipe", base, patterned)[0]
    # No clear gain: does not win.
    wins, lines = table3_lib.verdict("recipe", base, dict(base))
    assert not wins and "clear on none" in lines[0]
    # A gain bought with the colour (the grey garments of a weak D_A) loses.
    grey = dict(cleaner, color_match=(0.20, 0.02, 3))
    wins, lines = table3_lib.verdict("recipe", base, grey)
    assert not wins and "clearly worse on color_match" in lines[1]
    # More speckle is a loss even beside a gain in category.
    speckled = dict(
        base,
        **{"probe_on_generated/category": (0.40, 0.01, 3)},
        background_speckle=(0.30, 0.01, 3),
    )
    assert not table3_lib.verdict("recipe", base, speckled)[0]


def test_bfloat16_rule_is_nothing_clearly_worse():
    base = _row()
    assert table3_lib.verdict("bfloat16", base, dict(base))[0]
    within = dict(base, rmse=(0.245, 0.01, 3))
    assert table3_lib.verdict("bfloat16", base, within)[0]
    worse = dict(base, rmse=(0.26, 0.01, 3))
    wins, lines = table3_lib.verdict("bfloat16", base, worse)
    assert not wins
    assert lines == ["nothing clearly worse: does not hold (clearly worse on rmse)"]


def test_recipe_steps_rule_picks_the_fewest_steps_not_clearly_worse():
    import importlib.util

    from tool_runner import ROOT

    spec = importlib.util.spec_from_file_location(
        "recipe_steps", os.path.join(ROOT, "tools", "recipe_steps.py")
    )
    recipe_steps = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe_steps)

    def row(category, frechet):
        return {
            "probe_on_generated/category": (category, 0.02, 2),
            "color_match": (0.70, 0.02, 2),
            "realism_frechet": (frechet, 50.0, 2),
            "background_speckle": (0.11, 0.005, 2),
        }

    # 1,680 steps: category clearly lower; 2,520: within the spreads.
    rows = {1680: row(0.30, 700), 2520: row(0.44, 690), 3360: row(0.46, 630)}
    chosen, lines = recipe_steps.verdict(rows)
    assert chosen == 2520
    assert lines == [
        "1680 steps: clearly worse on probe_on_generated/category",
        "2520 steps: no clear loss",
    ]
    # Nothing shorter holds: the full run stays.
    rows[2520] = row(0.44, 900)
    assert recipe_steps.verdict(rows)[0] == 3360
