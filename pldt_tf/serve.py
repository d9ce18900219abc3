r"""Serves a trained converter over HTTP: TF Serving's REST predict API and an
upload page at /.

  python -m pldt_tf.serve --model=exports/pldt [--port=8501]

then open http://127.0.0.1:8501/ or POST to /v1/models/pldt:predict. For
production, serve the export with TF Serving itself (docs/serving.md).
"""

from __future__ import annotations

from absl import app, flags

from pldt_tf import cli
from pldt_tf.serving import server_lib

_MODEL = flags.DEFINE_string("model", None, "Export folder or training workdir.")
_MODEL_NAME = flags.DEFINE_string("model_name", "pldt", "Name in the URL.")
_HOST = flags.DEFINE_string(
    "host", "127.0.0.1", "Address to bind (default: this machine only)."
)
_PORT = flags.DEFINE_integer("port", 8501, "Port (TF Serving's REST default).")
_MAX_BATCH = flags.DEFINE_integer(
    "max_batch", server_lib.DEFAULT_MAX_BATCH, "Most images per request.", lower_bound=1
)
_THREADS = flags.DEFINE_integer(
    "threads", 4, "Requests served at once (waitress worker threads).", lower_bound=1
)
_MAX_REQUEST_BYTES = flags.DEFINE_integer(
    "max_request_bytes",
    server_lib.DEFAULT_MAX_REQUEST_BYTES,
    "Largest request body accepted.",
    lower_bound=1,
)

_MAX_PIXELS, _MAX_REQUEST_PIXELS = cli.define_pixel_limits(
    "refused with HTTP 400 before decoding", request=True
)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    try:
        application = server_lib.create_app(
            _MODEL.value,
            _MODEL_NAME.value,
            _MAX_BATCH.value,
            _MAX_REQUEST_BYTES.value,
            _MAX_PIXELS.value,
            _MAX_REQUEST_PIXELS.value,
        )
    except FileNotFoundError as error:
        raise app.UsageError(str(error)) from None
    import waitress

    print(f"Serving {_MODEL.value} at http://{_HOST.value}:{_PORT.value}/", flush=True)
    # waitress: a production WSGI server, pure Python (no compiler, any OS),
    # with a bounded thread pool; Flask keeps the routing.
    waitress.serve(
        application,
        host=_HOST.value,
        port=_PORT.value,
        threads=_THREADS.value,
        # Flask answers oversized bodies with a JSON 413 from their
        # Content-Length; waitress's own cap only bounds what it spools.
        max_request_body_size=4 * _MAX_REQUEST_BYTES.value,
        ident="pldt_tf (waitress)",
    )


def run() -> None:
    """The ``pldt-serve`` console script (``python -m pldt_tf.serve``)."""
    flags.mark_flags_as_required(["model"])
    cli.run(main)


if __name__ == "__main__":
    run()
