import numpy as np

from forecasting.features.excitation import decayed_sums, excitation_transform, state_after


def test_decayed_sums_count_only_earlier_days_with_the_half_life():
    counts = np.array([2, 0, 0, 1, 0])
    sums = decayed_sums(counts, (1.0,))[:, 0]
    assert np.allclose(sums, [0.0, 1.0, 0.5, 0.25, 0.625])


def test_state_after_the_last_day_continues_the_recursion():
    counts = np.array([2, 0, 0, 1, 0])
    assert np.allclose(state_after(counts, (1.0,)), [0.3125])


def test_transform_is_bounded_so_no_model_can_explode():
    decayed = np.array([[0.0, 0.0], [1.0, 10.0], [1e6, 1e6]])
    out = excitation_transform(decayed, (7.0, 365.0))
    assert np.allclose(out[1], [0.5, 0.5])
    assert (out < 1.0).all() and (out >= 0.0).all()
