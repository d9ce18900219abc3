"""Algorithm 1 of the paper as a Keras ``train_step`` (docs/paper.md#losses,
docs/paper.md#algorithm-1).

Each batch of (source, target, negative) performs, in order:
  1. a D_R update (real: associated and unassociated product images;
     fake: the converter's images),
  2. a D_A update (associated pairs: 1; unassociated and generated: 0),
  3. a converter update against the *updated*, frozen discriminators.

The converter's forward pass is computed once, at the start, under the
converter's tape; the discriminator updates read it through
``stop_gradient``.

Selection modes (how the converter's loss is batched matters, see
docs/paper.md#batch-normalisation-and-batch-composition):
- ``per_case``: associated, unassociated and generated images each go
  through a discriminator as their own pure batch (DCGAN and the public
  ports); the converter's loss uses the pure generated batch, exactly the
  composition the discriminators were trained on.
- ``per_sample``: the paper's Algorithm 1 — each sample's target is drawn
  among associated / unassociated / generated with equal probability, and the
  converter's loss is taken on that *same* mixed batch (Eq. 6), through the
  generated entries only.
- ``joint``: every sample in every case, as ``per_case``, but the 3B pairs
  pass through each discriminator as *one* batch, as ``per_sample``, and the
  converter's loss is taken on that same batch. With pure batches, a
  discriminator in batch-norm training mode can tell an associated batch from
  an unassociated one by batch statistics without judging any single pair
  (docs/research/selection.md measures it); a batch that mixes the cases
  takes that shortcut away.

``discriminator_groups`` is where the modes differ: it turns a batch into
the groups each discriminator judges — three pure groups for ``per_case``,
one mixed group (B examples for ``per_sample``, 3B for ``joint``) otherwise —
and one loss path serves them all.

Methods (paper Table 2) are the entries of ``METHODS``: which adversaries
the converter trains against, whether D_A is shown unassociated pairs, and
which pixel term the converter adds — ``c_rf_dd`` (ours), ``c_rf`` (D_R
only), ``c_mse`` (the MSE term alone), ``c_rf_dd_neg`` (D_A never sees
unassociated pairs). ``pixel_loss`` adds a pixel term to an adversarial
method (beyond the paper: pix2pix's adversary + λ·L1,
docs/research/pixel_loss.md).

Losses are summed per example and divided by the *global* batch size, so one
step under ``tf.distribute.MirroredStrategy`` equals one single-device step
on the same global batch (with synchronised batch norm).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import keras
import tensorflow as tf

from pldt_tf import losses

SELECTIONS = ("per_sample", "per_case", "joint")
ASSOCIATED, UNASSOCIATED, GENERATED = 0, 1, 2


class Group(NamedTuple):
    """One batch a discriminator judges: the sources (D_A's pairs), the
    product images, and each example's case — a Python int for a pure batch
    (every example the same case), an int32 tensor [n] for a mixed one."""

    source: tf.Tensor
    image: tf.Tensor
    case: int | tf.Tensor


class Adversary(NamedTuple):
    """A discriminator as the step sees it: its attribute name, whether it
    judges (source, image) pairs, the label it learns for a case, and the
    names of its trackers."""

    network: str
    paired: bool
    label: Callable
    loss: str
    converter_loss: str
    outputs: tuple[tuple[str, tuple[int, ...]], ...]


ADVERSARIES = {
    # D_R: real for any real product image, associated or not (Eq. 2).
    "real_fake": Adversary(
        network="real_fake",
        paired=False,
        label=lambda case: case != GENERATED,
        loss="loss/real_fake",
        converter_loss="loss/converter_real_fake",
        outputs=(
            ("d_real_fake/real", (ASSOCIATED, UNASSOCIATED)),
            ("d_real_fake/fake", (GENERATED,)),
        ),
    ),
    # D_A: associated only for the photo's own product (Eq. 5).
    "domain": Adversary(
        network="domain",
        paired=True,
        label=lambda case: case == ASSOCIATED,
        loss="loss/domain",
        converter_loss="loss/converter_domain",
        outputs=(
            ("d_domain/associated", (ASSOCIATED,)),
            ("d_domain/generated", (GENERATED,)),
            ("d_domain/unassociated", (UNASSOCIATED,)),
        ),
    ),
}


@dataclasses.dataclass(frozen=True)
class PixelTerm:
    """λ · a per-example pixel loss (``losses.PIXEL_LOSSES``) between the
    generated image and its target, added to the converter's loss."""

    loss: str
    weight: float


@dataclasses.dataclass(frozen=True)
class Method:
    """What a method trains: the adversaries (keys of ``ADVERSARIES``, in
    update order), whether D_A is shown unassociated pairs, and the pixel
    term the converter adds (None: none)."""

    adversaries: tuple[str, ...]
    unassociated: bool = True
    pixel: PixelTerm | None = None

    def with_pixel(self, loss: str, weight: float) -> Method:
        """This method plus a pixel term (``loss="none"``: unchanged)."""
        if loss == "none":
            return self
        if not self.adversaries or self.pixel is not None:
            raise ValueError(
                "a pixel term is added to an adversarial method; this method "
                f"already is one ({self.pixel})"
            )
        return dataclasses.replace(self, pixel=PixelTerm(loss, weight))


# Paper Table 2.
METHODS = {
    "c_rf_dd": Method(adversaries=("real_fake", "domain")),
    "c_rf": Method(adversaries=("real_fake",)),
    "c_mse": Method(adversaries=(), pixel=PixelTerm("mse", 1.0)),
    "c_rf_dd_neg": Method(adversaries=("real_fake", "domain"), unassociated=False),
}


def uses_real_fake(method: str) -> bool:
    return "real_fake" in METHODS[method].adversaries


def uses_domain(method: str) -> bool:
    return "domain" in METHODS[method].adversaries


def _stacked(images, copies: int):
    """``copies`` copies of a batch, one after the other (None stays None)."""
    if images is None or copies == 1:
        return images
    return tf.tile(images, [copies, 1, 1, 1])


def _mean_tracker(name: str) -> keras.metrics.Mean:
    return keras.metrics.Mean(name=name)


class PixelLevelDomainTransfer(keras.Model):
    """Converter with its discriminators, trained by Algorithm 1.

    Args:
      converter: Image → image model (``networks.build_converter``).
      real_fake: D_R (logits), or None for methods without it.
      domain: D_A (logits), or None for methods without it.
      method: One of ``METHODS``.
      selection: One of ``SELECTIONS``.
      converter_loss: ``"non_saturating"`` or ``"minimax"``.
      seed: Seeds the per-sample case draws.
      pixel_loss: ``"none"``, or a pixel term (``losses.PIXEL_LOSSES``)
        added to an adversarial method's converter loss (beyond the paper).
      pixel_weight: The pixel term's weight λ.

    Example:
      >>> model = PixelLevelDomainTransfer(converter, d_r, d_a)
      >>> model.compile(keras.optimizers.Adam(2e-4, 0.5),
      ...               keras.optimizers.Adam(2e-4, 0.5),
      ...               keras.optimizers.Adam(2e-4, 0.5))
      >>> model.fit(triplets, steps_per_epoch=100, epochs=30)

    Reference:
      Yoo et al., Pixel-Level Domain Transfer, ECCV 2016, Algorithm 1.
    """

    def __init__(
        self,
        converter: keras.Model,
        real_fake: keras.Model | None = None,
        domain: keras.Model | None = None,
        method: str = "c_rf_dd",
        selection: str = "per_case",
        converter_loss: str = "non_saturating",
        seed: int | None = None,
        pixel_loss: str = "none",
        pixel_weight: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if method not in METHODS:
            raise ValueError(f"method must be one of {tuple(METHODS)}, got {method!r}")
        if pixel_loss not in ("none", *losses.PIXEL_LOSSES):
            raise ValueError(
                f"pixel_loss must be 'none' or one of {losses.PIXEL_LOSSES}, "
                f"got {pixel_loss!r}"
            )
        if selection not in SELECTIONS:
            raise ValueError(
                f"selection must be one of {SELECTIONS}, got {selection!r}"
            )
        if converter_loss not in losses.CONVERTER_LOSSES:
            raise ValueError(
                f"converter_loss must be one of {losses.CONVERTER_LOSSES}, "
                f"got {converter_loss!r}"
            )
        if uses_real_fake(method) and real_fake is None:
            raise ValueError(f"method {method!r} needs the real/fake discriminator")
        if uses_domain(method) and domain is None:
            raise ValueError(f"method {method!r} needs the domain discriminator")
        self.converter = converter
        self.real_fake = real_fake if uses_real_fake(method) else None
        self.domain = domain if uses_domain(method) else None
        self.method = method
        self.spec = METHODS[method].with_pixel(pixel_loss, pixel_weight)
        self.pixel_loss, self.pixel_weight = pixel_loss, pixel_weight
        self.selection = selection
        self.converter_loss = converter_loss
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        names = ["loss/converter"]
        if self.real_fake is not None:
            names += ["loss/real_fake", "d_real_fake/real", "d_real_fake/fake"]
            names += ["loss/converter_real_fake"]
        if self.domain is not None:
            names += ["loss/domain", "d_domain/associated", "d_domain/generated"]
            names += ["loss/converter_domain"]
            if self.spec.unassociated:
                names.append("d_domain/unassociated")
        if self.spec.pixel is not None:
            names.append(f"loss/{self.spec.pixel.loss}")
        self._trackers = {name: _mean_tracker(name) for name in names}

    # -- Keras plumbing -----------------------------------------------------

    def compile(
        self,
        converter_optimizer: keras.optimizers.Optimizer,
        real_fake_optimizer: keras.optimizers.Optimizer | None = None,
        domain_optimizer: keras.optimizers.Optimizer | None = None,
        **kwargs,
    ):
        """One optimizer per network (those the method does not use may be None)."""
        super().compile(**kwargs)
        if self.real_fake is not None and real_fake_optimizer is None:
            raise ValueError(f"method {self.method!r} needs real_fake_optimizer")
        if self.domain is not None and domain_optimizer is None:
            raise ValueError(f"method {self.method!r} needs domain_optimizer")
        self.converter_optimizer = converter_optimizer
        self.real_fake_optimizer = real_fake_optimizer if self.real_fake else None
        self.domain_optimizer = domain_optimizer if self.domain else None
        for optimizer, network in self._updates():
            optimizer.build(network.trainable_variables)

    def _updates(self):
        """(optimizer, network) pairs in update order."""
        pairs = [
            (self.real_fake_optimizer, self.real_fake),
            (self.domain_optimizer, self.domain),
            (self.converter_optimizer, self.converter),
        ]
        return [(o, n) for o, n in pairs if n is not None]

    @property
    def metrics(self):
        return list(self._trackers.values())

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras 3's fit builds the model on a batch reduced across replicas;
        # under MultiWorkerMirroredStrategy that reduce fails on a dict of
        # per-replica tensors (keras-team/keras#20329, #20585). Everything is
        # built already — the networks when constructed, the optimizers in
        # compile() — so skip it there, as fit does without any strategy.
        if isinstance(
            self.distribute_strategy, tf.distribute.MultiWorkerMirroredStrategy
        ):
            return
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def call(self, source, training=False):
        return self.converter(source, training=training)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "converter": keras.saving.serialize_keras_object(self.converter),
                "real_fake": keras.saving.serialize_keras_object(self.real_fake),
                "domain": keras.saving.serialize_keras_object(self.domain),
                "method": self.method,
                "selection": self.selection,
                "converter_loss": self.converter_loss,
                "seed": self.seed,
                "pixel_loss": self.pixel_loss,
                "pixel_weight": self.pixel_weight,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        for key in ("converter", "real_fake", "domain"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

    # -- the step -------------------------------------------------------------

    def _global_mean(self, per_example: tf.Tensor) -> tf.Tensor:
        """Sum over this replica's examples / global batch size."""
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        batch = tf.cast(tf.shape(per_example)[0] * replicas, tf.float32)
        return tf.reduce_sum(per_example) / batch

    def _masked_global_mean(self, per_example, mask) -> tf.Tensor:
        """Mean over the masked examples of the *global* batch."""
        mask = tf.cast(mask, tf.float32)
        count = tf.reduce_sum(mask)
        context = tf.distribute.get_replica_context()
        if context is not None:
            count = context.all_reduce(tf.distribute.ReduceOp.SUM, count)
        return tf.reduce_sum(per_example * mask) / tf.maximum(count, 1.0)

    def _draw_cases(self, batch_size) -> tf.Tensor:
        """Per-sample case: associated / unassociated / generated, equally
        likely (−Neg never draws unassociated)."""
        choices = 3 if self.spec.unassociated else 2
        # Draw for the global batch and keep this replica's slice, so a step
        # under a distribution strategy makes the same draws as one device.
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        context = tf.distribute.get_replica_context()
        replica = 0 if context is None else context.replica_id_in_sync_group
        draw = keras.random.randint(
            (batch_size * replicas,),
            0,
            choices,
            seed=self.seed_generator,
            dtype="int32",
        )
        draw = draw[replica * batch_size : (replica + 1) * batch_size]
        if not self.spec.unassociated:
            draw = tf.where(draw == 1, GENERATED, ASSOCIATED)
        return draw

    def _every_case(self, batch_size) -> tuple[tf.Tensor, int]:
        """``joint`` selection: every sample in every case, stacked
        [associated; unassociated; generated] (−Neg: no unassociated block),
        and the number of copies of the batch that layout needs."""
        blocks = (
            (ASSOCIATED, UNASSOCIATED, GENERATED)
            if self.spec.unassociated
            else (ASSOCIATED, GENERATED)
        )
        cases = tf.repeat(tf.constant(blocks, tf.int32), batch_size)
        return cases, len(blocks)

    @staticmethod
    def _scaled(loss, optimizer):
        """What a (loss-scale) optimizer wants differentiated; call it inside
        the tape."""
        return optimizer.scale_loss(loss) if hasattr(optimizer, "scale_loss") else loss

    def _loss_and_gradients(self, network, optimizer, loss_fn):
        with tf.GradientTape() as tape:
            loss = loss_fn()
            scaled = self._scaled(loss, optimizer)
        return loss, tape.gradient(scaled, network.trainable_variables)

    def _apply(self, optimizer, network, gradients, healthy):
        """Applies unless ``healthy`` is False: then NaN gradients make every
        (loss-scale) optimizer of this step skip its update."""
        if healthy is not None:
            poison = tf.where(healthy, 0.0, float("nan"))
            gradients = [g + tf.cast(poison, g.dtype) for g in gradients]
        optimizer.apply(gradients, network.trainable_variables)

    def train_step(self, data):
        source, target = data["source"], data["target"]
        negative = data.get("negative")
        batch_size = tf.shape(source)[0]
        cases, copies = None, 1
        if self.spec.adversaries and self.selection == "per_sample":
            cases = self._draw_cases(batch_size)
        elif self.spec.adversaries and self.selection == "joint":
            cases, copies = self._every_case(batch_size)
            source, target, negative = (
                _stacked(x, copies) for x in (source, target, negative)
            )
        with tf.GradientTape() as converter_tape:
            generated = self.converter(source[:batch_size], training=True)
            generated = _stacked(generated, copies)
            with converter_tape.stop_recording():
                healthy = self._update_discriminators(
                    source, target, negative, tf.stop_gradient(generated), cases
                )
            converter_loss = self.converter_step_loss(
                source, target, negative, generated, cases
            )
            scaled = self._scaled(converter_loss, self.converter_optimizer)
        gradients = converter_tape.gradient(scaled, self.converter.trainable_variables)
        self._apply(self.converter_optimizer, self.converter, gradients, healthy)
        self._trackers["loss/converter"].update_state(converter_loss)
        logs = {name: tracker.result() for name, tracker in self._trackers.items()}
        if self._multi_worker():
            # Keras 3 averages the logs across workers with reduce(axis=0),
            # which needs an axis to reduce (keras-team/keras#20585).
            logs = {name: tf.reshape(value, [1]) for name, value in logs.items()}
        return logs

    def _multi_worker(self) -> bool:
        return isinstance(
            tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy
        )

    # -- what the discriminators judge ------------------------------------

    def _mixed_targets(self, target, negative, generated, cases):
        cases = cases[:, None, None, None]
        return tf.where(
            cases == ASSOCIATED,
            target,
            tf.where(cases == UNASSOCIATED, negative, tf.cast(generated, target.dtype)),
        )

    def discriminator_groups(
        self, source, target, negative, generated, cases, with_unassociated: bool
    ) -> list[Group]:
        """The batches one discriminator judges in this step, in call order.

        ``per_case`` (``cases`` None): three pure groups — associated,
        generated, then unassociated when ``with_unassociated`` — each its own
        batch-norm batch. ``per_sample`` (B cases drawn) and ``joint`` (the 3B
        cases of every sample): one mixed group, each example's target picked
        by its case.
        """
        if cases is not None:
            return [
                Group(
                    source,
                    self._mixed_targets(target, negative, generated, cases),
                    cases,
                )
            ]
        groups = [
            Group(source, target, ASSOCIATED),
            Group(source, generated, GENERATED),
        ]
        if with_unassociated:
            groups.append(Group(source, negative, UNASSOCIATED))
        return groups

    def _adversaries(self) -> list[Adversary]:
        """The discriminators this method trains against, in update order."""
        return [ADVERSARIES[name] for name in self.spec.adversaries]

    def _judge(self, adversary: Adversary, group: Group) -> tf.Tensor:
        network = getattr(self, adversary.network)
        inputs = [group.source, group.image] if adversary.paired else group.image
        return network(inputs, training=True)

    def _with_unassociated(self, adversary: Adversary, negative) -> bool:
        if adversary.paired:  # D_A: never for −Neg
            return self.spec.unassociated
        return negative is not None  # D_R: any real product image is real

    # -- steps 1 and 2: the discriminators -----------------------------------

    def _update_discriminators(self, source, target, negative, generated, cases):
        """Steps 1 and 2; returns whether all their gradients were finite
        (None when no optimizer scales its loss)."""
        # Both gradients are computed before either is applied, so an overflow
        # in one skips both.
        pending = []
        for adversary in self._adversaries():
            network = getattr(self, adversary.network)
            optimizer = getattr(self, f"{adversary.network}_optimizer")
            loss, gradients = self._loss_and_gradients(
                network,
                optimizer,
                lambda adversary=adversary: self.discriminator_step_loss(
                    adversary.network, source, target, negative, generated, cases
                ),
            )
            pending.append((optimizer, network, loss, gradients, adversary.loss))
        scaling = any(hasattr(o, "scale_loss") for o, *_ in pending) or hasattr(
            self.converter_optimizer, "scale_loss"
        )
        healthy = None
        if scaling:
            healthy = tf.reduce_all(
                [
                    tf.reduce_all(tf.math.is_finite(g))
                    for *_, gs, _ in pending
                    for g in gs
                ]
                or [tf.constant(True)]
            )
        for optimizer, network, loss, gradients, name in pending:
            self._apply(optimizer, network, gradients, healthy)
            self._trackers[name].update_state(loss)
        return healthy

    def discriminator_step_loss(
        self, name: str, source, target, negative, generated, cases=None
    ) -> tf.Tensor:
        """Eq. 2 (``name="real_fake"``) or Eq. 5 (``"domain"``) on the groups
        that discriminator judges this step, averaged per example over the
        groups, then over the global batch; updates its output trackers."""
        adversary = ADVERSARIES[name]
        groups = self.discriminator_groups(
            source,
            target,
            negative,
            generated,
            cases,
            self._with_unassociated(adversary, negative),
        )
        judged = [(self._judge(adversary, group), group.case) for group in groups]
        self._track_outputs(adversary, judged)
        per_example = losses.case_averaged_discriminator_loss(
            [(logits, adversary.label(case)) for logits, case in judged]
        )
        return self._global_mean(per_example)

    def _track_outputs(self, adversary: Adversary, judged) -> None:
        """Mean σ(logit) per case tracker: a pure group counts whole for its
        case's trackers, a mixed one through its case mask."""
        for name, wanted in adversary.outputs:
            if name not in self._trackers:
                continue
            outputs, weights = [], []
            for logits, case in judged:
                if isinstance(case, int):
                    if case in wanted:
                        outputs.append(logits)
                else:
                    outputs.append(logits)
                    mask = tf.reduce_any([case == c for c in wanted], axis=0)
                    weights.append(tf.cast(mask, tf.float32))
            if outputs:
                self._trackers[name].update_state(
                    tf.sigmoid(
                        tf.concat(outputs, 0) if len(outputs) > 1 else outputs[0]
                    ),
                    sample_weight=weights[0] if weights else None,
                )

    # -- step 3: the converter -------------------------------------------------

    def converter_step_loss(self, source, target, negative, generated, cases=None):
        """Step 3's loss, against the discriminators as just updated, on the
        group that holds the generated images — batched exactly as the
        discriminators saw it — plus the method's pixel term, if any."""
        pixel = self.spec.pixel
        pixel_term = None
        if pixel is not None:
            value = self._global_mean(losses.pixel_loss(pixel.loss, generated, target))
            self._trackers[f"loss/{pixel.loss}"].update_state(value)
            pixel_term = pixel.weight * value
        if not self.spec.adversaries:
            return pixel_term
        (group,) = [
            g
            for g in self.discriminator_groups(
                source, target, negative, generated, cases, False
            )
            if not isinstance(g.case, int) or g.case == GENERATED
        ]
        parts = []
        for adversary in self._adversaries():
            logits = self._judge(adversary, group)
            if self.converter_loss == "minimax":  # Eq. 6: maximise D's loss
                part = -self._global_mean(
                    losses.discriminator_loss(logits, adversary.label(group.case))
                )
            else:
                part = self._generated_mean(
                    losses.adversarial_converter_loss(logits, "non_saturating"),
                    group.case,
                )
            self._trackers[adversary.converter_loss].update_state(part)
            parts.append(part)
        adversarial = losses.converter_loss(parts)
        return adversarial if pixel_term is None else adversarial + pixel_term

    def _generated_mean(self, per_example, case) -> tf.Tensor:
        """Mean over the generated examples of the global batch."""
        if isinstance(case, int):  # a pure generated group
            return self._global_mean(per_example)
        return self._masked_global_mean(per_example, case == GENERATED)
