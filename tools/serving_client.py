r"""Sends photos to a served converter and saves the generated products.

Speaks both of TF Serving's APIs, so it works against TF Serving itself and
against `python -m pldt_tf.serve` (REST only):

  python tools/serving_client.py --server=http://127.0.0.1:8501 \
      --input=photo.jpg --output=product.png
  python tools/serving_client.py --protocol=grpc --server=127.0.0.1:8500 \
      --input=photo.jpg --output=product.png   # needs tensorflow-serving-api
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request

from absl import app, flags

_SERVER = flags.DEFINE_string("server", "http://127.0.0.1:8501", "Server address.")
_PROTOCOL = flags.DEFINE_enum("protocol", "rest", ["rest", "grpc"], "API to use.")
_MODEL_NAME = flags.DEFINE_string("model_name", "pldt", "Served model name.")
_INPUT = flags.DEFINE_string("input", None, "A JPEG or PNG photo.")
_OUTPUT = flags.DEFINE_string("output", "product.png", "Where to write the PNG.")
_TIMEOUT = flags.DEFINE_float("timeout", 60.0, "Seconds to wait for an answer.")


def predict_rest(server: str, model_name: str, photo: bytes, timeout: float) -> bytes:
    """POST /v1/models/<name>:predict with one {"b64": ...} instance."""
    body = json.dumps({"instances": [{"b64": base64.b64encode(photo).decode()}]})
    request = urllib.request.Request(
        f"{server.rstrip('/')}/v1/models/{model_name}:predict",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise SystemExit(
            f"{error.code}: {error.read().decode(errors='replace')}"
        ) from None
    return base64.b64decode(answer["predictions"][0]["png_bytes"]["b64"])


def predict_grpc(server: str, model_name: str, photo: bytes, timeout: float) -> bytes:
    """PredictionService.Predict on serving_default (tensorflow-serving-api)."""
    try:
        import grpc
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc
    except ImportError:
        raise SystemExit(
            "gRPC needs tensorflow-serving-api: pip install tensorflow-serving-api"
        ) from None
    stub = prediction_service_pb2_grpc.PredictionServiceStub(
        grpc.insecure_channel(server)
    )
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = "serving_default"
    request.inputs["images"].CopyFrom(tf.make_tensor_proto([photo], dtype=tf.string))
    response = stub.Predict(request, timeout)
    return tf.make_ndarray(response.outputs["png_bytes"])[0]


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    with open(_INPUT.value, "rb") as file:
        photo = file.read()
    predict = predict_rest if _PROTOCOL.value == "rest" else predict_grpc
    png = predict(_SERVER.value, _MODEL_NAME.value, photo, _TIMEOUT.value)
    with open(_OUTPUT.value, "wb") as file:
        file.write(png)
    print(f"Wrote {_OUTPUT.value} ({len(png)} bytes)")


if __name__ == "__main__":
    flags.mark_flags_as_required(["input"])
    app.run(main)
