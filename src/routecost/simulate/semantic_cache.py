"""A semantic response cache, replayed over the requests in time order.

A request is a hit when an earlier request on the same routed model, within the cache's lifetime,
has a last user message whose embedding is at least ``threshold`` cosine-similar to its own. Every
earlier request counts (as if each answer were stored), which keeps the hit rate from ever rising
as the threshold rises. Embeddings come from a small static model that runs offline
(``tokenlearn-static-model``, 64 dimensions, thousands of texts a second), are computed once per
distinct text and kept on disk, so a second run does not embed again.

A false hit serves a wrong answer: the report states the false-hit rate it assumed (the policy's
``false_hit_rate``), or the one replay measured.
"""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import numpy as np
import polars as pl

from routecost.output import private_file
from routecost.tokens import cache_dir

EMBEDDING_MODEL = "tokenlearn-static-model-0.1.1"
SIMILARITY_TOLERANCE = 1e-6
"""Float32 rounding: identical texts score 0.9999998, so a threshold of 1.0 still matches them."""
BLOCK = 512


class EmbeddingStore:
    """Embeddings by text hash, in SQLite under the user's cache directory."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or cache_dir() / "embeddings" / f"{EMBEDDING_MODEL}.sqlite"
        private_file(self.path)
        self.computed = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for the texts (rows in order), computing only the ones not stored yet."""
        digests = [hashlib.sha1(text.encode()).hexdigest() for text in texts]
        with closing(sqlite3.connect(self.path)) as database:
            database.execute("CREATE TABLE IF NOT EXISTS vectors (digest TEXT PRIMARY KEY, vector BLOB)")
            stored = self._stored(database, sorted(set(digests)))
            missing = {digest: text for digest, text in zip(digests, texts, strict=True) if digest not in stored}
            if missing:
                fresh = _embed(list(missing.values()))
                stored.update(zip(missing, fresh, strict=True))
                database.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                                     [(digest, vector.astype(np.float32).tobytes())
                                      for digest, vector in zip(missing, fresh, strict=True)])
                database.commit()
                self.computed += len(missing)
        return np.stack([stored[digest] for digest in digests]) if digests else np.zeros((0, 64), np.float32)

    @staticmethod
    def _stored(database: sqlite3.Connection, digests: list[str]) -> dict[str, np.ndarray]:
        stored: dict[str, np.ndarray] = {}
        for start in range(0, len(digests), 900):
            chunk = digests[start:start + 900]
            rows = database.execute(
                f"SELECT digest, vector FROM vectors WHERE digest IN ({','.join('?' * len(chunk))})", chunk
            )
            stored.update((digest, np.frombuffer(blob, dtype=np.float32)) for digest, blob in rows)
        return stored


def _embed(texts: list[str]) -> np.ndarray:
    from static_model import get_embeddings

    vectors = np.asarray(get_embeddings(texts), dtype=np.float32).reshape(len(texts), -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def best_earlier_match(
    groups: pl.Series, times_s: pl.Series, vectors: np.ndarray, ttl_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """For each request, the highest similarity to an earlier request of its group within ``ttl_s``
    (-1 where there is none), and that request's position."""
    count = len(times_s)
    best = np.full(count, -1.0, dtype=np.float32)
    match = np.full(count, -1, dtype=np.int64)
    if count == 0:  # no request in scope (an empty log): the group boundaries below would be [0, 1]
        return best, match
    frame = pl.DataFrame({"group": groups, "t": times_s}).with_row_index("_position").sort("group", "t", "_position")
    positions = frame["_position"].cast(pl.Int64).to_numpy()
    group_codes = frame["group"].rank("dense").cast(pl.Int64).to_numpy()
    times = frame["t"].to_numpy().astype(np.float64)
    ordered = vectors[positions]
    boundaries = np.flatnonzero(np.r_[True, group_codes[1:] != group_codes[:-1], True])
    for first, end in itertools.pairwise(int(boundary) for boundary in boundaries):
        for start in range(first, end, BLOCK):
            stop = min(start + BLOCK, end)
            window = int(np.searchsorted(times[first:end], times[start] - ttl_s, side="left")) + first
            similarity = ordered[start:stop] @ ordered[window:stop].T
            rows = np.arange(start, stop)[:, None]
            columns = np.arange(window, stop)[None, :]
            earlier = (columns < rows) & (times[rows] - times[columns] <= ttl_s)
            similarity = np.where(earlier, similarity, -1.0)
            best[positions[start:stop]] = similarity.max(axis=1) if similarity.size else -1.0
            match[positions[start:stop]] = np.where(
                similarity.max(axis=1) > -1.0, positions[window + similarity.argmax(axis=1)], -1
            ) if similarity.size else -1
    return best, match
