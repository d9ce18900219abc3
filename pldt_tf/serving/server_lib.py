"""A local HTTP endpoint that speaks TF Serving's REST predict API, plus a
page where a person uploads a photo and sees the generated product.

For people without a TF Serving install: the same client works against
either server.

  GET  /                         the upload page
  GET  /v1/models/<name>         model status (TF Serving's format)
  POST /v1/models/<name>:predict {"instances": [{"b64": "..."}, ...]}
                                 or {"inputs": {"images": [{"b64": ...}]}}
                                 → {"predictions": [{"png_bytes": {"b64": ...}}]}

Limits: request size (HTTP 413) and batch size (HTTP 400); malformed JSON,
missing fields and non-image payloads get HTTP 400 with a message naming the
bad element. As in TF Serving, the body is read as JSON whatever its
Content-Type (curl -d sends form encoding), and every error — 4xx, 405, 500
— is a JSON object {"error": "..."}. The SavedModel's signatures are
thread-safe, so a multi-threaded WSGI server handles concurrent requests
(python -m pldt_tf.serve runs waitress).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import warnings

import flask
import tensorflow as tf
from absl import logging
from PIL import Image
from werkzeug.exceptions import HTTPException

from pldt_tf.data import preprocess
from pldt_tf.serving import export_lib, inference

DEFAULT_MAX_BATCH = 32
DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_PIXELS = export_lib.DEFAULT_MAX_PIXELS
DEFAULT_MAX_REQUEST_PIXELS = export_lib.DEFAULT_MAX_REQUEST_PIXELS


class BadRequestError(ValueError):
    """A client error: answered with HTTP 400 and the message."""


def _decode_instance(index: int, instance) -> bytes:
    if isinstance(instance, dict) and set(instance) == {"images"}:
        instance = instance["images"]
    if not isinstance(instance, dict) or not isinstance(instance.get("b64"), str):
        raise BadRequestError(
            f'instances[{index}] must be {{"b64": "<base64 image>"}} (or '
            '{"images": {"b64": ...}})'
        )
    try:
        return base64.b64decode(instance["b64"], validate=True)
    except (binascii.Error, ValueError):
        raise BadRequestError(f"instances[{index}].b64 is not valid base64") from None


def tf_error_message(error: tf.errors.OpError) -> str:
    """The informative part of a TensorFlow error, without node traces."""
    text = re.sub(r"\{\{[^}]*\}\}", "", error.message)
    text = re.sub(r"\[\[.*?\]\]", "", text, flags=re.S)
    text = re.sub(r"\[Op:[^\]]*\]( name: \S*)?", "", text)
    lines = [
        line.strip()
        for line in text.splitlines()
        if line.strip()
        and not line.strip().startswith(
            ("Graph execution error", "Detected at node", "<stack traces")
        )
    ]
    named = [line for line in lines if "images[" in line or "request's" in line]
    message = (named or lines or ["invalid input"])[0]
    # tf.debugging.Assert wraps its message as "assertion failed: [...]".
    match = re.fullmatch(r"assertion failed: \[(.*)\]", message)
    return match[1] if match else message


def declared_pixels(image: bytes) -> int | None:
    """Width × height that an image's header declares, read by PIL without
    decoding; None for bytes PIL does not recognise (the model names those)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(image)) as opened:
                width, height = opened.size
    except Image.DecompressionBombError as error:
        return preprocess.bomb_pixels(error)
    except (Image.UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    return width * height


def check_pixels(images: list[bytes], max_pixels: int, max_request_pixels: int):
    """Refuses, before anything is decoded, an image whose header declares
    more than ``max_pixels`` pixels and a request over ``max_request_pixels``
    together (a small PNG can declare 8000×8000)."""
    total = 0
    for index, image in enumerate(images):
        pixels = declared_pixels(image)
        if pixels is None:
            continue
        if pixels > max_pixels:
            raise BadRequestError(
                f"images[{index}] declares {pixels} pixels, over the limit of "
                f"{max_pixels} (--max_pixels)"
            )
        total += pixels
    if total > max_request_pixels:
        raise BadRequestError(
            f"the request's images declare {total} pixels together, over the "
            f"limit of {max_request_pixels} (--max_request_pixels): send fewer "
            "or smaller images"
        )


def _find_bad_element(signature, images: list[bytes], error) -> str:
    """Names the element that fails when the batch's error does not."""
    message = tf_error_message(error)
    if "images[" in message or len(images) == 1:
        return message
    for index, image in enumerate(images):
        try:
            signature(tf.constant([image]))
        except tf.errors.InvalidArgumentError as single:
            return f"images[{index}]: {tf_error_message(single)}"
    return message


def parse_request(body, max_batch: int) -> list[bytes]:
    """TF Serving row (``instances``) or columnar (``inputs``) format → bytes."""
    if not isinstance(body, dict):
        raise BadRequestError('the request body must be a JSON object with "instances"')
    if "instances" in body:
        instances = body["instances"]
    elif "inputs" in body:
        inputs = body["inputs"]
        instances = inputs.get("images") if isinstance(inputs, dict) else inputs
    else:
        raise BadRequestError('the request needs "instances" (or "inputs")')
    if not isinstance(instances, list) or not instances:
        raise BadRequestError('"instances" must be a non-empty list')
    if len(instances) > max_batch:
        raise BadRequestError(
            f"{len(instances)} instances exceed the batch limit of {max_batch}; "
            "split the request"
        )
    return [_decode_instance(i, x) for i, x in enumerate(instances)]


def create_app(
    model: str,
    model_name: str = "pldt",
    max_batch: int = DEFAULT_MAX_BATCH,
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_request_pixels: int = DEFAULT_MAX_REQUEST_PIXELS,
) -> flask.Flask:
    """The Flask application serving ``model`` (an export or a workdir)."""
    signature, version = inference.load_signature(model, "serving_default")
    app = flask.Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = max_request_bytes

    def error(status: int, message: str):
        return flask.jsonify({"error": message}), status

    @app.errorhandler(413)
    def too_large(_):
        return error(413, f"request larger than {max_request_bytes} bytes")

    @app.errorhandler(405)
    def wrong_method(_):
        return error(405, "method not allowed: predict takes POST, status GET")

    @app.errorhandler(HTTPException)
    def http_error(exception):
        return error(exception.code or 500, exception.description or exception.name)

    @app.errorhandler(Exception)
    def internal_error(exception):
        logging.exception("Unexpected error while serving a request")
        return error(500, f"internal error ({type(exception).__name__})")

    @app.get("/")
    def page():
        return flask.Response(
            _PAGE.replace("{{MODEL}}", model_name), mimetype="text/html"
        )

    @app.get(f"/v1/models/{model_name}")
    def status():
        return flask.jsonify(
            {
                "model_version_status": [
                    {
                        "version": str(version),
                        "state": "AVAILABLE",
                        "status": {"error_code": "OK", "error_message": ""},
                    }
                ]
            }
        )

    @app.post(f"/v1/models/{model_name}:predict")
    def predict():
        try:  # JSON whatever the Content-Type, as TF Serving reads it
            body = json.loads(flask.request.get_data())
        except (ValueError, RecursionError):
            return error(400, "the request body is not valid JSON")
        try:
            images = parse_request(body, max_batch)
            check_pixels(images, max_pixels, max_request_pixels)
            outputs = signature(tf.constant(images))
        except BadRequestError as bad:
            return error(400, str(bad))
        except tf.errors.InvalidArgumentError as bad:
            return error(400, _find_bad_element(signature, images, bad))
        pngs = outputs["png_bytes"].numpy()
        return flask.jsonify(
            {
                "predictions": [
                    {"png_bytes": {"b64": base64.b64encode(png).decode("ascii")}}
                    for png in pngs
                ]
            }
        )

    @app.errorhandler(404)
    def not_found(_):
        return error(
            404,
            f"unknown path; use /v1/models/{model_name}:predict or "
            f"/v1/models/{model_name}",
        )

    return app


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Pixel-Level Domain Transfer</title>
<style>
 body { font-family: sans-serif; margin: 2em; }
 .row { display: flex; gap: 2em; align-items: flex-start; }
 figure { margin: 0; } img { width: 256px; height: 256px; object-fit: contain;
 image-rendering: pixelated;
 border: 1px solid #ccc; background: #fff; }
 #error { color: #b00; }
</style></head>
<body>
<h1>Pixel-Level Domain Transfer</h1>
<p>Upload a photo of a person; the converter draws the product they wear.</p>
<input type="file" id="photo" accept="image/jpeg,image/png,image/gif,image/bmp">
<p id="status"></p><p id="error"></p>
<div class="row">
 <figure><img id="source" alt="your photo"><figcaption>photo</figcaption></figure>
 <figure><img id="result" alt="generated product">
 <figcaption>generated product</figcaption></figure>
</div>
<script>
const input = document.getElementById('photo');
const source = document.getElementById('source');
const result = document.getElementById('result');
const statusLine = document.getElementById('status');
const errorLine = document.getElementById('error');
// A file the browser cannot show leaves an empty box, not a broken image.
source.onerror = () => source.removeAttribute('src');
function setState(state, status, error) {
  document.body.dataset.state = state;
  statusLine.textContent = status;
  errorLine.textContent = error;
}
input.addEventListener('change', () => {
  const file = input.files[0];
  if (!file) return;
  // A new upload clears the previous one's result and message.
  result.removeAttribute('src');
  setState('working', 'Drawing...', '');
  const reader = new FileReader();
  reader.onerror = () => setState('error', '', 'The file could not be read.');
  reader.onload = async () => {
    const dataUrl = reader.result;
    source.src = dataUrl;
    const b64 = dataUrl.substring(dataUrl.indexOf(',') + 1);
    let response, body;
    try {
      response = await fetch('/v1/models/{{MODEL}}:predict', {
        method: 'POST', headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({instances: [{b64: b64}]})});
      body = await response.json();
    } catch (failure) {
      setState('error', '', 'The server did not answer: ' + failure);
      return;
    }
    if (!response.ok) {
      setState('error', '', body.error || ('HTTP ' + response.status));
      return;
    }
    result.onload = () => setState('done', 'Done.', '');
    result.src = 'data:image/png;base64,' + body.predictions[0].png_bytes.b64;
  };
  reader.readAsDataURL(file);
});
</script>
</body></html>
"""
