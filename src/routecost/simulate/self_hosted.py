"""What a policy's self-hosted tiers would need: GPU time by hour, and a fixed fleet against the API.

The projection prices the traffic routed to a tier at its effective price (``prices/self_hosted.py``):
GPU time paid only while it is needed, at the tier's utilisation, as on rented, autoscaled GPUs. A
team that runs a fixed fleet pays for it every hour, busy or not, and must size it for its busiest
hour. So each segment sums the tier's routed tokens by hour of the log (``hourly_load``: a few
hundred rows for a month, however many requests), and the whole log's hours give the fleet: the
replica-hours the traffic keeps busy, the peak hour's need at the tier's utilisation, the replicas
that serves, what they cost over the logged period, and whether that beats the API the requests
were logged on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from routecost.prices.self_hosted import SelfHostedTier

LOAD_SCHEMA = {"model_id": pl.String(), "hour": pl.Datetime("us", "UTC"), "requests": pl.Float64(),
               "input_tokens": pl.Float64(), "output_tokens": pl.Float64(), "cost_usd": pl.Float64(),
               "api_cost_usd": pl.Float64()}
"""Per tier and hour of the log: requests (expected, for a cascade's escalated share), input and
output tokens on the tier, their projected cost there, and what they cost as logged (first tries
only: an escalation adds GPU time, not another logged request)."""


@dataclass(frozen=True)
class FleetPlan:
    """One self-hosted tier under a policy, over the logged period."""

    tier: SelfHostedTier
    requests: float
    input_tokens: float
    output_tokens: float
    cost_usd: float
    """The routed traffic at the tier's effective price (what the projection counts)."""
    api_cost_usd: float
    """What the same requests cost as logged."""
    busy_replica_hours: float
    """Replica-hours the traffic keeps busy (at 100% utilisation)."""
    peak_hour: datetime | None
    peak_gpu_hours: float
    """GPU-hours the busiest hour needs at the tier's utilisation."""
    replicas_needed: int
    """Replicas that serve the busiest hour at the tier's utilisation."""
    replicas: int
    """The fleet: the tier's ``replicas``, or ``replicas_needed``."""
    fleet_cost_usd: float | None
    """The fleet running every hour of the logged period (None when the logs span no time)."""
    fleet_utilisation: float | None
    """Share of the fleet's hours the traffic keeps busy."""
    unplaced_requests: float
    """Requests routed to the tier without a timestamp: priced, but in no hour."""

    @property
    def input_usd_per_mtok(self) -> float:
        return self.tier.input_usd_per_token * 1e6

    @property
    def output_usd_per_mtok(self) -> float:
        return self.tier.output_usd_per_token * 1e6

    @property
    def fleet_cheaper(self) -> bool | None:
        """Whether the fixed fleet costs less than the API over the logged period."""
        return None if self.fleet_cost_usd is None else self.fleet_cost_usd < self.api_cost_usd


def hourly_load(legs: pl.DataFrame, logged_cost: pl.Series, tiers: Sequence[SelfHostedTier]) -> pl.DataFrame:
    """The priced legs routed to a tier (``routing._project``), summed by tier and hour (a null hour
    for requests without a timestamp). ``logged_cost`` is each request's cost as logged, by ``_row``."""
    on_tier = legs.filter(pl.col("in_scope") & pl.col("leg_model").is_in([tier.model_id for tier in tiers]))
    weight = pl.col("weight")
    return on_tier.with_columns(logged=logged_cost.gather(on_tier["_row"])).group_by(
        model_id=pl.col("leg_model").cast(pl.String), hour=pl.col("ts").dt.truncate("1h").dt.cast_time_unit("us"),
    ).agg(
        requests=weight.sum(),
        input_tokens=(pl.col("input_tokens") * weight).sum(),
        output_tokens=(pl.col("output_tokens") * weight).sum(),
        cost_usd=pl.col("leg_cost").sum(),
        api_cost_usd=pl.col("logged").filter(~pl.col("escalation")).sum(),
    ).cast(LOAD_SCHEMA)  # type: ignore[arg-type]


def added_loads(loads: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """The hourly loads of a log's segments as the whole log's."""
    return pl.concat([pl.DataFrame(schema=LOAD_SCHEMA), *loads], how="vertical").group_by("model_id", "hour").agg(
        pl.exclude("model_id", "hour").sum())


def fleet_plans(tiers: Sequence[SelfHostedTier], load: pl.DataFrame, days: float | None) -> list[FleetPlan]:
    """Each tier's fleet over a logged period of ``days`` (None: no period)."""
    return [_fleet_plan(tier, load.filter(pl.col("model_id") == tier.model_id), days) for tier in tiers]


def _fleet_plan(tier: SelfHostedTier, load: pl.DataFrame, days: float | None) -> FleetPlan:
    busy = (pl.col("input_tokens") * tier.replica_seconds_per_input_token
            + pl.col("output_tokens") * tier.replica_seconds_per_output_token)
    hours = load.filter(pl.col("hour").is_not_null()).with_columns(busy_s=busy).sort("busy_s", "hour",
                                                                                     descending=[True, False])
    totals = load.select(pl.col("requests", "input_tokens", "output_tokens", "cost_usd", "api_cost_usd").sum()
                         ).row(0, named=True)
    busy_s = float(load.select(busy.sum()).item() or 0.0)
    peak_s = float(hours["busy_s"][0]) if hours.height else 0.0
    needed = math.ceil(peak_s / 3600 / tier.utilisation - 1e-9) if peak_s else 0
    replicas = tier.replicas or needed
    period_hours = days * 24 if days else None
    return FleetPlan(
        tier=tier,
        requests=float(totals["requests"] or 0.0),
        input_tokens=float(totals["input_tokens"] or 0.0),
        output_tokens=float(totals["output_tokens"] or 0.0),
        cost_usd=float(totals["cost_usd"] or 0.0),
        api_cost_usd=float(totals["api_cost_usd"] or 0.0),
        busy_replica_hours=busy_s / 3600,
        peak_hour=hours["hour"][0] if hours.height else None,
        peak_gpu_hours=peak_s / 3600 / tier.utilisation * tier.gpus,
        replicas_needed=needed,
        replicas=replicas,
        fleet_cost_usd=None if period_hours is None else replicas * tier.replica_hour_usd * period_hours,
        fleet_utilisation=busy_s / 3600 / (replicas * period_hours) if period_hours and replicas else None,
        unplaced_requests=float(load.filter(pl.col("hour").is_null())["requests"].sum() or 0.0),
    )


def fleet_notes(plans: Sequence[FleetPlan]) -> list[str]:
    """What a reader of the fleet table must know: a fixed fleet too small for the busiest hour,
    routed requests that fall in no hour, and how the tier is priced."""
    notes = []
    for plan in plans:
        tier = plan.tier
        notes.append(f"{tier.model_id}: priced at its GPU time, ${plan.input_usd_per_mtok:.4g} per million input and "
                     f"${plan.output_usd_per_mtok:.4g} per million output tokens ({tier.gpus} x ${tier.gpu_hour_usd:g} "
                     f"per GPU-hour, {tier.prefill_tokens_s:g} prefill and "
                     f"{tier.decode_tokens_s * tier.speculative_speedup:g} decode tokens/s a replica, "
                     f"{tier.utilisation:.0%} utilised)")
        notes.append(f"{tier.model_id}: {_verdict(plan)}")
        if tier.replicas and plan.replicas_needed > tier.replicas and plan.peak_hour is not None:
            notes.append(f"{tier.model_id}: {tier.replicas} replica{'' if tier.replicas == 1 else 's'} cannot serve the busiest hour "
                         f"({plan.peak_hour:%Y-%m-%d %H:00} UTC needs {plan.replicas_needed} at "
                         f"{tier.utilisation:.0%} utilisation)")
        if plan.unplaced_requests:
            notes.append(f"{tier.model_id}: {plan.unplaced_requests:,.0f} routed requests have no timestamp: priced, "
                         "but left out of the hourly load and the fleet's size")
    return notes


def _verdict(plan: FleetPlan) -> str:
    """Which way of paying for the tier's traffic is cheapest over the logged period."""
    options = {"GPU time as needed": plan.cost_usd, "the API as logged": plan.api_cost_usd}
    if plan.fleet_cost_usd is not None:
        options[f"a fixed fleet of {plan.replicas}"] = plan.fleet_cost_usd
    ranked = sorted(options.items(), key=lambda item: item[1])
    return (f"cheapest over the logged period is {ranked[0][0]} (${ranked[0][1]:,.2f}), then "
            + ", then ".join(f"{name} (${amount:,.2f})" for name, amount in ranked[1:]))
