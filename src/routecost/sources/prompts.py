"""Prompt fingerprints: what the cache simulations compare, computed while the logs are read.

A request's prompt is fingerprinted at three message boundaries, the places providers' prefix
caches and cache breakpoints usually sit:

- ``system``: the system prompt and the tool definitions (and a first message that is a system one);
- ``history``: that, plus every message but the last (the conversation so far);
- ``prompt``: the whole request, plus its sampling parameters (the exact-cache key).

Each fingerprint is a 64-bit key of the prefix's bytes and the prefix's size in bytes. Sizes are what turns a cached prefix into tokens: a prefix holding 60% of the prompt's
bytes is taken to hold 60% of its input tokens. While reading, each request only joins its raw
message JSON (msgspec slices it out without parsing the text) and notes where its system messages
end and its last message starts; the reader cuts and hashes a whole chunk of prompts at once in
polars (``records.build_source_frame``). A first message that is a system (or developer) message belongs
to the system segment: loggers and the SDKs' serializers write ``role`` first, so its JSON starts
with ``{"role":"system"``.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from routecost.records import PromptPrint

SYSTEM_MESSAGE_STARTS = tuple(
    f'{{"role":{space}"{role}"'.encode() for role in ("system", "developer") for space in ("", " ")
)
"""How a system message's JSON starts (``role`` first, as loggers and the SDKs write it)."""


def prompt_boundaries(system: bytes, messages: Sequence[msgspec.Raw], sampling: bytes) -> PromptPrint | None:
    """The prompt, where its system messages end and the size of its last message; None when it has
    no messages (nothing to compare). Straight-line code: this runs once per request on a
    million-line log."""
    if not messages:
        return None
    joined = b"".join(messages)
    return system, joined, len(messages[0]) if joined.startswith(SYSTEM_MESSAGE_STARTS) else 0, len(messages[-1]), \
        sampling


def sampling_bytes(*parameters: float | None) -> bytes:
    """The parameters that change an answer, in a fixed order, as bytes (part of the exact-cache key)."""
    return repr(parameters).encode()
