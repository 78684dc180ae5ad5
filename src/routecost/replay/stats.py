"""Quality deltas with their uncertainty.

Each judged request gives a paired score: in pairwise mode +1 (the candidate won both orders), 0
(a tie, or a verdict that flipped with the order) or -1 (the logged answer won both); in rubric
mode the candidate's score minus the logged answer's (-9 to +9). The delta is the mean; its 95%
confidence interval is a bootstrap percentile interval (10,000 resamples, seeded, so the same
judgments always give the same interval), which needs no normality and stays inside the possible
range. The n needed for an interval of a chosen width follows from the observed spread with the
normal approximation: n = (2 * 1.96 * sd / width)^2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RESAMPLES = 10_000
CI_METHOD = f"bootstrap percentile, 95%, {RESAMPLES:,} resamples"
RESAMPLED_VALUES_PER_CHUNK = 4_000_000
Z_95 = 1.959964
MAX_DELTA = {"pairwise": 1.0, "rubric": 9.0}


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
    delta = float(values.mean())
    low, high = np.percentile(_bootstrap_means(values, seed), [2.5, 97.5])
    spread = float(values.std(ddof=1)) if n > 1 else 0.0
    needed = math.ceil((2 * Z_95 * spread / width) ** 2) if spread > 0 else None
    return Quality(n, wins, n - wins - losses, losses, unparsed, delta, float(low), float(high), needed, judge_mode)


def _bootstrap_means(values: np.ndarray, seed: int) -> np.ndarray:
    """The means of ``RESAMPLES`` resamples with replacement, drawn in chunks so a large sample
    never needs a resamples-by-n index array at once."""
    rng = np.random.default_rng(seed)
    n = len(values)
    per_chunk = max(1, RESAMPLED_VALUES_PER_CHUNK // n)
    return np.concatenate([
        values[rng.integers(0, n, size=(min(per_chunk, RESAMPLES - start), n))].mean(axis=1)
        for start in range(0, RESAMPLES, per_chunk)
    ])
