"""SavedModel export: layout, signatures against Keras in a fresh process,
preprocessing parity with the training data path, bad requests, CLI."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tool_runner import run_tool

import lookbook_fixtures as fx
from pldt_tf.data import lookbook, preprocess
from pldt_tf.serving import export_lib
from pldt_tf.training import workdir as workdir_lib


def _keras_uint8(converter, padded):
    generated = converter(preprocess.to_unit_range(padded), training=False)
    return preprocess.from_unit_range(generated).numpy()


def test_layout_is_tf_serving_versioned(exported, trained_workdir):
    base, path = exported
    _, step = workdir_lib.load_converter_and_step(trained_workdir)
    assert path == os.path.join(base, "pldt", str(step))
    assert os.path.isfile(os.path.join(path, "saved_model.pb"))
    assert sorted(os.listdir(os.path.join(base, "pldt"))) == [str(step)]


def test_refuses_to_overwrite_a_version(exported, trained_workdir):
    base, path = exported
    converter, step = workdir_lib.load_converter_and_step(trained_workdir)
    with pytest.raises(FileExistsError, match="--overwrite"):
        export_lib.export(converter, base, "pldt", step)
    assert os.path.isfile(os.path.join(path, "saved_model.pb"))


@pytest.mark.slow
def test_signatures_match_keras_in_a_fresh_process(exported, trained_workdir, tmp_path):
    _, path = exported
    converter = workdir_lib.load_converter(trained_workdir)
    rng = np.random.default_rng(0)
    floats = rng.uniform(-1, 1, (3, 64, 64, 3)).astype(np.float32)
    photos = rng.integers(0, 256, (2, 90, 60, 3), dtype=np.uint8)
    encoded = [tf.io.encode_png(p).numpy() for p in photos]
    np.save(tmp_path / "in.npy", {"float": floats, "uint8": photos, "bytes": encoded})
    result = run_tool(
        "tests/export_check.py",
        path,
        str(tmp_path / "in.npy"),
        str(tmp_path / "out.npy"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "serving_default" in result.stdout and "transfer_float" in result.stdout
    out = np.load(tmp_path / "out.npy", allow_pickle=True).item()
    expected_float = converter(floats, training=False).numpy()
    np.testing.assert_allclose(out["float"], expected_float, atol=1e-5)
    expected_uint8 = _keras_uint8(converter, preprocess.resize_and_pad(photos))
    assert np.abs(out["uint8"].astype(int) - expected_uint8).max() <= 1
    assert np.abs(out["bytes_image"].astype(int) - expected_uint8).max() <= 1
    np.testing.assert_array_equal(out["bytes_png"], out["bytes_image"])


def _fixture_photos(folder):
    entries, _ = lookbook.list_folder(folder)
    for entry in entries:
        path = os.path.join(folder, entry.name)
        decoded = preprocess.decode_image_file(path)
        if decoded.pixels is None:
            continue
        yield entry.name, path, decoded.pixels


def test_serving_preprocessing_matches_training_path(lookbook_folder):
    folder, _ = lookbook_folder
    checked = 0
    for name, path, pixels in _fixture_photos(folder):
        with open(path, "rb") as file:
            data = file.read()
        served = export_lib._decode_one((tf.constant(0), tf.constant(data))).numpy()
        trained = preprocess.resize_and_pad(pixels).numpy()
        worst = np.abs(served.astype(int) - trained.astype(int)).max()
        assert worst <= 1, (name, worst)
        checked += 1
    assert checked >= 20


def test_export_is_deterministic(trained_workdir, tmp_path):
    converter, step = workdir_lib.load_converter_and_step(trained_workdir)
    a = export_lib.export(converter, str(tmp_path / "a"), "pldt", step)
    b = export_lib.export(converter, str(tmp_path / "b"), "pldt", step)
    variables = ("variables/variables.data-00000-of-00001", "variables/variables.index")
    for name in variables:
        with (
            open(os.path.join(a, name), "rb") as x,
            open(os.path.join(b, name), "rb") as y,
        ):
            assert x.read() == y.read(), name
    images = tf.constant(np.zeros((1, 64, 64, 3), np.float32))
    out_a = tf.saved_model.load(a).signatures["transfer_float"](images=images)["image"]
    out_b = tf.saved_model.load(b).signatures["transfer_float"](images=images)["image"]
    np.testing.assert_array_equal(out_a.numpy(), out_b.numpy())


def test_bad_requests_fail_with_invalid_argument(exported):
    _, path = exported
    serving = tf.saved_model.load(path).signatures["serving_default"]
    good = tf.io.encode_png(np.zeros((8, 8, 3), np.uint8)).numpy()
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=r"images\[.*1.*\] is not a"
    ):
        serving(images=tf.constant([good, b"definitely not an image"]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="empty"):
        serving(images=tf.constant([], tf.string))
    uint8 = tf.saved_model.load(path).signatures["transfer_uint8"]
    # A loaded signature checks dtype and rank itself (InvalidArgument, as
    # TF Serving reports them).
    with pytest.raises(tf.errors.InvalidArgumentError, match="uint8"):
        uint8(images=tf.zeros((1, 8, 8, 3), tf.float32))
    with pytest.raises((tf.errors.InvalidArgumentError, ValueError, TypeError)):
        uint8(images=tf.zeros((8, 8, 3), tf.uint8))


@pytest.mark.slow
def test_saved_model_cli_show_and_run(exported, tmp_path):
    _, path = exported
    cli = ("-m", "tensorflow.python.tools.saved_model_cli")
    show = run_tool(*cli, "show", "--dir", path, "--all")
    assert show.returncode == 0, show.stderr[-2000:]
    for name in ("serving_default", "transfer_uint8", "transfer_float"):
        assert f"signature_def['{name}']" in show.stdout
    np.save(tmp_path / "x.npy", np.zeros((1, 64, 64, 3), np.float32))
    run = run_tool(
        *cli,
        "run",
        "--dir",
        path,
        "--tag_set",
        "serve",
        "--signature_def",
        "transfer_float",
        "--inputs",
        f"images={tmp_path / 'x.npy'}",
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "image" in run.stdout


def test_export_cli(trained_workdir, tmp_path):
    result = run_tool(
        "-m",
        "pldt_tf.export",
        f"--workdir={trained_workdir}",
        f"--export_dir={tmp_path}",
        "--version=7",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert os.path.isfile(tmp_path / "pldt" / "7" / "saved_model.pb")
    assert not [p for p in os.listdir(tmp_path / "pldt") if p.startswith(".")]
    # Without --version: the next integer, whatever the training step, so TF
    # Serving (which serves the highest) takes the newest export.
    result = run_tool(
        "-m",
        "pldt_tf.export",
        f"--workdir={trained_workdir}",
        f"--export_dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    _, step = workdir_lib.load_converter_and_step(trained_workdir)
    assert step < 8
    metadata = export_lib.read_metadata(str(tmp_path / "pldt" / "8"))
    assert metadata == {
        "step": step,
        "workdir": os.path.abspath(trained_workdir),
        "checkpoint": "latest",
    }
    assert export_lib.next_version(str(tmp_path), "pldt") == 9
    assert export_lib.next_version(str(tmp_path), "other") == 1


def test_rgba_is_composited_over_white_in_the_graph():
    rgba = np.zeros((4, 4, 4), np.uint8)  # fully transparent black
    data = tf.io.encode_png(rgba)
    served = export_lib._decode_one((tf.constant(0), data)).numpy()
    assert np.all(served == 255)
    gray = tf.io.encode_png(np.full((4, 4, 1), 7, np.uint8))
    assert np.all(export_lib._decode_one((tf.constant(0), gray)).numpy() == 7)


def test_fixture_names_used_here_exist(lookbook_folder):
    folder, _ = lookbook_folder
    assert os.path.exists(os.path.join(folder, fx.name(905, 0, 2, "JPEG")))


@pytest.mark.parametrize("upsampling", ["transposed4", "resize_conv"])
def test_every_upsampling_exports_and_reloads(upsampling, tmp_path):
    from pldt_tf import networks

    converter = networks.build_converter(0.0625, upsampling=upsampling)
    path = export_lib.export(converter, str(tmp_path), "pldt", 1)
    images = np.random.default_rng(0).uniform(-1, 1, (2, 64, 64, 3)).astype("float32")
    served = tf.saved_model.load(path).signatures["transfer_float"](
        images=tf.constant(images)
    )["image"]
    expected = converter(images, training=False)
    np.testing.assert_allclose(served.numpy(), np.asarray(expected), atol=1e-5)


def _encoded(size, fmt, mode="RGB"):
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "BMP"])
def test_header_pixels_reads_every_format_without_decoding(fmt):
    encoded = tf.constant(_encoded((300, 200), fmt))
    assert int(export_lib.header_pixels(encoded)) == 60_000
    assert int(export_lib.header_pixels(tf.constant(b"hello"))) == -1


def test_serving_refuses_images_over_the_pixel_budget_before_decoding(
    trained_workdir, tmp_path
):
    converter, step = workdir_lib.load_converter_and_step(trained_workdir)
    path = export_lib.export(
        converter,
        str(tmp_path),
        "pldt",
        step,
        max_pixels=50_000,
        max_request_pixels=100_000,
    )
    serving = tf.saved_model.load(path).signatures["serving_default"]
    small = _encoded((100, 100), "PNG")
    # 8000 × 8000 declared in a file of a few hundred kilobytes.
    bomb = _encoded((8000, 8000), "PNG", mode="1")
    assert len(bomb) < 1_000_000
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=r"images\[1\] declares 64000000 pixels, over the limit of 50000",
    ):
        serving(images=tf.constant([small, bomb]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="together, over"):
        serving(images=tf.constant([small] * 11))  # 110,000 pixels
    assert serving(images=tf.constant([small] * 10))["image"].shape[0] == 10


@pytest.mark.slow
def test_a_pixel_term_workdir_trains_exports_and_reloads(synthetic_data, tmp_path):
    """C+RF+DD + 100·L1 (beyond the paper): the workdir restores, its export
    loads and draws what its converter draws, and the export tool takes it."""
    from train_fixtures import tiny_config

    from pldt_tf.training import fit

    config = tiny_config(
        synthetic_data[1],
        tmp_path / "hybrid",
        epochs=1,
        decay_epochs=0,
        pixel_loss="l1",
        pixel_weight=100.0,
    )
    fit.train(config)
    assert workdir_lib.load_config(config.workdir).pixel_loss == "l1"
    model, step = workdir_lib.load_model_and_step(config.workdir)
    assert model.spec.pixel.weight == 100.0
    path = export_lib.export(model.converter, str(tmp_path / "exports"), "pldt", step)
    images = np.random.default_rng(0).uniform(-1, 1, (2, 64, 64, 3)).astype("float32")
    served = tf.saved_model.load(path).signatures["transfer_float"](
        images=tf.constant(images)
    )["image"]
    expected = model.converter(images, training=False)
    np.testing.assert_allclose(served.numpy(), np.asarray(expected), atol=1e-5)
    result = run_tool(
        "-m",
        "pldt_tf.export",
        f"--workdir={config.workdir}",
        f"--export_dir={tmp_path / 'cli'}",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert os.path.isfile(tmp_path / "cli" / "pldt" / "1" / "saved_model.pb")
