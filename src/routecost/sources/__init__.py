"""Log sources: one module per format, all behind ``LogFormat`` (see ``base``).

``FORMATS`` is the detection order: the most specific signature first (research/log-formats.md §4),
so a batch line is never mistaken for the bare body inside it, and a gateway row never for the
provider response it carries.
"""

from __future__ import annotations

from routecost.errors import UsageError
from routecost.sources import (
    anthropic,
    bedrock,
    cohere,
    gemini,
    helicone,
    http,
    langfuse,
    litellm,
    openai,
    openai_batch,
    openrouter,
    otel,
    portkey,
    wrapper,
)
from routecost.sources.base import LogFormat, RequestText

FORMATS: tuple[LogFormat, ...] = (
    http.HAR,
    http.NOCK,
    http.VCR,
    http.HELICONE_LOG,
    openai_batch.BATCH_OUTPUT,
    openai_batch.BATCH_INPUT,
    anthropic.BATCH_RESULT,
    anthropic.BATCH_REQUEST,
    gemini.BATCH,
    gemini.BATCH_REQUEST,
    bedrock.INVOCATION_LOG,
    litellm.PAYLOAD,
    litellm.SPEND_LOG,
    langfuse.INGESTION_BATCH,
    langfuse.TRACE_EXPORT,
    langfuse.OBSERVATION,
    langfuse.EXPORT,
    helicone.EXPORT,
    portkey.EXPORT,
    openrouter.GENERATION,
    openrouter.GENERATION_RESPONSE,
    openai.RESPONSES,
    openai.RESPONSES_EVENT,
    openai.CHAT,
    openai.AZURE_STREAM_PREAMBLE,
    anthropic.MESSAGE,
    anthropic.STREAM_EVENT,
    gemini.RESPONSE,
    bedrock.CONVERSE,
    bedrock.INVOKE_BODY,
    bedrock.CONVERSE_STREAM_EVENT,
    cohere.CHAT,
    otel.SPANS,
    wrapper.WRAPPED_CHAT,
    wrapper.WRAPPED_RESPONSES,
    wrapper.WRAPPED_ANTHROPIC,
    wrapper.WRAPPED_GEMINI,
    wrapper.WRAPPED_ERROR,
)

FORMATS_BY_NAME: dict[str, LogFormat] = {log_format.name: log_format for log_format in FORMATS}

PROMPTED_FORMATS: tuple[LogFormat, ...] = tuple(wrapper.PROMPTED.get(f.name, f) for f in FORMATS)
"""The same formats, fingerprinting prompts where the request is logged (for cache simulations)."""


def format_named(name: str) -> LogFormat:
    try:
        return FORMATS_BY_NAME[name]
    except KeyError:
        raise UsageError(f"unknown format {name!r}; known formats: {', '.join(FORMATS_BY_NAME)}") from None


__all__ = ["FORMATS", "FORMATS_BY_NAME", "PROMPTED_FORMATS", "LogFormat", "RequestText", "format_named"]
