"""``app-openai.jsonl``: OpenAI Chat Completions in the in-house wrapper."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from samplegen.common import (
    LLAMA_SCALE,
    OPENAI_SCALE,
    Json,
    WeightedModels,
    _count_by,
    count_tokens,
    dump,
    rand_b62,
    rand_hex,
    stable_hex,
)
from samplegen.traffic import (
    APP_LOG_CLIP_CHARS,
    APP_LOG_MARKER,
    Call,
    Feature,
    Planner,
    PrefixCache,
    TrafficSpec,
    chat_messages,
    chronological,
    clip_messages,
    latency,
    wrapper,
)

# --------------------------------------------------------------------------
# OpenAI Chat Completions (in-house wrapper) -> app-openai.jsonl
# --------------------------------------------------------------------------

FT_MODEL = "ft:gpt-4o-mini-2024-07-18:acme:support:AbC123"
SELF_HOSTED_MODEL = "acme-llama-3-70b"


@dataclass(frozen=True)
class OpenAIModel:
    response_model: str
    tokens_per_s: float
    reasoning: tuple[int, int] | None  # hidden reasoning tokens, in 64-token steps
    fingerprint: str | None


OPENAI_MODELS: dict[str, OpenAIModel] = {
    "gpt-4o": OpenAIModel("gpt-4o-2024-08-06", 85, None, "fp_7b9f3a21c4"),
    "gpt-4o-mini": OpenAIModel("gpt-4o-mini-2024-07-18", 110, None, "fp_51db84afab"),
    "gpt-4.1": OpenAIModel("gpt-4.1-2025-04-14", 80, None, "fp_b3f1157249"),
    "gpt-4.1-mini": OpenAIModel("gpt-4.1-mini-2025-04-14", 120, None, "fp_6f2eabb9a5"),
    "o4-mini": OpenAIModel("o4-mini-2025-04-16", 150, (128, 2560), None),
    "gpt-5.4": OpenAIModel("gpt-5.4", 70, (64, 1536), None),
    FT_MODEL: OpenAIModel(FT_MODEL, 105, None, "fp_e2c1d9b0a7"),
}


@dataclass(frozen=True)
class PromptShape:
    """Token accounting of a chat prompt: total and the cacheable prefixes (key, tokens)."""

    total: int
    prefixes: tuple[tuple[str, int], ...]


def chat_prompt_shape(messages: list[Json], scale: float) -> PromptShape:
    """OpenAI chat format: ~3 framing tokens per message plus 3 to prime the reply.

    Prefixes are the system message and, for follow-up turns, system + first user
    message: the prompt of the earlier turn, which the provider may still have cached.
    """
    running = 0
    prefixes: list[tuple[str, int]] = []
    texts: list[str] = []
    for index, message in enumerate(messages):
        running += 3 + count_tokens(message["content"], scale)
        texts.append(message["content"])
        if index < 2:
            prefixes.append((stable_hex(*texts, n=16), running))
    return PromptShape(running + 3, tuple(prefixes))


def openai_usage(prompt: int, cached: int, completion: int, reasoning: int) -> Json:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_completion(
    rng: random.Random, created: int, model: str, content: str, usage: Json | None, fingerprint: str | None
) -> Json:
    body: Json = {
        "id": "chatcmpl-" + rand_b62(rng, 29),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
    }
    if usage is not None:
        body["usage"] = usage
    body["service_tier"] = "default"
    body["system_fingerprint"] = fingerprint
    return body


def vllm_completion(rng: random.Random, created: int, content: str, prompt: int, completion: int) -> Json:
    """What a self-hosted vLLM OpenAI-compatible server returns (null details, no service tier)."""
    return {
        "id": "chatcmpl-" + rand_hex(rng, 32),
        "object": "chat.completion",
        "created": created,
        "model": SELF_HOSTED_MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "tool_calls": []},
                "logprobs": None,
                "finish_reason": "stop",
                "stop_reason": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "total_tokens": prompt + completion,
            "completion_tokens": completion,
            "prompt_tokens_details": None,
        },
        "prompt_logprobs": None,
    }


def openai_error(rng: random.Random, model: str, http_status: int) -> Json:
    if http_status == 429:
        used = rng.randint(1_990_000, 1_999_000)
        requested = rng.randint(2_000_000 - used + 1, 12_000)
        return {
            "error": {
                "message": (
                    f"Rate limit reached for {model} in organization org-acme on tokens per min (TPM): "
                    f"Limit 2000000, Used {used}, Requested {requested}. Please try again in "
                    f"{rng.randint(40, 900)}ms. Visit https://platform.openai.com/account/rate-limits "
                    "to learn more."
                ),
                "type": "tokens",
                "param": None,
                "code": "rate_limit_exceeded",
            }
        }
    return {
        "error": {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }


def openai_record(rng: random.Random, call: Call, cache: PrefixCache) -> Json:
    messages = chat_messages(call.feature.system, call)
    request: Json = {
        "model": call.model,
        "messages": clip_messages(messages, APP_LOG_CLIP_CHARS, APP_LOG_MARKER),
    }
    profile = OPENAI_MODELS.get(call.model)
    if profile is not None and profile.reasoning is not None:
        request["reasoning_effort"] = "medium"
    else:
        request["temperature"] = call.feature.temperature
    request["stream"] = call.kind == "stream"
    created = call.ts_ms // 1000

    if call.kind.startswith("error"):
        http_status = int(call.kind[len("error") :])
        record = wrapper(
            rng, call, rng.randint(90, 400) if http_status == 429 else rng.randint(2000, 30000), request
        )
        record.update(
            {
                "status": "error",
                "http_status": http_status,
                "response": openai_error(rng, call.model, http_status),
            }
        )
        return record

    if call.model == SELF_HOSTED_MODEL:
        prompt = chat_prompt_shape(messages, LLAMA_SCALE).total
        completion = count_tokens(call.answer, LLAMA_SCALE)
        _, total_ms = latency(rng, prompt, completion, 45)
        record = wrapper(rng, call, total_ms, request)
        record["response"] = vllm_completion(rng, created, call.answer, prompt, completion)
        return record

    assert profile is not None
    shape = chat_prompt_shape(messages, OPENAI_SCALE)
    cached = cache.lookup(profile.response_model, shape.prefixes, call.ts_ms)
    reasoning = (
        rng.randint(profile.reasoning[0] // 64, profile.reasoning[1] // 64) * 64 if profile.reasoning else 0
    )
    completion = count_tokens(call.answer) + reasoning
    _, total_ms = latency(rng, shape.total - cached, completion, profile.tokens_per_s)
    # Streams logged by the gateway lost their usage chunk (no stream_options.include_usage).
    usage = None if call.kind == "stream" else openai_usage(shape.total, cached, completion, reasoning)
    record = wrapper(rng, call, total_ms, request)
    record["response"] = chat_completion(
        rng, created, profile.response_model, call.answer, usage, profile.fingerprint
    )
    return record


def openai_specs(f: dict[str, Feature]) -> list[TrafficSpec]:
    return [
        TrafficSpec(
            f["code-assistant"],
            0.14,
            (("gpt-4.1", 0.45), ("gpt-4o", 0.25), ("o4-mini", 0.2), ("gpt-5.4", 0.1)),
            0.3,
            3.0,
        ),
        TrafficSpec(f["blog-writer"], 0.12, (("gpt-4o", 0.8), ("gpt-4o-mini", 0.2)), 0.3, 2.5),
        TrafficSpec(f["doc-extractor"], 0.11, (("gpt-4o-mini", 0.6), ("gpt-4.1-mini", 0.4)), 0.25, 3.0),
        TrafficSpec(f["persona-chat"], 0.10, (("gpt-4o", 0.7), ("gpt-4o-mini", 0.3)), 0.4, 2.5),
        TrafficSpec(f["essay-coach"], 0.13, (("gpt-4o", 0.6), ("gpt-4.1", 0.4)), 0.3, 2.0),
        TrafficSpec(f["math-tutor"], 0.14, (("o4-mini", 0.6), ("gpt-4.1-mini", 0.4)), 0.25, 2.0),
        TrafficSpec(
            f["science-qa"], 0.14, (("gpt-4o-mini", 0.5), ("gpt-4o", 0.3), ("gpt-4.1-mini", 0.2)), 0.25, 2.0
        ),
        TrafficSpec(f["puzzle-helper"], 0.12, (("o4-mini", 0.5), ("gpt-4o", 0.5)), 0.25, 2.0),
    ]


OPENAI_COUNTS = {"ok": 1061, "stream": 15, "error429": 7, "error500": 3, "finetune": 8, "selfhosted": 6}
MALFORMED_AT = (0.14, 0.52, 0.87)  # relative positions of the three broken lines


def single(feature: Feature, models: WeightedModels) -> list[TrafficSpec]:
    return [TrafficSpec(feature, 1.0, models, two_turn_p=0.0, mean_conversations=1.0)]


def build_openai(rng: random.Random, planner: Planner, f: dict[str, Feature]) -> tuple[list[str], Json]:
    specs = openai_specs(f)
    calls = planner.plan(OPENAI_COUNTS["ok"], specs)
    # Streams come from the Acme Learn chat UI, whose prompts are short enough to be logged unclipped.
    calls += planner.plan(
        OPENAI_COUNTS["stream"],
        single(f["science-qa"], (("gpt-4o", 1.0),)) + single(f["math-tutor"], (("gpt-4.1-mini", 1.0),)),
        kind="stream",
    )
    calls += planner.plan(OPENAI_COUNTS["error429"], specs[:4], kind="error429")
    calls += planner.plan(OPENAI_COUNTS["error500"], specs[4:], kind="error500")
    calls += planner.plan(OPENAI_COUNTS["finetune"], single(f["support-reply"], ((FT_MODEL, 1.0),)))
    calls += planner.plan(
        OPENAI_COUNTS["selfhosted"],
        single(f["science-qa"], ((SELF_HOSTED_MODEL, 1.0),))
        + single(f["essay-coach"], ((SELF_HOSTED_MODEL, 1.0),)),
    )
    cache = PrefixCache(rng, min_tokens=1024, granularity=128, ttl_s=(300, 600))
    records = [openai_record(rng, call, cache) for call in chronological(calls)]
    lines = [dump(record) for record in records]
    malformed = _break_openai_lines(rng, records, lines)
    broken = {number - 1 for number in malformed.values()}
    catalog_usage = [
        r
        for i, r in enumerate(records)
        if i not in broken
        and "usage" in r["response"]
        and r["request"]["model"] in OPENAI_MODELS
        and r["request"]["model"] != FT_MODEL
    ]
    errors = [r for r in records if r.get("status") == "error"]
    stats = {
        "lines": len(lines),
        "malformed_line_numbers": malformed,
        "streams_without_usage": sum(1 for r in records if r["request"]["stream"]),
        "errors": len(errors),
        "errors_by_status": _count_by(errors, lambda r: str(r["http_status"])),
        "finetune_rows": sum(1 for r in records if r["request"]["model"] == FT_MODEL),
        "self_hosted_rows": sum(1 for r in records if r["request"]["model"] == SELF_HOSTED_MODEL),
        "rows_with_cached_tokens": sum(
            1 for r in catalog_usage if r["response"]["usage"]["prompt_tokens_details"]["cached_tokens"] > 0
        ),
        "rows_with_usage_known_models": len(catalog_usage),
        "by_request_model": _count_by(records, lambda r: r["request"]["model"]),
    }
    return lines, stats


def _break_openai_lines(rng: random.Random, records: list[Json], lines: list[str]) -> dict[str, int]:
    """Corrupt three ordinary lines: truncated JSON, negative and non-numeric prompt_tokens."""
    ordinary = [
        i
        for i, r in enumerate(records)
        if r.get("status") is None
        and not r["request"]["stream"]
        and r["request"]["model"] in OPENAI_MODELS
        and r["request"]["model"] != FT_MODEL
    ]
    positions = [
        min(ordinary, key=lambda i: abs(i - int(at * len(records)) - rng.randint(-20, 20)))
        for at in MALFORMED_AT
    ]
    truncated, negative, textual = positions
    lines[truncated] = lines[truncated][: len(lines[truncated]) * 2 // 3]
    for index, value in ((negative, -5), (textual, "lots")):
        broken = json.loads(lines[index])
        broken["response"]["usage"]["prompt_tokens"] = value
        lines[index] = dump(broken)
    return {
        "truncated_json": truncated + 1,
        "negative_prompt_tokens": negative + 1,
        "string_prompt_tokens": textual + 1,
    }
