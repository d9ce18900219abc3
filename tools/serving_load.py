r"""A bounded load on the local server, with images at its pixel limits:
status counts, requests served and the server's peak memory.

  python tools/serving_load.py --model=exports/pldt --clients=4 --seconds=20

With the defaults it sends full batches of 32 photos of 4 megapixels (the
request budget) and, every fifth request, one photo over --max_pixels.
"""

from __future__ import annotations

from absl import app, flags

from pldt_tf import cli
from pldt_tf.perf import serving_load
from pldt_tf.serving import server_lib

_MODEL = flags.DEFINE_string("model", None, "Export (or workdir) to serve.")
_CLIENTS = flags.DEFINE_integer("clients", 4, "Concurrent clients.", lower_bound=1)
_SECONDS = flags.DEFINE_float("seconds", 20.0, "How long they send.", lower_bound=0)
_MAX_PIXELS = flags.DEFINE_integer(
    "max_pixels", 4_000_000, "The server's --max_pixels, and each photo's size."
)
_MAX_REQUEST_PIXELS = flags.DEFINE_integer(
    "max_request_pixels",
    server_lib.DEFAULT_MAX_REQUEST_PIXELS,
    "The server's --max_request_pixels.",
)
_MAX_BATCH = flags.DEFINE_integer(
    "max_batch", server_lib.DEFAULT_MAX_BATCH, "The server's --max_batch."
)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    result = serving_load.run(
        _MODEL.value,
        _CLIENTS.value,
        _SECONDS.value,
        _MAX_PIXELS.value,
        _MAX_REQUEST_PIXELS.value,
        _MAX_BATCH.value,
    )
    print(
        f"{result['requests']} requests ({result['batch']} photos of "
        f"{_MAX_PIXELS.value:,} pixels each, every fifth one photo over the "
        f"limit) from {_CLIENTS.value} clients in {_SECONDS.value:.0f} s: "
        f"statuses {result['statuses']}; server alive: {result['alive']}; "
        f"peak RSS {result['peak_rss_mib']:,.0f} MiB"
    )


if __name__ == "__main__":
    flags.mark_flags_as_required(["model"])
    cli.run(main)
