"""``litellm-gateway.jsonl``: the LiteLLM proxy's StandardLoggingPayload."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, replace

from samplegen.anthropic_app import TTL_SECONDS, claude_tokens
from samplegen.common import (
    CLAUDE_SCALE,
    GEMINI_SCALE,
    MONTH_END_MS,
    OPENAI_SCALE,
    Json,
    _count_by,
    count_tokens,
    dump,
    rand_b62,
    rand_uuid,
    stable_hex,
)
from samplegen.openai_app import chat_prompt_shape
from samplegen.traffic import (
    LITELLM_CLIP_CHARS,
    LITELLM_MARKER,
    Call,
    ExplicitCache,
    Feature,
    Planner,
    PrefixCache,
    TrafficSpec,
    chat_messages,
    chronological,
    clip_messages,
    latency,
)

# --------------------------------------------------------------------------
# LiteLLM proxy StandardLoggingPayload -> litellm-gateway.jsonl
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Prices:
    """Official list prices in USD per million tokens."""

    input: float
    output: float
    cache_read: float
    cache_write_5m: float = 0.0


@dataclass(frozen=True)
class Route:
    """A LiteLLM model_group and the single deployment behind it."""

    group: str
    provider: str  # custom_llm_provider
    model: str  # the payload's "model" as configured in litellm_params
    litellm_model_name: str
    map_key: str
    response_model: str
    api_base: str
    prices: Prices
    tokens_per_s: float
    thinking: tuple[int, int] | None  # Gemini thought tokens, billed as output
    min_cacheable: int
    scale: float


ROUTES: dict[str, Route] = {
    route.group: route
    for route in (
        Route(
            "fast-default",
            "gemini",
            "gemini/gemini-2.5-flash",
            "gemini/gemini-2.5-flash",
            "gemini-2.5-flash",
            "gemini-2.5-flash",
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent",
            Prices(0.30, 2.50, 0.03),
            210,
            (80, 1800),
            1024,
            GEMINI_SCALE,
        ),
        Route(
            "smart-default",
            "vertex_ai",
            "gemini-2.5-pro",
            "vertex_ai/gemini-2.5-pro",
            "gemini-2.5-pro",
            "gemini-2.5-pro",
            "https://us-central1-aiplatform.googleapis.com/v1/projects/acme-ml-prod/locations/us-central1/"
            "publishers/google/models/gemini-2.5-pro:generateContent",
            Prices(1.25, 10.00, 0.125),
            95,
            (256, 3500),
            2048,
            GEMINI_SCALE,
        ),
        Route(
            "claude-fast",
            "anthropic",
            "anthropic/claude-haiku-4-5",
            "anthropic/claude-haiku-4-5",
            "claude-haiku-4-5",
            "claude-haiku-4-5-20251001",
            "https://api.anthropic.com/v1/messages",
            Prices(1.00, 5.00, 0.10, 1.25),
            140,
            None,
            4096,
            CLAUDE_SCALE,
        ),
        Route(
            "openai-mini",
            "openai",
            "gpt-4.1-mini",
            "openai/gpt-4.1-mini",
            "gpt-4.1-mini",
            "gpt-4.1-mini-2025-04-14",
            "https://api.openai.com/v1",
            Prices(0.40, 1.60, 0.10),
            120,
            None,
            1024,
            OPENAI_SCALE,
        ),
    )
}

GATEWAY_KEYS: dict[str, str] = {
    "math-tutor": "learn-math-tutor-prod",
    "puzzle-helper": "games-puzzles-prod",
    "science-qa": "learn-science-prod",
    "essay-coach": "learn-essay-prod",
    "doc-extractor": "docs-extractor-prod",
    "support-triage": "support-triage-prod",
}
RESPONSE_CACHE_GROUPS = ("fast-default",)
RESPONSE_CACHE_TTL_MS = 600_000
GATEWAY_FAILURES: dict[str, tuple[str, str, str]] = {
    "fast-default": (
        "429",
        "RateLimitError",
        (
            'litellm.RateLimitError: GeminiException - {\n  "error": {\n    "code": 429,\n    "message": '
            '"Resource has been exhausted (e.g. check quota).",\n    "status": "RESOURCE_EXHAUSTED"\n  }\n}\n'
        ),
    ),
    "smart-default": (
        "503",
        "ServiceUnavailableError",
        (
            "litellm.ServiceUnavailableError: VertexAIException - The model is overloaded. "
            "Please try again later."
        ),
    ),
    "claude-fast": (
        "529",
        "InternalServerError",
        (
            'litellm.InternalServerError: AnthropicException - {"type":"error","error":'
            '{"type":"overloaded_error","message":"Overloaded"}}'
        ),
    ),
}


@dataclass(frozen=True)
class GatewayUsage:
    prompt: int  # LiteLLM prompt_tokens: uncached + cache read + cache write
    cache_read: int
    cache_write: int
    text_output: int
    reasoning: int

    @property
    def completion(self) -> int:
        return self.text_output + self.reasoning

    def cost(self, prices: Prices) -> float:
        uncached = self.prompt - self.cache_read - self.cache_write
        usd = (
            uncached * prices.input
            + self.cache_read * prices.cache_read
            + self.cache_write * prices.cache_write_5m
            + self.completion * prices.output
        ) / 1e6
        return round(usd, 12)

    def as_json(self, provider: str) -> Json:
        base: Json = {
            "completion_tokens": self.completion,
            "prompt_tokens": self.prompt,
            "total_tokens": self.prompt + self.completion,
        }
        if provider in ("gemini", "vertex_ai"):
            base["completion_tokens_details"] = {
                "accepted_prediction_tokens": None,
                "audio_tokens": None,
                "reasoning_tokens": self.reasoning,
                "rejected_prediction_tokens": None,
                "text_tokens": self.text_output,
                "image_tokens": None,
            }
            base["prompt_tokens_details"] = {
                "audio_tokens": None,
                "cached_tokens": self.cache_read,
                "text_tokens": self.prompt,
                "image_tokens": None,
            }
        elif provider == "anthropic":
            base["completion_tokens_details"] = {"reasoning_tokens": 0, "text_tokens": self.text_output}
            base["prompt_tokens_details"] = {
                "cached_tokens": self.cache_read,
                "text_tokens": self.prompt - self.cache_read - self.cache_write,
                "cache_creation_tokens": self.cache_write,
                "cache_creation_token_details": {
                    "ephemeral_5m_input_tokens": self.cache_write,
                    "ephemeral_1h_input_tokens": 0,
                },
            }
            base["cache_creation_input_tokens"] = self.cache_write
            base["cache_read_input_tokens"] = self.cache_read
        else:
            base["completion_tokens_details"] = {
                "accepted_prediction_tokens": 0,
                "audio_tokens": 0,
                "reasoning_tokens": 0,
                "rejected_prediction_tokens": 0,
            }
            base["prompt_tokens_details"] = {"audio_tokens": 0, "cached_tokens": self.cache_read}
        return base


class Gateway:
    """Simulates one LiteLLM proxy: provider prompt caches plus its own response cache."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        # OpenAI caches in 128-token blocks; Gemini's implicit cache reports the exact prefix.
        self._implicit = {
            group: PrefixCache(rng, route.min_cacheable, 128 if route.provider == "openai" else 1, (120, 600))
            for group, route in ROUTES.items()
            if route.provider != "anthropic"
        }
        self._explicit = ExplicitCache()
        self._responses: dict[str, tuple[int, Json, float]] = {}

    def messages(self, call: Call, route: Route) -> list[Json]:
        messages = chat_messages(call.feature.system, call)
        if route.provider == "anthropic" and call.feature.name == "support-triage":
            messages[0]["content"] = [
                {"type": "text", "text": call.feature.system, "cache_control": {"type": "ephemeral"}}
            ]
        return messages

    def usage(self, call: Call, route: Route, messages: list[Json]) -> GatewayUsage:
        rng = self._rng
        text_output = count_tokens(call.answer, route.scale)
        reasoning = 0
        if route.thinking is not None and rng.random() < 0.8:
            reasoning = rng.randint(*route.thinking)
        if route.provider == "anthropic":
            system_tokens, message_tokens = claude_tokens(call.feature.system, call)
            eligible = call.feature.name == "support-triage" and system_tokens >= route.min_cacheable
            if not eligible:
                return GatewayUsage(system_tokens + message_tokens, 0, 0, text_output, 0)
            hit = self._explicit.use(route.response_model, call.feature.name, TTL_SECONDS["5m"], call.ts_ms)
            read, write = (system_tokens, 0) if hit else (0, system_tokens)
            return GatewayUsage(system_tokens + message_tokens, read, write, text_output, 0)
        shape = chat_prompt_shape(messages, route.scale)
        cached = self._implicit[route.group].lookup(route.response_model, shape.prefixes, call.ts_ms)
        return GatewayUsage(shape.total, cached, 0, text_output, reasoning)

    def payload(self, call: Call) -> tuple[Json, float]:
        """Build the StandardLoggingPayload and return it with the true cost."""
        rng = self._rng
        route = ROUTES[call.model]
        messages = self.messages(call, route)
        cache_key = (
            stable_hex(route.litellm_model_name, dump({"m": messages, "t": call.feature.temperature}))
            if route.group in RESPONSE_CACHE_GROUPS
            else None
        )
        start_us = call.ts_ms * 1000 + rng.randrange(1000)
        cached_response = self._responses.get(cache_key) if cache_key else None
        if call.kind == "failure":
            payload = self._failure(call, route, messages, start_us)
            return payload, 0.0
        if cached_response is not None and call.ts_ms - cached_response[0] <= RESPONSE_CACHE_TTL_MS:
            return self._cache_hit(call, cached_response[1], cached_response[2], start_us), 0.0
        usage = self.usage(call, route, messages)
        cost = usage.cost(route.prices)
        ttft, total_ms = latency(rng, usage.prompt - usage.cache_read, usage.completion, route.tokens_per_s)
        stream = rng.random() < 0.1
        end_us = start_us + total_ms * 1000 + rng.randrange(2000, 30000)
        usage_json = usage.as_json(route.provider)
        response = {
            "id": self._response_id(route),
            "created": call.ts_ms // 1000 + total_ms // 1000,
            "model": route.response_model,
            "object": "chat.completion",
            "system_fingerprint": None,
            "choices": [
                {
                    "finish_reason": "stop",
                    "index": 0,
                    "message": {
                        "content": call.answer,
                        "role": "assistant",
                        "tool_calls": None,
                        "function_call": None,
                    },
                }
            ],
            "usage": usage_json,
        }
        payload = self._envelope(
            call,
            route,
            clip_messages(messages, LITELLM_CLIP_CHARS, LITELLM_MARKER),
            start_us,
            end_us,
            start_us + ttft * 1000 if stream else end_us,
            stream,
            cost,
            cache_key,
            usage_json,
        )
        payload.update(
            {
                "total_tokens": usage.prompt + usage.completion,
                "prompt_tokens": usage.prompt,
                "completion_tokens": usage.completion,
                "status": "success",
                "response": response,
            }
        )
        if cache_key is not None:
            self._responses[cache_key] = (call.ts_ms, payload, cost)
        return payload, cost

    def _response_id(self, route: Route) -> str:
        if route.provider == "anthropic":
            return "msg_01" + rand_b62(self._rng, 22)
        if route.provider == "openai":
            return "chatcmpl-" + rand_b62(self._rng, 29)
        return rand_b62(self._rng, 23)  # Gemini responseId

    def _envelope(
        self,
        call: Call,
        route: Route,
        messages: list[Json],
        start_us: int,
        end_us: int,
        first_token_us: int,
        stream: bool,
        cost: float,
        cache_key: str | None,
        usage_json: Json | None,
    ) -> Json:
        rng = self._rng
        alias = GATEWAY_KEYS[call.feature.name]
        model_id = stable_hex("deployment", route.group)
        return {
            "id": rand_uuid(rng),
            "trace_id": rand_uuid(rng),
            "call_type": "acompletion",
            "stream": stream,
            "response_cost": cost,
            "response_cost_failure_debug_info": None,
            "status": "success",
            "custom_llm_provider": route.provider,
            "total_tokens": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "startTime": start_us / 1e6,
            "endTime": end_us / 1e6,
            "completionStartTime": first_token_us / 1e6,
            "response_time": (end_us - start_us) / 1e6,
            "model_map_information": {"model_map_key": route.map_key, "model_map_value": None},
            "model": route.model,
            "model_id": model_id,
            "model_group": route.group,
            "api_base": route.api_base,
            "metadata": {
                "user_api_key_hash": stable_hex("key", alias),
                "user_api_key_alias": alias,
                "user_api_key_org_id": None,
                "user_api_key_team_id": str(uuid.UUID(stable_hex("team", call.feature.team, n=32))),
                "user_api_key_user_id": call.user_id,
                "user_api_key_user_email": None,
                "user_api_key_team_alias": call.feature.team,
                "user_api_key_end_user_id": call.user_id,
                "spend_logs_metadata": {"feature": call.feature.name},
                "requester_ip_address": f"10.20.{rng.randint(0, 3)}.{rng.randint(2, 250)}",
                "requester_metadata": {},
                "prompt_management_metadata": None,
                "applied_guardrails": [],
                "usage_object": usage_json,
            },
            "cache_hit": False,
            "cache_key": cache_key,
            "saved_cache_cost": 0.0,
            "request_tags": [f"category:{call.category}"],
            "end_user": call.user_id,
            "requester_ip_address": None,
            "messages": messages,
            "response": None,
            "error_str": None,
            "error_information": None,
            "model_parameters": {"temperature": call.feature.temperature, "max_tokens": 2048},
            "hidden_params": {
                "model_id": model_id,
                "cache_key": cache_key,
                "api_base": route.api_base,
                "response_cost": cost,
                "litellm_overhead_time_ms": round(rng.uniform(1.5, 9.0), 3),
                "additional_headers": {},
                "litellm_model_name": route.litellm_model_name,
                "cache_hit": False,
            },
            "guardrail_information": None,
        }

    def _cache_hit(self, call: Call, original: Json, original_cost: float, start_us: int) -> Json:
        """LiteLLM served the stored response: same usage, no provider call, zero cost."""
        end_us = start_us + self._rng.randint(3_000, 40_000)
        payload = self._envelope(
            call,
            ROUTES[call.model],
            original["messages"],
            start_us,
            end_us,
            end_us,
            False,
            0.0,
            original["cache_key"],
            original["metadata"]["usage_object"],
        )
        payload.update(
            {
                "total_tokens": original["total_tokens"],
                "prompt_tokens": original["prompt_tokens"],
                "completion_tokens": original["completion_tokens"],
                "cache_hit": True,
                "saved_cache_cost": original_cost,
                "response": original["response"],
            }
        )
        payload["hidden_params"]["cache_hit"] = True
        return payload

    def _failure(self, call: Call, route: Route, messages: list[Json], start_us: int) -> Json:
        code, error_class, message = GATEWAY_FAILURES[route.group]
        end_us = start_us + self._rng.randint(150_000, 9_000_000)
        payload = self._envelope(
            call,
            route,
            clip_messages(messages, LITELLM_CLIP_CHARS, LITELLM_MARKER),
            start_us,
            end_us,
            end_us,
            False,
            0.0,
            None,
            None,
        )
        payload.update(
            {
                "status": "failure",
                "error_str": message,
                "error_information": {
                    "error_code": code,
                    "error_class": error_class,
                    "llm_provider": route.provider,
                    "traceback": "",
                    "error_message": message,
                },
            }
        )
        return payload


def gateway_specs(f: dict[str, Feature]) -> list[TrafficSpec]:
    return [
        TrafficSpec(f["math-tutor"], 0.26, (("fast-default", 0.7), ("smart-default", 0.3)), 0.25, 2.0),
        TrafficSpec(f["puzzle-helper"], 0.16, (("fast-default", 0.6), ("smart-default", 0.4)), 0.25, 2.0),
        TrafficSpec(f["science-qa"], 0.20, (("fast-default", 0.5), ("claude-fast", 0.5)), 0.25, 2.0),
        TrafficSpec(f["essay-coach"], 0.10, (("fast-default", 1.0),), 0.4, 2.0),
        TrafficSpec(f["doc-extractor"], 0.14, (("openai-mini", 1.0),), 0.3, 3.0),
        # The help-center bot is A/B tested between Claude (explicit 5m cache) and Gemini (implicit cache).
        TrafficSpec(f["support-triage"], 0.045, (("claude-fast", 1.0),), 0.0, 5.0),
        TrafficSpec(f["support-triage"], 0.05, (("fast-default", 0.5), ("smart-default", 0.5)), 0.0, 4.0),
    ]


GATEWAY_COUNTS = {"ok": 439, "repeat": 5, "failure": 6, "misreported": 13}


def build_gateway(rng: random.Random, planner: Planner, f: dict[str, Feature]) -> tuple[list[str], Json]:
    specs = gateway_specs(f)
    calls = planner.plan(GATEWAY_COUNTS["ok"], specs)
    calls += _repeats(rng, calls, GATEWAY_COUNTS["repeat"])
    failure_specs = [
        TrafficSpec(s.feature, 1.0, ((group, 1.0),), 0.0, 1.0)
        for s, group in ((specs[0], "fast-default"), (specs[1], "smart-default"), (specs[2], "claude-fast"))
    ]
    calls += planner.plan(GATEWAY_COUNTS["failure"], failure_specs, kind="failure")
    gateway = Gateway(rng)
    built = [gateway.payload(call) for call in chronological(calls)]
    payloads = [payload for payload, _ in built]
    misreported = _misreport_costs(rng, payloads)
    stats = {
        "lines": len(payloads),
        "failures": sum(1 for p in payloads if p["status"] == "failure"),
        "response_cache_hits": sum(1 for p in payloads if p["cache_hit"]),
        "misreported_cost_rows": len(misreported),
        "misreported_cost_ids": misreported,
        "streamed_rows": sum(1 for p in payloads if p["stream"]),
        "rows_with_cache_read": sum(
            1
            for p in payloads
            if p["status"] == "success"
            and not p["cache_hit"]
            and p["metadata"]["usage_object"]["prompt_tokens_details"]["cached_tokens"] > 0
        ),
        "rows_with_cache_write": sum(
            1
            for p in payloads
            if p["status"] == "success"
            and p["metadata"]["usage_object"].get("cache_creation_input_tokens", 0) > 0
        ),
        "by_model_group": _count_by(payloads, lambda p: p["model_group"]),
        "true_total_cost_usd": round(sum(cost for _, cost in built), 6),
    }
    return [dump(p) for p in payloads], stats


def _repeats(rng: random.Random, calls: list[Call], n: int) -> list[Call]:
    """Identical re-sends (page reloads) shortly after the original, so the response cache hits."""
    candidates = [
        c
        for c in calls
        if c.model in RESPONSE_CACHE_GROUPS
        and len(c.user_turns) == 1
        and c.ts_ms < MONTH_END_MS - RESPONSE_CACHE_TTL_MS
    ]
    return [
        replace(original, ts_ms=original.ts_ms + rng.randint(20, 400) * 1000)
        for original in rng.sample(candidates, n)
    ]


def _misreport_costs(rng: random.Random, payloads: list[Json]) -> list[str]:
    """Simulate a gateway pricing bug: logged cost off by 5-20% on a few rows."""
    eligible = [p for p in payloads if p["status"] == "success" and not p["cache_hit"]]
    chosen = rng.sample(eligible, GATEWAY_COUNTS["misreported"])
    for payload in chosen:
        factor = 1 + rng.choice((-1, 1)) * rng.uniform(0.05, 0.20)
        wrong = round(payload["response_cost"] * factor, 12)
        payload["response_cost"] = wrong
        payload["hidden_params"]["response_cost"] = wrong
    return sorted(p["id"] for p in chosen)
