"""The exact and prompt caches of a streamed audit, replayed a key at a time.

Whether a cache answers a request depends on the earlier requests with the same key (the exact
cache's key; a prompt prefix on a model) and on no others. So while a streamed audit reads its
segments, it records of every request a cache covers just its place in the log, its key (hashed),
its time and the entry's lifetime, 32 bytes, in files split by the key's hash; once everything is
read, each file is replayed on its own, by the same functions the projection of a whole log uses
(``exact_hit_positions``, ``warm_positions``), and the answers are kept as one flag per request and
per question (exact hit; prefix warm at each boundary). The segments are then projected with them.
Memory: those flags, and one file's rows at a time.

An exact cache with ``max_entries`` (whose evictions depend on every key) and the semantic cache
(which compares prompts across keys) are not replayed this way: their policies keep the whole log.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from routecost.policy.model import Policy
from routecost.simulate.exact_cache import exact_cache_rows, exact_hit_positions
from routecost.simulate.prompt_cache import BOUNDARIES, prefix_rows, warm_positions

PARTITIONS = 16
"""Files a question's rows are split into: a 20M-request month puts about 1.3M rows (40 MB) in each."""
ROW = np.dtype([("position", "<u8"), ("key", "<u8"), ("t", "<f8"), ("lifetime", "<f8")])
EXACT = "exact"


@dataclass(frozen=True)
class CacheAnswers:
    """One policy variant's cache answers over the whole log, by position in the log."""

    exact_hit: np.ndarray | None
    """Whether the exact cache answers each request (None: the variant has no exact cache)."""
    warm: Mapping[str, np.ndarray] = field(default_factory=dict)
    """Per prompt boundary, whether each request's prefix there is warm."""

    def exact_hits(self, positions: pl.Series) -> pl.Series:
        if self.exact_hit is None:
            raise ValueError("the variant has no exact cache")
        return pl.Series("exact_cache_hit", self.exact_hit[positions.to_numpy()])

    def warm_positions(self, positions: pl.Series) -> dict[str, pl.Series]:
        """Per boundary, the positions among ``positions`` whose prefix there is warm."""
        return {boundary: positions.filter(pl.Series(flags[positions.to_numpy()]))
                for boundary, flags in self.warm.items()}


class CachePass:
    """A policy's exact and prompt caches under one routing, recorded a segment at a time, then
    replayed for each variant of the policy that routes so (``answers``): the variants differ only
    in which caches they pull, not in the rows a cache needs, which are recorded once."""

    def __init__(self, policy: Policy, directory: Path) -> None:
        self.policy = policy
        """The routing and caches recorded (every variant's caches are the policy's own)."""
        self._directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def record(self, base: pl.DataFrame) -> None:
        """Add a segment's requests, with the policy's choices and scopes (``policy_base``)."""
        if (exact := self.policy.exact_cache) is not None:
            self._append(EXACT, exact_cache_rows(base).with_columns(lifetime=pl.lit(exact.ttl_s)))
        if (prompt := self.policy.prompt_cache) is not None:
            # Requests the exact cache answers warm no prefix: they are dropped when the answers are known.
            for boundary, rows in prefix_rows(base, prompt, pl.col("prompt_cache_scope")).items():
                self._append(boundary, rows)

    def answers(self, variant: Policy, requests: int) -> CacheAnswers:
        """Replay the files of the caches ``variant`` pulls: its answers for the ``requests`` requests
        of the log (a prompt cache behind an exact one sees only the requests that one misses)."""
        exact_hit = None
        if (exact := variant.exact_cache) is not None:
            exact_hit = np.zeros(requests, dtype=bool)
            for rows in self._partitions(EXACT):
                exact_hit[exact_hit_positions(rows, exact.ttl_s).to_numpy()] = True
        warm = {}
        if variant.prompt_cache is not None:
            for boundary in BOUNDARIES:
                warm[boundary] = flags = np.zeros(requests, dtype=bool)
                for rows in self._partitions(boundary):
                    if exact_hit is not None:
                        rows = rows.filter(pl.Series(~exact_hit[rows["position"].to_numpy()]))
                    flags[warm_positions(rows).to_numpy()] = True
        return CacheAnswers(exact_hit, warm)

    def _append(self, question: str, rows: pl.DataFrame) -> None:
        records = np.empty(rows.height, dtype=ROW)
        for name in ROW.names:
            records[name] = rows[name].to_numpy()
        partition = records["key"] % PARTITIONS
        for index in np.unique(partition):
            with self._file(question, int(index)).open("ab") as file:
                records[partition == index].tofile(file)

    def _partitions(self, question: str) -> Iterator[pl.DataFrame]:
        """The question's rows, a file at a time."""
        for index in range(PARTITIONS):
            if (path := self._file(question, index)).exists():
                yield _frame(np.fromfile(path, dtype=ROW))

    def _file(self, question: str, index: int) -> Path:
        return self._directory / f"{question}-{index:02d}.rows"


def _frame(records: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame({name: records[name] for name in ROW.names})
