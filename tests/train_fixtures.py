"""Training configurations small enough for tests (seconds on 2 cores)."""

from __future__ import annotations

from pldt_tf import config as config_lib


def tiny_config(records_dir: str, workdir, **overrides) -> config_lib.TrainConfig:
    """Width 1/16, batch 8, 2 epochs of 3 steps; ``overrides`` win."""
    values = dict(
        workdir=str(workdir),
        records_dir=records_dir,
        lookbook_dir=None,
        width=0.0625,
        batch_size=8,
        epochs=2,
        decay_epochs=1,
        steps_per_epoch=3,
        checkpoint_every_steps=2,
        sample_every_steps=2,
        num_samples=4,
    )
    values.update(overrides)
    return config_lib.TrainConfig(**values)
