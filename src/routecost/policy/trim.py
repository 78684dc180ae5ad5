"""A policy's ``trim:`` rules: shorter prompts (first match wins, like ``batch``).

    trim:
      - when: {category: support}
        system: 0.4                 # keep 40% of the system prompt (60% shorter): projected
        history_turns: 6            # keep the last 6 turns of the conversation
      - when: {category: extraction}
        system_file: prompts/extraction-short.txt   # your shorter system prompt: counted, and replayed

One mapping is read as a one-rule list. A rule says how the prompt is cut; the savings are counted
from the logged text (``simulate/trimming.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from routecost.policy.model import TrimRule
from routecost.yamlfile import KeyPath

if TYPE_CHECKING:
    from routecost.policy.loader import PolicyParser

TRIM_KEYS = ("when", "system", "system_file", "history_turns")


def parse_trim(parser: PolicyParser, value: Any, category_names: set[str] | None) -> tuple[TrimRule, ...]:
    if value is None:
        return ()
    raw_rules = [value] if isinstance(value, dict) else value
    if not isinstance(raw_rules, list) or not raw_rules:
        raise parser.fail(("trim",), "`trim` is a rule (system, system_file, history_turns, when) or a list of them")
    rules = []
    for index, raw in enumerate(raw_rules):
        path: KeyPath = ("trim", index) if isinstance(value, list) else ("trim",)
        rule = parser.rule(path, raw, TRIM_KEYS)
        rules.append(_rule(parser, path, rule, category_names))
    parser.check_reachable("trim", [rule.when.always for rule in rules])
    return tuple(rules)


def _rule(parser: PolicyParser, path: KeyPath, rule: dict[str, Any], category_names: set[str] | None) -> TrimRule:
    if not {"system", "system_file", "history_turns"} & rule.keys():
        raise parser.fail(path, "a trim rule needs `system`, `system_file` or `history_turns`")
    if "system" in rule and "system_file" in rule:
        raise parser.fail((*path, "system_file"), "`system` (a share kept) or `system_file` (your shorter prompt), "
                                                  "not both")
    keep = None
    if "system" in rule:
        keep = rule["system"]
        if isinstance(keep, bool) or not isinstance(keep, int | float) or not 0 <= keep < 1:
            raise parser.fail((*path, "system"), f"`system: {keep}`: the share of the system prompt kept, "
                                                 "at least 0 and below 1 (0.4 keeps 40%)")
    turns = rule.get("history_turns")
    if turns is not None and (isinstance(turns, bool) or not isinstance(turns, int) or turns < 0):
        raise parser.fail((*path, "history_turns"), f"`history_turns: {turns}`: a whole number of turns, at least 0")
    system_file, system_text = None, None
    if "system_file" in rule:
        system_file, system_text = _system_file(parser, (*path, "system_file"), rule["system_file"])
    return TrimRule(when=parser.condition((*path, "when"), rule.get("when"), category_names),
                    system_keep=None if keep is None else float(keep), system_file=system_file,
                    system_text=system_text, history_turns=turns)


def _system_file(parser: PolicyParser, path: KeyPath, value: Any) -> tuple[str, str]:
    """The file's path (relative to the policy file's folder) and its text."""
    if not isinstance(value, str) or not value.strip():
        raise parser.fail(path, "`system_file` is the path of a text file holding your shorter system prompt")
    file = Path(value)
    if not file.is_absolute():
        file = Path(parser.document.path).parent / file
    try:
        text = file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise parser.fail(path, f"cannot read {value!r}: {getattr(error, 'strerror', None) or error}") from None
    return str(file), text
