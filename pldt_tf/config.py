"""The training configuration: one frozen dataclass, validated up front.

``python -m pldt_tf.train`` turns its absl flags into a ``TrainConfig``; the
library never reads flags. ``validate`` names the flag and the fix for every
bad value before any work starts.
"""

from __future__ import annotations

import dataclasses
import json
import math

from pldt_tf import errors, losses, model, networks
from pldt_tf.data import pipeline, synthetic

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
OPTIMIZERS = ("adam", "sgd")
DISTRIBUTIONS = ("auto", "none", "mirrored", "multi_worker")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on; each field is the flag of
    ``python -m pldt_tf.train`` with the same name.

    Attributes:
      workdir: Folder for config.json, checkpoints, logs and sample grids.
      records_dir: TFRecords folder; built from ``pairs_csv`` or
        ``lookbook_dir`` if missing.
      pairs_csv: A pairs manifest (``data.pairs``) to build the records
        from; when set, it is the data source and ``lookbook_dir`` and the
        ``synthetic_*`` fields are not used.
      allow_outside_paths: Let ``pairs_csv`` name files outside its folder.
      lookbook_dir: LookBook-layout folder to build the records from.
      synthetic_products: If > 0 and ``lookbook_dir`` is missing, generate
        the synthetic set with this many products there.
      synthetic_variation: Product-shot variation preset of a generated set.
      synthetic_colors: Primary colours a generated set draws (empty: all).
      synthetic_patterns: Patterns a generated set draws (empty: all).
      data_seed: Seed of data generation and of the split by product.
      method: Paper Table 2 method (``model.METHODS``).
      selection: How cases are batched (``model.SELECTIONS``).
      converter_loss: ``non_saturating`` or ``minimax`` (Eq. 6 literally).
      pixel_loss: ``none``, ``l1`` or ``mse``: a pixel term added to an
        adversarial method's converter loss (beyond the paper).
      pixel_weight: The pixel term's weight λ (pix2pix: 100 with ``l1``).
      feature_matching_weight: Weight of pix2pixHD's feature-matching term
        in the converter's loss; 0: none (beyond the paper).
      direction: ``human_to_product`` or ``product_to_human`` (paper Fig. 6).
      negatives: ``fresh`` every epoch or ``stored`` in the records.
      hard_negatives: Share of negatives drawn among colour neighbours.
      hard_negative_pool: Colour neighbours a hard negative is drawn from.
      width: Hidden-channel multiplier (paper: 1).
      upsampling: The decoder's ×2 layers (``networks.UPSAMPLINGS``;
        the paper's: ``transposed5``).
      batch_size: Global batch size (paper: 128).
      epochs: Total epochs (paper: 25 + 5).
      decay_epochs: Last epochs at ``learning_rate / 10`` (paper: 5).
      steps_per_epoch: Steps per epoch; None: one pass over the triplets.
      optimizer: ``adam`` (DCGAN's reading) or ``sgd`` (the text's).
      learning_rate: Initial learning rate (paper: 2e-4).
      discriminator_learning_rate: The discriminators' initial rate; None:
        ``learning_rate`` (a two time-scale update, beyond the paper).
      beta_1: Adam's beta_1 (DCGAN: 0.5).
      momentum: SGD's momentum (paper's text: 0.5).
      precision: ``auto``, ``float32``, ``mixed_bfloat16``, ``mixed_float16``.
      jit_compile: Compile the step with XLA.
      distribute: ``auto``, ``none``, ``mirrored`` or ``multi_worker``.
      seed: Seed of weights, shuffling and case draws.
      checkpoint_every_steps: Checkpoint interval (also at each epoch end).
      keep_checkpoints: Checkpoints kept.
      sample_every_steps: Sample-grid interval.
      num_samples: Validation sources in each grid.
      resume: Continue from the workdir's last checkpoint if any.
      skip_nonfinite: Skip steps with non-finite gradients instead of
        stopping.
    """

    workdir: str
    records_dir: str = "data/demo/records"
    pairs_csv: str = ""
    allow_outside_paths: bool = False
    lookbook_dir: str | None = "data/demo/lookbook"
    synthetic_products: int = 0
    synthetic_variation: str = "full"
    synthetic_colors: tuple[str, ...] = ()
    synthetic_patterns: tuple[str, ...] = ()
    data_seed: int = 0
    method: str = "c_rf_dd"
    selection: str = "per_case"
    converter_loss: str = "non_saturating"
    pixel_loss: str = "none"
    pixel_weight: float = 0.0
    feature_matching_weight: float = 0.0
    direction: str = "human_to_product"
    negatives: str = "fresh"
    hard_negatives: float = 0.0
    hard_negative_pool: int = 32
    width: float = 1.0
    upsampling: str = "transposed5"
    batch_size: int = 128
    epochs: int = 30
    decay_epochs: int = 5
    steps_per_epoch: int | None = None
    optimizer: str = "adam"
    learning_rate: float = 2e-4
    discriminator_learning_rate: float | None = None
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

    def vocabulary(self) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
        """(colours, patterns) a generated synthetic set draws; None where the
        flag is empty, meaning the whole vocabulary."""
        return self.synthetic_colors or None, self.synthetic_patterns or None

    def pipeline_options(self, training: bool) -> pipeline.PipelineOptions:
        """The tf.data options of this run: the training triplets (fresh or
        stored negatives, hard negatives, the seed) or, for evaluation, the
        split in its fixed order."""
        if not training:
            return pipeline.PipelineOptions(direction=self.direction)
        return pipeline.PipelineOptions(
            direction=self.direction,
            negatives=self.negatives,
            hard_negatives=self.hard_negatives,
            hard_negative_pool=self.hard_negative_pool,
            seed=self.seed,
        )

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1, sort_keys=True)


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise errors.UserError(f"--{name}={value!r} is not one of {list(choices)}.")


def _check_pixel_term(config: TrainConfig) -> None:
    _check_choice("pixel_loss", config.pixel_loss, ("none", *losses.PIXEL_LOSSES))
    weight = f"--pixel_weight={config.pixel_weight:g}"
    if config.pixel_loss == "none":
        if config.pixel_weight != 0:
            raise errors.UserError(
                f"{weight} weighs no pixel term: add --pixel_loss=l1 (or mse), "
                "or drop --pixel_weight."
            )
        return
    if not math.isfinite(config.pixel_weight) or config.pixel_weight <= 0:
        raise errors.UserError(
            f"{weight} must be > 0 with --pixel_loss={config.pixel_loss} "
            "(pix2pix: --pixel_loss=l1 --pixel_weight=100)."
        )
    if not model.METHODS[config.method].adversaries:
        raise errors.UserError(
            f"--method={config.method} already trains by a pixel loss alone; "
            "--pixel_loss adds a term to an adversarial method (c_rf_dd, c_rf, "
            "c_rf_dd_neg)."
        )


def _check_feature_matching(config: TrainConfig) -> None:
    weight = config.feature_matching_weight
    if weight == 0:
        return
    flag = f"--feature_matching_weight={weight:g}"
    if not math.isfinite(weight) or weight < 0:
        raise errors.UserError(f"{flag} must be >= 0 (pix2pixHD: 10; 0: none).")
    if not model.METHODS[config.method].adversaries:
        raise errors.UserError(
            f"{flag}: --method={config.method} has no discriminator whose "
            "features to match; use c_rf_dd, c_rf or c_rf_dd_neg."
        )
    if config.selection != "per_case":
        raise errors.UserError(
            f"{flag} compares each drawing with its own target in pure "
            f"batches: it needs --selection=per_case (got {config.selection})."
        )


def validate(config: TrainConfig) -> None:
    """Raises ``ValueError`` naming the flag and the fix for any bad value."""
    _check_choice("method", config.method, model.METHODS)
    _check_choice("selection", config.selection, model.SELECTIONS)
    _check_choice("upsampling", config.upsampling, networks.UPSAMPLINGS)
    _check_choice("converter_loss", config.converter_loss, losses.CONVERTER_LOSSES)
    _check_pixel_term(config)
    _check_feature_matching(config)
    _check_choice("direction", config.direction, pipeline.DIRECTIONS)
    _check_choice("negatives", config.negatives, pipeline.NEGATIVE_MODES)
    _check_choice("optimizer", config.optimizer, OPTIMIZERS)
    _check_choice("precision", config.precision, PRECISIONS)
    _check_choice("distribute", config.distribute, DISTRIBUTIONS)
    _check_choice(
        "synthetic_variation", config.synthetic_variation, synthetic.VARIATIONS
    )
    synthetic.check_vocabulary(*config.vocabulary(), prefix="--synthetic_")
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
    rate = config.discriminator_learning_rate
    if rate is not None and not (math.isfinite(rate) and rate > 0):
        raise errors.UserError(
            f"--discriminator_learning_rate={rate} must be > 0 (or unset: "
            "--learning_rate)."
        )
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
