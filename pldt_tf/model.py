"""Algorithm 1 of the paper as a Keras ``train_step`` (docs/paper.md#losses,
docs/paper.md#algorithm-1), driven by three tables.

- ``ADVERSARIES``: the discriminators — D_R (``real_fake``, Eq. 2) and D_A
  (``domain``, Eq. 5): what each judges, the label it learns for each case
  and the names it logs under.
- ``METHODS`` (paper Table 2): which adversaries a method trains against,
  whether D_A is shown unassociated pairs, and the pixel term the converter
  adds. ``c_rf_dd`` (ours), ``c_rf`` (D_R only), ``c_mse`` (the MSE term
  alone), ``c_rf_dd_neg`` (D_A never sees unassociated pairs). Beyond the
  paper, ``pixel_loss`` adds a pixel term to an adversarial method (pix2pix's
  adversary + λ·L1, docs/research/pixel_loss.md).
- ``SELECTIONS``: how a batch of B samples is batched for the discriminators
  (see docs/paper.md#batch-normalisation-and-batch-composition):
  ``per_case`` judges associated, generated and unassociated images as three
  pure batches (DCGAN and the public ports); ``per_sample`` is the paper's
  Algorithm 1, one batch whose each sample's case is drawn; ``joint`` stacks
  every sample in every case into one batch of 3B, so that batch statistics
  cannot tell the cases apart (docs/research/selection.md). The converter's
  loss is taken on the group holding the generated images, batched exactly
  as the discriminators saw it.

Each step performs, in order: a D_R update (real: associated and
unassociated product images; fake: the converter's images), a D_A update
(associated pairs: 1; unassociated and generated: 0), then a converter update
against the *updated*, frozen discriminators. The converter's forward pass
is computed once, under the converter's tape; the discriminator updates read
it through ``stop_gradient``.

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

from pldt_tf import losses, networks

ASSOCIATED, UNASSOCIATED, GENERATED = 0, 1, 2
DRAWN = -1  # a block whose cases are drawn per sample


# -- the tables ---------------------------------------------------------------


class Adversary(NamedTuple):
    """A discriminator as the step sees it.

    Attributes:
      network: Its attribute (and checkpoint) name on the model.
      optimizer: Its optimizer's attribute (and checkpoint) name.
      paired: Judges (source, image) pairs rather than images.
      pure_unassociated: Judges the unassociated images whenever the
        selection batches them as a pure group, whatever the method (D_R:
        any real product image is real); in a mixed group the method alone
        decides, since the group is laid out once for every adversary.
      label: The label it learns for a case (an int or an int32 tensor).
      tracker: Name of its loss.
      converter_tracker: Name of the converter's loss against it.
      outputs: (name, cases): trackers of its mean σ(logit) on those cases.
    """

    network: str
    optimizer: str
    paired: bool
    pure_unassociated: bool
    label: Callable
    tracker: str
    converter_tracker: str
    outputs: tuple[tuple[str, tuple[int, ...]], ...]

    def build(self, width: float = 1.0, synchronized_bn: bool = False, dtype=None):
        """Its network (``networks.discriminator_network``), named
        ``d_<network>`` as checkpoints know it."""
        return networks.discriminator_network(
            f"d_{self.network}", self.paired, width, synchronized_bn, dtype
        )


ADVERSARIES = {
    # D_R: real for any real product image, associated or not (Eq. 2).
    "real_fake": Adversary(
        network="real_fake",
        optimizer="real_fake_optimizer",
        paired=False,
        pure_unassociated=True,
        label=lambda case: case != GENERATED,
        tracker="loss/real_fake",
        converter_tracker="loss/converter_real_fake",
        outputs=(
            ("d_real_fake/real", (ASSOCIATED, UNASSOCIATED)),
            ("d_real_fake/fake", (GENERATED,)),
        ),
    ),
    # D_A: associated only for the photo's own product (Eq. 5).
    "domain": Adversary(
        network="domain",
        optimizer="domain_optimizer",
        paired=True,
        pure_unassociated=False,
        label=lambda case: case == ASSOCIATED,
        tracker="loss/domain",
        converter_tracker="loss/converter_domain",
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

    @property
    def tracker(self) -> str:
        return f"loss/{self.loss}"


@dataclasses.dataclass(frozen=True)
class Method:
    """What a method trains: the adversaries (keys of ``ADVERSARIES``, in
    update order), whether D_A is shown unassociated pairs, and the pixel
    term the converter adds (None: none); ``summary`` is its ``--method``
    help."""

    adversaries: tuple[str, ...]
    unassociated: bool = True
    pixel: PixelTerm | None = None
    summary: str = ""

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

    @property
    def cases(self) -> tuple[int, ...]:
        """The cases a step lays out for this method."""
        if self.unassociated:
            return (ASSOCIATED, UNASSOCIATED, GENERATED)
        return (ASSOCIATED, GENERATED)


# Paper Table 2.
METHODS = {
    "c_rf_dd": Method(("real_fake", "domain"), summary="ours: D_R and D_A"),
    "c_rf": Method(("real_fake",), summary="D_R only"),
    "c_mse": Method((), pixel=PixelTerm("mse", 1.0), summary="pixel loss only"),
    "c_rf_dd_neg": Method(
        ("real_fake", "domain"),
        unassociated=False,
        summary="D_A never sees unassociated pairs",
    ),
}


@dataclasses.dataclass(frozen=True)
class Selection:
    """The batches every discriminator judges in one step, in call order:
    each a tuple of case blocks of B examples stacked in that order (DRAWN:
    one block whose cases are drawn per sample). A group of one fixed case is
    *pure*: its own batch-norm batch, and a discriminator may skip it; a
    *mixed* group is laid out once per step and shared by every
    discriminator, with the method's cases."""

    groups: tuple[tuple[int, ...], ...]

    def judged(
        self, method: Method, adversary: Adversary, negatives: bool = True
    ) -> tuple[tuple[int, ...], ...]:
        """The groups ``adversary`` judges under ``method``."""
        pure = negatives and (method.unassociated or adversary.pure_unassociated)
        out = []
        for group in self.groups:
            show = pure if is_pure(group) else method.unassociated
            blocks = tuple(c for c in group if c != UNASSOCIATED or show)
            if blocks:
                out.append(blocks)
        return tuple(out)

    def converter_group(self, method: Method) -> tuple[int, ...]:
        """The blocks of the group holding the generated images, which the
        converter's loss sends through each frozen discriminator."""
        (group,) = [g for g in self.groups if GENERATED in g or DRAWN in g]
        return tuple(c for c in group if c in (*method.cases, DRAWN))

    def copies(self, method: Method) -> int:
        """How many copies of the batch a step stacks (the batch multiplier)."""
        group = self.converter_group(method)
        return 1 if is_pure(group) or DRAWN in group else len(group)


def is_pure(blocks: tuple[int, ...]) -> bool:
    return len(blocks) == 1 and blocks[0] != DRAWN


SELECTIONS = {
    "per_sample": Selection(groups=((DRAWN,),)),
    "per_case": Selection(groups=((ASSOCIATED,), (GENERATED,), (UNASSOCIATED,))),
    "joint": Selection(groups=((ASSOCIATED, UNASSOCIATED, GENERATED),)),
}


def tracker_names(method: Method, batching: Selection) -> list[str]:
    """The step's logged values: the converter's loss, each adversary's loss,
    the converter's loss against it and its outputs on the cases it judges,
    and the pixel term."""
    names = ["loss/converter"]
    for name in method.adversaries:
        adversary = ADVERSARIES[name]
        judged = {
            case for group in batching.judged(method, adversary) for case in group
        }
        if DRAWN in judged:
            judged.update(method.cases)
        names += [adversary.tracker, adversary.converter_tracker]
        names += [n for n, cases in adversary.outputs if judged & set(cases)]
    if method.pixel is not None:
        names.append(method.pixel.tracker)
    return names


# -- one step's batches -------------------------------------------------------


class Group(NamedTuple):
    """One batch a discriminator judges: the sources (D_A's pairs), the
    product images, and the case of every example — ``case`` for a pure
    group, ``cases`` (int32 [n]) for a mixed one."""

    source: tf.Tensor
    image: tf.Tensor
    case: int | None = None
    cases: tf.Tensor | None = None

    def labels(self, adversary: Adversary):
        return adversary.label(self.cases if self.case is None else self.case)

    def mask(self, wanted: tuple[int, ...]) -> tf.Tensor | None:
        """Which examples have one of the ``wanted`` cases (None: all of a
        pure group's)."""
        if self.case is not None:
            return None
        return tf.reduce_any([self.cases == c for c in wanted], axis=0)


class Batch(NamedTuple):
    """What a step's discriminators and converter loss are computed on;
    ``cases``: each example's case in the step's mixed group (None when the
    selection's groups are pure)."""

    source: tf.Tensor
    target: tf.Tensor
    negative: tf.Tensor | None
    generated: tf.Tensor
    cases: tf.Tensor | None = None

    def images(self, case: int) -> tf.Tensor:
        return {
            ASSOCIATED: self.target,
            UNASSOCIATED: self.negative,
            GENERATED: self.generated,
        }[case]

    def groups(self, blocks: tuple[tuple[int, ...], ...]) -> list[Group]:
        """The ``Group`` of each of ``blocks`` (``Selection.judged``)."""
        if self.cases is not None:  # the one mixed group of the step
            return [Group(self.source, self._mixed_images(), cases=self.cases)]
        return [Group(self.source, self.images(case), case=case) for (case,) in blocks]

    def _mixed_images(self) -> tf.Tensor:
        cases = self.cases[:, None, None, None]
        return tf.where(
            cases == ASSOCIATED,
            self.target,
            tf.where(
                cases == UNASSOCIATED,
                self.negative,
                tf.cast(self.generated, self.target.dtype),
            ),
        )


def stacked(images, copies: int):
    """``copies`` copies of a batch, one after the other (None stays None)."""
    if images is None or copies == 1:
        return images
    return tf.tile(images, [copies, 1, 1, 1])


# -- the model ----------------------------------------------------------------


class PixelLevelDomainTransfer(keras.Model):
    """Converter with its discriminators, trained by Algorithm 1.

    Args:
      converter: Image → image model (``networks.build_converter``).
      real_fake: D_R (logits), or None for methods without it.
      domain: D_A (logits), or None for methods without it.
      method: A key of ``METHODS``.
      selection: A key of ``SELECTIONS``.
      converter_loss: ``"non_saturating"`` or ``"minimax"``.
      seed: Seeds the per-sample case draws.
      pixel_loss: ``"none"``, or a pixel term (``losses.PIXEL_LOSSES``)
        added to an adversarial method's converter loss (beyond the paper).
      pixel_weight: The pixel term's weight λ.
      feature_matching_weight: If > 0, adds this weight times pix2pixHD's
        feature-matching term (each adversary's hidden features of the
        generated input against those of the associated real input, summed
        over its hidden layers, averaged over the adversaries) to the
        converter's loss (beyond the paper; per-case selection only).

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
        feature_matching_weight: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value, choices in (
            ("method", method, tuple(METHODS)),
            ("selection", selection, tuple(SELECTIONS)),
            ("converter_loss", converter_loss, losses.CONVERTER_LOSSES),
            ("pixel_loss", pixel_loss, ("none", *losses.PIXEL_LOSSES)),
        ):
            if value not in choices:
                raise ValueError(f"{name} must be one of {choices}, got {value!r}")
        if feature_matching_weight:
            _check_feature_matching(feature_matching_weight, method, selection)
        self.spec = METHODS[method].with_pixel(pixel_loss, pixel_weight)
        given = {"real_fake": real_fake, "domain": domain}
        self.converter = converter
        for name, adversary in ADVERSARIES.items():
            if adversary in self.adversaries and given[name] is None:
                raise ValueError(f"method {method!r} needs the {name} discriminator")
            network = given[name] if adversary in self.adversaries else None
            setattr(self, adversary.network, network)
        self.method, self.selection = method, selection
        self.batching = SELECTIONS[selection]
        self.converter_loss = converter_loss
        self.pixel_loss, self.pixel_weight = pixel_loss, pixel_weight
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.feature_matching_weight = float(feature_matching_weight)
        names = tracker_names(self.spec, self.batching)
        features = {}
        if self.feature_matching_weight:
            names.append(FEATURE_MATCHING_TRACKER)
            features = {
                a.network: networks.discriminator_features(getattr(self, a.network))
                for a in self.adversaries
            }
        # The same layers again: kept out of Keras' tracking, so checkpoints
        # hold exactly what they hold without feature matching.
        object.__setattr__(self, "_feature_networks", features)
        self._trackers = {name: keras.metrics.Mean(name=name) for name in names}

    @property
    def adversaries(self) -> list[Adversary]:
        """The discriminators this method trains against, in update order."""
        return [ADVERSARIES[name] for name in self.spec.adversaries]

    def _judged(self, adversary: Adversary, negatives: bool = True):
        return self.batching.judged(self.spec, adversary, negatives)

    # -- Keras plumbing -----------------------------------------------------

    def compile(self, converter_optimizer, *adversary_optimizers, **kwargs):
        """One optimizer per network: the converter's, then one per entry of
        ``ADVERSARIES`` in its order (or by name, ``real_fake_optimizer=``,
        ``domain_optimizer=``); those the method does not train may be None."""
        given = dict(zip(ADVERSARIES, adversary_optimizers, strict=False))
        for name, adversary in ADVERSARIES.items():
            given[name] = kwargs.pop(adversary.optimizer, given.get(name))
        super().compile(**kwargs)
        self.converter_optimizer = converter_optimizer
        for name, adversary in ADVERSARIES.items():
            used = adversary in self.adversaries
            if used and given[name] is None:
                raise ValueError(f"method {self.method!r} needs {adversary.optimizer}")
            setattr(self, adversary.optimizer, given[name] if used else None)
        for optimizer, network in self._updates():
            optimizer.build(network.trainable_variables)

    def _updates(self):
        """(optimizer, network) pairs in update order."""
        return [
            (getattr(self, a.optimizer), getattr(self, a.network))
            for a in self.adversaries
        ] + [(self.converter_optimizer, self.converter)]

    @property
    def metrics(self):
        return list(self._trackers.values())

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras 3's fit builds the model on a batch reduced across replicas;
        # under MultiWorkerMirroredStrategy that reduce fails on a dict of
        # per-replica tensors (keras-team/keras#20329, #20585). Everything is
        # built already — the networks when constructed, the optimizers in
        # compile() — so skip it there, as fit does without any strategy.
        if _multi_worker(self.distribute_strategy):
            return
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def call(self, source, training=False):
        return self.converter(source, training=training)

    def get_config(self):
        config = super().get_config()
        for name in ("converter", *ADVERSARIES):
            config[name] = keras.saving.serialize_keras_object(getattr(self, name))
        for name in ("method", "selection", "converter_loss", "seed"):
            config[name] = getattr(self, name)
        config.update(pixel_loss=self.pixel_loss, pixel_weight=self.pixel_weight)
        if self.feature_matching_weight:
            config["feature_matching_weight"] = self.feature_matching_weight
        return config

    @classmethod
    def from_config(cls, config):
        for key in ("converter", *ADVERSARIES):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

    # -- the step -------------------------------------------------------------

    def train_step(self, data):
        """Algorithm 1: the adversaries' updates (steps 1 and 2) inside the
        converter's update (step 3), whose forward pass they share."""
        inputs = self.step_inputs(data)
        loss = self.converter_update(*inputs, between=self.update_adversaries)
        self._trackers["loss/converter"].update_state(loss)
        logs = {name: tracker.result() for name, tracker in self._trackers.items()}
        if _multi_worker(tf.distribute.get_strategy()):
            # Keras 3 averages the logs across workers with reduce(axis=0),
            # which needs an axis to reduce (keras-team/keras#20585).
            logs = {name: tf.reshape(value, [1]) for name, value in logs.items()}
        return logs

    def step_inputs(self, data):
        """(source, target, negative, cases, copies) as the step lays them
        out: the selection's case draws (``per_sample``) or its copies of the
        batch stacked for a mixed group (``joint``)."""
        source, target = data["source"], data["target"]
        negative = data.get("negative")
        batch_size = tf.shape(source)[0]
        cases, copies = None, 1
        if self.adversaries:
            group = self.batching.converter_group(self.spec)
            if DRAWN in group:
                cases = draw_cases(batch_size, self.spec.cases, self.seed_generator)
            elif not is_pure(group):
                copies = self.batching.copies(self.spec)
                cases = tf.repeat(tf.constant(group, tf.int32), batch_size)
                source, target, negative = (
                    stacked(x, copies) for x in (source, target, negative)
                )
        return source, target, negative, cases, copies

    # -- step 3: the converter's update ----------------------------------------

    def converter_update(
        self, source, target, negative, cases=None, copies=1, between=None
    ):
        """Step 3: the converter's forward pass, its loss against the
        adversaries as they are then, and its update; returns the loss.

        ``between(source, target, negative, generated, cases)``, if given,
        runs after the forward pass and before the loss, outside the
        converter's tape, on the drawings without their gradient (the step
        updates the adversaries there); it returns whether its gradients were
        finite (None: not checked), which gates this update too.
        """
        batch_size = tf.shape(source)[0] // copies
        healthy = None
        with tf.GradientTape() as converter_tape:
            generated = stacked(
                self.converter(source[:batch_size], training=True), copies
            )
            if between is not None:
                with converter_tape.stop_recording():
                    healthy = between(
                        source, target, negative, tf.stop_gradient(generated), cases
                    )
            loss = self.converter_step_loss(source, target, negative, generated, cases)
            scaled = scaled_loss(loss, self.converter_optimizer)
        gradients = converter_tape.gradient(scaled, self.converter.trainable_variables)
        _apply(self.converter_optimizer, self.converter, gradients, healthy)
        return loss

    # -- steps 1 and 2: the discriminators -----------------------------------

    def update_adversaries(self, source, target, negative, generated, cases=None):
        """Steps 1 and 2; returns whether all their gradients were finite
        (None when no optimizer scales its loss)."""
        # Both gradients are computed before either is applied, so an overflow
        # in one skips both.
        pending = [
            (
                adversary,
                *self.adversary_gradients(
                    adversary.network, source, target, negative, generated, cases
                ),
            )
            for adversary in self.adversaries
        ]
        healthy = None
        if any(hasattr(optimizer, "scale_loss") for optimizer, _ in self._updates()):
            finite = [
                tf.reduce_all(tf.math.is_finite(g)) for *_, gs in pending for g in gs
            ]
            healthy = tf.reduce_all(finite or [tf.constant(True)])
        for adversary, loss, gradients in pending:
            self.apply_adversary(adversary.network, gradients, healthy)
            self._trackers[adversary.tracker].update_state(loss)
        return healthy

    def update_adversary(self, name, source, target, negative, generated, cases=None):
        """One adversary's update on its own (``name``: a key of
        ``ADVERSARIES``); returns its loss. The step updates them together
        (``update_adversaries``)."""
        loss, gradients = self.adversary_gradients(
            name, source, target, negative, generated, cases
        )
        self.apply_adversary(name, gradients)
        return loss

    def adversary_gradients(self, name, source, target, negative, generated, cases):
        """(loss, gradients of its scaled loss) of adversary ``name``."""
        adversary = ADVERSARIES[name]
        network = getattr(self, adversary.network)
        optimizer = getattr(self, adversary.optimizer)
        with tf.GradientTape() as tape:
            loss = self.discriminator_step_loss(
                name, source, target, negative, generated, cases
            )
            scaled = scaled_loss(loss, optimizer)
        return loss, tape.gradient(scaled, network.trainable_variables)

    def apply_adversary(self, name, gradients, healthy=None):
        adversary = ADVERSARIES[name]
        _apply(
            getattr(self, adversary.optimizer),
            getattr(self, adversary.network),
            gradients,
            healthy,
        )

    def discriminator_step_loss(
        self, name: str, source, target, negative, generated, cases=None
    ) -> tf.Tensor:
        """Eq. 2 (``name="real_fake"``) or Eq. 5 (``"domain"``) on the groups
        that discriminator judges this step, averaged per example over the
        groups, then over the global batch; updates its output trackers."""
        adversary = ADVERSARIES[name]
        batch = Batch(source, target, negative, generated, cases)
        groups = batch.groups(self._judged(adversary, negative is not None))
        judged = [(self._judge(adversary, group), group) for group in groups]
        track_outputs(self._trackers, adversary, judged)
        per_example = losses.case_averaged_discriminator_loss(
            [(logits, group.labels(adversary)) for logits, group in judged]
        )
        return _global_mean(per_example)

    def _judge(self, adversary: Adversary, group: Group, features: bool = False):
        """Its logits on ``group`` (``features``: its hidden activations,
        then the logits)."""
        if features:
            network = self._feature_networks[adversary.network]
        else:
            network = getattr(self, adversary.network)
        inputs = [group.source, group.image] if adversary.paired else group.image
        return network(inputs, training=True)

    def converter_step_loss(self, source, target, negative, generated, cases=None):
        """Step 3's loss: against each adversary as just updated, on the group
        that holds the generated images — batched exactly as the
        discriminators saw it — averaged over the adversaries (Eq. 6), plus
        the method's pixel term."""
        pixel, pixel_term = self.spec.pixel, None
        if pixel is not None:
            value = _global_mean(losses.pixel_loss(pixel.loss, generated, target))
            self._trackers[pixel.tracker].update_state(value)
            pixel_term = pixel.weight * value
        if not self.adversaries:
            return pixel_term
        batch = Batch(source, target, negative, generated, cases)
        (group,) = batch.groups((self.batching.converter_group(self.spec),))
        parts, matched = [], []
        for adversary in self.adversaries:
            if self._feature_networks:
                real = Group(source, target, case=ASSOCIATED)
                *fake_features, logits = self._judge(adversary, group, features=True)
                *real_features, _ = self._judge(adversary, real, features=True)
                matched.append(
                    _global_mean(
                        losses.feature_matching_loss(fake_features, real_features)
                    )
                )
            else:
                logits = self._judge(adversary, group)
            per_example = losses.adversarial_converter_loss(
                logits, self.converter_loss, group.labels(adversary)
            )
            if self.converter_loss == "minimax" or group.case is not None:
                part = _global_mean(per_example)
            else:  # the generated examples of a mixed group
                part = _masked_global_mean(per_example, group.mask((GENERATED,)))
            self._trackers[adversary.converter_tracker].update_state(part)
            parts.append(part)
        adversarial = losses.adversarial_mean(parts)
        if matched:
            feature_matching = losses.adversarial_mean(matched)
            self._trackers[FEATURE_MATCHING_TRACKER].update_state(feature_matching)
            adversarial += self.feature_matching_weight * feature_matching
        return adversarial if pixel_term is None else adversarial + pixel_term


# -- helpers of the step ------------------------------------------------------


def track_outputs(trackers: dict, adversary: Adversary, judged) -> None:
    """Mean σ(logit) per case tracker, from (logits, ``Group``) pairs: a pure
    group counts whole for its case's trackers, a mixed one through its case
    mask."""
    for name, wanted in adversary.outputs:
        if name not in trackers:  # a case this method never shows
            continue
        outputs, weights = [], []
        for logits, group in judged:
            mask = group.mask(wanted)
            if mask is not None:
                weights.append(tf.cast(mask, tf.float32))
            if mask is not None or group.case in wanted:
                outputs.append(logits)
        if outputs:
            trackers[name].update_state(
                tf.sigmoid(tf.concat(outputs, 0) if len(outputs) > 1 else outputs[0]),
                sample_weight=weights[0] if weights else None,
            )


def draw_cases(batch_size, cases: tuple[int, ...], seed_generator) -> tf.Tensor:
    """``per_sample``: each sample's case, among ``cases`` with equal
    probability."""
    # Draw for the global batch and keep this replica's slice, so a step
    # under a distribution strategy makes the same draws as one device.
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    context = tf.distribute.get_replica_context()
    replica = 0 if context is None else context.replica_id_in_sync_group
    draw = keras.random.randint(
        (batch_size * replicas,), 0, len(cases), seed=seed_generator, dtype="int32"
    )
    draw = draw[replica * batch_size : (replica + 1) * batch_size]
    if len(cases) == 2:  # index 1 is the second case
        draw = tf.where(draw == 1, cases[1], cases[0])
    return draw


FEATURE_MATCHING_TRACKER = "loss/feature_matching"


def _check_feature_matching(weight: float, method: str, selection: str) -> None:
    if not weight > 0 or weight == float("inf"):
        raise ValueError(f"feature_matching_weight must be >= 0, got {weight}")
    if not METHODS[method].adversaries:
        raise ValueError(
            f"method {method!r} has no discriminator whose features to match"
        )
    if any(not is_pure(group) for group in SELECTIONS[selection].groups):
        raise ValueError(
            "feature matching compares each drawing with its own target in "
            f"pure batches: it needs selection='per_case', got {selection!r}"
        )


def _multi_worker(strategy) -> bool:
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def _global_mean(per_example: tf.Tensor) -> tf.Tensor:
    """Sum over this replica's examples / global batch size."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    batch = tf.cast(tf.shape(per_example)[0] * replicas, tf.float32)
    return tf.reduce_sum(per_example) / batch


def _masked_global_mean(per_example, mask) -> tf.Tensor:
    """Mean over the masked examples of the *global* batch."""
    mask = tf.cast(mask, tf.float32)
    count = tf.reduce_sum(mask)
    context = tf.distribute.get_replica_context()
    if context is not None:
        count = context.all_reduce(tf.distribute.ReduceOp.SUM, count)
    return tf.reduce_sum(per_example * mask) / tf.maximum(count, 1.0)


def scaled_loss(loss, optimizer):
    """What a (loss-scale) optimizer wants differentiated; call it inside the
    tape."""
    return optimizer.scale_loss(loss) if hasattr(optimizer, "scale_loss") else loss


def _apply(optimizer, network, gradients, healthy):
    """Applies unless ``healthy`` is False: then NaN gradients make every
    (loss-scale) optimizer of this step skip its update."""
    if healthy is not None:
        poison = tf.where(healthy, 0.0, float("nan"))
        gradients = [g + tf.cast(poison, g.dtype) for g in gradients]
    optimizer.apply(gradients, network.trainable_variables)
