"""A discrete-time Hawkes (self-exciting) model of daily counts.

lambda_t = mu_t + sum_k a_k * sum_{s<t} g_k(t - s) * N_s

with a log-linear background rate mu_t on the calendar covariates (season,
era, exercise, election windows) and two geometric kernels g_k that each sum
to one: a campaign kernel (half-life a week) and an era kernel (half-life half
a year). a_k is the expected number of later events each event triggers
through kernel k; their sum (the branching ratio) must stay below one or the
process explodes, and a fit that reaches it is refused. Unlike the GLM, each
past event adds to the rate rather than multiplying it, which is the classic
form for launches that come in campaigns.

Fitted by penalised maximum likelihood (Poisson log-likelihood, analytic
gradient, L-BFGS-B). Every background coefficient but the intercept carries
a normal prior with standard deviation 1 on the log scale. The election and
exercise terms are each estimated from a dozen or so windows and, unpenalised,
run to extreme values whenever a kind of election happened to see no tests;
and without a prior the likelihood can hand nearly all events to the
excitation kernels and squeeze the background into a sharp seasonal spike
(seasonal coefficients in the tens), where no calendar term is identified. Parameter uncertainty comes from
the inverse of the Fisher information plus the prior precision.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from forecasting.domain.history import History
from forecasting.domain.vocabulary import ModelName
from forecasting.features.calendar import Calendars, calendar_design, election_columns
from forecasting.features.excitation import decay_factors, decayed_sums, state_after
from forecasting.models.base import CountModel, ModelFitError, SimulatedPaths
from forecasting.models.glm import MIN_EVENTS_TO_FIT, SEASON_ORDER, _drop_inestimable_indicators
from forecasting.models.sampling import MAX_DAILY_RATE, poisson_from_uniform

KERNEL_HALF_LIVES: tuple[float, ...] = (7.0, 180.0)
MAX_AMPLITUDE = 0.95
MAX_BRANCHING_RATIO = 0.98
RATE_FLOOR = 1e-9
PRIOR_SD = 1.0


class HawkesModel(CountModel):
    name = ModelName.HAWKES
    has_election_term = True

    def fit(self, history: History, cutoff: date) -> HawkesModel:
        data = self._training_data(history, cutoff)
        y = data.counts.to_numpy().astype(float)
        if y.sum() < MIN_EVENTS_TO_FIT:
            raise ModelFitError(self.name, f"only {int(y.sum())} events before {cutoff}; needs {MIN_EVENTS_TO_FIT}")
        design = calendar_design(data.counts.index, data.calendars, self.window, SEASON_ORDER)
        design.insert(0, "const", 1.0)
        design, dropped = _drop_inestimable_indicators(design, y)
        X = design.to_numpy()
        kernels = _kernel_sums(y)
        theta0 = np.zeros(X.shape[1])
        theta0[0] = np.log(max(y.mean(), 1e-4) * 0.5)
        start = np.concatenate([theta0, np.full(len(KERNEL_HALF_LIVES), 0.2)])
        bounds = [(None, None)] * X.shape[1] + [(0.0, MAX_AMPLITUDE)] * len(KERNEL_HALF_LIVES)
        precision = _prior_precision(list(design.columns), len(KERNEL_HALF_LIVES))
        from scipy.optimize import minimize  # fitting only: a serving process never loads the optimiser

        result = minimize(
            _negative_log_posterior,
            start,
            args=(X, kernels, y, precision),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 500},
        )
        if not result.success or not np.all(np.isfinite(result.x)):
            raise ModelFitError(self.name, f"maximum likelihood did not converge: {result.message}")
        estimate = result.x
        amplitudes = estimate[X.shape[1] :]
        if amplitudes.sum() >= MAX_BRANCHING_RATIO:
            raise ModelFitError(self.name, f"branching ratio {amplitudes.sum():.2f} is at the explosive limit")
        covariance = _posterior_covariance(estimate, X, kernels, precision)
        if covariance is None:
            raise ModelFitError(self.name, "Fisher information is singular; parameters not identified")
        self.columns = list(design.columns)
        self.estimate = estimate
        self.covariance = covariance
        self.calendars = data.calendars
        self.state = state_after(y, KERNEL_HALF_LIVES)
        self.cutoff = cutoff
        self.fit_notes = [
            f"{int(y.sum())} events in {len(y)} training days; branching ratio {amplitudes.sum():.2f}"
        ] + [f"{c} left out: too few events on its days before the cutoff" for c in dropped]
        return self

    def _simulate(self, days: pd.DatetimeIndex, rng: np.random.Generator, samples: int) -> SimulatedPaths:
        n_theta = len(self.columns)
        draws = rng.multivariate_normal(self.estimate, self.covariance, size=samples, method="cholesky")
        amplitudes = np.clip(draws[:, n_theta:], 0.0, MAX_AMPLITUDE)
        scale = amplitudes * _kernel_normaliser()[None, :]  # samples x kernels
        design = calendar_design(days, self.calendars, self.window, SEASON_ORDER)
        design.insert(0, "const", 1.0)
        X = design[self.columns].to_numpy()
        is_election = np.isin(self.columns, election_columns(self.columns))
        log_background = np.minimum(X @ draws[:, :n_theta].T, 3.0)  # days x samples
        log_background_without = log_background - X[:, is_election] @ draws[:, :n_theta][:, is_election].T
        factors = decay_factors(KERNEL_HALF_LIVES)
        uniforms = rng.random((len(days), samples))
        decayed = np.tile(self.state, (samples, 1))
        decayed_without = decayed.copy()
        paths = np.empty((samples, len(days)), dtype=np.int16)
        intensity = np.empty((samples, len(days)))
        baseline = np.empty((samples, len(days)))
        baseline_paths = np.empty((samples, len(days)), dtype=np.int16)
        for t in range(len(days)):
            rate = np.minimum(np.exp(log_background[t]) + np.sum(scale * decayed, axis=1), MAX_DAILY_RATE)
            rate_without = np.minimum(
                np.exp(log_background_without[t]) + np.sum(scale * decayed_without, axis=1), MAX_DAILY_RATE
            )
            counts = poisson_from_uniform(uniforms[t], rate)
            counts_without = poisson_from_uniform(uniforms[t], rate_without)
            decayed = (decayed + counts[:, None]) * factors[None, :]
            decayed_without = (decayed_without + counts_without[:, None]) * factors[None, :]
            paths[:, t], intensity[:, t], baseline[:, t] = counts, rate, rate_without
            baseline_paths[:, t] = counts_without
        return SimulatedPaths(paths, intensity, baseline, baseline_paths)

    def parameters(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "estimate": self.estimate.tolist(),
            "covariance": self.covariance.tolist(),
            "state": self.state.tolist(),
            "calendars": self.calendars.to_dict(),
        }

    def load_parameters(self, data: dict[str, Any]) -> None:
        self.columns = list(data["columns"])
        self.estimate = np.asarray(data["estimate"], dtype=float)
        self.covariance = np.asarray(data["covariance"], dtype=float)
        self.state = np.asarray(data["state"], dtype=float)
        self.calendars = Calendars.from_dict(data["calendars"])


def _kernel_normaliser() -> np.ndarray:
    """Turns a decayed sum (weights r^d, d >= 1) into a kernel sum with weights summing to one."""
    r = decay_factors(KERNEL_HALF_LIVES)
    normaliser: np.ndarray = (1.0 - r) / r
    return normaliser


def _kernel_sums(y: np.ndarray) -> np.ndarray:
    """days x kernels: sum over earlier days of g_k(t - s) * N_s."""
    sums: np.ndarray = decayed_sums(y, KERNEL_HALF_LIVES) * _kernel_normaliser()[None, :]
    return sums


def _rates(params: np.ndarray, X: np.ndarray, kernels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n_theta = X.shape[1]
    background = np.exp(np.clip(X @ params[:n_theta], -30.0, 5.0))
    rate = background + kernels @ params[n_theta:]
    return np.maximum(rate, RATE_FLOOR), background


def _prior_precision(columns: list[str], n_kernels: int) -> np.ndarray:
    """Diagonal prior precision: 1/sd^2 on every background coefficient but the intercept."""
    penalised = [c != "const" for c in columns] + [False] * n_kernels
    return np.where(penalised, 1.0 / PRIOR_SD**2, 0.0)


def _negative_log_posterior(
    params: np.ndarray, X: np.ndarray, kernels: np.ndarray, y: np.ndarray, precision: np.ndarray
) -> tuple[float, np.ndarray]:
    rate, background = _rates(params, X, kernels)
    log_posterior = np.sum(y * np.log(rate) - rate) - 0.5 * np.sum(precision * params**2)
    residual = y / rate - 1.0
    gradient = np.concatenate([X.T @ (residual * background), kernels.T @ residual]) - precision * params
    return -log_posterior, -gradient


def _posterior_covariance(
    params: np.ndarray, X: np.ndarray, kernels: np.ndarray, precision: np.ndarray
) -> np.ndarray | None:
    rate, background = _rates(params, X, kernels)
    jacobian = np.hstack([X * background[:, None], kernels])
    information = jacobian.T @ (jacobian / rate[:, None]) + np.diag(precision)
    try:
        covariance = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        return None
    covariance = (covariance + covariance.T) / 2
    if not np.all(np.isfinite(covariance)) or np.min(np.linalg.eigvalsh(covariance)) <= 0:
        return None
    return covariance
