r"""Trains Pixel-Level Domain Transfer.

  python -m pldt_tf.train --flagfile=configs/demo.flags [--workdir=...]

Every flag is documented in --helpfull. On a fresh machine the demo config
generates the synthetic LookBook and its TFRecords first; with
--pairs_csv=... --records_dir=... the records of your own data are built
first (docs/data.md).
"""

from __future__ import annotations

import os

from absl import app, flags

from pldt_tf import cli, storage
from pldt_tf.training import fit

cli.define_training_flags()
flags.adopt_module_key_flags(cli)  # --help lists every flag the tool reads
FLAGS = flags.FLAGS


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    if not FLAGS.workdir:
        raise app.UsageError("--workdir is required (or set it in the flagfile).")
    if FLAGS.pairs_csv and not FLAGS["records_dir"].present:
        raise app.UsageError(
            "--pairs_csv needs --records_dir: the folder to build its records "
            "in (the default holds the demo's records)."
        )
    result = fit.train(cli.training_config())
    trained = result.steps - result.first_step
    resumed = (
        f" (steps {result.first_step} to {result.steps})" if result.first_step else ""
    )
    print(
        f"\nTrained {trained} steps{resumed} in {result.seconds / 60:.1f} min.\n"
        f"  samples:     {storage.shown_path(result.final_samples)}\n"
        f"  checkpoint:  {result.checkpoint}\n"
        f"  TensorBoard: tensorboard --logdir={os.path.join(result.workdir, 'logs')}\n"
        f"  validation:  RMSE {result.validation['rmse']:.4f}, "
        f"C-SSIM {result.validation['c_ssim']:.4f}\n"
        f"  health:      {result.health_violations} batch-norm-exploit windows\n"
        + next_steps(result.workdir)
    )


def next_steps(workdir: str) -> str:
    """The commands that take this workdir further."""
    shown = storage.shown_path(workdir)
    return (
        "Next:\n"
        f"  score it:      python -m pldt_tf.evaluate --workdir={shown}\n"
        f"  export it:     python -m pldt_tf.export --workdir={shown} "
        "--export_dir=exports\n"
        f"  serve it:      python -m pldt_tf.serve --model={shown}\n"
        f"  draw products: python -m pldt_tf.transfer --model={shown} "
        "--input=PHOTOS --output=OUTPUT_DIR"
    )


def run() -> None:
    """The ``pldt-train`` console script (``python -m pldt_tf.train``)."""
    cli.run(main)


if __name__ == "__main__":
    run()
