"""MT-Bench questions and answers, the features and how their traffic is planned, the providers'
prompt caches, and the in-house wrapper record."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass

from samplegen.common import (
    MONTH_END_MS,
    MT_BENCH,
    Json,
    WeightedModels,
    count_tokens,
    iso_ms,
    sample_instant,
    weighted,
)
from samplegen.prompts import (
    BLOG_HEADER,
    BLOG_STYLE_GUIDE,
    CODE_GUIDE,
    CODE_HEADER,
    ESSAY_HEADER,
    ESSAY_RUBRIC,
    EVAL_PROMPT,
    EXTRACT_GUIDE,
    EXTRACT_HEADER,
    EXTRACTION_ANSWERS,
    MATH_HEADER,
    OPENERS,
    PERSONA_GUIDE,
    PERSONA_HEADER,
    PUZZLE_HEADER,
    SCIENCE_HEADER,
    SHARED_POLICY,
    SUPPORT_FT_PROMPT,
    SYNTH_BANKS,
    SYNTH_TOKEN_RANGE,
    TRIAGE_HEADER,
    TRIAGE_ROUTING,
    _join,
)

# --------------------------------------------------------------------------
# MT-Bench data and answers
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    qid: int
    category: str
    turns: tuple[str, str]
    references: tuple[str, str] | None


def load_questions() -> dict[str, list[Question]]:
    refs: dict[int, tuple[str, str]] = {}
    for line in (MT_BENCH / "reference_answer_gpt-4.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        turns = row["choices"][0]["turns"]
        refs[row["question_id"]] = (turns[0], turns[1])
    by_category: dict[str, list[Question]] = {}
    for line in (MT_BENCH / "question.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        question = Question(
            row["question_id"],
            row["category"],
            (row["turns"][0], row["turns"][1]),
            refs.get(row["question_id"]),
        )
        by_category.setdefault(question.category, []).append(question)
    return by_category


def synth_answer(rng: random.Random, category: str) -> str:
    """Build an answer of plausible length from the category's sentence bank."""
    low, high = SYNTH_TOKEN_RANGE[category]
    target = rng.randint(low, high)
    bank = list(SYNTH_BANKS[category])
    rng.shuffle(bank)
    sentences = [rng.choice(OPENERS[category])]
    while count_tokens(" ".join(sentences)) < target:
        if not bank:
            bank = list(SYNTH_BANKS[category])
            rng.shuffle(bank)
        sentences.append(bank.pop())
    paragraphs = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
    return "\n\n".join(paragraphs)


def answer_for(rng: random.Random, question: Question, turn: int) -> str:
    if question.references is not None:
        return question.references[turn]
    if question.qid in EXTRACTION_ANSWERS:
        return EXTRACTION_ANSWERS[question.qid][turn]
    return synth_answer(rng, question.category)


# --------------------------------------------------------------------------
# Features and traffic planning
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Feature:
    name: str
    category: str | None  # MT-Bench category it serves; None means any category.
    team: str
    system: str
    temperature: float


def build_features() -> dict[str, Feature]:
    """Cacheable features carry the shared policy (their prompts just exceed 1,024 tokens);
    small features keep short prompts; the triage handbook exceeds Haiku 4.5's 4,096 minimum."""
    guides = (
        BLOG_HEADER,
        BLOG_STYLE_GUIDE,
        PERSONA_HEADER,
        PERSONA_GUIDE,
        CODE_HEADER,
        CODE_GUIDE,
        EXTRACT_HEADER,
        EXTRACT_GUIDE,
        ESSAY_HEADER,
        ESSAY_RUBRIC,
        MATH_HEADER,
        SCIENCE_HEADER,
        PUZZLE_HEADER,
    )
    handbook = _join(TRIAGE_HEADER, TRIAGE_ROUTING, SHARED_POLICY, *guides)
    features = (
        Feature(
            "blog-writer", "writing", "marketing", _join(BLOG_HEADER, SHARED_POLICY, BLOG_STYLE_GUIDE), 0.7
        ),
        Feature(
            "persona-chat", "roleplay", "stage", _join(PERSONA_HEADER, SHARED_POLICY, PERSONA_GUIDE), 0.9
        ),
        Feature("puzzle-helper", "reasoning", "games", _join(PUZZLE_HEADER), 0.3),
        Feature("math-tutor", "math", "learn", _join(MATH_HEADER), 0.2),
        Feature("code-assistant", "coding", "devex", _join(CODE_HEADER, SHARED_POLICY, CODE_GUIDE), 0.2),
        Feature(
            "doc-extractor", "extraction", "docs", _join(EXTRACT_HEADER, SHARED_POLICY, EXTRACT_GUIDE), 0.0
        ),
        Feature("science-qa", "stem", "learn", _join(SCIENCE_HEADER), 0.3),
        Feature("essay-coach", "humanities", "learn", _join(ESSAY_HEADER, ESSAY_RUBRIC), 0.5),
        Feature("support-reply", "writing", "support", SUPPORT_FT_PROMPT, 0.4),
        Feature("support-triage", None, "support", handbook, 0.2),
        Feature("mtbench-eval", None, "ml-platform", EVAL_PROMPT, 0.0),
    )
    return {feature.name: feature for feature in features}


@dataclass(frozen=True)
class TrafficSpec:
    feature: Feature
    weight: float
    models: WeightedModels
    two_turn_p: float = 0.3
    mean_conversations: float = 2.5


@dataclass(frozen=True)
class Call:
    """One planned request: the k-th user turn of a conversation (earlier turns are history)."""

    ts_ms: int
    feature: Feature
    model: str
    user_id: str
    category: str
    user_turns: tuple[str, ...]
    prior_answers: tuple[str, ...]
    answer: str
    kind: str = "ok"


USERS = tuple(f"u_{i:03d}" for i in range(1, 141))
USER_WEIGHTS = tuple(1 / i**0.8 for i in range(1, 141))


class Planner:
    """Turns traffic specs into sessions of calls with a realistic time shape."""

    def __init__(self, rng: random.Random, questions: dict[str, list[Question]]) -> None:
        self._rng = rng
        self._questions = questions

    def plan(self, n: int, specs: Sequence[TrafficSpec], kind: str = "ok") -> list[Call]:
        calls: list[Call] = []
        while len(calls) < n:
            spec = self._rng.choices(specs, weights=[s.weight for s in specs])[0]
            calls.extend(self._session(spec, kind))
        return calls[:n]

    def _session(self, spec: TrafficSpec, kind: str) -> list[Call]:
        """A user's burst of conversations with one feature and model, seconds to minutes apart."""
        rng = self._rng
        model = weighted(rng, spec.models)
        user = rng.choices(USERS, weights=USER_WEIGHTS)[0]
        n_conversations = 1
        while rng.random() < 1 - 1 / spec.mean_conversations:
            n_conversations += 1
        category = spec.feature.category or rng.choice(sorted(self._questions))
        pool = self._questions[category]
        picks = rng.sample(pool, min(n_conversations, len(pool)))
        planned: list[tuple[int, Question, int, tuple[str, ...], str]] = []
        offset = 0
        for question in picks:
            first = answer_for(rng, question, 0)
            planned.append((offset, question, 1, (), first))
            if rng.random() < spec.two_turn_p:
                offset += rng.randint(40, 240) * 1000
                planned.append((offset, question, 2, (first,), answer_for(rng, question, 1)))
            offset += rng.randint(30, 420) * 1000
        start = min(sample_instant(rng), MONTH_END_MS - planned[-1][0])
        jitter = [rng.randrange(1000) for _ in planned]
        return [
            Call(
                start + off + j,
                spec.feature,
                model,
                user,
                question.category,
                question.turns[:turns],
                history,
                answer,
                kind,
            )
            for (off, question, turns, history, answer), j in zip(planned, jitter, strict=True)
        ]


def chronological(calls: list[Call]) -> list[Call]:
    return sorted(calls, key=lambda call: call.ts_ms)


def chat_messages(system: str | None, call: Call) -> list[Json]:
    messages: list[Json] = [{"role": "system", "content": system}] if system is not None else []
    for i, text in enumerate(call.user_turns):
        messages.append({"role": "user", "content": text})
        if i < len(call.prior_answers):
            messages.append({"role": "assistant", "content": call.prior_answers[i]})
    return messages


# Loggers clip long request strings to keep log rows small (as LiteLLM does with
# MAX_STRING_LENGTH_PROMPT_IN_DB): 35% head + marker + 65% tail. Usage still counts the full prompt.
APP_LOG_CLIP_CHARS = 800
APP_LOG_MARKER = "... (acme-llm-logger truncated: skipped {n} chars) ..."
LITELLM_CLIP_CHARS = 1000
LITELLM_MARKER = "... (litellm_truncated skipped {n} chars) ..."


def clip(text: str, limit: int, marker: str) -> str:
    if len(text) <= limit:
        return text
    head, tail = int(limit * 0.35), int(limit * 0.65)
    return text[:head] + marker.format(n=len(text) - head - tail) + text[len(text) - tail :]


def clip_messages(messages: list[Json], limit: int, marker: str) -> list[Json]:
    """Copy of ``messages`` as the logger stores them (string and text-block contents clipped)."""
    logged: list[Json] = []
    for message in messages:
        content = message["content"]
        if isinstance(content, str):
            content = clip(content, limit, marker)
        else:
            content = [{**block, "text": clip(block["text"], limit, marker)} for block in content]
        logged.append({**message, "content": content})
    return logged


def tags_for(rng: random.Random, category: str) -> list[str]:
    env = "env:staging" if rng.random() < 0.05 else "env:prod"
    return [env, f"category:{category}"]


# --------------------------------------------------------------------------
# Provider-side prompt caches
# --------------------------------------------------------------------------


class PrefixCache:
    """Automatic prefix caching (OpenAI, Gemini implicit): hits on a recently used prefix.

    ``granularity`` rounds the cached length down (OpenAI caches in 128-token blocks);
    ``min_tokens`` is the provider's minimum cacheable prefix.
    """

    def __init__(self, rng: random.Random, min_tokens: int, granularity: int, ttl_s: tuple[int, int]) -> None:
        self._rng = rng
        self._min = min_tokens
        self._granularity = granularity
        self._ttl_s = ttl_s
        self._last_used: dict[tuple[str, str], int] = {}

    def lookup(self, model: str, prefixes: Sequence[tuple[str, int]], now_ms: int) -> int:
        ttl_ms = self._rng.randint(*self._ttl_s) * 1000
        best = 0
        for key, tokens in prefixes:
            last = self._last_used.get((model, key))
            if last is not None and now_ms - last <= ttl_ms:
                best = max(best, tokens)
            self._last_used[(model, key)] = now_ms
        if best < self._min:
            return 0
        return best // self._granularity * self._granularity


class ExplicitCache:
    """Anthropic-style cache_control breakpoint: write on miss, read on hit, TTL refreshed on use."""

    def __init__(self) -> None:
        self._expiry: dict[tuple[str, str], int] = {}

    def use(self, model: str, key: str, ttl_s: int, now_ms: int) -> bool:
        """Return True on a cache read, False on a cache write."""
        expiry = self._expiry.get((model, key))
        self._expiry[(model, key)] = now_ms + ttl_s * 1000
        return expiry is not None and now_ms < expiry


def latency(
    rng: random.Random, uncached_prompt: int, output_tokens: int, tokens_per_s: float
) -> tuple[int, int]:
    """(time to first token, total) in ms: queueing + prefill + decode."""
    ttft = rng.randint(180, 650) + int(uncached_prompt * 0.04)
    decode = int(output_tokens / tokens_per_s * 1000 * rng.uniform(0.85, 1.3))
    return ttft, ttft + decode


def wrapper(rng: random.Random, call: Call, latency_ms: int, request: Json) -> Json:
    return {
        "ts": iso_ms(call.ts_ms),
        "latency_ms": latency_ms,
        "user_id": call.user_id,
        "tags": tags_for(rng, call.category),
        "metadata": {"feature": call.feature.name, "team": call.feature.team},
        "request": request,
    }
