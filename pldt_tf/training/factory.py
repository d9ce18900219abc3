"""The model factory: networks, ``PixelLevelDomainTransfer``, learning-rate
schedule and one optimizer per network, from a ``TrainConfig``."""

from __future__ import annotations

import keras

from pldt_tf import model as model_lib
from pldt_tf import networks


def learning_rate_schedule(config, per_epoch: int, rate: float | None = None):
    """``rate`` (default ``learning_rate``) for the first epochs, ÷10 for the
    last ``decay_epochs`` (paper: 25 + 5), counted in optimizer steps.

    Always a schedule (with no decay, its boundary lies past the last step)
    so that the optimizer has the same variables whatever the epochs, and a
    run resumes with a longer or differently decayed schedule.
    """
    boundary = (config.epochs - config.decay_epochs) * per_epoch
    rate = config.learning_rate if rate is None else rate
    return keras.optimizers.schedules.PiecewiseConstantDecay(
        [boundary], [rate, rate / 10.0]
    )


def make_optimizer(config, schedule, precision: str, name: str):
    if config.optimizer == "adam":
        optimizer = keras.optimizers.Adam(schedule, beta_1=config.beta_1, name=name)
    else:
        optimizer = keras.optimizers.SGD(schedule, momentum=config.momentum, name=name)
    if precision == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer, name=f"{name}_scaled")
    if config.skip_nonfinite:
        # Scale 1 never changes the numbers; the wrapper skips non-finite steps.
        return keras.optimizers.LossScaleOptimizer(
            optimizer,
            initial_scale=1.0,
            dynamic_growth_steps=2**31 - 1,
            name=f"{name}_skip",
        )
    return optimizer


def build_model(config, per_epoch: int, precision: str, synchronized_bn: bool):
    """The compiled ``PixelLevelDomainTransfer`` of a configuration."""
    dtype = None if precision == "float32" else precision
    keras.utils.set_random_seed(config.seed)
    converter = networks.build_converter(
        config.width, synchronized_bn, dtype, config.upsampling
    )
    discriminators = {
        name: model_lib.ADVERSARIES[name].build(config.width, synchronized_bn, dtype)
        for name in model_lib.METHODS[config.method].adversaries
    }
    model = model_lib.PixelLevelDomainTransfer(
        converter,
        **discriminators,
        method=config.method,
        selection=config.selection,
        converter_loss=config.converter_loss,
        seed=config.seed,
        pixel_loss=config.pixel_loss,
        pixel_weight=config.pixel_weight,
        feature_matching_weight=config.feature_matching_weight,
    )
    schedule = learning_rate_schedule(config, per_epoch)
    adversary_schedule = schedule
    if config.discriminator_learning_rate is not None:
        adversary_schedule = learning_rate_schedule(
            config, per_epoch, config.discriminator_learning_rate
        )
    model.compile(
        make_optimizer(config, schedule, precision, "converter_optimizer"),
        **{
            adversary.optimizer: make_optimizer(
                config, adversary_schedule, precision, adversary.optimizer
            )
            for adversary in model.adversaries
        },
        jit_compile=config.jit_compile,
    )
    return model
