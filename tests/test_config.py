"""TrainConfig: every bad value is refused up front with its flag and the fix,
as a UserError; the JSON written into a workdir reads back equal."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pldt_tf import config as config_lib
from pldt_tf import errors


def _config(**overrides) -> config_lib.TrainConfig:
    return config_lib.TrainConfig(workdir="w", **overrides)


def test_defaults_are_valid_and_the_paper_setting():
    config = _config()
    config_lib.validate(config)
    assert (config.width, config.batch_size, config.epochs) == (1.0, 128, 30)
    assert (config.learning_rate, config.beta_1, config.decay_epochs) == (2e-4, 0.5, 5)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"method": "c_gan"}, r"--method='c_gan' is not one of"),
        ({"selection": "batch"}, r"--selection='batch'"),
        ({"precision": "float8"}, r"--precision='float8'"),
        ({"width": 0.0}, r"--width=0.0 must be > 0"),
        ({"batch_size": -1}, r"--batch_size=-1 must be > 0"),
        ({"decay_epochs": 30}, r"--decay_epochs=30 must lie in \[0, --epochs=30\)"),
        ({"steps_per_epoch": 0}, r"--steps_per_epoch must be > 0"),
        ({"synthetic_colors": ("mauve",)}, r"--synthetic_colors=.*unknown \['mauve'\]"),
        ({"workdir": ""}, r"--workdir is empty"),
        ({"pixel_loss": "l2"}, r"--pixel_loss='l2' is not one of"),
        ({"pixel_weight": 100.0}, r"--pixel_weight=100 weighs no pixel term"),
        ({"pixel_loss": "l1"}, r"--pixel_weight=0 must be > 0 with --pixel_loss=l1"),
        (
            {"pixel_loss": "l1", "pixel_weight": -1.0},
            r"--pixel_weight=-1 must be > 0",
        ),
        (
            {"pixel_loss": "l1", "pixel_weight": float("nan")},
            r"--pixel_weight=nan must be > 0",
        ),
        (
            {"method": "c_mse", "pixel_loss": "l1", "pixel_weight": 1.0},
            r"--method=c_mse already trains by a pixel loss alone",
        ),
        (
            {"feature_matching_weight": -1.0},
            r"--feature_matching_weight=-1 must be >= 0",
        ),
        (
            {"feature_matching_weight": 10.0, "method": "c_mse"},
            r"--method=c_mse has no discriminator",
        ),
        (
            {"feature_matching_weight": 10.0, "selection": "joint"},
            r"needs --selection=per_case \(got joint\)",
        ),
        (
            {"discriminator_learning_rate": 0.0},
            r"--discriminator_learning_rate=0.0 must be > 0",
        ),
    ],
)
def test_bad_values_name_the_flag(overrides, message):
    values = {"workdir": "w", **overrides}
    with pytest.raises(errors.UserError, match=message):
        config_lib.validate(config_lib.TrainConfig(**values))


def test_json_round_trip_and_list_fields_become_tuples():
    config = _config(synthetic_colors=["red", "navy"], width=0.125)
    assert config.synthetic_colors == ("red", "navy")
    again = config_lib.TrainConfig(**json.loads(config.to_json()))
    assert again == config
    assert json.loads(config.to_json())["synthetic_colors"] == ["red", "navy"]


def test_every_field_is_documented_in_the_class():
    doc = config_lib.TrainConfig.__doc__
    for field in dataclasses.fields(config_lib.TrainConfig):
        assert f"  {field.name}:" in doc, field.name
