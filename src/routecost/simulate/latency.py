"""Latency under a policy: per category, the median and 95th percentile it would give.

Logs carry each request's latency; a policy changes it. A request that stays on its model keeps the
latency it logged. A request routed to another model takes that model's latency as the logs show it
(all its logged requests, any category): its share of the category's distribution is the target's
distribution. A cascade's first try takes the try model's latency, and the share it escalates takes
the try's plus the escalation model's (two calls, one after the other). A cache hit answers at once
(0 ms); a batched request waits up to its batch window (the longest of the policy's batch rules).

Everything is counted in log-spaced bins (2% wide, 1 ms to 48 hours) with the latencies' sum in
each, so a log's segments add up (``segment_audit.py``); the quantiles are read from the mixture at
the end, as the mean of the bin they fall in (exact when a bin holds one latency, else within 2%).
A request whose latency, or whose target's, the logs do not give is counted apart, and said.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

RATIO = 1.02
FLOOR_MS = 1.0
CEILING_MS = 48 * 3600 * 1000.0
BINS = math.ceil(math.log(CEILING_MS / FLOOR_MS) / math.log(RATIO)) + 1
GRID = 64
"""Quantiles of each of two models taken to sum two calls (a cascade's escalation): GRID x GRID pairs."""


@dataclass(frozen=True)
class Latency:
    """A category's latency in milliseconds, as logged and under the policy (None where unknown)."""

    p50_before_ms: float | None
    p95_before_ms: float | None
    p50_after_ms: float | None
    p95_after_ms: float | None
    unknown_after: int = 0
    """Requests whose latency under the policy the logs do not give (no latency logged for them, or
    for the model they would go to)."""


@dataclass(frozen=True)
class LatencyCounts:
    """One policy's latency counts over some requests, by category: what segments add up."""

    logged: pl.DataFrame
    """category, bin, count, total_ms: the requests' own logged latencies (before)."""
    kept: pl.DataFrame
    """category, bin, count, total_ms: requests the policy leaves on their model, not cached or batched."""
    moved: pl.DataFrame
    """category, model, count: requests routed to another model (a cascade's first try included)."""
    escalated: pl.DataFrame
    """category, model, escalate_to, expected: a cascade's expected escalations."""
    fixed: pl.DataFrame
    """category, bin, count, total_ms: cache hits (0 ms) and batched requests (their window)."""
    unknown: pl.DataFrame
    """category, count: kept requests without a logged latency."""

    @classmethod
    def of(cls, requests: pl.DataFrame, rows: pl.DataFrame, batch_window_s: float | None) -> LatencyCounts:
        """From the priced requests (``model_id``, ``latency_ms``) and a projection's rows."""
        frame = rows.select(
            pl.col("category").cast(pl.String), pl.col("routed_model").cast(pl.String),
            pl.col("escalate_to").cast(pl.String), "escalate_rate", "served", "batched",
        ).hstack(requests.select("model_id", "latency_ms"))
        waits = pl.col("served") | pl.col("batched")
        moved = ~waits & (pl.col("escalate_to").is_not_null()
                          | (pl.col("routed_model") != pl.col("model_id")).fill_null(False))
        kept = ~waits & ~moved
        window_ms = batch_window_s * 1000 if batch_window_s else 0.0
        fixed_ms = pl.when(pl.col("served")).then(pl.lit(0.0)).otherwise(pl.lit(window_ms))
        counted = pl.col("latency_ms").is_not_null()
        return cls(
            logged=_binned(frame.filter(counted)),
            kept=_binned(frame.filter(kept & counted)),
            moved=frame.filter(moved).group_by("category", model="routed_model").agg(count=pl.len()),
            escalated=frame.filter(moved & pl.col("escalate_to").is_not_null()).group_by(
                "category", model="routed_model", escalate_to="escalate_to").agg(expected=pl.col("escalate_rate").sum()),
            fixed=_binned(frame.filter(waits).with_columns(latency_ms=fixed_ms)),
            unknown=frame.filter(kept & ~counted).group_by("category").agg(count=pl.len()),
        )

    @classmethod
    def added(cls, parts: Sequence[LatencyCounts]) -> LatencyCounts:
        def add(name: str, keys: tuple[str, ...]) -> pl.DataFrame:
            return pl.concat([getattr(part, name) for part in parts], how="vertical").group_by(keys).agg(
                pl.exclude(keys).sum())

        return cls(add("logged", ("category", "bin")), add("kept", ("category", "bin")),
                   add("moved", ("category", "model")), add("escalated", ("category", "model", "escalate_to")),
                   add("fixed", ("category", "bin")), add("unknown", ("category",)))


def model_latencies(requests: pl.DataFrame) -> pl.DataFrame:
    """model, bin, count, total_ms: every logged model's latencies (what a request routed to it takes)."""
    return (requests.filter(pl.col("latency_ms").is_not_null() & pl.col("model_id").is_not_null())
            .group_by(model=pl.col("model_id"), bin=bin_expr(pl.col("latency_ms")))
            .agg(count=pl.len(), total_ms=pl.col("latency_ms").sum()))


def added_model_latencies(parts: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """``model_latencies`` of several segments as one."""
    return pl.concat(parts, how="vertical").group_by("model", "bin").agg(pl.col("count", "total_ms").sum())


def by_category(counts: LatencyCounts, models: pl.DataFrame) -> dict[str, Latency]:
    """Each category's latency before and under the policy (``models``: ``model_latencies`` added up)."""
    shapes = _shapes(models)
    categories = sorted({category for frame in (counts.logged, counts.kept, counts.moved, counts.fixed, counts.unknown)
                         for category in frame["category"].to_list()})
    result = {}
    for category in categories:
        def of(frame: pl.DataFrame) -> pl.DataFrame:
            return frame.filter(pl.col("category") == category)  # noqa: B023 (used at once)

        before = _Histogram.of(of(counts.logged))
        after = _Histogram.of(of(counts.kept)) + _Histogram.of(of(counts.fixed))
        unknown = int(of(counts.unknown)["count"].sum())
        escalations = list(of(counts.escalated).select("model", "escalate_to", "expected").iter_rows())
        for model, count in of(counts.moved).select("model", "count").iter_rows():
            if model not in shapes:
                unknown += count
                continue
            escalated = 0.0
            for source, target, expected in escalations:
                if source != model:
                    continue
                escalated += expected
                if target in shapes:
                    after = after + _sum_of_two(shapes[model], shapes[target]).scaled(expected)
                else:
                    unknown += round(expected)
            after = after + shapes[model].scaled(count - escalated)
        result[category] = Latency(*before.quantiles(), *after.quantiles(), unknown_after=unknown)
    return result


@dataclass(frozen=True)
class _Histogram:
    """Counts per bin, and the sum of the latencies counted in each (a quantile is its bin's mean)."""

    counts: np.ndarray
    totals: np.ndarray

    @classmethod
    def of(cls, frame: pl.DataFrame) -> _Histogram:
        counts, totals = np.zeros(BINS), np.zeros(BINS)
        if frame.height:
            bins = frame["bin"].to_numpy()
            np.add.at(counts, bins, frame["count"].to_numpy().astype(float))
            np.add.at(totals, bins, frame["total_ms"].to_numpy().astype(float))
        return cls(counts, totals)

    def __add__(self, other: _Histogram) -> _Histogram:
        return _Histogram(self.counts + other.counts, self.totals + other.totals)

    def scaled(self, weight: float) -> _Histogram:
        return _Histogram(self.counts * weight, self.totals * weight)

    def means(self) -> np.ndarray:
        return np.divide(self.totals, self.counts, out=_centre(np.arange(BINS)), where=self.counts > 0)

    def quantiles(self) -> tuple[float | None, float | None]:
        total = self.counts.sum()
        if total <= 0:
            return None, None
        cumulative, means = np.cumsum(self.counts), self.means()
        return (float(means[np.searchsorted(cumulative, 0.5 * total)]),
                float(means[np.searchsorted(cumulative, 0.95 * total)]))


def bin_of(milliseconds: float) -> int:
    if milliseconds <= FLOOR_MS:
        return 0
    return min(BINS - 1, int(math.log(milliseconds / FLOOR_MS) / math.log(RATIO)))


def bin_expr(milliseconds: pl.Expr) -> pl.Expr:
    index = (milliseconds.clip(lower_bound=FLOOR_MS) / FLOOR_MS).log() / math.log(RATIO)
    return index.floor().cast(pl.Int32).clip(0, BINS - 1)


def _binned(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.group_by("category", bin=bin_expr(pl.col("latency_ms"))).agg(
        count=pl.len(), total_ms=pl.col("latency_ms").sum())


def _shapes(models: pl.DataFrame) -> Mapping[str, _Histogram]:
    """Each model's latency distribution (counts summing to 1)."""
    shapes = {}
    for (model,), group in models.group_by("model"):
        histogram = _Histogram.of(group)
        if histogram.counts.sum() > 0:
            shapes[str(model)] = histogram.scaled(1 / histogram.counts.sum())
    return shapes


def _values(shape: _Histogram) -> np.ndarray:
    """GRID quantiles of a distribution, at the centres of equal-probability slices."""
    cumulative = np.cumsum(shape.counts)
    probabilities = (np.arange(GRID) + 0.5) / GRID
    indices = np.minimum(np.searchsorted(cumulative, probabilities * cumulative[-1]), BINS - 1)
    return shape.means()[indices]


def _sum_of_two(first: _Histogram, second: _Histogram) -> _Histogram:
    """The distribution of two calls one after the other (their latencies added), summing to 1."""
    totals = (_values(first)[:, None] + _values(second)[None, :]).ravel()
    bins = [bin_of(value) for value in totals]
    counts, sums = np.zeros(BINS), np.zeros(BINS)
    np.add.at(counts, bins, 1.0 / totals.size)
    np.add.at(sums, bins, totals / totals.size)
    return _Histogram(counts, sums)


def _centre(indices: np.ndarray) -> np.ndarray:
    return FLOOR_MS * RATIO ** (indices + 0.5)


def format_ms(milliseconds: float | None) -> str:
    """A latency to two significant figures: 850 ms, 2.3 s, 24 h."""
    if milliseconds is None:
        return "n/a"
    for unit, size in (("h", 3_600_000), ("min", 60_000), ("s", 1_000)):
        if milliseconds >= size:
            return f"{milliseconds / size:.2g} {unit}" if milliseconds / size < 10 else f"{milliseconds / size:.0f} {unit}"
    return f"{milliseconds:.2g} ms" if milliseconds < 10 else f"{milliseconds:.0f} ms"
