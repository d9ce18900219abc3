r"""Checks that two training runs agree: the validation figures, every logged
loss and the final sample grid, byte for byte.

  python -m pldt_tf.train --flagfile=configs/smoke.flags --workdir=/tmp/before
  # ... change the code ...
  python -m pldt_tf.train --flagfile=configs/smoke.flags --workdir=/tmp/after
  python tools/compare_runs.py --baseline=/tmp/before --candidate=/tmp/after

Exits 0 when they agree and 1, listing every difference, when they do not.
Runs on one kind of CPU repeat exactly; another CPU's round-off differs.
"""

from __future__ import annotations

import sys

from absl import app, flags

from pldt_tf import cli
from pldt_tf.training import workdir as workdir_lib

_BASELINE = flags.DEFINE_string("baseline", None, "Finished training workdir.")
_CANDIDATE = flags.DEFINE_string("candidate", None, "Workdir to compare with it.")
_TOLERANCE = flags.DEFINE_float(
    "tolerance", 0.0, "Largest absolute difference allowed in a figure."
)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if not _BASELINE.value or not _CANDIDATE.value:
        raise app.UsageError("Give --baseline and --candidate.")
    differences = workdir_lib.compare_runs(
        _BASELINE.value, _CANDIDATE.value, _TOLERANCE.value
    )
    for line in differences:
        print(line)
    print("differ" if differences else "identical: figures, losses and grid")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    cli.run(main)
