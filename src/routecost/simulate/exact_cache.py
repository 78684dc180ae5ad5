"""An exact response cache, replayed over the requests in time order.

A request is answered by the model (a miss) or from the cache (a hit). A miss stores its answer
under its key (routed model, prompt and sampling parameters) for ``ttl`` seconds from that moment;
a later request with the same key within that time is a hit, and a hit does not extend the entry.
So within one key, the misses form a chain: the first request, then the first request after the
previous miss's entry expired, and so on.

That chain is found without a loop over requests: every request points at the request that would
follow its expiry (a sorted search), the chain is the path of these pointers from the key's first
request, and path membership is decided by pointer doubling (log2(n) vectorized passes). With a
``max_entries`` bound the cache also evicts the least recently used entry; an LRU cache's state
depends on every earlier request, so that case is replayed in order (one pass over the requests
in the cache's scope).
"""

from __future__ import annotations

import heapq
from collections import OrderedDict

import numpy as np
import polars as pl

NO_REQUEST = -1


def exact_cache_hits(keys: pl.Series, times_s: pl.Series, ttl_s: float, max_entries: int | None = None) -> pl.Series:
    """Whether each request would have been answered from the cache (null keys never hit)."""
    frame = pl.DataFrame({"key": keys, "t": times_s}).with_row_index("_position")
    present = pl.col("key").is_not_null() & pl.col("t").is_not_null()
    if max_entries is None:  # without eviction, a key seen once is a miss: only repeated keys need replaying
        present &= pl.len().over("key") > 1
    scoped = frame.filter(present).sort("key", "t", "_position")
    hits = np.zeros(frame.height, dtype=bool)
    if scoped.height:
        positions = scoped["_position"].to_numpy()
        sorted_keys = scoped["key"].to_numpy()
        key_codes = np.r_[0, np.cumsum(sorted_keys[1:] != sorted_keys[:-1])]
        times = scoped["t"].to_numpy().astype(np.float64)
        if max_entries is None:
            scoped_hits = ~_misses_by_ttl(key_codes, times, ttl_s)
        else:
            scoped_hits = _hits_with_lru(scoped, ttl_s, max_entries)
        hits[positions] = scoped_hits
    return pl.Series("exact_cache_hit", hits)


def exact_cache_rows(base: pl.DataFrame) -> pl.DataFrame:
    """What replaying the exact cache needs of the requests in its scope (``exact_cache_scope``) that
    have a time: ``position`` in the log, ``key`` (routed model, prompt and temperature, hashed) and
    time ``t`` in seconds."""
    return base.lazy().filter(pl.col("exact_cache_scope") & pl.col("ts").is_not_null()).select(
        position=pl.col("_log_position").cast(pl.UInt64),
        key=pl.struct("routed_model", "prompt_key", "temperature").hash(seed=0),
        t=pl.col("ts").dt.epoch("us") / 1_000_000,
    ).collect()


def exact_hit_positions(rows: pl.DataFrame, ttl_s: float, max_entries: int | None = None) -> pl.Series:
    """The positions of the ``exact_cache_rows`` the cache answers. Without ``max_entries`` keys are
    independent, so any split of the rows by key gives the same answers."""
    return rows["position"].filter(exact_cache_hits(rows["key"], rows["t"], ttl_s, max_entries))


def _misses_by_ttl(key_codes: np.ndarray, times: np.ndarray, ttl_s: float) -> np.ndarray:
    """Misses of a TTL cache over requests sorted by (key, time), without eviction."""
    count = len(times)
    # Keys are laid out on one line, each key's times shifted past the previous key's, so a sorted
    # search for "the first request after this one's entry expires" never lands in another key.
    span = float(times.max() - times.min()) + 2 * ttl_s + 1.0
    line = (times - times.min()) + key_codes * span
    following = np.searchsorted(line, line + ttl_s, side="right")
    inside = following < count
    following[inside] = np.where(key_codes[following[inside]] == key_codes[inside], following[inside], count)
    starts = np.r_[True, key_codes[1:] != key_codes[:-1]]
    return _on_paths(starts, following)


def _on_paths(starts: np.ndarray, following: np.ndarray) -> np.ndarray:
    """Which nodes lie on the path of ``following`` pointers from their group's start node.

    Pointers only move forward, to the end node ``len(following)`` eventually. Node x is on its
    start s's path iff following^(d(s) - d(x))(s) == x, where d is the number of steps to the end;
    both d and the repeated pointer are computed by doubling."""
    count = len(following)
    tables = _jump_tables(np.append(following, count))
    depth = _steps_to_end(tables, count)
    nodes = np.arange(count)
    start_of = np.maximum.accumulate(np.where(starts, nodes, 0))
    distance = depth[start_of] - depth[:count]
    landing = start_of.copy()
    for level, table in enumerate(tables):
        take = (distance >= 0) & ((distance >> level) & 1).astype(bool)
        landing = np.where(take, table[landing], landing)
    return (distance >= 0) & (landing == nodes)


def _jump_tables(pointer: np.ndarray) -> list[np.ndarray]:
    """pointer, pointer∘pointer, ... up to a jump longer than any path."""
    tables = [pointer]
    for _ in range(len(pointer).bit_length()):
        tables.append(tables[-1][tables[-1]])
    return tables


def _steps_to_end(tables: list[np.ndarray], end: int) -> np.ndarray:
    """Steps from each node to the end node: the largest jumps that stop short of it, then one."""
    position = np.arange(end + 1)
    depth = np.zeros(end + 1, dtype=np.int64)
    for level in range(len(tables) - 1, -1, -1):
        jump = tables[level][position]
        take = jump != end
        depth += np.where(take, 1 << level, 0)
        position = np.where(take, jump, position)
    depth[:end] += 1
    return depth


def _hits_with_lru(scoped: pl.DataFrame, ttl_s: float, max_entries: int) -> np.ndarray:
    """Hits of a TTL cache holding at most ``max_entries`` entries. A full cache first drops its
    expired entries, then the least recently used one."""
    order = scoped.with_row_index("_sorted").sort("t", "_position")
    hits = np.zeros(scoped.height, dtype=bool)
    entries: OrderedDict[object, float] = OrderedDict()
    expiries: list[tuple[float, int, object]] = []
    for index, key, moment in order.select("_sorted", "key", "t").iter_rows():
        written = entries.get(key)
        if written is not None and moment - written <= ttl_s:
            hits[index] = True
            entries.move_to_end(key)
            continue
        entries[key] = moment
        entries.move_to_end(key)
        heapq.heappush(expiries, (moment + ttl_s, index, key))
        while len(entries) > max_entries and expiries and expiries[0][0] < moment:
            _, _, expired = heapq.heappop(expiries)
            if expired in entries and moment - entries[expired] > ttl_s:
                del entries[expired]
        if len(entries) > max_entries:
            entries.popitem(last=False)
    return hits
