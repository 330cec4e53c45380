"""The array pieces of stored answers: packing into JSON text and the effect grid's quantiles."""

from __future__ import annotations

import json

import numpy as np
import pytest

from forecasting.serving.answer_arrays import EffectGrid, _row_quantiles, pack, pack_keys, unpack, unpack_keys


def test_keys_and_arrays_survive_packing_exactly() -> None:
    rng = np.random.default_rng(3)
    keys = np.sort(rng.integers(0, 4000 * 1100, size=50_000)).astype(np.uint32)
    text = json.dumps({"keys": pack_keys(keys)})
    assert np.array_equal(unpack_keys(json.loads(text)["keys"]), keys)
    values = rng.normal(size=1100)
    assert np.array_equal(unpack(pack(values), np.float64), values)
    assert np.array_equal(unpack_keys(pack_keys(np.array([], dtype=np.uint32))), np.array([], dtype=np.uint32))


@pytest.mark.parametrize("q", [0.025, 0.5, 0.975, 1.0])
def test_row_quantiles_are_numpys(q: float) -> None:
    rows = np.random.default_rng(5).gamma(2.0, size=(30, 997))
    expected = np.quantile(rows, q, axis=1)
    assert np.allclose(_row_quantiles(rows.copy(), q), expected, rtol=0, atol=1e-12)


def test_the_grid_is_exact_on_its_points_and_linear_between_them() -> None:
    starts, lengths = np.arange(3.0), np.array([1.0, 7.0, 14.0])
    lower = np.arange(9, dtype=np.float32).reshape(3, 3)
    grid = EffectGrid(starts, lengths, lower, lower + 10)
    assert grid.at(1, 7) == (4.0, 14.0)
    assert grid.at(1, 4) == pytest.approx((3.5, 13.5))
    assert grid.at(2, 400) == (8.0, 18.0)  # beyond the grid: its edge
