"""A bounded load on the local server: concurrent clients sending images at
the pixel limits for a few seconds, the answers counted and the server's
memory watched (python tools/serving_load.py; tests/test_serve.py)."""

from __future__ import annotations

import base64
import collections
import concurrent.futures
import io
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import numpy as np
from PIL import Image

from pldt_tf.perf import benchmark_lib


def photo_bytes(pixels: int, seed: int = 0) -> bytes:
    """A JPEG of about ``pixels`` pixels (a square side): smooth colour
    gradients with mild noise, about a real photo's size and decoding cost."""
    side = int(pixels**0.5)
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 255, side, dtype=np.float32)
    image = np.stack(
        [
            ramp[None, :].repeat(side, 0),
            ramp[:, None].repeat(side, 1),
            255 - ramp[None, :].repeat(side, 0),
        ],
        axis=-1,
    ) + rng.normal(0, 8, (side, side, 3))
    image = np.clip(image, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            answer.read()
            return answer.status
    except urllib.error.HTTPError as error:
        error.read()
        return error.code


def run(
    model: str,
    clients: int,
    seconds: float,
    max_pixels: int,
    max_request_pixels: int,
    max_batch: int,
    threads: int = 4,
    startup_timeout: float = 180.0,
) -> dict:
    """Starts ``python -m pldt_tf.serve`` with these limits, runs ``clients``
    concurrent loops for ``seconds`` — each sending a full batch of images at
    ``max_pixels`` (within the request budget), and every fifth request one
    image a row over the limit — and returns the status counts, the requests
    made, whether the server still answers, and its peak RSS (MiB)."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pldt_tf.serve",
            f"--model={model}",
            f"--port={port}",
            f"--max_pixels={max_pixels}",
            f"--max_request_pixels={max_request_pixels}",
            f"--max_batch={max_batch}",
            f"--threads={threads}",
            "--max_request_bytes=67108864",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1/models/pldt"
    try:
        _wait_until_up(url, process, startup_timeout)
        batch = min(max_batch, max(1, max_request_pixels // max_pixels))
        photo = base64.b64encode(photo_bytes(max_pixels)).decode()
        side = int(max_pixels**0.5)
        over = base64.b64encode(photo_bytes((side + 1) * (side + 1), 1)).decode()
        full = json.dumps({"instances": [{"b64": photo}] * batch}).encode()
        refused = json.dumps({"instances": [{"b64": over}]}).encode()
        statuses: collections.Counter = collections.Counter()
        lock = threading.Lock()
        deadline = time.monotonic() + seconds

        def client(index: int) -> None:
            count = 0
            while time.monotonic() < deadline:
                body = refused if count % 5 == 1 else full
                status = _post(f"{url}:predict", body)
                with lock:
                    statuses[status] += 1
                count += 1

        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            list(pool.map(client, range(clients)))
        with urllib.request.urlopen(url, timeout=30) as answer:
            alive = answer.status == 200
        peak = benchmark_lib.rss_mib(process.pid, "VmHWM")
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {
        "statuses": dict(statuses),
        "requests": sum(statuses.values()),
        "batch": batch,
        "alive": alive,
        "peak_rss_mib": peak,
    }


def _wait_until_up(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("the server exited before answering") from None
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the server did not answer in {timeout:.0f} s"
                ) from None
            time.sleep(0.5)
