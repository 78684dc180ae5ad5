"""Checks of the judge, made on every replay: can it tell answers apart, does its verdict follow the
order it sees them in, does it agree with itself.

A control pair puts a request's logged answer against a deliberately broken copy of it, so the right
verdict is known: the answer cut to its first third (mid-sentence), or another request's answer.
Each is judged like a real pair (in both orders, pairwise; each answer scored, rubric), and its first
judgment is asked once more. From those and the real judgments:

- right: control pairs where the intact answer won (in both orders; a higher score);
- order flips: pairwise judgments whose winner changed with the order (position bias);
- self-agreement: repeated judgments with the same verdict (rubric: within a point).

A judge below any bar, or checked on fewer than ``MIN_CONTROLS`` pairs, leaves every category's
quality *unmeasured*, never "no change": a judge that always answers "A" turns every real pair
into a tie, which would otherwise read as "no change, certain". A category whose own pairs flip too
often is unmeasured too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from routecost.replay.judge import (
    CANDIDATE,
    CANDIDATE_FIRST,
    LOGGED,
    LOGGED_FIRST,
    PAIRWISE,
    RUBRIC_CANDIDATE,
    RUBRIC_LOGGED,
    UNPARSED,
    pairwise_outcome,
)

CHECK = "check"
"""The store's ``kind`` for the judge's check calls."""
TRUNCATED, ANOTHER_ANSWER = "truncated", "another answer"
MIN_WORDS_TO_TRUNCATE = 12
MIN_CONTROLS = 3
MIN_RIGHT = 0.75
MAX_FLIPS = 0.4
MIN_AGREEMENT = 0.7
MIN_CATEGORY_PAIRS = 5
"""A category's own order flips count once it has this many pairs."""
RUBRIC_AGREEMENT_POINTS = 1.0

CONTROL_PREFIX, REPEAT_PREFIX = "control/", "repeat/"
CHECK_POSITIONS: dict[str, tuple[tuple[str, str], ...]] = {
    PAIRWISE: ((CONTROL_PREFIX + LOGGED_FIRST, LOGGED_FIRST), (CONTROL_PREFIX + CANDIDATE_FIRST, CANDIDATE_FIRST),
               (REPEAT_PREFIX + LOGGED_FIRST, LOGGED_FIRST)),
    "rubric": ((CONTROL_PREFIX + RUBRIC_LOGGED, RUBRIC_LOGGED), (CONTROL_PREFIX + RUBRIC_CANDIDATE, RUBRIC_CANDIDATE),
               (REPEAT_PREFIX + RUBRIC_LOGGED, RUBRIC_LOGGED)),
}
"""Per judge mode, each check call's stored position and the judgment it repeats: the broken copy
stands where a candidate's answer would, so a control is judged exactly like a real pair."""


@dataclass(frozen=True)
class Control:
    """A logged answer and a broken copy of it: the intact answer should win."""

    request: str
    kind: str
    broken: str

    @property
    def key(self) -> str:
        """What the store files the pair's check calls under (in ``candidate_key``)."""
        return hashlib.sha256(json.dumps([self.request, self.kind, self.broken]).encode()).hexdigest()


def draw_controls(answers: Mapping[str, str], count: int) -> list[Control]:
    """Up to ``count`` control pairs from the sampled requests' logged answers (by request digest):
    first one per request (truncated when the answer is long enough, else another request's answer),
    then the other kind."""
    requests = sorted(answers, key=lambda request: hashlib.sha256(request.encode()).hexdigest())
    first: list[Control] = []
    second: list[Control] = []
    for index, request in enumerate(requests):
        made = [control for control in (_truncated(request, answers[request]),
                                        _another(request, answers, requests, index)) if control is not None]
        first += made[:1]
        second += made[1:]
    return (first + second)[:count]


def _truncated(request: str, answer: str) -> Control | None:
    words = answer.split()
    if len(words) < MIN_WORDS_TO_TRUNCATE:
        return None
    return Control(request, TRUNCATED, " ".join(words[: len(words) // 3]))


def _another(request: str, answers: Mapping[str, str], requests: Sequence[str], index: int) -> Control | None:
    """The next request's answer (in digest order) that differs from this one."""
    own = " ".join(answers[request].split()).casefold()
    for step in range(1, len(requests)):
        other = answers[requests[(index + step) % len(requests)]]
        if " ".join(other.split()).casefold() != own:
            return Control(request, ANOTHER_ANSWER, other)
    return None


@dataclass(frozen=True)
class CheckCall:
    """A stored check judgment: which control pair, which position, its verdict or score."""

    control: str
    position: str
    verdict: str | None
    score: float | None


@dataclass(frozen=True)
class JudgeCheck:
    mode: str
    controls: int
    """Control pairs with a verdict."""
    right: int
    pairs: int
    """Pairwise judgments with both orders parsed, real and control."""
    flips: int
    repeats: int
    agreeing: int

    @property
    def failures(self) -> list[str]:
        """Why the judge's verdicts cannot be trusted (none: they can)."""
        problems = []
        if self.controls < MIN_CONTROLS:
            problems.append(f"it was checked on {self.controls} control pairs, fewer than {MIN_CONTROLS}")
        elif self.right < MIN_RIGHT * self.controls:
            problems.append(f"it preferred the intact answer to a broken copy in only {self.right} of {self.controls} "
                            "control pairs")
        if self.pairs and self.flips > MAX_FLIPS * self.pairs:
            problems.append(f"its verdict changed with the order of the answers in {self.flips} of {self.pairs} pairs "
                            "(position bias)")
        if self.repeats and self.agreeing < MIN_AGREEMENT * self.repeats:
            problems.append(f"it agreed with itself in only {self.agreeing} of {self.repeats} repeated judgments")
        return problems

    @property
    def passed(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        flips = f"order flips {_share(self.flips, self.pairs)}, " if self.mode == PAIRWISE else ""
        verdict = "passed" if self.passed else "FAILED: " + "; ".join(self.failures)
        return (f"judge checks: intact answer preferred in {self.right} of {self.controls} control pairs, {flips}"
                f"self-agreement {self.agreeing} of {self.repeats}: {verdict}")


def _share(part: int, whole: int) -> str:
    return f"{part} of {whole} pairs ({100 * part / whole:.0f}%)" if whole else "none measured"


def judge_check(calls: Iterable[CheckCall], mode: str, real_pairs: int, real_flips: int) -> JudgeCheck | None:
    """The judge's checks from its stored check calls (None when there are none) and the order flips
    of its real pairwise judgments."""
    by_control: dict[str, dict[str, CheckCall]] = {}
    for call in calls:
        by_control.setdefault(call.control, {})[call.position] = call
    if not by_control:
        return None
    control, other, repeat = (position for position, _ in CHECK_POSITIONS[mode])
    controls = right = pairs = flips = repeats = agreeing = 0
    for positions in by_control.values():
        first, second, again = positions.get(control), positions.get(other), positions.get(repeat)
        if first is None or second is None:
            continue
        if mode == PAIRWISE:
            outcome = pairwise_outcome(first.verdict, second.verdict)
            if outcome == UNPARSED:
                continue
            controls += 1
            right += outcome == LOGGED  # the intact answer stands where the logged one does
            pairs += 1
            flips += is_flip(first.verdict, second.verdict)
        else:
            if first.score is None or second.score is None:
                continue
            controls += 1
            right += first.score > second.score
        if again is not None and _parsed(again):
            repeats += 1
            agreeing += _agree(first, again, mode)
    return JudgeCheck(mode, controls, right, pairs + real_pairs, flips + real_flips, repeats, agreeing)


def is_flip(first: str | None, second: str | None) -> bool:
    """Whether a pair's two orders named opposite winners: the verdict followed the position."""
    return {first, second} == {CANDIDATE, LOGGED}


def _parsed(call: CheckCall) -> bool:
    return call.score is not None if call.verdict == "scored" else call.verdict not in (None, UNPARSED)


def _agree(first: CheckCall, again: CheckCall, mode: str) -> bool:
    if mode == PAIRWISE:
        return first.verdict == again.verdict
    return first.score is not None and again.score is not None and \
        abs(first.score - again.score) <= RUBRIC_AGREEMENT_POINTS


def category_flips(pairs: int, flips: int) -> str | None:
    """Why a category's quality is unmeasured by its own order flips (None: it is not)."""
    if pairs >= MIN_CATEGORY_PAIRS and flips > MAX_FLIPS * pairs:
        return f"the judge's verdict changed with the order in {flips} of {pairs} of this category's pairs"
    return None


def unmeasured_reason(check: JudgeCheck | None) -> str | None:
    """Why no category's quality is measured under this judge (None: the judge passed its checks)."""
    if check is None:
        return "the judge was not checked (no control pairs stored for this judge and template)"
    if not check.passed:
        return "the judge failed its checks: " + "; ".join(check.failures)
    return None
