"""One-off estimates without a policy file: ``--what-if MODEL [--where CONDITION ...]``.

Each ``--what-if`` model becomes a policy that sends every request (or those matching all the
``--where`` conditions) to that model and keeps the rest as logged. A condition is written
``field=value[,value...]`` or ``field<N`` (also ``<=``, ``>``, ``>=``) for token counts, with the
fields of a policy's ``when:`` block: ``--where category=coding --where 'input_tokens<500'``. A bound
also reads ``field.lt=N`` (``lte``, ``gt``, ``gte``), which a shell takes as it is, unquoted; two
bounds on one field make a range (``input_tokens.gte=100 input_tokens.lt=500``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from routecost.errors import UsageError
from routecost.policy.loader import PolicyParser
from routecost.policy.model import KEEP, Policy, Route
from routecost.prices.catalog import PriceBook
from routecost.yamlfile import YamlDocument

_CONDITION = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(<=|>=|<|>|=)\s*(.+?)\s*$")
_COMPARISONS = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
_NAMED_COMPARISONS = {name: operator for operator, name in _COMPARISONS.items()}


def what_if_policies(models: Sequence[str], where: Sequence[str], book: PriceBook) -> list[Policy]:
    if where and not models:
        raise UsageError("--where narrows a --what-if: name a model with --what-if")
    if not models:
        return []
    document = YamlDocument(path="--where", data=where_mapping(where))
    parser = PolicyParser(document, book)
    condition = parser.condition_of(document.data) if where else None
    scope = f" where {' and '.join(where)}" if where else ""
    policies: list[Policy] = []
    for model in models:
        target = PolicyParser(YamlDocument(path="--what-if", data=None), book).model_id((), model)
        routes = (Route(to=target, when=condition), Route(to=KEEP)) if condition else (Route(to=target),)
        policies.append(Policy(name=f"what-if {target}{scope}", routes=routes))
    return policies


def where_mapping(conditions: Sequence[str]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for text in conditions:
        match = _CONDITION.match(text)
        if match is None:
            raise UsageError(f"--where {text!r}: expected field=value, or field.lt=N (field<N, quoted) for token counts")
        field, operator, value = match.groups()
        base, _, suffix = field.rpartition(".")
        if operator == "=" and base and suffix in _NAMED_COMPARISONS and not base.startswith("metadata."):
            field, operator = base, _NAMED_COMPARISONS[suffix]
        if operator != "=" and isinstance(mapping.get(field), dict):  # a second bound: a range
            if not value.isdigit():
                raise UsageError(f"--where {text!r}: {operator} compares a token count with a whole number")
            mapping[field][_COMPARISONS[operator]] = int(value)
            continue
        if field in mapping:
            raise UsageError(f"--where: {field} is given twice; list the values instead: {field}=a,b")
        if operator == "=":
            values = [part.strip() for part in value.split(",") if part.strip()]
            if not values:
                raise UsageError(f"--where {text!r}: give at least one value after =")
            mapping[field] = values if len(values) > 1 else values[0]
            continue
        if not value.isdigit():
            raise UsageError(f"--where {text!r}: {operator} compares a token count with a whole number")
        mapping[field] = {_COMPARISONS[operator]: int(value)}
    return mapping
