"""``batch/``: OpenAI batch input and output files, and Anthropic batch results."""

from __future__ import annotations

import random
from collections.abc import Sequence

from samplegen.anthropic_app import CLAUDE_MODELS, ClaudeUsage, claude_message, claude_tokens
from samplegen.common import (
    BATCH_PRICE_CUTOVER_S,
    CLAUDE_SCALE,
    MONTH_START_MS,
    OPENAI_SCALE,
    Json,
    count_tokens,
    dump,
    iso_ms,
    rand_hex,
)
from samplegen.openai_app import chat_completion, chat_prompt_shape, openai_usage
from samplegen.traffic import Call, Feature, Question, answer_for, chat_messages

# --------------------------------------------------------------------------
# Batch files
# --------------------------------------------------------------------------

# (day of October 2026, submit hour UTC, requests) for each OpenAI batch job.
OPENAI_BATCH_JOBS = ((5, 2, 20), (8, 1, 20), (12, 3, 20), (16, 2, 20), (20, 1, 20), (25, 0, 20))
OPENAI_BATCH_EXPIRED_JOB = 4  # index of the job whose completion window ran out for two requests
OPENAI_BATCH_EXPIRED = 2
ANTHROPIC_BATCH_TWO_TURN = 20
ANTHROPIC_BATCH_ERRORS = (
    "messages: text content blocks must contain non-whitespace text",
    "prompt is too long: 212418 tokens > 200000 maximum",
)


def build_openai_batch(
    rng: random.Random, questions: dict[str, list[Question]], feature: Feature
) -> tuple[list[str], list[str], Json]:
    inputs: list[str] = []
    outputs: list[str] = []
    created_all: list[int] = []
    number = 0
    for job_index, (day, hour, size) in enumerate(OPENAI_BATCH_JOBS):
        submitted_s = MONTH_START_MS // 1000 + ((day - 1) * 24 + hour) * 3600 + rng.randrange(3600)
        expired = (
            set(rng.sample(range(size), OPENAI_BATCH_EXPIRED))
            if job_index == OPENAI_BATCH_EXPIRED_JOB
            else set()
        )
        job_outputs: list[str] = []
        for position in range(size):
            number += 1
            custom_id = f"req-{number:04d}"
            call = _batch_call(rng, questions["extraction"], feature, "gpt-4o-mini", submitted_s * 1000)
            messages = chat_messages(feature.system, call)
            inputs.append(
                dump(
                    {
                        "custom_id": custom_id,
                        "method": "POST",
                        "url": "/v1/chat/completions",
                        "body": {
                            "model": "gpt-4o-mini",
                            "messages": messages,
                            "temperature": 0,
                            "max_tokens": 1024,
                        },
                    }
                )
            )
            if position in expired:
                job_outputs.append(
                    dump(
                        {
                            "id": "batch_req_" + rand_hex(rng, 32),
                            "custom_id": custom_id,
                            "response": None,
                            "error": {
                                "code": "batch_expired",
                                "message": "This request could not be executed before the "
                                "completion window expired.",
                            },
                        }
                    )
                )
                continue
            created = submitted_s + rng.randint(60, 5 * 3600)
            created_all.append(created)
            prompt = chat_prompt_shape(messages, OPENAI_SCALE).total
            usage = openai_usage(prompt, 0, count_tokens(call.answer), 0)
            body = chat_completion(
                rng, created, "gpt-4o-mini-2024-07-18", call.answer, usage, "fp_51db84afab"
            )
            job_outputs.append(
                dump(
                    {
                        "id": "batch_req_" + rand_hex(rng, 32),
                        "custom_id": custom_id,
                        "response": {"status_code": 200, "request_id": rand_hex(rng, 32), "body": body},
                        "error": None,
                    }
                )
            )
        rng.shuffle(job_outputs)  # output order differs from input order; join on custom_id
        outputs.extend(job_outputs)
    stats = {
        "input_lines": len(inputs),
        "output_lines": len(outputs),
        "expired": OPENAI_BATCH_EXPIRED,
        "succeeded_before_2026_10_14": sum(1 for c in created_all if c < BATCH_PRICE_CUTOVER_S),
        "succeeded_on_or_after_2026_10_14": sum(1 for c in created_all if c >= BATCH_PRICE_CUTOVER_S),
        "created_range": [iso_ms(min(created_all) * 1000), iso_ms(max(created_all) * 1000)],
    }
    return inputs, outputs, stats


def _batch_call(
    rng: random.Random, pool: Sequence[Question], feature: Feature, model: str, ts_ms: int
) -> Call:
    question = rng.choice(pool)
    first = answer_for(rng, question, 0)
    if rng.random() < 0.3:
        return Call(
            ts_ms,
            feature,
            model,
            "batch",
            question.category,
            question.turns,
            (first,),
            answer_for(rng, question, 1),
        )
    return Call(ts_ms, feature, model, "batch", question.category, question.turns[:1], (), first)


def build_anthropic_batch(
    rng: random.Random, questions: dict[str, list[Question]], feature: Feature
) -> tuple[list[str], Json]:
    """An offline MT-Bench evaluation run through the Message Batches API (no timestamps per line)."""
    model = CLAUDE_MODELS["claude-haiku-4-5"]
    everything = [q for category in sorted(questions) for q in questions[category]]
    two_turn = {q.qid for q in rng.sample(everything, ANTHROPIC_BATCH_TWO_TURN)}
    calls: list[tuple[str, Call]] = []
    for question in everything:
        first = answer_for(rng, question, 0)
        calls.append(
            (
                f"mtbench-q{question.qid}-t1",
                Call(
                    0, feature, "claude-haiku-4-5", "batch", question.category, question.turns[:1], (), first
                ),
            )
        )
        if question.qid in two_turn:
            calls.append(
                (
                    f"mtbench-q{question.qid}-t2",
                    Call(
                        0,
                        feature,
                        "claude-haiku-4-5",
                        "batch",
                        question.category,
                        question.turns,
                        (first,),
                        answer_for(rng, question, 1),
                    ),
                )
            )
    failed = rng.sample(range(len(calls)), len(ANTHROPIC_BATCH_ERRORS) + 1)
    errored = dict(zip(failed[:-1], ANTHROPIC_BATCH_ERRORS, strict=True))
    lines: list[str] = []
    for index, (custom_id, call) in enumerate(calls):
        if index in errored:
            result: Json = {
                "type": "errored",
                "error": {
                    "type": "error",
                    "error": {"type": "invalid_request_error", "message": errored[index]},
                },
            }
        elif index == failed[-1]:
            result = {"type": "expired"}
        else:
            system_tokens, message_tokens = claude_tokens(feature.system, call)
            usage = ClaudeUsage(
                system_tokens + message_tokens, 0, 0, count_tokens(call.answer, CLAUDE_SCALE), None
            )
            result = {
                "type": "succeeded",
                "message": claude_message(rng, model.response_model, call.answer, usage.as_json("batch")),
            }
        lines.append(dump({"custom_id": custom_id, "result": result}))
    rng.shuffle(lines)
    stats = {
        "lines": len(lines),
        "succeeded": len(lines) - len(failed),
        "errored": len(errored),
        "expired": 1,
    }
    return lines, stats
