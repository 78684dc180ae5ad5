"""Token usage: the usage blocks several formats log alike.

OpenAI-style usage splits the cached part out of the input (``prompt_tokens_details``,
``input_tokens_details``) and the reasoning out of the output (``completion_tokens_details``,
``output_tokens_details``); LiteLLM repeats those blocks in its normalized usage, and Anthropic's
split of cache writes into 5-minute and 1-hour ones.
"""

from __future__ import annotations

from routecost.sources.base import Count, Struct


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
