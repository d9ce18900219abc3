"""Data on disk for a training configuration: the records folder, built on
first use from a pairs manifest or a LookBook-layout folder, the latter
generated as the synthetic set when the configuration asks for it (the
embedded default: the main command needs no data at hand)."""

from __future__ import annotations

import os

from absl import logging

from pldt_tf import config as config_lib
from pldt_tf import errors, storage
from pldt_tf.data import catalogue, lookbook, pairs, records, synthetic


def prepare_data(config: config_lib.TrainConfig) -> dict:
    """Makes sure ``config.records_dir`` exists; returns its manifest.

    Missing records are built from ``config.pairs_csv`` or, without one,
    from ``config.lookbook_dir``; a missing LookBook folder is generated as
    the synthetic set when ``synthetic_products > 0`` (the embedded default:
    the main command needs no data at hand).
    """
    check_data_source(config)
    if not records_available(config):
        data = source_catalogue(config)
        print(f"Building TFRecords in {config.records_dir} ...", flush=True)
        manifest = records.build_records(
            data, config.records_dir, records.BuildOptions(seed=config.data_seed)
        )
        print(records.summary(manifest), flush=True)
    return records.load_manifest(config.records_dir)


def source_catalogue(config: config_lib.TrainConfig) -> catalogue.Catalogue:
    """The catalogue the configuration names, generating the synthetic set
    first where it asks for it."""
    if config.pairs_csv:
        return pairs.read_manifest(config.pairs_csv, config.allow_outside_paths)
    lookbook_dir = config.lookbook_dir
    data_dir = storage.parent(storage.absolute(lookbook_dir))
    if not storage.isdir(lookbook_dir):
        _generate_synthetic(config, data_dir)
    attributes = os.path.join(data_dir, "attributes.csv")
    return lookbook.read_folder(
        lookbook_dir, attributes if storage.isfile(attributes) else None
    )


def _generate_synthetic(config: config_lib.TrainConfig, data_dir: str) -> None:
    """Writes the synthetic LookBook so that ``lookbook_dir`` exists."""
    if os.path.basename(os.path.normpath(config.lookbook_dir)) != "lookbook":
        raise errors.UserError(
            f"--lookbook_dir={config.lookbook_dir!r} must end in 'lookbook' when "
            "--synthetic_products generates it (the generator writes "
            "<folder>/lookbook and <folder>/attributes.csv)."
        )
    logging.info("Generating the synthetic LookBook in %s", data_dir)
    print(
        f"Generating the synthetic LookBook ({config.synthetic_products} products, "
        f"{config.synthetic_variation} variation) in {data_dir} ...",
        flush=True,
    )
    synthetic.generate(
        data_dir,
        config.synthetic_products,
        seed=config.data_seed,
        variation=config.synthetic_variation,
        colors=config.vocabulary()[0],
        patterns=config.vocabulary()[1],
    )


def records_available(config: config_lib.TrainConfig) -> bool:
    return storage.isfile(os.path.join(config.records_dir, records.MANIFEST_NAME))


# The flag behind each setting that ``synthetic.json`` records.
_SYNTHETIC_FLAGS = {
    "products": "synthetic_products",
    "seed": "data_seed",
    "variation": "synthetic_variation",
    "colors": "synthetic_colors",
    "patterns": "synthetic_patterns",
}


def check_synthetic_settings(config: config_lib.TrainConfig) -> None:
    """Fails when the synthetic folder that ``--lookbook_dir`` lives in was
    generated with other ``--synthetic_*`` / ``--data_seed`` settings than the
    flags ask for: training would silently use the other data set."""
    if config.synthetic_products <= 0 or not config.lookbook_dir:
        return
    data_dir = storage.parent(storage.absolute(config.lookbook_dir))
    expected = synthetic.settings(
        config.synthetic_products,
        config.data_seed,
        config.synthetic_variation,
        *config.vocabulary(),
    )
    mismatch = synthetic.settings_mismatch(data_dir, expected)
    if mismatch:
        differences = "; ".join(
            f"--{_SYNTHETIC_FLAGS[key]} asks for {wanted!r}, it has {recorded!r}"
            for key, (recorded, wanted) in mismatch.items()
        )
        raise errors.UserError(
            f"{data_dir} holds a synthetic set generated with other settings "
            f"({differences}; see {synthetic.SETTINGS_NAME} there). Point "
            "--lookbook_dir and --records_dir at another folder, or delete "
            f"{data_dir} to generate it again with these flags."
        )


def check_data_source(config: config_lib.TrainConfig) -> None:
    """Fails early when there is no records folder and no way to make one,
    when the records were built from another manifest than ``--pairs_csv``,
    or when the synthetic folder was drawn with other settings."""
    if config.pairs_csv:
        _check_pairs_source(config)
        return
    check_synthetic_settings(config)
    if records_available(config):
        return
    lookbook_dir = config.lookbook_dir
    if lookbook_dir and storage.isdir(lookbook_dir):
        return
    if config.synthetic_products > 0 and lookbook_dir:
        return
    raise errors.UserError(
        f"--records_dir={config.records_dir!r} has no dataset.json and "
        f"--lookbook_dir={lookbook_dir!r} is not a folder. Point --records_dir at "
        "records built by tools/build_tfrecords.py, --pairs_csv at a pairs "
        "manifest, --lookbook_dir at a LookBook folder, or set "
        "--synthetic_products=N to generate the synthetic set."
    )


def _check_pairs_source(config: config_lib.TrainConfig) -> None:
    """Existing records must come from this manifest: training must never
    quietly read another data set's records."""
    wanted = _real(config.pairs_csv)
    if not records_available(config):
        if not storage.isfile(wanted):
            pairs.read_manifest(config.pairs_csv)  # raises, naming the fix
        return
    manifest = records.load_manifest(config.records_dir)
    built_from = manifest.get("pairs_csv")
    if built_from is None or _real(built_from) != wanted:
        origin = storage.shown_path(built_from) if built_from else "a LookBook folder"
        raise errors.UserError(
            f"--records_dir={config.records_dir!r} holds records built from "
            f"{origin}, not from --pairs_csv={config.pairs_csv!r}. Pass a new "
            "--records_dir to build this manifest's records there (or the "
            "folder they were built in)."
        )
    if manifest.get("pairs_csv_sha256") != pairs.digest(config.pairs_csv):
        raise errors.UserError(
            f"{config.pairs_csv} has changed since the records in "
            f"{config.records_dir} were built from it. Rebuild them "
            f"(tools/build_tfrecords.py --pairs_csv={config.pairs_csv} "
            f"--output_dir={config.records_dir} --overwrite) or pass a new "
            "--records_dir."
        )


def _real(path: str) -> str:
    """A file's one name: links resolved locally, a URL normalised."""
    return storage.absolute(path) if storage.is_url(path) else os.path.realpath(path)
