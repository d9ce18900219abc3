"""FLOPs of the networks and of one training step, counted from layer shapes.

Convention: one multiply-add is 2 FLOPs, as in the matmul ceiling
(2·n³ for an n×n product), so the two can be divided. Convolutions,
transposed convolutions, dense layers and the converter's pixel term (C+MSE's,
or one added by ``--pixel_loss``: ``PIXEL_TERM_FLOPS``, 2e-6 of a width-1
step) are counted; batch norm, the activations and the optimizer updates
(well under 1% at width 1) are not.

A training step is counted with the usual backward rules: the gradient of a
layer with respect to its weights costs one forward pass, the gradient with
respect to its input costs another, and the first layer of a network needs
no input gradient when its input is data. Per training sample (docs/paper.md#networks at
width 1: C forward 2.56 GFLOP, D_R 1.28 GFLOP):

- per_case, C+RF+DD: D_R and D_A each update on three pure batches
  (associated, unassociated, generated), then the converter's loss runs each
  frozen discriminator forward and back to its input on the generated batch:
  about 36 GFLOP.
- per_sample (the paper's Algorithm 1): each discriminator sees one mixed
  batch: about 20.6 GFLOP.
- joint: the discriminator updates of per_case as one batch of 3B, and the
  converter's loss sends that whole batch through each frozen discriminator:
  about 46 GFLOP.
"""

from __future__ import annotations

import dataclasses

import keras

from pldt_tf import model as model_lib
from pldt_tf import networks


def _layers(model: keras.Model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _layers(layer)
        else:
            yield layer


def _layer_flops(layer) -> int:
    if isinstance(layer, keras.layers.Conv2DTranspose):
        _, height, width, channels = layer.input.shape  # FLOPs per input pixel
        kh, kw = layer.kernel_size
        return 2 * kh * kw * channels * layer.filters * height * width
    if isinstance(layer, keras.layers.Conv2D):
        _, height, width, _ = layer.output.shape
        channels = layer.input.shape[-1]
        kh, kw = layer.kernel_size
        return 2 * kh * kw * channels * layer.filters * height * width
    if isinstance(layer, keras.layers.Dense):
        return 2 * layer.input.shape[-1] * layer.units
    return 0


def forward_flops(model: keras.Model) -> tuple[int, int]:
    """(all layers, first layer) forward FLOPs for one example."""
    counts = [c for c in (_layer_flops(layer) for layer in _layers(model)) if c]
    return sum(counts), counts[0]


@dataclasses.dataclass(frozen=True)
class StepFlops:
    """FLOPs per training sample, by phase of Algorithm 1."""

    converter_forward: int
    real_fake_update: int
    domain_update: int
    converter_update: int  # backward through the frozen D's and the converter

    @property
    def total(self) -> int:
        return (
            self.converter_forward
            + self.real_fake_update
            + self.domain_update
            + self.converter_update
        )


# A pixel term per output value: the difference, |·| or its square, and the
# sum forward; the difference's gradient and its sign or 2× back.
PIXEL_TERM_FLOPS = 5 * networks.IMAGE_SIZE * networks.IMAGE_SIZE * 3


def network_flops(
    width: float, upsampling: str = "transposed5"
) -> dict[str, tuple[int, int]]:
    """Forward (total, first layer) FLOPs of C, D_R and D_A at a width, with
    the decoder's ``upsampling``."""
    converter = networks.build_converter(width, upsampling=upsampling)
    return {
        "converter": forward_flops(converter),
        "real_fake": forward_flops(networks.build_discriminator("real_fake", width)),
        "domain": forward_flops(networks.build_discriminator("domain", width)),
    }


def train_step_flops(
    width: float,
    method: str = "c_rf_dd",
    selection: str = "per_case",
    upsampling: str = "transposed5",
    pixel_loss: str = "none",
) -> StepFlops:
    """FLOPs one training sample costs (see the module docstring);
    ``pixel_loss`` as ``--pixel_loss``."""
    if method not in model_lib.METHODS:
        raise ValueError(
            f"method must be one of {tuple(model_lib.METHODS)}, got {method!r}"
        )
    spec = model_lib.METHODS[method].with_pixel(pixel_loss, 1.0)
    if selection not in model_lib.SELECTIONS:
        raise ValueError(
            f"selection must be one of {model_lib.SELECTIONS}, got {selection!r}"
        )
    nets = network_flops(width, upsampling)
    converter, converter_first = nets["converter"]

    def update(name, batches):  # forward + weight gradients + input gradients
        total, first = nets[name]
        return batches * (3 * total - first)

    def through(name):  # forward + input gradients, weights frozen
        return 2 * nets[name][0]

    cases = 3 if spec.unassociated else 2
    # Batches of the training batch's size each discriminator update sees,
    # and those the converter's loss sends through a frozen discriminator.
    seen, frozen_seen = {
        "per_sample": (1, 1),
        "per_case": (cases, 1),
        "joint": (cases, cases),
    }[selection]
    real_fake = domain = frozen = 0
    if model_lib.uses_real_fake(method):
        # per_case's D_R also takes −Neg's unassociated images as real.
        real_fake = update("real_fake", 3 if selection == "per_case" else seen)
        frozen += frozen_seen * through("real_fake")
    if model_lib.uses_domain(method):
        domain = update("domain", seen)
        frozen += frozen_seen * through("domain")
    # The converter's own backward pass: weight and input gradients.
    converter_backward = 2 * converter - converter_first
    pixel = PIXEL_TERM_FLOPS if spec.pixel is not None else 0
    return StepFlops(converter, real_fake, domain, frozen + converter_backward + pixel)
