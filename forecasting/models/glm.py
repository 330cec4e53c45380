"""Poisson and negative-binomial GLMs (statsmodels) on calendar and self-excitation covariates.

log E[count_t] = b0 + season + era + exercise + election windows + sum_h b_h log(1 + decayed_h(t)).

The decayed sums of earlier events make the model self-exciting: a launch
raises the rate of the days after it. Forecasts beyond the cutoff are
simulated day by day, feeding each path's own simulated counts back into its
decayed sums, with the coefficients drawn from their estimated sampling
distribution so that parameter uncertainty widens the intervals.
"""

from __future__ import annotations

import warnings
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from forecasting.domain.history import History
from forecasting.domain.vocabulary import ModelName
from forecasting.features.calendar import Calendars, calendar_design, election_columns
from forecasting.features.excitation import (
    decay_factors,
    decayed_sums,
    excitation_names,
    excitation_transform,
    state_after,
)
from forecasting.models.base import CountModel, ModelFitError, SimulatedPaths
from forecasting.models.sampling import MAX_DAILY_RATE, negative_binomial_from_uniform

HALF_LIVES: tuple[float, ...] = (7.0, 30.0, 365.0)
SEASON_ORDER = 2
# A 0/1 covariate needs this many events on its active days to be estimable;
# with fewer its coefficient runs off to minus infinity (separation).
MIN_EVENTS_FOR_INDICATOR = 2
MIN_EVENTS_TO_FIT = 15
MAX_ABS_COEFFICIENT = 15.0
MAX_STANDARD_ERROR = 10.0


class GlmCountModel(CountModel):
    has_election_term = True
    negative_binomial: bool = False

    def fit(self, history: History, cutoff: date) -> GlmCountModel:
        data = self._training_data(history, cutoff)
        y = data.counts.to_numpy()
        if y.sum() < MIN_EVENTS_TO_FIT:
            raise ModelFitError(self.name, f"only {int(y.sum())} events before {cutoff}; needs {MIN_EVENTS_TO_FIT}")
        design = self._design(data.counts.index, data.calendars, decayed_sums(y, HALF_LIVES))
        design, dropped = _drop_inestimable_indicators(design, y)
        alpha = self._estimate_alpha(design, y) if self.negative_binomial else 0.0
        result = self._fit_glm(design, y, alpha)
        self.columns = list(design.columns)
        self.coefficients = np.asarray(result.params, dtype=float)
        self.covariance = np.asarray(result.cov_params(), dtype=float)
        self.alpha = alpha
        self.calendars = data.calendars
        self.state = state_after(y, HALF_LIVES)
        self.cutoff = cutoff
        self.fit_notes = [f"{int(y.sum())} events in {len(y)} training days"] + [
            f"{column} left out: fewer than {MIN_EVENTS_FOR_INDICATOR} events on its days before the cutoff"
            for column in dropped
        ]
        return self

    def _design(self, days: pd.DatetimeIndex, calendars: Calendars, decayed: np.ndarray) -> pd.DataFrame:
        calendar = calendar_design(days, calendars, self.window, SEASON_ORDER)
        if not self.has_election_term:
            calendar = calendar.drop(columns=election_columns(calendar.columns))
        excitation = pd.DataFrame(
            excitation_transform(decayed, HALF_LIVES), index=days, columns=excitation_names(HALF_LIVES)
        )
        return pd.concat([pd.DataFrame({"const": 1.0}, index=days), calendar, excitation], axis=1)

    def _estimate_alpha(self, design: pd.DataFrame, y: np.ndarray) -> float:
        """NB2 dispersion by the Cameron-Trivedi auxiliary regression on a Poisson fit."""
        poisson = self._fit_glm(design, y, 0.0)
        mu = np.asarray(poisson.fittedvalues)
        response = ((y - mu) ** 2 - y) / mu
        alpha = float(np.sum(response * mu) / np.sum(mu * mu))
        return max(alpha, 1e-3)

    def _fit_glm(self, design: pd.DataFrame, y: np.ndarray, alpha: float) -> Any:  # a statsmodels GLMResults
        # Imported here: statsmodels is needed to fit, not to forecast, and it costs a serving process
        # about a second of start-up and 90 MB.
        import statsmodels.api as sm
        from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

        family = sm.families.NegativeBinomial(alpha=alpha) if alpha > 0 else sm.families.Poisson()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = sm.GLM(y, design, family=family).fit(maxiter=100)
            except (np.linalg.LinAlgError, ValueError) as error:
                raise ModelFitError(self.name, f"GLM fit failed: {error}") from None
        problems = [w for w in caught if issubclass(w.category, (ConvergenceWarning, PerfectSeparationWarning))]
        if problems or not getattr(result, "converged", True):
            raise ModelFitError(self.name, f"GLM did not converge: {problems[0].message if problems else 'IRLS'}")
        params, errors = np.asarray(result.params), np.asarray(result.bse)
        if not (np.all(np.isfinite(params)) and np.all(np.isfinite(errors))):
            raise ModelFitError(self.name, "GLM gave non-finite coefficients or standard errors")
        worst = int(np.argmax(np.abs(params)))
        if abs(params[worst]) > MAX_ABS_COEFFICIENT or errors.max() > MAX_STANDARD_ERROR:
            raise ModelFitError(self.name, f"GLM coefficients diverge ({design.columns[worst]}={params[worst]:.1f})")
        return result

    def _simulate(self, days: pd.DatetimeIndex, rng: np.random.Generator, samples: int) -> SimulatedPaths:
        draws = rng.multivariate_normal(self.coefficients, self.covariance, size=samples, method="cholesky")
        calendar = self._design(days, self.calendars, np.zeros((len(days), len(HALF_LIVES))))[self.columns]
        is_excitation = np.array([c.startswith("recent_h") for c in self.columns])
        is_election = np.isin(self.columns, election_columns(self.columns))
        fixed_eta = calendar.to_numpy()[:, ~is_excitation] @ draws[:, ~is_excitation].T  # days x samples
        election_eta = calendar.to_numpy()[:, is_election] @ draws[:, is_election].T
        excitation_coef = draws[:, is_excitation]  # samples x half-lives
        factors = decay_factors(HALF_LIVES)
        uniforms = rng.random((len(days), samples))
        with_election = _ForwardPath(self.state, samples)
        without_election = _ForwardPath(self.state, samples) if self.has_election_term else None
        paths = np.empty((samples, len(days)), dtype=np.int16)
        intensity = np.empty((samples, len(days)))
        baseline = np.empty((samples, len(days))) if without_election else None
        baseline_paths = np.empty((samples, len(days)), dtype=np.int16) if without_election else None
        for t in range(len(days)):
            rate = with_election.rate(fixed_eta[t], excitation_coef)
            counts = negative_binomial_from_uniform(uniforms[t], rate, self.alpha)
            with_election.step(counts, factors)
            paths[:, t], intensity[:, t] = counts, rate
            if without_election is not None and baseline is not None and baseline_paths is not None:
                rate_without = without_election.rate(fixed_eta[t] - election_eta[t], excitation_coef)
                counts_without = negative_binomial_from_uniform(uniforms[t], rate_without, self.alpha)
                without_election.step(counts_without, factors)
                baseline[:, t], baseline_paths[:, t] = rate_without, counts_without
        return SimulatedPaths(paths, intensity, baseline, baseline_paths)

    def parameters(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "coefficients": self.coefficients.tolist(),
            "covariance": self.covariance.tolist(),
            "alpha": self.alpha,
            "state": self.state.tolist(),
            "calendars": self.calendars.to_dict(),
        }

    def load_parameters(self, data: dict[str, Any]) -> None:
        self.columns = list(data["columns"])
        self.coefficients = np.asarray(data["coefficients"], dtype=float)
        self.covariance = np.asarray(data["covariance"], dtype=float)
        self.alpha = float(data["alpha"])
        self.state = np.asarray(data["state"], dtype=float)
        self.calendars = Calendars.from_dict(data["calendars"])


class _ForwardPath:
    """Decayed sums of one set of simulated paths, stepped a day at a time."""

    def __init__(self, state: np.ndarray, samples: int):
        self.decayed = np.tile(state, (samples, 1))

    def rate(self, eta_without_excitation: np.ndarray, excitation_coef: np.ndarray) -> np.ndarray:
        eta = eta_without_excitation + np.sum(excitation_transform(self.decayed, HALF_LIVES) * excitation_coef, axis=1)
        rate: np.ndarray = np.minimum(np.exp(np.minimum(eta, 5.0)), MAX_DAILY_RATE)
        return rate

    def step(self, counts: np.ndarray, factors: np.ndarray) -> None:
        self.decayed = (self.decayed + counts[:, None]) * factors[None, :]


def _drop_inestimable_indicators(design: pd.DataFrame, y: np.ndarray) -> tuple[pd.DataFrame, list[str]]:
    """Drop 0/1 columns that are constant or whose active days hold too few events."""
    dropped = []
    for column in design.columns:
        values = design[column].to_numpy()
        if column == "const" or not np.isin(values, (0.0, 1.0)).all():
            continue
        active = values == 1.0
        if (
            active.all()
            or not active.any()
            or y[active].sum() < MIN_EVENTS_FOR_INDICATOR
            or y[~active].sum() < MIN_EVENTS_FOR_INDICATOR
        ):
            dropped.append(column)
    return design.drop(columns=dropped), dropped


class PoissonGlmModel(GlmCountModel):
    name = ModelName.POISSON_GLM
    negative_binomial = False


class NegativeBinomialGlmModel(GlmCountModel):
    name = ModelName.NEGBIN_GLM
    negative_binomial = True


class NegativeBinomialGlmNoElectionModel(GlmCountModel):
    """The negative-binomial GLM without election covariates: the control for the election effect.

    If the full model does not forecast election windows better than this one
    out of sample, the data show no usable election effect.
    """

    name = ModelName.NEGBIN_GLM_NO_ELECTION
    negative_binomial = True
    has_election_term = False
