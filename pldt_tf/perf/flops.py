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
  batch: about 20.5 GFLOP (20.48).
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
    """A layer's forward FLOPs for one example. A wrapper (e.g.
    ``keras.layers.SpectralNormalization``) counts as the layer it wraps, on
    the wrapper's own input and output shapes."""
    inner = layer
    while isinstance(inner, keras.layers.Wrapper):
        inner = inner.layer
    if isinstance(inner, keras.layers.Conv2DTranspose):
        _, height, width, channels = layer.input.shape  # FLOPs per input pixel
        kh, kw = inner.kernel_size
        return 2 * kh * kw * channels * inner.filters * height * width
    if isinstance(inner, keras.layers.Conv2D):
        _, height, width, _ = layer.output.shape
        kh, kw = inner.kernel_size
        channels = layer.input.shape[-1]
        return 2 * kh * kw * channels * inner.filters * height * width
    if isinstance(inner, keras.layers.Dense):
        return 2 * layer.input.shape[-1] * inner.units
    return 0


def forward_flops(model: keras.Model) -> tuple[int, int]:
    """(all layers, first layer) forward FLOPs for one example."""
    counts = [c for c in (_layer_flops(layer) for layer in _layers(model)) if c]
    return sum(counts), counts[0]


@dataclasses.dataclass(frozen=True)
class StepFlops:
    """FLOPs per training sample, by phase of Algorithm 1."""

    converter_forward: int
    # (adversary, FLOPs of its update), in update order
    discriminator_updates: tuple[tuple[str, int], ...]
    converter_update: int  # backward through the frozen D's and the converter

    def update(self, adversary: str) -> int:
        """One discriminator's update (0 if the method does not train it)."""
        return dict(self.discriminator_updates).get(adversary, 0)

    def phase(self, name: str) -> int:
        """A phase by the benchmark's name: ``converter_forward``,
        ``<adversary>_update`` or ``converter_update``."""
        if name in ("converter_forward", "converter_update"):
            return getattr(self, name)
        return self.update(name.removesuffix("_update"))

    @property
    def total(self) -> int:
        return (
            self.converter_forward
            + sum(flops for _, flops in self.discriminator_updates)
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
    counts = {"converter": forward_flops(converter)}
    for name in model_lib.ADVERSARIES:
        counts[name] = forward_flops(networks.build_discriminator(name, width))
    return counts


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
    batching = model_lib.SELECTIONS[selection]
    nets = network_flops(width, upsampling)
    converter, converter_first = nets["converter"]
    # Batches of the training batch's size: those each discriminator update
    # judges, and those the converter's loss sends through each frozen one.
    frozen_batches = len(batching.converter_group(spec))
    updates, frozen = [], 0
    for name in spec.adversaries:
        total, first = nets[name]
        judged = batching.judged(spec, model_lib.ADVERSARIES[name])
        # forward + weight gradients + input gradients, per batch judged
        updates.append((name, sum(map(len, judged)) * (3 * total - first)))
        frozen += frozen_batches * 2 * total  # forward + input gradients
    # The converter's own backward pass: weight and input gradients.
    converter_backward = 2 * converter - converter_first
    pixel = PIXEL_TERM_FLOPS if spec.pixel is not None else 0
    return StepFlops(converter, tuple(updates), frozen + converter_backward + pixel)
