"""Algorithm 1 in train_step: which weights each update touches, case draws,
tracing, mixed precision, skipped steps, serialisation."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from pldt_tf import losses, networks
from pldt_tf import model as model_lib

WIDTH = 0.0625


def _batch(size=8, seed=0):
    rng = np.random.default_rng(seed)
    return {
        k: tf.constant(rng.uniform(-1, 1, (size, 64, 64, 3)).astype("float32"))
        for k in ("source", "target", "negative")
    }


def _model(
    method="c_rf_dd", selection="per_case", lrs=(2e-4, 2e-4, 2e-4), dtype=None, **kw
):
    keras.utils.set_random_seed(0)
    model = model_lib.PixelLevelDomainTransfer(
        networks.build_converter(WIDTH, dtype=dtype),
        networks.build_discriminator("real_fake", WIDTH, dtype=dtype),
        networks.build_discriminator("domain", WIDTH, dtype=dtype),
        method=method,
        selection=selection,
        seed=0,
        **kw,
    )
    real_fake_lr, domain_lr, converter_lr = lrs  # NETWORKS order
    model.compile(
        keras.optimizers.Adam(converter_lr, beta_1=0.5),
        keras.optimizers.Adam(real_fake_lr, beta_1=0.5),
        keras.optimizers.Adam(domain_lr, beta_1=0.5),
    )
    return model


def _snapshot(network):
    return [v.numpy().copy() for v in network.trainable_variables]


def _changed(before, network):
    return any(
        not np.array_equal(a, b.numpy())
        for a, b in zip(before, network.trainable_variables, strict=True)
    )


NETWORKS = ("real_fake", "domain", "converter")


@pytest.mark.parametrize("selection", model_lib.SELECTIONS)
def test_the_named_updates_are_the_step_and_change_their_network(selection):
    """``update_adversary`` and ``converter_update`` (what the benchmark's
    phase timer runs) each change only their network; the step composed of
    them logs what a model updated phase by phase computes."""
    batch = _batch()
    model = _model(selection=selection)
    source, target, negative, cases, copies = model.step_inputs(batch)
    generated = tf.stop_gradient(
        model_lib.stacked(model.converter(batch["source"], training=True), copies)
    )
    for name in ("real_fake", "domain"):
        before = {n: _snapshot(getattr(model, n)) for n in NETWORKS}
        model.update_adversary(name, source, target, negative, generated, cases)
        for other in NETWORKS:
            assert _changed(before[other], getattr(model, other)) == (other == name)
    before = {n: _snapshot(getattr(model, n)) for n in NETWORKS}
    model.converter_update(source, target, negative, cases, copies)
    for other in NETWORKS:
        assert _changed(before[other], getattr(model, other)) == (other == "converter")


def test_the_phase_timer_runs_the_model_updates():
    from pldt_tf.perf import benchmark_lib

    seconds = benchmark_lib.phase_seconds(_model(selection="joint"), _batch(), 1)
    assert sorted(seconds) == [
        "converter_forward",
        "converter_update",
        "domain_update",
        "real_fake_update",
    ]
    assert all(value > 0 for value in seconds.values())


@pytest.mark.parametrize("selection", model_lib.SELECTIONS)
@pytest.mark.parametrize("active", range(3))
def test_each_update_changes_only_its_network(selection, active):
    lrs = [0.0, 0.0, 0.0]
    lrs[active] = 1e-2
    model = _model(selection=selection, lrs=lrs)
    before = {name: _snapshot(getattr(model, name)) for name in NETWORKS}
    model.train_step(_batch())
    for index, name in enumerate(NETWORKS):
        assert _changed(before[name], getattr(model, name)) == (index == active), name


@pytest.mark.parametrize("upsampling", networks.UPSAMPLINGS)
def test_every_upsampling_trains_one_step(upsampling):
    keras.utils.set_random_seed(0)
    model = model_lib.PixelLevelDomainTransfer(
        networks.build_converter(WIDTH, upsampling=upsampling),
        networks.build_discriminator("real_fake", WIDTH),
        networks.build_discriminator("domain", WIDTH),
        seed=0,
    )
    model.compile(*[keras.optimizers.Adam(1e-2, beta_1=0.5) for _ in range(3)])
    before = _snapshot(model.converter)
    logs = model.train_step(_batch())
    assert all(np.isfinite(float(v)) for v in logs.values())
    assert _changed(before, model.converter)


@pytest.mark.parametrize("selection", model_lib.SELECTIONS)
@pytest.mark.parametrize("method", model_lib.METHODS)
def test_every_method_trains_one_step(method, selection):
    model = _model(method=method, selection=selection)
    logs = model.train_step(_batch())
    assert all(np.isfinite(float(v)) for v in logs.values())
    assert ("loss/domain" in logs) == (method in ("c_rf_dd", "c_rf_dd_neg"))
    assert ("loss/real_fake" in logs) == (method != "c_mse")
    assert ("d_domain/unassociated" in logs) == (method == "c_rf_dd")


@pytest.mark.parametrize("selection", model_lib.SELECTIONS)
@pytest.mark.parametrize("pixel_loss", ["l1", "mse"])
def test_pixel_term_adds_its_weighted_loss(pixel_loss, selection):
    """C+RF+DD + λ·pixel: the converter's loss is the adversarial part plus
    λ times the logged pixel loss, and the pixel loss is that of the
    step's drawings (golden: computed again from the converter's output)."""
    batch = _batch()
    model = _model(selection=selection, pixel_loss=pixel_loss, pixel_weight=100.0)
    generated = model.converter(batch["source"], training=True)
    expected = float(
        tf.reduce_mean(losses.pixel_loss(pixel_loss, generated, batch["target"]))
    )
    logs = model.train_step(batch)
    assert float(logs[f"loss/{pixel_loss}"]) == pytest.approx(expected, rel=1e-5)
    adversarial = (
        float(logs["loss/converter_real_fake"]) + float(logs["loss/converter_domain"])
    ) / 2
    assert float(logs["loss/converter"]) == pytest.approx(
        adversarial + 100.0 * expected, rel=1e-5
    )
    plain = _model(selection=selection).train_step(batch)
    assert f"loss/{pixel_loss}" not in plain
    for name in ("loss/real_fake", "loss/domain"):  # same discriminator step
        assert float(logs[name]) == float(plain[name])


def test_feature_matching_adds_its_weighted_term():
    """C+RF+DD + λ·L1 + μ·FM: the logged term is pix2pixHD's, recomputed from
    the *updated* discriminators' hidden layers on the step's drawings and
    targets; the converter's loss adds μ times it; the discriminator step is
    the plain one."""
    batch = _batch()
    kw = {"pixel_loss": "l1", "pixel_weight": 100.0}
    model = _model(feature_matching_weight=10.0, **kw)
    plain = _model(**kw)
    generated = model.converter(batch["source"], training=True)
    logs = model.train_step(batch)
    plain_logs = plain.train_step(batch)
    for name in ("loss/real_fake", "loss/domain", "loss/l1"):
        assert float(logs[name]) == float(plain_logs[name]), name
    expected = []
    for name in ("real_fake", "domain"):
        features = networks.discriminator_features(getattr(model, name))
        paired = name == "domain"
        fake = features(
            [batch["source"], generated] if paired else generated, training=True
        )
        real = features(
            [batch["source"], batch["target"]] if paired else batch["target"],
            training=True,
        )
        assert len(fake) == 5  # four hidden layers, then the logits
        expected.append(
            sum(
                float(tf.reduce_mean(tf.abs(f - r)))
                for f, r in zip(fake[:-1], real[:-1], strict=True)
            )
        )
    matched = sum(expected) / 2
    assert float(logs["loss/feature_matching"]) == pytest.approx(matched, rel=1e-4)
    adversarial = (
        float(logs["loss/converter_real_fake"]) + float(logs["loss/converter_domain"])
    ) / 2
    assert float(logs["loss/converter"]) == pytest.approx(
        adversarial + 100.0 * float(logs["loss/l1"]) + 10.0 * matched, rel=1e-4
    )
    assert "loss/feature_matching" not in plain_logs


def test_feature_matching_leaves_the_checkpoint_as_it_is(tmp_path):
    """The feature views share the discriminators' layers and are not
    tracked: a checkpoint with and without the term holds the same keys."""
    keys = []
    for weight in (0.0, 10.0):
        model = _model(feature_matching_weight=weight)
        path = tf.train.Checkpoint(model=model).write(str(tmp_path / f"w{weight}"))
        keys.append(sorted(name for name, _ in tf.train.list_variables(path)))
    assert keys[0] == keys[1]


def test_c_mse_is_the_mse_term_alone():
    c_mse = model_lib.METHODS["c_mse"]
    assert (c_mse.adversaries, c_mse.pixel) == ((), model_lib.PixelTerm("mse", 1.0))
    batch = _batch()
    model = _model(method="c_mse")
    generated = model.converter(batch["source"], training=True)
    expected = float(
        tf.reduce_mean(losses.mse_converter_loss(generated, batch["target"]))
    )
    logs = model.train_step(batch)
    assert set(logs) == {"loss/converter", "loss/mse"}
    assert float(logs["loss/converter"]) == float(logs["loss/mse"])
    assert float(logs["loss/mse"]) == pytest.approx(expected, rel=1e-5)


def test_per_sample_draws_cases_at_equal_rates():
    model = _model(selection="per_sample")
    cases = model_lib.draw_cases(30_000, model.spec.cases, model.seed_generator).numpy()
    rates = np.bincount(cases, minlength=3) / len(cases)
    np.testing.assert_allclose(rates, [1 / 3] * 3, atol=0.015)
    neg = _model(method="c_rf_dd_neg", selection="per_sample")
    rates = (
        np.bincount(
            model_lib.draw_cases(30_000, neg.spec.cases, neg.seed_generator).numpy(),
            minlength=3,
        )
        / 30_000
    )
    np.testing.assert_allclose(rates, [0.5, 0.0, 0.5], atol=0.015)


def test_per_sample_reports_outputs_for_every_case():
    logs = _model(selection="per_sample").train_step(_batch(size=32))
    for name in ("d_domain/associated", "d_domain/unassociated", "d_domain/generated"):
        assert 0.0 < float(logs[name]) < 1.0


@pytest.mark.parametrize("selection", ["joint", "per_case"])
def test_joint_selection_judges_every_case_in_one_batch(selection):
    """joint: D_A's loss is that of one batch-norm batch holding the associated,
    unassociated and generated pairs of every sample; per_case's three pure
    batches give another value on the same data (the test can tell them
    apart)."""
    model = _model(selection=selection)
    batch = _batch(size=8)
    generated = model.converter(batch["source"], training=True)
    logits = model.domain(
        [
            tf.tile(batch["source"], [3, 1, 1, 1]),
            tf.concat([batch["target"], batch["negative"], generated], 0),
        ],
        training=True,
    )
    labels = np.repeat([1.0, 0.0, 0.0], 8)
    expected = float(keras.losses.BinaryCrossentropy(from_logits=True)(labels, logits))
    logs = model.train_step(batch)
    matches = abs(float(logs["loss/domain"]) - expected) < 1e-5
    assert matches == (selection == "joint")


def test_step_traces_once_per_shape():
    model = _model()
    traces = []
    original = model.train_step

    def counting_step(data):
        traces.append(data["source"].shape)
        return original(data)

    model.train_step = counting_step
    dataset = tf.data.Dataset.from_tensors(_batch()).repeat()
    model.fit(dataset, steps_per_epoch=3, epochs=2, verbose=0)
    assert len(traces) == 1
    model.fit(
        tf.data.Dataset.from_tensors(_batch(size=4)).repeat(),
        steps_per_epoch=3,
        verbose=0,
    )
    assert len(traces) == 2


def test_mixed_bfloat16_trains_on_cpu():
    model = _model(dtype="mixed_bfloat16")
    before = {name: _snapshot(getattr(model, name)) for name in NETWORKS}
    dataset = tf.data.Dataset.from_tensors(_batch()).repeat()
    history = model.fit(dataset, steps_per_epoch=3, epochs=1, verbose=0)
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    for name in NETWORKS:
        assert _changed(before[name], getattr(model, name)), name


def _scaled_model():
    keras.utils.set_random_seed(0)
    model = model_lib.PixelLevelDomainTransfer(
        networks.build_converter(WIDTH, dtype="mixed_float16"),
        networks.build_discriminator("real_fake", WIDTH, dtype="mixed_float16"),
        networks.build_discriminator("domain", WIDTH, dtype="mixed_float16"),
    )
    model.compile(
        *[
            keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(2e-4))
            for _ in range(3)
        ]
    )
    return model


def test_overflowing_step_is_skipped_for_all_three_networks():
    model = _scaled_model()
    bad = _batch()
    bad["target"] = tf.tensor_scatter_nd_update(bad["target"], [[0, 0, 0, 0]], [np.inf])
    before = {name: _snapshot(getattr(model, name)) for name in NETWORKS}
    model.train_step(bad)  # D_R sees inf → its gradients overflow
    for name in NETWORKS:
        assert not _changed(before[name], getattr(model, name)), name
    scale = float(model.converter_optimizer.dynamic_scale.numpy())
    model.train_step(_batch())
    for name in NETWORKS:
        assert _changed(before[name], getattr(model, name)), name
    assert scale < 2.0**15  # the loss scale went down after the overflow


def test_model_config_round_trip():
    model = _model(
        method="c_rf_dd_neg",
        selection="per_sample",
        converter_loss="minimax",
        pixel_loss="l1",
        pixel_weight=10.0,
    )
    clone = model_lib.PixelLevelDomainTransfer.from_config(model.get_config())
    matching = _model(feature_matching_weight=10.0)
    clone_fm = model_lib.PixelLevelDomainTransfer.from_config(matching.get_config())
    assert clone_fm.feature_matching_weight == 10.0
    assert (clone.method, clone.selection, clone.converter_loss) == (
        "c_rf_dd_neg",
        "per_sample",
        "minimax",
    )
    assert clone.spec == model.spec
    assert clone.spec.pixel == model_lib.PixelTerm("l1", 10.0)
    assert clone.converter.count_params() == model.converter.count_params()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "gan"}, "method"),
        ({"selection": "random"}, "selection"),
        ({"converter_loss": "hinge"}, "converter_loss"),
        ({"pixel_loss": "l2"}, "pixel_loss"),
        ({"method": "c_mse", "pixel_loss": "l1"}, "adversarial method"),
        ({"feature_matching_weight": -1.0}, "feature_matching_weight"),
        ({"method": "c_mse", "feature_matching_weight": 10.0}, "no discriminator"),
        (
            {"selection": "joint", "feature_matching_weight": 10.0},
            "selection='per_case'",
        ),
    ],
)
def test_bad_arguments_are_clear(kwargs, message):
    with pytest.raises(ValueError, match=message):
        model_lib.PixelLevelDomainTransfer(networks.build_converter(WIDTH), **kwargs)
