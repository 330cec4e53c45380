"""The array pieces of stored answers: the election effect's grid of windows, and arrays packed into JSON text.

Packing: each array is zlib-compressed little-endian bytes in base64 (plain
JSON data, never pickle); a sorted key array is stored as its differences,
one byte each, the few of 255 or more listed apart in full: a third of the
size of four bytes a key, and about three times quicker to read.
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

# Window lengths of the effect grid: dense where windows are usual (61 days: 30 either side of an election).
EFFECT_LENGTHS = (1, 7, 14, 21, 28, 35, 42, 49, 56, 61, 63, 70, 84, 91, 122, 152, 183, 244, 305, 366)
EFFECT_LEVEL = 0.95

WIDE = 255  # a key difference at least this large is stored in full
Floats = npt.NDArray[np.float64]
Keys = npt.NDArray[np.uint32]


@dataclass(frozen=True)
class EffectGrid:
    """The election effect's 95% interval over paths, for windows on a weekly grid (day offsets from the horizon's start)."""

    starts: Floats
    lengths: Floats
    lower: npt.NDArray[np.float32]  # (starts, lengths)
    upper: npt.NDArray[np.float32]

    def at(self, first: int, days: int) -> tuple[float, float]:
        return bilinear(self, self.lower, first, days), bilinear(self, self.upper, first, days)


def effect_grid(intensity: Floats, baseline: Floats, horizon: int) -> EffectGrid:
    """The effect interval for a window starting on every day of the horizon, for each of EFFECT_LENGTHS."""
    starts = np.arange(horizon)
    lengths = np.array([n for n in EFFECT_LENGTHS if n <= horizon] or [horizon])
    # Paths along the last axis, so each window's ratios are one contiguous row.
    with_sums, without_sums = running_rows(intensity).T.copy(), running_rows(baseline).T.copy()
    lower = np.empty((len(starts), len(lengths)), dtype=np.float32)
    upper = np.empty_like(lower)
    tail = (1 - EFFECT_LEVEL) / 2
    for j, length in enumerate(lengths):
        stops = np.minimum(starts + length, horizon)
        sums = with_sums[stops] - with_sums[starts]
        base = without_sums[stops] - without_sums[starts]
        # As in WindowSamples.election_effect: a path nil with and without elections shows ratio 1.
        ratio = np.divide(sums, base, out=np.ones_like(sums), where=base > 0)
        lower[:, j], upper[:, j] = _row_quantiles(ratio, tail), _row_quantiles(ratio, 1 - tail)
    return EffectGrid(starts.astype(np.float64), lengths.astype(np.float64), lower, upper)


def _row_quantiles(rows: Floats, q: float) -> Floats:
    """np.quantile(rows, q, axis=1) (its default, linear method), by partial sorting in place: several times faster."""
    n = rows.shape[1]
    position = q * (n - 1)
    k = int(np.floor(position))
    if k + 1 >= n:
        largest: Floats = rows.max(axis=1)
        return largest
    rows.partition([k, k + 1], axis=1)
    below, above = rows[:, k], rows[:, k + 1]
    result: Floats = below + (above - below) * (position - k)
    return result


def bilinear(grid: EffectGrid, values: npt.NDArray[np.float32], first: int, days: int) -> float:
    i, fi = _locate(grid.starts, first)
    j, fj = _locate(grid.lengths, days)
    i1, j1 = min(i + 1, len(grid.starts) - 1), min(j + 1, len(grid.lengths) - 1)
    top = values[i, j] * (1 - fj) + values[i, j1] * fj
    bottom = values[i1, j] * (1 - fj) + values[i1, j1] * fj
    return float(top * (1 - fi) + bottom * fi)


def _locate(axis: Floats, value: float) -> tuple[int, float]:
    """The grid cell holding value (clamped to the grid) and the fraction of the way across it."""
    if len(axis) == 1:
        return 0, 0.0
    position = float(np.clip(value, axis[0], axis[-1]))
    i = min(int(np.searchsorted(axis, position, side="right")) - 1, len(axis) - 2)
    return i, (position - float(axis[i])) / float(axis[i + 1] - axis[i])


def running_rows(values: Floats) -> Floats:
    out = np.zeros((values.shape[0], values.shape[1] + 1))
    np.cumsum(values, axis=1, out=out[:, 1:])
    return out


def pack(values: npt.NDArray[Any]) -> str:
    return base64.b64encode(
        zlib.compress(np.ascontiguousarray(values).astype(values.dtype.newbyteorder("<")).tobytes(), 6)
    ).decode()


def unpack(text: str, dtype: type[np.number[Any]]) -> npt.NDArray[Any]:
    return np.frombuffer(zlib.decompress(base64.b64decode(text)), dtype=np.dtype(dtype).newbyteorder("<")).astype(dtype)


def pack_keys(keys: Keys) -> dict[str, str]:
    """The differences of the sorted keys as bytes (most are small), those of 255 and more listed apart in full."""
    differences = np.diff(keys, prepend=np.uint32(0))
    wide = differences >= WIDE
    return {
        "small": pack(np.minimum(differences, WIDE).astype(np.uint8)),
        "wide": pack(differences[wide].astype("<u4")),
    }


def unpack_keys(data: dict[str, str]) -> Keys:
    differences = unpack(data["small"], np.uint8).astype(np.uint32)
    wide = np.flatnonzero(differences == WIDE)
    values = unpack(data["wide"], np.uint32)
    if len(values) != len(wide):
        raise ValueError("stored event keys do not match their wide differences")
    differences[wide] = values
    if differences.sum(dtype=np.uint64) >= 2**32:  # the running sum would wrap: keys out of order
        raise ValueError("stored event keys overflow 32 bits")
    return np.cumsum(differences, dtype=np.uint32)
