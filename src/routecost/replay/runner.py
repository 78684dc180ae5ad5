"""``routecost replay``: plan, then send a sample of moved requests to their new models and judge them.

The plan (what ``--dry-run`` prints) is built from the logs and the store alone: which requests,
how many calls to which models at which endpoints, and what they would cost at catalog prices
(judge included), counting only the calls the store does not already hold. Running it sends each
request's logged conversation (system prompt and user/assistant turns) to the policy's model for
it, then has the judge compare the answer with the logged one. Every call is stored as it
completes, so an interrupted run resumes where it stopped. ``--max-spend`` reserves each call's
worst case (its input at the catalog price, with a margin for another tokenizer, plus
``max_tokens`` of output) before sending it, so the spend cannot pass the limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from routecost.audit import Audit
from routecost.errors import UsageError
from routecost.policy.model import TrimRule
from routecost.prices.catalog import STANDARD, PriceBook, Unpriced
from routecost.replay.checks import CHECK, CHECK_POSITIONS, Control, JudgeCheck, draw_controls
from routecost.replay.client import ChatClient, ChatRequest, ChatResult, RetryPolicy, turns
from routecost.replay.endpoints import Endpoint, Endpoints
from routecost.replay.judge import (
    CANDIDATE_FIRST,
    JUDGE_MAX_TOKENS,
    LOGGED_FIRST,
    PAIRWISE,
    RUBRIC_CANDIDATE,
    RUBRIC_LOGGED,
    UNPARSED,
    Template,
    conversation_text,
    pairwise_request,
    parse_pairwise,
    parse_score,
    rubric_request,
)
from routecost.replay.results import (
    CategoryResult,
    EndpointResult,
    JudgeConfig,
    by_endpoint,
    round_usd,
    spend_by_category,
    summarize,
    usd_total,
    verdicts,
)
from routecost.replay.sample import SampleSize, draw_sample, replay_candidates
from routecost.replay.store import CallRecord, ReplayStore, call_key, is_claim, is_done, request_digest
from routecost.simulate.trimming import kept_messages, replayed_tag
from routecost.sources import RequestText
from routecost.sources.texts import TextRef, read_texts
from routecost.tokens import O200K, prompt_token_count

MIN_MAX_TOKENS, MAX_MAX_TOKENS = 256, 4096
INPUT_MARGIN = 1.25
"""Worst-case input on another model's tokenizer, for the spend limit."""


@dataclass(frozen=True)
class ReplaySettings:
    size: SampleSize = field(default_factory=SampleSize)
    seed: int = 0
    judge: str = "openai/gpt-4.1"
    judge_mode: str = PAIRWISE
    concurrency: int = 8
    max_spend_usd: float | None = None
    timeout_s: float = 60.0
    retries: int = 4
    judge_checks: int = 10
    """Control pairs to check the judge on (0: none, and quality is then unmeasured)."""


@dataclass(frozen=True)
class ReplayTask:
    """One sampled request: where it was logged, what it asked and answered, where it goes now."""

    request: str
    """Digest of the logged conversation: what a stored call is keyed on."""
    source: str
    offset: int
    line: int
    category: str
    logged_model: str
    target_model: str
    escalate_to: str | None
    text: RequestText
    logged_input_tokens: int
    logged_output_tokens: int
    candidate: ChatRequest

    trim_tag: str = ""
    """Set when the candidate's prompt is trimmed (``trimming.replayed_tag``)."""

    @property
    def filed_target(self) -> str:
        """The target its calls are stored under: the model, and how its prompt was trimmed."""
        return self.target_model + self.trim_tag

    @property
    def candidate_key(self) -> str:
        return call_key("candidate", self.request, self.filed_target, self.candidate.max_tokens,
                        self.candidate.temperature)


@dataclass
class ReplayPlan:
    policy: str
    candidates: int
    tasks: list[ReplayTask]
    skipped: Counter[str]
    judge: str
    template: Template
    endpoints: dict[str, Endpoint]
    calls_to_send: Counter[str]
    estimated_usd: float
    unpriced_calls: int
    stored_calls: int
    judge_estimated_usd: float = 0.0
    """The judge's part of ``estimated_usd`` (usually most of it), its checks included."""
    controls: list[Control] = field(default_factory=list)
    judge_calls: list[tuple[int, int]] = field(default_factory=list)
    """Input and expected output tokens of each judge call to send (to price another judge)."""
    check_calls: int = 0
    """Calls of the judge's checks still to send (part of ``calls_to_send``)."""
    cheaper_judge: tuple[str, float] | None = None
    """A judge on the same endpoint that would cost at most half as much, and its estimate."""


def plan_replay(audit: Audit, settings: ReplaySettings, template: Template, endpoints: Endpoints,
                store: ReplayStore) -> ReplayPlan:
    projection = audit.report.policies[0]
    candidates = replay_candidates(audit.priced.requests, projection.rows)
    sample = draw_sample(candidates, settings.size, settings.seed)
    texts = read_texts(TextRef.of(sample))
    tasks: list[ReplayTask] = []
    skipped: Counter[str] = Counter()
    for row, text in zip(sample.iter_rows(named=True), texts, strict=True):
        rule = None if row["trim_rule"] is None else projection.policy.trim[row["trim_rule"]]
        task = _task(row, text, skipped, rule)
        if task is not None:
            tasks.append(task)
    models = sorted({task.target_model for task in tasks} | ({settings.judge} if tasks else set()))
    resolved = {model: endpoints.for_model(model) for model in models}
    missing = [model for model, endpoint in resolved.items() if endpoint is None]
    if missing:
        raise UsageError(f"no endpoint for {', '.join(missing)}: add it to an --endpoints file")
    plan = ReplayPlan(projection.name, candidates.height, tasks, skipped, settings.judge, template,
                      {model: endpoint for model, endpoint in resolved.items() if endpoint is not None},
                      Counter(), 0.0, 0, 0,
                      controls=draw_controls({task.request: task.text.answer for task in tasks}, settings.judge_checks))
    _estimate(plan, settings, audit.book, store)
    plan.estimated_usd, plan.judge_estimated_usd = round_usd(plan.estimated_usd), round_usd(plan.judge_estimated_usd)
    plan.cheaper_judge = cheaper_judge(plan, audit.book)
    return plan


def _task(row: dict[str, object], text: RequestText | None, skipped: Counter[str],
          trim: TrimRule | None = None) -> ReplayTask | None:
    """The replay of one sampled request: its conversation sent to the target as the policy would
    send it (its history capped and its system prompt replaced, when a trim rule says so)."""
    if text is None:
        skipped["the logged record could not be read back"] += 1
        return None
    if row["has_tools"]:
        skipped["it offers tools (their calls cannot be replayed)"] += 1
        return None
    tag = replayed_tag(trim)
    if trim is not None and not tag and row["routed_model"] == row["model_id"]:
        skipped["its only change is a `system: share` cut, projected but not replayed (give `system_file`: "
                "your shorter prompt)"] += 1
        return None
    conversation = turns(text.messages)
    if not conversation or conversation[-1][0] != "user":
        skipped["no user turn to answer"] += 1
        return None
    if not text.answer:
        skipped["no logged answer to compare with"] += 1
        return None
    output_tokens = int(row["output_tokens"] or 0)  # type: ignore[call-overload]
    max_tokens = min(max(2 * output_tokens, MIN_MAX_TOKENS), MAX_MAX_TOKENS)
    temperature = row["temperature"]
    request = request_digest(text.system, conversation, str(row["model_id"]))
    if tag and trim is not None:
        conversation = turns(kept_messages(text.messages, trim.history_turns)) or conversation
    system = text.system if trim is None or trim.system_text is None else trim.system_text
    return ReplayTask(
        request=request, source=os.path.abspath(str(row["source"])), offset=int(row["offset"]),  # type: ignore[call-overload]
        line=int(row["line"]), category=str(row["category"]),  # type: ignore[call-overload]
        logged_model=str(row["model_id"]), target_model=str(row["routed_model"]),
        escalate_to=None if row["escalate_to"] is None else str(row["escalate_to"]), text=text,
        logged_input_tokens=int(row["input_tokens"] or 0),  # type: ignore[call-overload]
        logged_output_tokens=output_tokens,
        candidate=ChatRequest(system, conversation, max_tokens,
                              None if temperature is None else float(temperature)),  # type: ignore[arg-type]
        trim_tag=tag,
    )


def _estimate(plan: ReplayPlan, settings: ReplaySettings, book: PriceBook, store: ReplayStore) -> None:
    """Calls still to send, per model, and what they would cost (expected, not worst case)."""
    for task in plan.tasks:
        candidate = store.get(task.candidate_key)
        if not is_done(candidate):
            _count(plan, book, task.target_model, task.logged_input_tokens, task.logged_output_tokens)
        else:
            plan.stored_calls += 1
        judge_input = judge_prompt_tokens(plan.template, task, task.text.answer)
        for position in judge_positions(settings.judge_mode):
            judged = None if candidate is None else store.get(judge_key(task, candidate, plan.judge, plan.template,
                                                                         position))
            if is_done(judged):
                plan.stored_calls += 1
            else:
                plan.judge_estimated_usd += _count_judge(plan, book, judge_input)
    tasks = {task.request: task for task in plan.tasks}
    for control in plan.controls:
        task = tasks[control.request]
        check_input = judge_prompt_tokens(plan.template, task, control.broken)
        for position, _ in CHECK_POSITIONS[plan.template.mode]:
            if is_done(store.get(check_key(control, plan.judge, plan.template, position))):
                plan.stored_calls += 1
            else:
                plan.check_calls += 1
                plan.judge_estimated_usd += _count_judge(plan, book, check_input)


def _count_judge(plan: ReplayPlan, book: PriceBook, input_tokens: int) -> float:
    plan.judge_calls.append((input_tokens, JUDGE_EXPECTED_OUTPUT))
    return _count(plan, book, plan.judge, input_tokens, JUDGE_EXPECTED_OUTPUT)


JUDGE_EXPECTED_OUTPUT = JUDGE_MAX_TOKENS // 4
"""A verdict is a short JSON object."""
CHEAPER_JUDGES = ("openai/gpt-4.1-mini", "anthropic/claude-haiku-4-5", "google/gemini-2.5-flash", "openai/gpt-4.1",
                  "anthropic/claude-sonnet-4-5", "google/gemini-2.5-pro")
"""Judges worth suggesting when the chosen one costs at least twice as much (capable models; the
checks of a run under one show whether it judges well enough)."""


def cheaper_judge(plan: ReplayPlan, book: PriceBook) -> tuple[str, float] | None:
    """The cheapest of ``CHEAPER_JUDGES`` the judge's endpoint serves, with what the plan's judge calls
    would cost on it, when that is at most half the judge's estimate; it is never one of the models judged."""
    endpoint = plan.endpoints.get(plan.judge)
    if endpoint is None or not plan.judge_calls or not plan.judge_estimated_usd:
        return None
    judged = {task.target_model for task in plan.tasks}
    options = []
    for model in CHEAPER_JUDGES:
        if model == plan.judge or model in judged or not endpoint.serves(model):
            continue
        costs = [call_cost(book, model, input_tokens, output_tokens) for input_tokens, output_tokens in plan.judge_calls]
        if all(cost is not None for cost in costs):
            options.append((usd_total(cost for cost in costs if cost is not None), model))
    if not options:
        return None
    cost, model = min(options)
    return (model, cost) if cost <= plan.judge_estimated_usd / 2 else None


def _count(plan: ReplayPlan, book: PriceBook, model: str, input_tokens: int, output_tokens: int) -> float:
    """Count a call to send and add its expected cost to the plan's; that cost (0 when unpriced)."""
    plan.calls_to_send[model] += 1
    cost = call_cost(book, model, input_tokens, output_tokens)
    if cost is None:
        plan.unpriced_calls += 1
        return 0.0
    plan.estimated_usd += cost
    return cost


def judge_positions(mode: str) -> tuple[str, ...]:
    return (LOGGED_FIRST, CANDIDATE_FIRST) if mode == PAIRWISE else (RUBRIC_CANDIDATE, RUBRIC_LOGGED)


def judge_prompt_tokens(template: Template, task: ReplayTask, candidate_answer: str) -> int:
    request = _judge_request(template, task, candidate_answer, LOGGED_FIRST if template.mode == PAIRWISE
                             else RUBRIC_CANDIDATE)
    return prompt_token_count(RequestText(system=request.system, messages=request.messages), O200K)


def call_cost(book: PriceBook, model_id: str, input_tokens: int, output_tokens: int) -> float | None:
    """A call's cost at today's catalog (or price-file) prices; None for unpriced models."""
    model = book.model(model_id)
    if isinstance(model, Unpriced):
        return None
    card = book.card(model, datetime.now(UTC), STANDARD).card
    band = sum(input_tokens > threshold for threshold in card.thresholds)
    return (input_tokens * card.rate("uncached_input", band) + output_tokens * card.rate("output", band)
            + card.rate("request", band))


@dataclass
class RunOutcome:
    sent: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    spent_usd: float = 0.0
    stopped_by_budget: int = 0
    """Calls not sent because they could have passed ``--max-spend``."""
    sent_by_another_run: int = 0
    """Calls not sent because another replay on the same store was sending them."""
    json_fallbacks: dict[tuple[str, str], str] = field(default_factory=dict)
    """Per endpoint and model: the weaker way judge calls asked for JSON after a refusal."""


class Budget:
    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self.spent = 0.0
        self.reserved = 0.0

    def reserve(self, worst_case: float | None) -> bool:
        if self.limit is None:
            return True
        if worst_case is None or self.spent + self.reserved + worst_case > self.limit:
            return False
        self.reserved += worst_case
        return True

    def settle(self, reserved: float | None, actual: float | None) -> None:
        if self.limit is not None and reserved is not None:
            self.reserved -= reserved
        self.spent += actual or 0.0


ProgressCallback = Callable[[int], None]


async def execute(plan: ReplayPlan, settings: ReplaySettings, book: PriceBook, store: ReplayStore,
                  on_progress: ProgressCallback | None = None) -> RunOutcome:
    outcome = RunOutcome()
    budget = Budget(settings.max_spend_usd)
    retry = RetryPolicy(retries=settings.retries, timeout_s=settings.timeout_s)
    async with ChatClient(settings.concurrency, retry) as client:
        runner = _Runner(plan, settings, book, store, client, budget, outcome)
        tasks = {task.request: task for task in plan.tasks}
        pending = [asyncio.ensure_future(runner.run(task)) for task in plan.tasks]
        pending += [asyncio.ensure_future(runner.check(tasks[control.request], control)) for control in plan.controls]
        for finished in asyncio.as_completed(pending):
            await finished
            if on_progress:
                on_progress(1)
        outcome.json_fallbacks = client.stepped_down()
    outcome.spent_usd = round_usd(budget.spent)
    return outcome


@dataclass
class _Runner:
    plan: ReplayPlan
    settings: ReplaySettings
    book: PriceBook
    store: ReplayStore
    client: ChatClient
    budget: Budget
    outcome: RunOutcome

    async def run(self, task: ReplayTask) -> None:
        candidate = self.store.get(task.candidate_key)
        if candidate is None or not candidate.ok:
            stub = CallRecord(key=task.candidate_key, kind="candidate", request=task.request,
                              target_model=task.filed_target, model=task.target_model, ok=False)
            result = await self._claimed_call(stub, task.candidate, task.logged_input_tokens)
            if result is None:
                return
            candidate = CallRecord(
                key=task.candidate_key, kind="candidate", request=task.request, target_model=task.filed_target,
                model=task.target_model, ok=result.ok, source=task.source, byte_offset=task.offset, line=task.line,
                category=task.category, logged_model=task.logged_model, answer=result.text if result.ok else None,
                input_tokens=result.input_tokens, output_tokens=result.output_tokens,
                logged_output_tokens=task.logged_output_tokens, cost_usd=self._cost(task.target_model, result),
                latency_ms=round(result.latency_ms, 1), attempts=result.attempts, error=result.error,
            )
            self.store.put(candidate)
            if not result.ok:
                return
        for position in judge_positions(self.settings.judge_mode):
            await self._judge(task, candidate, position)

    async def _judge(self, task: ReplayTask, candidate: CallRecord, position: str) -> None:
        await self._ask_judge(task, "judge", judge_key(task, candidate, self.plan.judge, self.plan.template, position),
                              position, position, candidate.answer or "",
                              None if position == RUBRIC_LOGGED else candidate.key)

    async def check(self, task: ReplayTask, control: Control) -> None:
        """The judge's check calls on one control pair (the broken copy where a candidate's answer goes)."""
        for position, shown in CHECK_POSITIONS[self.plan.template.mode]:
            await self._ask_judge(task, CHECK, check_key(control, self.plan.judge, self.plan.template, position),
                                  position, shown, control.broken, control.key)

    async def _ask_judge(self, task: ReplayTask, kind: str, key: str, position: str, shown: str, answer: str,
                         candidate_key: str | None) -> None:
        """One judgment of ``answer`` against the logged one, shown as ``shown``, stored under ``key``."""
        if is_done(self.store.get(key)):  # an unparsed reply is asked again
            return
        request = _judge_request(self.plan.template, task, answer, shown)
        input_tokens = prompt_token_count(RequestText(system=request.system, messages=request.messages), O200K)
        stub = CallRecord(key=key, kind=kind, request=task.request, target_model=task.filed_target,
                          model=self.plan.judge, ok=False)
        result = await self._claimed_call(stub, request, input_tokens)
        if result is None:
            return
        verdict, score = self._verdict(result, shown)
        cost, attempts = self._cost(self.plan.judge, result), result.attempts
        if result.ok and verdict is None:  # a reply that does not parse is asked again once
            again = await self._call(self.plan.judge, request, input_tokens)
            if again is not None and again.ok:
                result, (verdict, score) = again, self._verdict(again, shown)
                cost, attempts = _total(cost, self._cost(self.plan.judge, again)), attempts + again.attempts
        self.store.put(CallRecord(
            key=key, kind=kind, request=task.request, target_model=task.filed_target, model=self.plan.judge,
            ok=result.ok, source=task.source, byte_offset=task.offset, line=task.line, category=task.category,
            logged_model=task.logged_model, template=self.plan.template.version, position=position,
            candidate_key=candidate_key, answer=result.text if result.ok else None, input_tokens=result.input_tokens,
            output_tokens=result.output_tokens, cost_usd=cost, latency_ms=round(result.latency_ms, 1),
            attempts=attempts, error=result.error, verdict=(verdict or UNPARSED) if result.ok else None, score=score,
        ))

    def _verdict(self, result: ChatResult, position: str) -> tuple[str | None, float | None]:
        """The parsed verdict (``scored`` for a rubric score) and score; None when it does not parse."""
        if not result.ok:
            return None, None
        if self.plan.template.mode == PAIRWISE:
            return parse_pairwise(result.text, position), None
        score = parse_score(result.text)
        return (None, None) if score is None else ("scored", float(score))

    async def _claimed_call(self, stub: CallRecord, request: ChatRequest, input_tokens: int) -> ChatResult | None:
        """``_call``, once the call is claimed in the store; None when another run is sending it (or the
        budget would not allow it, and the claim is given back)."""
        if not self.store.claim(stub):
            self.outcome.sent_by_another_run += 1
            return None
        result = await self._call(stub.model, request, input_tokens)
        if result is None:
            self.store.release(stub.key)
        return result

    async def _call(self, model: str, request: ChatRequest, input_tokens: int) -> ChatResult | None:
        """Send a call within the budget; None when the budget would not allow it."""
        worst_case = call_cost(self.book, model, round(input_tokens * INPUT_MARGIN) + 16, request.max_tokens)
        if not self.budget.reserve(worst_case):
            self.outcome.stopped_by_budget += 1
            return None
        result = await self.client.complete(self.plan.endpoints[model], model, request)
        self.budget.settle(worst_case, self._cost(model, result))
        (self.outcome.sent if result.ok else self.outcome.failed)[model] += 1
        return result

    def _cost(self, model: str, result: ChatResult) -> float | None:
        if not result.ok or result.input_tokens is None or result.output_tokens is None:
            return None
        return call_cost(self.book, model, result.input_tokens, result.output_tokens)


def judge_key(task: ReplayTask, candidate: CallRecord, judge: str, template: Template, position: str) -> str:
    """A rubric score of the logged answer does not depend on the candidate: one per request."""
    if position == RUBRIC_LOGGED:
        return call_key("judge", task.request, judge, template.version, position)
    answer = hashlib.sha256((candidate.answer or "").encode()).hexdigest()
    return call_key("judge", task.request, task.filed_target, answer, judge, template.version, position)


def check_key(control: Control, judge: str, template: Template, position: str) -> str:
    return call_key(CHECK, control.key, judge, template.version, position)


def _judge_request(template: Template, task: ReplayTask, candidate_answer: str, position: str) -> ChatRequest:
    """The judge sees the conversation as logged (a trimmed candidate's answer is judged against what
    the user really had) and the two answers."""
    conversation = conversation_text(turns(task.text.messages))
    logged = task.text.answer
    if template.mode == PAIRWISE:
        first, second = (logged, candidate_answer) if position == LOGGED_FIRST else (candidate_answer, logged)
        return pairwise_request(template, task.text.system, conversation, first, second)
    return rubric_request(template, task.text.system, conversation,
                          logged if position == RUBRIC_LOGGED else candidate_answer)


def _total(first: float | None, second: float | None) -> float | None:
    return None if first is None or second is None else first + second


def run_replay(plan: ReplayPlan, settings: ReplaySettings, book: PriceBook, store: ReplayStore,
               on_progress: ProgressCallback | None = None) -> RunOutcome:
    _check_keys(plan.endpoints.values())
    return asyncio.run(execute(plan, settings, book, store, on_progress))


def _check_keys(endpoints: Iterable[Endpoint]) -> None:
    for endpoint in endpoints:
        if endpoint.key_env and not os.environ.get(endpoint.key_env):
            raise UsageError(f"{endpoint.key_env} is not set: the API key for endpoint {endpoint.name} comes from "
                             "the environment")


@dataclass(frozen=True)
class ReplayResults:
    categories: list[CategoryResult]
    check: JudgeCheck | None
    """The judge's checks on this plan's control pairs (None: none stored)."""
    endpoints: list[EndpointResult]


def plan_results(plan: ReplayPlan, store: ReplayStore, width: float) -> ReplayResults:
    """Per category, the results stored so far for a plan's requests (under the plan's judge), and the
    judge's checks on its control pairs."""
    records = list(store.records())
    keys = {task.candidate_key for task in plan.tasks}
    requests = {task.request for task in plan.tasks}
    by_key = {record.key: record for record in records}
    candidates = [by_key[task.candidate_key] for task in plan.tasks if task.candidate_key in by_key]
    ours = [record for record in records if record.key in keys or record.candidate_key in keys
            or (record.request in requests and record.model == plan.judge
                and (record.kind == CHECK or (record.kind == "judge" and record.candidate_key is None)))]
    judge = verdicts(ours, JudgeConfig(plan.judge, plan.template.version))
    failed_judgments = [record for record in ours if record.kind in ("judge", CHECK) and record.model == plan.judge
                        and not record.ok and not is_claim(record)]
    categories = summarize(candidates, judge, {task.candidate_key for task in plan.tasks if task.escalate_to is not None},
                           spend_by_category(ours), Counter(task.category for task in plan.tasks), width,
                           failed_judgments)
    endpoint_of = {model: endpoint.name for model, endpoint in plan.endpoints.items()}
    return ReplayResults(categories, judge.check, by_endpoint([record for record in ours if not is_claim(record)],
                                                              endpoint_of))
