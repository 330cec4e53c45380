"""Prophet on weekly counts, with elections as holidays and exercises as a regressor.

Prophet's Gaussian likelihood suits neither mostly-zero daily counts (its
lower bounds go negative) nor a holiday window with one coefficient per day
learnt from a dozen elections. So this model:

- aggregates to weeks (Monday starts) and pools each election kind's window
  into one holiday: every week that overlaps the window (days_before to
  days_after around the election) is a date of the holiday named after the
  kind, with a zero-day window. That is one coefficient per election kind
  instead of Prophet's one per day offset (sixty-one per kind, most of them
  never meeting a weekly date stamp);
- transforms: Prophet fits log(1 + weekly count), where the noise is closer to
  Gaussian and no fitted value maps back below zero;
- regularises: holiday effects get a prior scale of 0.1 (Prophet's default is
  10), the exercise regressor 0.5;
- turns the output into a count forecast: the weekly mean is the smeared
  back-transform (Duan) of Prophet's fitted value, never below a small
  floor, spread evenly over the week's days; counts are drawn as
  gamma-Poisson with the overdispersion measured on the training weeks. So
  counts are whole and non-negative and the intervals come from a count
  distribution, not Prophet's Gaussian band.

The election effect compares the same back-transform with and without the
holiday component. Prophet's MAP fit gives no parameter uncertainty for the
holiday effects, so this model reports the effect without an interval.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from forecasting.domain.history import History
from forecasting.domain.vocabulary import ModelName
from forecasting.features.calendar import Calendars, exercise_feature
from forecasting.models.base import CountModel, ModelFitError, SimulatedPaths
from forecasting.models.sampling import gamma_multipliers, poisson_from_uniform

HOLIDAY_PRIOR_SCALE = 0.1
EXERCISE_PRIOR_SCALE = 0.5
WEEKLY_MEAN_FLOOR = 1e-3
MIN_EVENTS_TO_FIT = 10

# Prophet logs an error on import when plotly is absent; plots are not used here.
logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)


def _quiet_stan_logs() -> None:
    # cmdstanpy installs its own INFO handler on first use; two lines per fit is noise.
    from cmdstanpy.utils import get_logger

    get_logger().setLevel(logging.WARNING)
    logging.getLogger("prophet").setLevel(logging.WARNING)


class ProphetModel(CountModel):
    name = ModelName.PROPHET
    has_election_term = True
    election_effect_interval = False
    # A loaded model keeps Prophet's JSON and rebuilds the Prophet object on first use: a served version
    # holds one per event group (and one in each ensemble), and most of them never forecast.
    _prophet: Any = None
    _prophet_json: str | None = None

    @property
    def prophet(self) -> Any:
        if self._prophet is None and self._prophet_json is not None:
            from prophet.serialize import model_from_json

            self._prophet = model_from_json(self._prophet_json)
        return self._prophet

    @prophet.setter
    def prophet(self, model: Any) -> None:
        self._prophet, self._prophet_json = model, None

    def fit(self, history: History, cutoff: date) -> ProphetModel:
        from prophet import Prophet

        _quiet_stan_logs()
        data = self._training_data(history, cutoff)
        if data.counts.sum() < MIN_EVENTS_TO_FIT:
            raise ModelFitError(self.name, f"only {int(data.counts.sum())} events before {cutoff}")
        weeks = _weekly_frame(data.counts, data.calendars)
        model = Prophet(
            growth="linear",
            yearly_seasonality=True,
            weekly_seasonality=False,
            daily_seasonality=False,
            holidays=self._holidays(data.calendars),
            holidays_prior_scale=HOLIDAY_PRIOR_SCALE,
            uncertainty_samples=0,
        )
        model.add_regressor("exercise", prior_scale=EXERCISE_PRIOR_SCALE, standardize=False)
        try:
            model.fit(weeks[["ds", "y", "exercise"]])
        except (RuntimeError, ValueError) as error:
            raise ModelFitError(self.name, f"Prophet fit failed: {error}") from None
        fitted = model.predict(weeks[["ds", "exercise"]])["yhat"].to_numpy()
        residuals = weeks["y"].to_numpy() - fitted
        if not np.all(np.isfinite(residuals)):
            raise ModelFitError(self.name, "Prophet gave non-finite fitted values")
        self.prophet = model
        self.calendars = data.calendars
        self.smearing = _smearing_factors(residuals)
        observed = weeks["count"].to_numpy()
        self.alpha = _overdispersion(observed, self._back_transform(fitted))
        self.cutoff = cutoff
        self.fit_notes = [f"{int(observed.sum())} events in {len(weeks)} training weeks"]
        return self

    def _holidays(self, calendars: Calendars) -> pd.DataFrame | None:
        rows = []
        for kind, election_day in zip(calendars.election_kind_keys, calendars.elections["date"], strict=True):
            span = self.window.around(election_day.date())
            first, last = pd.Timestamp(span.start), pd.Timestamp(span.end)
            for week in pd.date_range(first - timedelta(days=first.weekday()), last, freq="W-MON"):
                rows.append({"holiday": f"election_{kind}", "ds": week, "lower_window": 0, "upper_window": 0})
        return pd.DataFrame(rows) if rows else None

    def _back_transform(self, yhat: np.ndarray) -> np.ndarray:
        """Expected weekly count from Prophet's log(1 + count) scale, by Duan's smearing."""
        expected = np.mean(np.expm1(yhat[:, None] + self.smearing[None, :]), axis=1)
        floored: np.ndarray = np.maximum(expected, WEEKLY_MEAN_FLOOR)
        return floored

    def _simulate(self, days: pd.DatetimeIndex, rng: np.random.Generator, samples: int) -> SimulatedPaths:
        week_of_day = days - pd.to_timedelta(days.day_of_week, unit="D")
        weeks = pd.DatetimeIndex(week_of_day.unique())
        future = pd.DataFrame({"ds": weeks})
        future["exercise"] = _weekly_exercise_share(weeks, self.calendars)
        predicted = self.prophet.predict(future)
        holiday_part = predicted["holidays"].to_numpy() if "holidays" in predicted else np.zeros(len(weeks))
        weekly_mean = pd.Series(self._back_transform(predicted["yhat"].to_numpy()), index=weeks)
        weekly_without = pd.Series(self._back_transform(predicted["yhat"].to_numpy() - holiday_part), index=weeks)
        daily = weekly_mean.reindex(week_of_day).to_numpy() / 7.0
        daily_without = weekly_without.reindex(week_of_day).to_numpy() / 7.0
        multipliers = gamma_multipliers(rng, samples, self.alpha)[:, None]
        intensity = multipliers * daily[None, :]
        baseline = multipliers * daily_without[None, :]
        uniforms = rng.random(intensity.shape)
        paths = poisson_from_uniform(uniforms, intensity)
        return SimulatedPaths(paths, intensity, baseline, poisson_from_uniform(uniforms, baseline))

    def parameters(self) -> dict[str, Any]:
        from prophet.serialize import model_to_json

        return {
            "prophet_json": self._prophet_json if self._prophet is None else model_to_json(self._prophet),
            "smearing": self.smearing.tolist(),
            "alpha": self.alpha,
            "calendars": self.calendars.to_dict(),
        }

    def load_parameters(self, data: dict[str, Any]) -> None:
        self._prophet, self._prophet_json = None, data["prophet_json"]
        self.smearing = np.asarray(data["smearing"], dtype=float)
        self.alpha = float(data["alpha"])
        self.calendars = Calendars.from_dict(data["calendars"])


def _weekly_frame(counts: pd.Series, calendars: Calendars) -> pd.DataFrame:
    """Whole Monday-to-Sunday weeks of the series: count, log(1 + count), exercise share."""
    first_monday = counts.index[0] + timedelta(days=(7 - counts.index[0].weekday()) % 7)
    last_sunday = counts.index[-1] - timedelta(days=(counts.index[-1].weekday() + 1) % 7)
    whole = counts[(counts.index >= first_monday) & (counts.index <= last_sunday)]
    weekly = whole.resample("W-MON", label="left", closed="left").sum()
    frame = pd.DataFrame({"ds": weekly.index, "count": weekly.to_numpy()})
    frame["y"] = np.log1p(frame["count"].astype(float))
    frame["exercise"] = _weekly_exercise_share(pd.DatetimeIndex(frame["ds"]), calendars)
    return frame


def _weekly_exercise_share(week_starts: pd.DatetimeIndex, calendars: Calendars) -> np.ndarray:
    days = pd.date_range(week_starts[0], week_starts[-1] + timedelta(days=6), freq="D")
    daily = exercise_feature(days, calendars)
    share = daily.resample("W-MON", label="left", closed="left").mean()
    shares: np.ndarray = share.reindex(week_starts).fillna(0.0).to_numpy()
    return shares


def _smearing_factors(residuals: np.ndarray) -> np.ndarray:
    """A fixed-size sample of training residuals for the smeared back-transform."""
    ordered = np.sort(residuals)
    positions = np.linspace(0, len(ordered) - 1, num=min(200, len(ordered)))
    chosen: np.ndarray = ordered[np.round(positions).astype(int)]
    return chosen


def _overdispersion(observed: np.ndarray, expected: np.ndarray) -> float:
    """alpha in var = mean + alpha * mean^2, by moments over the training weeks."""
    excess = np.sum((observed - expected) ** 2 - observed)
    return float(max(0.0, excess / np.sum(expected**2)))
