"""Quality deltas with their uncertainty: what replay measures, read by the projections, reports and gate.

Each judged request gives a paired score: in pairwise mode +1 (the candidate won both orders), 0
(a tie, or a verdict that flipped with the order) or -1 (the logged answer won both); in rubric
mode the candidate's score minus the logged answer's (-9 to +9). The delta is the mean.

Its 95% interval is Bayesian: the share of requests at each possible score has a Dirichlet
posterior (the counts plus ``PRIOR_WEIGHT`` pseudo-judgments spread evenly over the possible scores),
and the interval holds the middle 95% of the delta over ``RESAMPLES`` seeded draws from it. Unlike a
bootstrap of the judgments, it does not collapse on small or uniform samples (3 wins of 3, or 20
ties, are not "certain"); when every judgment sits at one end of the scale, that end is kept in the
interval. Its coverage at 3 to 50 judgments is checked by simulation in the tests. The n needed for
an interval of a chosen width follows from the posterior spread: n = (2 * 1.96 * sd / width)^2, with
sd the per-request spread the posterior implies.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from routecost.simulate.counterfactual import OUTPUT_RATIO_RANGE

RESAMPLES = 10_000
PRIOR_WEIGHT = 1.5
"""Pseudo-judgments spread evenly over the possible scores (pairwise: Jeffreys' prior, a half on each of
win, tie and loss; the coverage simulation in the tests chose it over a uniform prior, which
shrank extreme deltas too far at small n)."""
UNMEASURED = "unmeasured"
CI_METHOD = f"Bayesian (Dirichlet over the possible scores, {PRIOR_WEIGHT:g} prior judgments), 95%, {RESAMPLES:,} draws"
Z_95 = 1.959964
MAX_DELTA = {"pairwise": 1.0, "rubric": 9.0}
PAIRWISE_SCORES = np.array([-1.0, 0.0, 1.0])
RUBRIC_SCORES = np.arange(-9.0, 10.0)


@dataclass(frozen=True)
class Quality:
    n: int
    wins: int
    ties: int
    losses: int
    unparsed: int
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    n_for_width: int | None
    """Judged requests needed for a 95% interval of the chosen width (None without spread yet)."""
    judge_mode: str | None = None
    """``pairwise`` (deltas from -1 to +1) or ``rubric`` (-9 to +9)."""
    unmeasured: str | None = None
    """Why the delta cannot be trusted (the judge failed its checks): then it has no delta or
    interval, only the counts, and a gate on quality fails (or warns) rather than pass."""

    @property
    def drop_pct(self) -> float | None:
        """How far the interval's lower bound lies below no change, in % of the largest possible
        drop (pairwise: the net share of requests the logged answer wins; rubric: of 9 points)."""
        if self.ci_low is None:
            return None
        return max(-self.ci_low, 0.0) / MAX_DELTA.get(self.judge_mode or "", 1.0) * 100


def quality(scores: Sequence[float], unparsed: int = 0, width: float = 0.2, seed: int = 0,
            judge_mode: str | None = None) -> Quality:
    values = np.asarray(scores, dtype=np.float64)
    n = len(values)
    wins, losses = int((values > 0).sum()), int((values < 0).sum())
    if n == 0:
        return Quality(0, 0, 0, 0, unparsed, None, None, None, None, judge_mode)
    possible = _possible_scores(values, judge_mode)
    counts = np.array([(values == score).sum() for score in possible], dtype=np.float64)
    draws = np.random.default_rng(seed).dirichlet(counts + PRIOR_WEIGHT / len(possible), size=RESAMPLES) @ possible
    low, high = (float(bound) for bound in np.percentile(draws, [2.5, 97.5]))
    if values.max() == possible[-1]:
        high = possible[-1] if values.min() == possible[-1] else high
    if values.min() == possible[0]:
        low = possible[0] if values.max() == possible[0] else low
    spread = float(draws.std()) * math.sqrt(n)
    needed = math.ceil((2 * Z_95 * spread / width) ** 2) if spread > 0 else None
    return Quality(n, wins, n - wins - losses, losses, unparsed, float(values.mean()), float(low), float(high), needed,
                   judge_mode)


def unmeasured(result: Quality, reason: str) -> Quality:
    """The counts without a delta: what a judge that failed its checks said, kept for the record."""
    return dataclasses.replace(result, delta=None, ci_low=None, ci_high=None, n_for_width=None, unmeasured=reason)


def _possible_scores(values: np.ndarray, judge_mode: str | None) -> np.ndarray:
    """The scores a judgment can give: pairwise -1, 0, +1; rubric -9 to +9 (told, or read from the values)."""
    if judge_mode == "pairwise" or (judge_mode is None and np.isin(values, PAIRWISE_SCORES).all()):
        return PAIRWISE_SCORES
    return RUBRIC_SCORES


@dataclass(frozen=True)
class Interval:
    """A measured rate or ratio with its 95% interval."""

    point: float
    low: float
    high: float
    n: int


MIN_RATIO_PAIRS = 5
"""Below this many measured answers, an output ratio's interval is widened to at least the range
assumed when nothing is measured (a bootstrap of 1-4 pairs says too little about its spread)."""


def ratio_interval(pairs: Sequence[tuple[int, int]]) -> Interval:
    """The ratio of sums of (produced, logged) output tokens, with a 95% interval from the delta
    method on the log scale with Student's t (a bootstrap of the answers under-covered here: 86% at
    20 answers whose length varies around the ratio; this held 94%, checked by simulation in the tests)."""
    produced, logged = (np.asarray(column, dtype=np.float64) for column in zip(*pairs, strict=True))
    n = len(pairs)
    point = float(produced.sum() / logged.sum())
    low = high = point
    if n > 1 and point > 0:
        residuals = produced - point * logged
        relative_se = math.sqrt(float((residuals ** 2).sum()) / (n * (n - 1))) / float(logged.mean()) / point
        spread = math.exp(t_95(n - 1) * relative_se)
        low, high = point / spread, point * spread
    if n < MIN_RATIO_PAIRS:
        low, high = min(low, point * OUTPUT_RATIO_RANGE[0]), max(high, point * OUTPUT_RATIO_RANGE[1])
    return Interval(point, low, high, n)


T_95_SMALL = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776}
"""Student's t, two-sided 95%, for the fewest degrees of freedom (where the expansion below is off)."""


def t_95(degrees: int) -> float:
    """Student's t quantile for a two-sided 95% interval: a table for 1-4 degrees of freedom, else the
    Cornish-Fisher expansion around the normal quantile (within 0.004 from 5 on)."""
    if degrees in T_95_SMALL:
        return T_95_SMALL[degrees]
    z, nu = Z_95, float(degrees)
    return (z + (z ** 3 + z) / (4 * nu) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * nu ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * nu ** 3))


def share_interval(hits: int, n: int, seed: int = 0) -> Interval:
    """A share with Jeffreys' 95% interval (Beta(hits + 1/2, misses + 1/2); 0 or 1 kept as a bound
    when no or every trial hit)."""
    draws = np.random.default_rng(seed).beta(hits + 0.5, n - hits + 0.5, size=RESAMPLES)
    low, high = (float(bound) for bound in np.percentile(draws, [2.5, 97.5]))
    return Interval(hits / n, 0.0 if hits == 0 else low, 1.0 if hits == n else high, n)
