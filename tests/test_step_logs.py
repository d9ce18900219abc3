"""The first steps of every method × selection log the golden losses
(tests/golden/step_logs.json, written by the code before the method and
selection tables): moving code around must not move the numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest

import step_logs


def _golden():
    with open(step_logs.GOLDEN) as file:
        return json.load(file)


@pytest.mark.slow
@pytest.mark.parametrize(
    "variant", step_logs.VARIANTS, ids=lambda v: step_logs.variant_name(*v)
)
def test_first_steps_log_the_golden_losses(variant):
    expected = _golden()[step_logs.variant_name(*variant)]
    logs = step_logs.step_logs(*variant)
    assert [sorted(step) for step in logs] == [sorted(step) for step in expected]
    for got, want in zip(logs, expected, strict=True):
        for name, value in want.items():
            # Another CPU's round-off moves the last digits, not more.
            np.testing.assert_allclose(
                got[name], value, rtol=1e-4, atol=1e-6, err_msg=name
            )


def test_golden_file_covers_every_variant():
    assert sorted(_golden()) == sorted(
        step_logs.variant_name(*v) for v in step_logs.VARIANTS
    )
