"""The JSON report: the machine-readable contract users script against (see DESIGN.md).

Money is USD as numbers (not rounded: sums stay exact), percentages are numbers in 0-100,
times are ISO 8601 UTC. Keys may be added; existing ones keep their meaning.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import msgspec

from routecost.audit import AuditReport
from routecost.quality import CI_METHOD, Quality
from routecost.simulate.projection import CategoryProjection, PolicyProjection
from routecost.simulate.self_hosted import FleetPlan

SCHEMA_VERSION = 1


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def report_dict(report: AuditReport) -> dict[str, Any]:
    """The audit as plain data, in the contract's shape."""
    return {
        "schema_version": SCHEMA_VERSION,
        "catalog": report.catalog,
        "sources": report.sources,
        "requests": report.requests,
        "successful_requests": report.successful,
        "failed_requests": report.failed,
        "malformed": report.malformed,
        "malformed_examples": [example.message() for example in report.malformed_examples],
        "skipped": dict(report.skipped),
        "estimated_requests": report.estimated,
        "unpriced_requests": report.unpriced_requests,
        "unpriced_models": [
            {"model": row.model, "provider": row.provider, "reason": row.reason, "requests": row.requests,
             "input_tokens": row.input_tokens, "output_tokens": row.output_tokens}
            for row in report.unpriced
        ],
        "period": {"start": _iso(report.period.start), "end": _iso(report.period.end), "days": report.period.days},
        "baseline": {
            "cost_usd": report.cost_usd,
            "cost_per_successful_request_usd": report.cost_per_successful_request,
            "projected_30d_usd": report.projected_30d_usd,
            "category_key": report.category_key,
            "by_model": [
                {"model": row.model, "requests": row.requests, "input_tokens": row.input_tokens,
                 "cache_read_tokens": row.cache_read_tokens, "cache_write_tokens": row.cache_write_tokens,
                 "output_tokens": row.output_tokens, "fees_usd": row.fees_usd, "cost_usd": row.cost_usd,
                 "share_pct": row.share_pct}
                for row in report.by_model
            ],
            "categories": [
                {"category": row.category, "requests": row.requests, "cost_usd": row.cost_usd,
                 "share_pct": row.share_pct}
                for row in report.categories
            ],
            "references": [
                {"label": row.label, "model": row.model, "cost_usd": row.cost_usd} for row in report.references
            ],
        },
        "reconciliation": None if report.reconciliation is None else {
            "requests": report.reconciliation.requests,
            "logged_cost_usd": report.reconciliation.logged_usd,
            "computed_cost_usd": report.reconciliation.computed_usd,
            "differing_requests": report.reconciliation.differing,
            "examples": [
                {"where": gap.where, "model": gap.model, "logged_cost_usd": gap.logged_usd,
                 "computed_cost_usd": gap.computed_usd}
                for gap in report.reconciliation.examples
            ],
        },
        "assumptions": report.assumptions,
        "policies": [policy_dict(projection, report) for projection in report.policies],
    }


def policy_dict(projection: PolicyProjection, report: AuditReport) -> dict[str, Any]:
    return {
        "name": projection.name,
        "source": projection.policy.source,
        "baseline_cost_usd": projection.baseline_cost_usd,
        "cost_usd": projection.cost_usd,
        "savings_usd": projection.savings_usd,
        "savings_pct": projection.savings_pct,
        "low_usd": projection.total("low_usd"),
        "high_usd": projection.total("high_usd"),
        "projected_30d_usd": report.over_30_days(projection.cost_usd),
        "categories": [
            {"category": row.category, "requests": row.requests, "priced_requests": row.priced_requests,
             "baseline_cost_usd": row.baseline_cost_usd, "cost_usd": row.cost_usd, "savings_usd": row.savings_usd,
             "savings_pct": row.savings_pct, "low_usd": row.low_usd, "high_usd": row.high_usd,
             "projected_30d_usd": report.over_30_days(row.cost_usd), "routed": row.routed, "escalated": row.escalated,
             "exact_cache_hits": row.exact_cache_hits, "semantic_cache_hits": row.semantic_cache_hits,
             "batched_requests": row.batched, "trimmed_requests": row.trimmed, "trimmed_tokens": row.trimmed_tokens, "cache_read_share_before_pct": row.cache_read_share_before,
             "cache_read_share_after_pct": row.cache_read_share_after, "quality": quality_dict(row),
             "latency_ms": None if row.latency is None else dataclasses.asdict(row.latency)}
            for row in projection.categories
        ],
        "levers": projection.levers,
        "self_hosted": [fleet_dict(plan) for plan in projection.fleets],
        "assumptions": projection.assumptions,
    }


def fleet_dict(plan: FleetPlan) -> dict[str, Any]:
    """A self-hosted tier's traffic and fleet (``simulate/self_hosted.py``)."""
    tier = plan.tier
    return {"model": tier.model_id, "gpu": tier.gpu, "gpus_per_replica": tier.gpus, "gpu_hour_usd": tier.gpu_hour_usd,
            "utilisation": tier.utilisation, "input_usd_per_mtok": plan.input_usd_per_mtok,
            "output_usd_per_mtok": plan.output_usd_per_mtok, "requests": plan.requests,
            "input_tokens": plan.input_tokens, "output_tokens": plan.output_tokens,
            "busy_replica_hours": plan.busy_replica_hours,
            "peak_hour": None if plan.peak_hour is None else plan.peak_hour.isoformat(),
            "peak_hour_gpu_hours": plan.peak_gpu_hours, "replicas_needed": plan.replicas_needed,
            "replicas": plan.replicas, "pay_per_use_cost_usd": plan.cost_usd, "fleet_cost_usd": plan.fleet_cost_usd,
            "fleet_utilisation": plan.fleet_utilisation, "api_cost_usd": plan.api_cost_usd,
            "fleet_cheaper_than_api": plan.fleet_cheaper}


def quality_dict(row: CategoryProjection) -> dict[str, Any] | None:
    """What replay measured for the category (null without ``--replay``)."""
    if row.quality is None:
        return None
    return {**quality_fields(row.quality), "escalation_rate": row.escalation_measured}


def quality_fields(quality: Quality) -> dict[str, Any]:
    return {"n": quality.n, "wins": quality.wins, "ties": quality.ties, "losses": quality.losses,
            "unparsed": quality.unparsed, "delta": quality.delta, "ci_low": quality.ci_low, "ci_high": quality.ci_high,
            "ci_method": CI_METHOD, "n_for_width": quality.n_for_width, "judge_mode": quality.judge_mode,
            "unmeasured": quality.unmeasured}


def render(report: AuditReport) -> str:
    return msgspec.json.format(msgspec.json.encode(report_dict(report)), indent=2).decode() + "\n"
