"""``app-anthropic.jsonl``: Anthropic Messages in the in-house wrapper."""

from __future__ import annotations

import random
from dataclasses import dataclass

from samplegen.common import CLAUDE_SCALE, Json, _count_by, count_tokens, dump, rand_b62
from samplegen.traffic import (
    APP_LOG_CLIP_CHARS,
    APP_LOG_MARKER,
    Call,
    ExplicitCache,
    Feature,
    Planner,
    TrafficSpec,
    chat_messages,
    chronological,
    clip,
    clip_messages,
    latency,
    wrapper,
)

# --------------------------------------------------------------------------
# Anthropic Messages (in-house wrapper) -> app-anthropic.jsonl
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaudeModel:
    response_model: str
    tokens_per_s: float
    min_cacheable: int  # below this prefix length cache_control is silently ignored


CLAUDE_MODELS: dict[str, ClaudeModel] = {
    "claude-sonnet-4-5": ClaudeModel("claude-sonnet-4-5-20250929", 65, 1024),
    "claude-haiku-4-5": ClaudeModel("claude-haiku-4-5-20251001", 140, 4096),
    "claude-opus-4-1": ClaudeModel("claude-opus-4-1-20250805", 38, 1024),
}

# cache_control TTL per feature on the Anthropic app (None: no breakpoint).
ANTHROPIC_CACHE_TTL: dict[str, str | None] = {
    "persona-chat": "5m",
    "blog-writer": "5m",
    "doc-extractor": "5m",
    "code-assistant": "1h",
    "essay-coach": "1h",
    "science-qa": None,
}
TTL_SECONDS = {"5m": 300, "1h": 3600}


@dataclass(frozen=True)
class ClaudeUsage:
    uncached: int
    cache_write: int
    cache_read: int
    output: int
    ttl: str | None

    def as_json(self, service_tier: str) -> Json:
        write_1h = self.cache_write if self.ttl == "1h" else 0
        return {
            "input_tokens": self.uncached,
            "cache_creation_input_tokens": self.cache_write,
            "cache_read_input_tokens": self.cache_read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": self.cache_write - write_1h,
                "ephemeral_1h_input_tokens": write_1h,
            },
            "output_tokens": self.output,
            "service_tier": service_tier,
        }


def claude_tokens(system: str, call: Call) -> tuple[int, int]:
    """(system prefix tokens, message tokens) in Claude's accounting."""
    system_tokens = count_tokens(system, CLAUDE_SCALE) + 6
    message_tokens = 3 + sum(count_tokens(m["content"], CLAUDE_SCALE) + 4 for m in chat_messages(None, call))
    return system_tokens, message_tokens


def claude_usage(call: Call, model: ClaudeModel, ttl: str | None, cache: ExplicitCache) -> ClaudeUsage:
    """Anthropic input_tokens exclude both cache reads and cache writes."""
    system_tokens, message_tokens = claude_tokens(call.feature.system, call)
    output = count_tokens(call.answer, CLAUDE_SCALE)
    if ttl is None or system_tokens < model.min_cacheable:
        return ClaudeUsage(system_tokens + message_tokens, 0, 0, output, ttl)
    if cache.use(model.response_model, call.feature.name, TTL_SECONDS[ttl], call.ts_ms):
        return ClaudeUsage(message_tokens, 0, system_tokens, output, ttl)
    return ClaudeUsage(message_tokens, system_tokens, 0, output, ttl)


def claude_message(rng: random.Random, model: str, text: str, usage: Json) -> Json:
    return {
        "id": "msg_01" + rand_b62(rng, 22),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": usage,
    }


def anthropic_request(call: Call, ttl: str | None) -> Json:
    block: Json = {"type": "text", "text": clip(call.feature.system, APP_LOG_CLIP_CHARS, APP_LOG_MARKER)}
    if ttl == "5m":
        block["cache_control"] = {"type": "ephemeral"}
    elif ttl == "1h":
        block["cache_control"] = {"type": "ephemeral", "ttl": "1h"}
    return {
        "model": call.model,
        "system": [block],
        "messages": clip_messages(chat_messages(None, call), APP_LOG_CLIP_CHARS, APP_LOG_MARKER),
        "max_tokens": 2048 if call.feature.name in ("code-assistant", "blog-writer") else 1024,
        "temperature": call.feature.temperature,
        "metadata": {"user_id": call.user_id},
    }


def anthropic_record(rng: random.Random, call: Call, cache: ExplicitCache) -> Json:
    ttl = ANTHROPIC_CACHE_TTL[call.feature.name]
    request = anthropic_request(call, ttl)
    if call.kind == "overloaded":
        record = wrapper(rng, call, rng.randint(300, 2500), request)
        record.update(
            {
                "status": "error",
                "http_status": 529,
                "response": {
                    "type": "error",
                    "error": {"type": "overloaded_error", "message": "Overloaded"},
                    "request_id": "req_011C" + rand_b62(rng, 20),
                },
            }
        )
        return record
    model = CLAUDE_MODELS[call.model]
    usage = claude_usage(call, model, ttl, cache)
    _, total_ms = latency(rng, usage.uncached + usage.cache_write, usage.output, model.tokens_per_s)
    record = wrapper(rng, call, total_ms, request)
    record["response"] = claude_message(rng, model.response_model, call.answer, usage.as_json("standard"))
    return record


def anthropic_specs(f: dict[str, Feature]) -> list[TrafficSpec]:
    return [
        TrafficSpec(f["persona-chat"], 0.18, (("claude-sonnet-4-5", 1.0),), 0.5, 3.0),
        TrafficSpec(
            f["code-assistant"], 0.15, (("claude-sonnet-4-5", 0.7), ("claude-opus-4-1", 0.3)), 0.3, 3.0
        ),
        TrafficSpec(f["blog-writer"], 0.10, (("claude-sonnet-4-5", 0.8), ("claude-opus-4-1", 0.2)), 0.3, 2.5),
        TrafficSpec(f["essay-coach"], 0.22, (("claude-sonnet-4-5", 1.0),), 0.4, 2.0),
        TrafficSpec(f["doc-extractor"], 0.10, (("claude-haiku-4-5", 1.0),), 0.3, 3.0),
        TrafficSpec(f["science-qa"], 0.25, (("claude-haiku-4-5", 1.0),), 0.3, 2.0),
    ]


ANTHROPIC_COUNTS = {"ok": 645, "overloaded": 4}
UNKNOWN_FORMAT_LINE = {"hello": "world"}


def build_anthropic(rng: random.Random, planner: Planner, f: dict[str, Feature]) -> tuple[list[str], Json]:
    specs = anthropic_specs(f)
    calls = planner.plan(ANTHROPIC_COUNTS["ok"], specs)
    calls += planner.plan(ANTHROPIC_COUNTS["overloaded"], specs[:3], kind="overloaded")
    cache = ExplicitCache()
    records = [anthropic_record(rng, call, cache) for call in chronological(calls)]
    lines = [dump(record) for record in records]
    junk_at = len(lines) * 2 // 5 + rng.randint(-10, 10)
    lines.insert(junk_at, dump(UNKNOWN_FORMAT_LINE))
    usages = [r["response"]["usage"] for r in records if r.get("status") is None]
    stats = {
        "lines": len(lines),
        "unknown_format_line_number": junk_at + 1,
        "errors": sum(1 for r in records if r.get("status") == "error"),
        "cache_write_rows": sum(1 for u in usages if u["cache_creation_input_tokens"] > 0),
        "cache_write_1h_rows": sum(1 for u in usages if u["cache_creation"]["ephemeral_1h_input_tokens"] > 0),
        "cache_read_rows": sum(1 for u in usages if u["cache_read_input_tokens"] > 0),
        "by_model": _count_by(records, lambda r: r["response"].get("model", "error")),
    }
    return lines, stats
