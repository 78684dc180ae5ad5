"""The LLM judge: prompts from template files, replies parsed strictly, verdicts per request.

Pairwise mode shows the logged and the candidate answer in both orders; an answer wins only if it
wins in both, so a verdict that flips with the order (position bias) is a tie. Rubric mode scores
each answer alone from 1 to 10 and uses the paired difference. A reply that does not parse is asked
again once, then recorded as unparsed: never guessed.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from dataclasses import dataclass
from importlib import resources
from typing import Any

from routecost.replay.client import ChatRequest

PAIRWISE, RUBRIC = "pairwise", "rubric"
TEMPLATE_FILES = {PAIRWISE: "pairwise-v1.txt", RUBRIC: "rubric-v1.txt"}
JUDGE_SYSTEM = "You are an impartial expert judge of assistant answers. You reply with JSON only."
JUDGE_MAX_TOKENS = 64
CANDIDATE, LOGGED, TIE, UNPARSED = "candidate", "logged", "tie", "unparsed"
LOGGED_FIRST, CANDIDATE_FIRST = "logged-first", "candidate-first"
"""Pairwise positions: which answer the judge saw as A."""
RUBRIC_CANDIDATE, RUBRIC_LOGGED = CANDIDATE, LOGGED
"""Rubric positions: which answer the judge scored."""
SCHEMAS: dict[str, dict[str, Any]] = {
    PAIRWISE: {"type": "object", "properties": {"winner": {"type": "string", "enum": ["A", "B", "tie"]}},
               "required": ["winner"], "additionalProperties": False},
    RUBRIC: {"type": "object", "properties": {"score": {"type": "integer", "enum": list(range(1, 11))}},
             "required": ["score"], "additionalProperties": False},
}
_JSON_OBJECT = re.compile(r"\{.*?\}", re.DOTALL)


@dataclass(frozen=True)
class Template:
    mode: str
    name: str
    text: str

    @property
    def version(self) -> str:
        """The file name and a digest of its text: editing a template re-judges, nothing else does."""
        return f"{self.name}#{hashlib.sha256(self.text.encode()).hexdigest()[:12]}"


def load_template(mode: str) -> Template:
    name = TEMPLATE_FILES[mode]
    text = resources.files("routecost.replay").joinpath("templates").joinpath(name).read_text(encoding="utf-8")
    return Template(mode, name, text)


def pairwise_request(template: Template, system: str, conversation: str, answer_a: str, answer_b: str) -> ChatRequest:
    prompt = string.Template(template.text).safe_substitute(
        system=system or "(none)", conversation=conversation, answer_a=answer_a, answer_b=answer_b
    )
    return ChatRequest(JUDGE_SYSTEM, (("user", prompt),), JUDGE_MAX_TOKENS, 0.0, SCHEMAS[PAIRWISE])


def rubric_request(template: Template, system: str, conversation: str, answer: str) -> ChatRequest:
    prompt = string.Template(template.text).safe_substitute(
        system=system or "(none)", conversation=conversation, answer=answer
    )
    return ChatRequest(JUDGE_SYSTEM, (("user", prompt),), JUDGE_MAX_TOKENS, 0.0, SCHEMAS[RUBRIC])


def conversation_text(messages: tuple[tuple[str, str], ...]) -> str:
    return "\n\n".join(f"{role.upper()}: {text}" for role, text in messages)


def parse_pairwise(reply: str, position: str) -> str | None:
    """The winner (``candidate``, ``logged`` or ``tie``) named by a pairwise reply; None if it does
    not parse."""
    value = _json_field(reply, "winner")
    if not isinstance(value, str):
        return None
    winner = value.strip().lower()
    if winner == "tie":
        return TIE
    if winner not in ("a", "b"):
        return None
    candidate_is_a = position == CANDIDATE_FIRST
    return CANDIDATE if (winner == "a") == candidate_is_a else LOGGED


def parse_score(reply: str) -> int | None:
    """A rubric score from 1 to 10; None if the reply does not hold one."""
    value = _json_field(reply, "score")
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        return None
    return int(value) if 1 <= value <= 10 else None


def _json_field(reply: str, name: str) -> object:
    for match in _JSON_OBJECT.finditer(reply):
        try:
            data = json.loads(match.group(0))
        except ValueError:
            continue
        if isinstance(data, dict) and name in data:
            return data[name]
    return None


def pairwise_outcome(first: str | None, second: str | None) -> str:
    """One request's result from its two orders: a side wins only if it wins both."""
    if first is None or second is None or UNPARSED in (first, second):
        return UNPARSED
    return first if first == second and first != TIE else TIE


def rubric_outcome(candidate: float | None, logged: float | None) -> str:
    if candidate is None or logged is None:
        return UNPARSED
    return CANDIDATE if candidate > logged else LOGGED if candidate < logged else TIE
