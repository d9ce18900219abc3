"""The training configuration: one frozen dataclass, validated up front.

``python -m pldt_tf.train`` turns its absl flags into a ``TrainConfig``; the
library never reads flags. ``validate`` names the flag and the fix for every
bad value before any work starts.
"""

from __future__ import annotations

import dataclasses
import json

from pldt_tf import errors, losses, model
from pldt_tf.data import pipeline, synthetic

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
OPTIMIZERS = ("adam", "sgd")
DISTRIBUTIONS = ("auto", "none", "mirrored", "multi_worker")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on (see ``pldt_tf/train.py`` for
    the meaning of each field: they are its flags)."""

    workdir: str
    records_dir: str = "data/demo/records"
    lookbook_dir: str | None = "data/demo/lookbook"
    synthetic_products: int = 0
    synthetic_variation: str = "full"
    synthetic_colors: tuple[str, ...] = ()
    synthetic_patterns: tuple[str, ...] = ()
    data_seed: int = 0
    method: str = "c_rf_dd"
    selection: str = "per_case"
    converter_loss: str = "non_saturating"
    direction: str = "human_to_product"
    negatives: str = "fresh"
    hard_negatives: float = 0.0
    hard_negative_pool: int = 32
    width: float = 1.0
    batch_size: int = 128
    epochs: int = 30
    decay_epochs: int = 5
    steps_per_epoch: int | None = None
    optimizer: str = "adam"
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    momentum: float = 0.5
    precision: str = "auto"
    jit_compile: bool = False
    distribute: str = "auto"
    seed: int = 0
    checkpoint_every_steps: int = 500
    keep_checkpoints: int = 3
    sample_every_steps: int = 500
    num_samples: int = 16
    resume: bool = True
    skip_nonfinite: bool = False

    def __post_init__(self):
        # Flags and JSON give lists; keep one type so configs compare equal.
        for name in ("synthetic_colors", "synthetic_patterns"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1, sort_keys=True)


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise errors.UserError(f"--{name}={value!r} is not one of {list(choices)}.")


def validate(config: TrainConfig) -> None:
    """Raises ``ValueError`` naming the flag and the fix for any bad value."""
    _check_choice("method", config.method, model.METHODS)
    _check_choice("selection", config.selection, model.SELECTIONS)
    _check_choice("converter_loss", config.converter_loss, losses.CONVERTER_LOSSES)
    _check_choice("direction", config.direction, pipeline.DIRECTIONS)
    _check_choice("negatives", config.negatives, pipeline.NEGATIVE_MODES)
    _check_choice("optimizer", config.optimizer, OPTIMIZERS)
    _check_choice("precision", config.precision, PRECISIONS)
    _check_choice("distribute", config.distribute, DISTRIBUTIONS)
    _check_choice(
        "synthetic_variation", config.synthetic_variation, synthetic.VARIATIONS
    )
    synthetic.check_vocabulary(
        config.synthetic_colors or None,
        config.synthetic_patterns or None,
        prefix="--synthetic_",
    )
    positive = {
        "width": config.width,
        "batch_size": config.batch_size,
        "epochs": config.epochs,
        "learning_rate": config.learning_rate,
        "checkpoint_every_steps": config.checkpoint_every_steps,
        "keep_checkpoints": config.keep_checkpoints,
        "sample_every_steps": config.sample_every_steps,
        "num_samples": config.num_samples,
    }
    for name, value in positive.items():
        if not value > 0:
            raise errors.UserError(f"--{name}={value} must be > 0.")
    if not 0 <= config.decay_epochs < config.epochs:
        raise errors.UserError(
            f"--decay_epochs={config.decay_epochs} must lie in [0, --epochs="
            f"{config.epochs}): it counts the last epochs run at lr / 10."
        )
    if config.steps_per_epoch is not None and config.steps_per_epoch <= 0:
        raise errors.UserError("--steps_per_epoch must be > 0 (or unset for one pass).")
    pipeline.check_negatives(
        config.negatives,
        config.direction,
        config.hard_negatives,
        config.hard_negative_pool,
        prefix="--",
    )
    if not config.workdir:
        raise errors.UserError(
            "--workdir is empty: name a folder for checkpoints and logs."
        )
