"""Token usage: where a format keeps its token counts, and the usage blocks several formats log alike.

Every format reports the same six counts (``base.TokenCounts``). A format whose record holds them in
fields describes where (``TokenFields``) instead of reading them in code of its own: adding such a
format is a description. The provider bodies read on the hot path (OpenAI Chat and Responses,
Anthropic Messages, Gemini: ``enveloped_row``) read their counts in straight-line code: a described
reader makes a call per count, about 0.35 µs more per record, a quarter of what reading one costs.

OpenAI-style usage splits the cached part out of the input (``prompt_tokens_details``,
``input_tokens_details``) and the reasoning out of the output (``completion_tokens_details``,
``output_tokens_details``); LiteLLM repeats those blocks in its normalized usage, and Anthropic's
split of cache writes into 5-minute and 1-hour ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from routecost.records import source_row
from routecost.sources.base import Count, Struct, TokenCounts

CountReader = Callable[[Any], int | None]

Where = str | tuple[str, ...] | CountReader | None
"""Where a record keeps one count: a dotted attribute path (``usage.billed_units.input_tokens``; an
absent object on the way means an absent count), several paths (the first one logged), a function of
the record (a count the format works out), or None (the format does not log it)."""


@dataclass(frozen=True)
class TokenFields:
    """Where a format's record keeps its token counts; ``read`` reads them (the paths are resolved once,
    when the description is made, not per record)."""

    input: Where = None
    cache_read: Where = None
    cache_write: Where = None
    cache_write_1h: Where = None
    output: Where = None
    reasoning: Where = None
    input_excludes_cache: bool = False
    """The input count leaves cache reads and writes out (Anthropic, Bedrock): they are added back."""
    readers: tuple[CountReader, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        wheres = (self.input, self.cache_read, self.cache_write, self.cache_write_1h, self.output, self.reasoning)
        object.__setattr__(self, "readers", tuple(_reader(where) for where in wheres))

    def read(self, record: Any) -> TokenCounts:
        """The counts of one record; the input made whole when it leaves the cache out."""
        input_tokens, cache_read, cache_write, cache_write_1h, output, reasoning = (
            read(record) for read in self.readers
        )
        if self.input_excludes_cache:
            input_tokens = inclusive_input(input_tokens, cache_read, cache_write)
        return input_tokens, cache_read, cache_write, cache_write_1h, output, reasoning


def _reader(where: Where) -> CountReader:
    if where is None:
        return _not_logged
    if isinstance(where, str):
        return _path_reader(where)
    if isinstance(where, tuple):
        return _first_logged(tuple(_path_reader(path) for path in where))
    return where


def _not_logged(record: Any) -> None:
    return None


def _path_reader(path: str) -> CountReader:
    if "." not in path:
        return attrgetter(path)
    names = path.split(".")

    def nested(record: Any) -> Any:
        for name in names:
            record = getattr(record, name)
            if record is None:
                return None
        return record

    return nested


def _first_logged(readers: tuple[CountReader, ...]) -> CountReader:
    def first(record: Any) -> int | None:
        for read in readers:
            value = read(record)
            if value is not None:
                return value
        return None

    return first


def inclusive_input(uncached: int | None, cache_read: int | None, cache_write: int | None) -> int | None:
    """The whole input of a provider that counts cache reads and writes apart (Anthropic, Bedrock)."""
    return None if uncached is None else uncached + (cache_read or 0) + (cache_write or 0)


def row_with_tokens(tokens: TokenCounts, **columns: Any) -> tuple[Any, ...]:
    """``records.source_row`` with its token columns from ``tokens``."""
    input_tokens, cache_read, cache_write, cache_write_1h, output, reasoning = tokens
    return source_row(input_tokens=input_tokens, cache_read_tokens=cache_read, cache_write_tokens=cache_write,
                      cache_write_1h_tokens=cache_write_1h, output_tokens=output, reasoning_tokens=reasoning,
                      **columns)


class InputCacheDetails(Struct):
    """The cached part of an OpenAI-style input count: tokens read from the cache and written to it."""

    cached_tokens: Count | None = None
    cache_write_tokens: Count | None = None


class ReasoningDetails(Struct):
    """The reasoning part of an OpenAI-style output count."""

    reasoning_tokens: Count | None = None


class CacheWriteSplit(Struct):
    """Anthropic's cache writes by lifetime (``cache_creation``); without it every write is a 5-minute one."""

    ephemeral_5m_input_tokens: Count | None = None
    ephemeral_1h_input_tokens: Count | None = None
