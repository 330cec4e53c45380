import numpy as np

from forecasting.models.sampling import MAX_DAILY_RATE, negative_binomial_from_uniform, poisson_from_uniform


def test_poisson_by_inversion_has_the_right_moments():
    rng = np.random.default_rng(0)
    draws = poisson_from_uniform(rng.random(200_000), np.full(200_000, 0.7))
    assert abs(draws.mean() - 0.7) < 0.01 and abs(draws.var() - 0.7) < 0.02


def test_negative_binomial_by_inversion_is_overdispersed():
    rng = np.random.default_rng(0)
    draws = negative_binomial_from_uniform(rng.random(200_000), np.full(200_000, 0.7), alpha=2.0)
    assert abs(draws.mean() - 0.7) < 0.02 and abs(draws.var() - (0.7 + 2.0 * 0.49)) < 0.1


def test_same_uniforms_give_ordered_counts_for_ordered_means():
    u = np.random.default_rng(1).random(10_000)
    low, high = poisson_from_uniform(u, np.full(u.shape, 0.2)), poisson_from_uniform(u, np.full(u.shape, 0.5))
    assert (low <= high).all()


def test_rates_are_capped():
    u = np.random.default_rng(2).random(1000)
    capped = poisson_from_uniform(u, np.full(1000, 1e9))
    assert np.array_equal(capped, poisson_from_uniform(u, np.full(1000, MAX_DAILY_RATE)))
