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
        precision="float32",  # the same numbers whatever --precision=auto picks
    )
    values.update(overrides)
    return config_lib.TrainConfig(**values)


def float64_model(synchronized: bool, selection: str, weights=None):
    """C+RF+DD at width 1/16 in float64 with plain SGD, for the equality
    tests of distributed steps.

    float64: Keras' synchronised batch norm computes the variance as
    E[x²] − E[x]², which in float32 loses most digits on the nearly constant
    images an untrained converter draws (measured: 0.6% gradient differences
    in float32, round-off level in float64). SGD: an update proportional to
    the gradient (Adam's first step is sign(gradient), which flips on
    gradients that are zero up to round-off).
    """
    import keras

    from pldt_tf import model as model_lib
    from pldt_tf import networks

    keras.utils.set_random_seed(0)
    model = model_lib.PixelLevelDomainTransfer(
        networks.build_converter(0.0625, synchronized, dtype="float64"),
        networks.build_discriminator("real_fake", 0.0625, synchronized, "float64"),
        networks.build_discriminator("domain", 0.0625, synchronized, "float64"),
        selection=selection,
    )
    model.compile(*[keras.optimizers.SGD(0.1) for _ in range(3)])
    if weights is not None:
        for network, values in zip(networks_of(model), weights, strict=True):
            network.set_weights(values)
    return model


def networks_of(model):
    return (model.converter, model.real_fake, model.domain)


def fixed_batch(size: int = 8) -> dict:
    """The same global batch of random triplets in every process."""
    import numpy as np

    rng = np.random.default_rng(0)
    return {
        k: rng.uniform(-1, 1, (size, 64, 64, 3)).astype("float32")
        for k in ("source", "target", "negative")
    }
