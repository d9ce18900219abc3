"""The local REST endpoint under real HTTP on loopback, and the CLI."""

from __future__ import annotations

import base64
import concurrent.futures
import io
import json
import os
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image
from tool_runner import run_tool
from werkzeug.serving import make_server

import lookbook_fixtures as fx
from pldt_tf.serving import server_lib


@pytest.fixture(scope="module")
def server(exported):
    base, _ = exported
    app = server_lib.create_app(
        os.path.join(base, "pldt"), max_batch=4, max_request_bytes=200_000
    )
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


def _call(url, body=None, raw=None, content_type="application/json", method=None):
    data = (
        raw
        if raw is not None
        else (None if body is None else json.dumps(body).encode())
    )
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": content_type}, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _b64(pixels):
    return base64.b64encode(fx.jpeg_bytes(pixels)).decode()


def test_status_in_tf_serving_format(server):
    status, body = _call(f"{server}/v1/models/pldt")
    assert status == 200
    assert body["model_version_status"][0]["state"] == "AVAILABLE"


def test_predict_returns_a_png_per_instance(server):
    photos = [fx.solid(120, 80, (200, 30, 30)), fx.solid(90, 90, (20, 20, 200))]
    status, body = _call(
        f"{server}/v1/models/pldt:predict",
        {"instances": [{"b64": _b64(p)} for p in photos]},
    )
    assert status == 200, body
    assert len(body["predictions"]) == 2
    image = Image.open(
        io.BytesIO(base64.b64decode(body["predictions"][0]["png_bytes"]["b64"]))
    )
    assert image.size == (64, 64) and image.mode == "RGB"
    columnar = {"inputs": {"images": [{"b64": _b64(photos[0])}]}}
    status, body = _call(f"{server}/v1/models/pldt:predict", columnar)
    assert status == 200 and len(body["predictions"]) == 1


@pytest.mark.parametrize(
    ("raw", "body", "status", "message"),
    [
        (b"{not json", None, 400, "not valid JSON"),
        (None, {"foo": 1}, 400, "instances"),
        (None, {"instances": []}, 400, "non-empty"),
        (None, {"instances": [{"b64": "%%%"}]}, 400, "base64"),
        (None, {"instances": [{"url": "x"}]}, 400, "b64"),
        (
            None,
            {"instances": [{"b64": "aGVsbG8="}]},
            400,
            "images[0] is not a JPEG, PNG, GIF or BMP image (5 bytes)",
        ),
        (None, {"instances": [{"b64": "aGVsbG8="}] * 5}, 400, "batch limit"),
        (b"x" * 300_000, None, 413, "larger than"),
        (b"[" * 100_000 + b"]" * 100_000, None, 400, "not valid JSON"),
    ],
)
def test_bad_requests_get_4xx_with_a_message(server, raw, body, status, message):
    got, answer = _call(f"{server}/v1/models/pldt:predict", body=body, raw=raw)
    assert got == status
    assert message in answer["error"]


def test_body_is_json_whatever_the_content_type(server):
    # curl -d sends application/x-www-form-urlencoded; TF Serving reads JSON.
    body = {"instances": [{"b64": _b64(fx.solid(40, 60, (10, 120, 200)))}]}
    status, answer = _call(
        f"{server}/v1/models/pldt:predict",
        body,
        content_type="application/x-www-form-urlencoded",
    )
    assert status == 200 and len(answer["predictions"]) == 1


def test_every_error_is_a_json_object(server):
    status, answer = _call(f"{server}/v1/models/pldt:predict", method="GET")
    assert status == 405 and "POST" in answer["error"]
    status, answer = _call(f"{server}/v1/models/other:predict", {"instances": []})
    assert status == 404 and "error" in answer


def test_bad_element_is_named(server):
    good = {"b64": _b64(fx.solid(50, 50, (0, 0, 0)))}
    # A GIF header declaring 10 × 10, then no image data.
    bad = {"b64": base64.b64encode(b"GIF89a\n\x00\n\x00-but-truncated").decode()}
    status, body = _call(f"{server}/v1/models/pldt:predict", {"instances": [good, bad]})
    assert status == 400
    assert body["error"].startswith("images[1]: Invalid GIF data"), body


def test_concurrent_requests(server):
    body = {"instances": [{"b64": _b64(fx.solid(60, 40, (9, 99, 199)))}]}

    def call(_):
        return _call(f"{server}/v1/models/pldt:predict", body)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, range(16)))
    assert all(status == 200 for status, _ in results)
    pngs = {r["predictions"][0]["png_bytes"]["b64"] for _, r in results}
    assert len(pngs) == 1  # same input, same output, whatever the interleaving


def test_page_is_served(server):
    with urllib.request.urlopen(f"{server}/", timeout=30) as response:
        html = response.read().decode()
    assert '<input type="file"' in html and "/v1/models/pldt:predict" in html


def test_unknown_path_is_404_with_hint(server):
    status, body = _call(f"{server}/v1/models/other:predict", {"instances": []})
    assert status == 404 and "pldt:predict" in body["error"]


@pytest.mark.slow
def test_transfer_cli_writes_reports_and_keeps_existing(exported, tmp_path):
    base, _ = exported
    photos = tmp_path / "photos"
    photos.mkdir()
    for index in range(3):
        (photos / f"p{index}.jpg").write_bytes(
            fx.jpeg_bytes(fx.solid(70, 50, (index, 90, 9)))
        )
    (photos / "broken.jpg").write_bytes(b"nope")
    out = tmp_path / "out"
    out.mkdir()
    (out / "p0.png").write_bytes(b"keep me")
    result = run_tool(
        "-m",
        "pldt_tf.transfer",
        f"--model={os.path.join(base, 'pldt')}",
        f"--input={photos}",
        f"--output={out}",
        "--batch_size=2",
        "--sheet",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Wrote 2 images" in result.stdout and "1 unreadable" in result.stdout
    assert "broken.jpg" in result.stdout
    assert (out / "p0.png").read_bytes() == b"keep me"
    for name in ("p1.png", "p2.png", "sheet.png"):
        assert Image.open(out / name).size[0] >= 64
    assert np.asarray(Image.open(out / "p1.png")).shape == (64, 64, 3)


def _run_client(tmp_path, *flags):
    """Runs tools/serving_client.py on a fixture photo; returns the PNG path."""
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(fx.jpeg_bytes(fx.solid(100, 70, (30, 160, 60))))
    out = tmp_path / "product.png"
    result = run_tool(
        "tools/serving_client.py",
        f"--input={photo}",
        f"--output={out}",
        *flags,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return out


def test_client_script_against_the_local_server(server, tmp_path):
    assert Image.open(_run_client(tmp_path, f"--server={server}")).size == (64, 64)


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.slow
def test_upload_page_in_headless_chromium(server, tmp_path):
    """A person's path: open the page, upload a photo, see the product."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    photo = tmp_path / "person.jpg"
    spec_pixels = fx.solid(160, 110, (230, 120, 20))
    photo.write_bytes(fx.jpeg_bytes(spec_pixels))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        page.goto(f"{server}/")
        page.set_input_files("#photo", str(photo))
        page.wait_for_selector("body[data-state=done]", timeout=60_000)
        size = page.evaluate(
            "() => { const r = document.getElementById('result');"
            " return [r.naturalWidth, r.naturalHeight]; }"
        )
        assert size == [64, 64]
        assert page.inner_text("#error") == ""
        page.screenshot(path=str(tmp_path / "page.png"))
        # The error path: a file that is not an image, after a good one.
        junk = tmp_path / "notes.jpg"
        junk.write_bytes(b"hello")
        page.set_input_files("#photo", str(junk))
        page.wait_for_selector("body[data-state=error]", timeout=60_000)
        assert page.inner_text("#error") == (
            "images[0] is not a JPEG, PNG, GIF or BMP image (5 bytes)"
        )
        assert page.inner_text("#status") == ""
        has_result = "() => document.getElementById('result').hasAttribute('src')"
        assert page.evaluate(has_result) is False  # the previous product is gone
        page.screenshot(path=str(tmp_path / "page_error.png"))
        browser.close()
    assert Image.open(tmp_path / "page.png").size[0] > 300


@pytest.mark.slow
def test_client_script_over_grpc(exported, tmp_path):
    """The client's gRPC path against a PredictionService on loopback that
    answers from the exported SavedModel (TF Serving's own protos; TF Serving
    itself cannot be installed here)."""
    from concurrent import futures

    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    _, path = exported
    serving = tf.saved_model.load(path).signatures["serving_default"]

    class Service(prediction_service_pb2_grpc.PredictionServiceServicer):
        def Predict(self, request, context):  # noqa: N802 (gRPC method name)
            assert request.model_spec.name == "pldt"
            assert request.model_spec.signature_name == "serving_default"
            images = tf.make_ndarray(request.inputs["images"])
            outputs = serving(images=tf.constant(images))
            response = predict_pb2.PredictResponse()
            for name, value in outputs.items():
                response.outputs[name].CopyFrom(tf.make_tensor_proto(value.numpy()))
            return response

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        Service(), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        out = _run_client(tmp_path, "--protocol=grpc", f"--server=127.0.0.1:{port}")
    finally:
        server.stop(None)
    assert Image.open(out).size == (64, 64)


@pytest.mark.slow
def test_serve_tool_runs_under_waitress(exported):
    import socket
    import subprocess
    import sys
    import time

    from tool_runner import ROOT

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base, _ = exported
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pldt_tf.serve",
            f"--model={base}/pldt",
            f"--port={port}",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 180
        while True:
            try:
                with urllib.request.urlopen(
                    f"{url}/v1/models/pldt", timeout=5
                ) as answer:
                    server_header = answer.headers.get("Server", "")
                    break
            except OSError:
                assert process.poll() is None, "the server exited"
                assert time.time() < deadline, "the server did not start"
                time.sleep(0.5)
        assert "waitress" in server_header
        # The README's curl -d: form encoding, JSON body.
        body = {"instances": [{"b64": _b64(fx.solid(30, 50, (200, 30, 30)))}]}
        status, answer = _call(
            f"{url}/v1/models/pldt:predict",
            body,
            content_type="application/x-www-form-urlencoded",
        )
        assert status == 200 and len(answer["predictions"]) == 1
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_pixel_budget_is_checked_before_decoding(exported):
    base, _ = exported
    app = server_lib.create_app(
        os.path.join(base, "pldt"), max_pixels=50_000, max_request_pixels=100_000
    )
    client = app.test_client()

    def predict(*encoded):
        instances = [{"b64": base64.b64encode(e).decode()} for e in encoded]
        answer = client.post("/v1/models/pldt:predict", json={"instances": instances})
        return answer.status_code, answer.get_json()

    small = fx.jpeg_bytes(fx.solid(100, 100, (1, 2, 3)))
    buffer = io.BytesIO()
    Image.new("1", (8000, 8000)).save(buffer, format="PNG")  # small file
    status, answer = predict(small, buffer.getvalue())
    assert status == 400
    assert answer["error"] == (
        "images[1] declares 64000000 pixels, over the limit of 50000 (--max_pixels)"
    )
    status, answer = predict(*[small] * 11)
    assert status == 400 and "together, over the limit of 100000" in answer["error"]
    status, answer = predict(*[small] * 10)
    assert status == 200 and len(answer["predictions"]) == 10


@pytest.mark.slow
def test_bounded_load_at_the_pixel_limits(exported):
    """3 clients for 8 s, each sending full batches of images at the server's
    --max_pixels and, every fifth request, one image over it: every answer
    is 200 or 400, the server still answers, its memory stays bounded."""
    from pldt_tf.perf import serving_load

    base, _ = exported
    result = serving_load.run(
        os.path.join(base, "pldt"),
        clients=3,
        seconds=8,
        max_pixels=1_000_000,
        max_request_pixels=4_000_000,
        max_batch=8,
    )
    assert result["batch"] == 4
    assert set(result["statuses"]) <= {200, 400}, result
    assert result["statuses"].get(200, 0) > 0 and result["statuses"].get(400, 0) > 0
    assert result["alive"]
    assert result["peak_rss_mib"] < 3000, result
