"""The phrasing corpus (tests/phrasings.yaml): what sellers type, read as it must be. Reports the
share understood (per language) and fails below 98 %."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.core.request import CommandRequest, UserRef
from bot.demo import MEMBERS
from bot.handlers import command_registry
from bot.handlers.meetings import FunnelCommand
from bot.language import commands as c
from bot.language.names import Person
from bot.language.parser import Parser
from bot.language.spoken_periods import SpokenCalendar
from storage.kpi.registry import load_registry

CORPUS = yaml.safe_load((Path(__file__).parent / "phrasings.yaml").read_text(encoding="utf-8"))
TODAY: date = CORPUS["today"]
THROUGH: date = CORPUS["data_through"]
ASKER = UserRef("test", "anna", email=CORPUS["asker"], display_name="Anna")
READING_KEYS = ("cmd", "kpi", "scope", "period", "order", "against", "days", "by")


def corpus_people() -> list[Person]:
    people = [Person(m.key, m.name, m.key) for m in MEMBERS]
    return people + [Person(p["key"], p["name"], p["key"]) for p in CORPUS["extra_people"]]


def corpus_parser() -> Parser:
    """The parser chat messages go through, knowing the demo's members, on the corpus's day."""
    people = tuple(corpus_people())
    return Parser(load_registry(None), SpokenCalendar(), lambda: TODAY, command_registry(), people=lambda: people,
                  data_through=lambda: THROUGH)


def scope_of(ref: c.ScopeRef) -> str:
    if ref.kind == "user":
        return "me" if ref.user == ASKER else f"user:{ref.user}"
    return ref.kind if ref.kind == "team" else f"{ref.kind}:{ref.key}"


def describe(command: c.Command) -> dict[str, Any]:
    """What a command reads as, in the corpus's terms."""
    if isinstance(command, c.Help):
        return {"cmd": "help"}
    if isinstance(command, c.Me):
        return {"cmd": "me", "scope": "me", "period": command.period.key}
    if isinstance(command, c.Overview):
        return {"cmd": "me", "scope": scope_of(command.scope), "period": command.period.key}
    if isinstance(command, c.RoleKpis):
        return {"cmd": "role", "scope": f"role:{command.role}", "period": command.period.key}
    if isinstance(command, c.Board):
        return {"cmd": "board", "kpi": command.kpi, "scope": f"role:{command.role}" if command.role else "team",
                "period": command.period.key, "order": command.order, "by": "shop" if command.by_shop else "member"}
    if isinstance(command, c.AlertAdd):
        return {"cmd": "alert_add", "kpi": command.kpi, "scope": scope_of(command.scope), "days": command.days}
    if isinstance(command, FunnelCommand):
        return {"cmd": "funnel", "scope": scope_of(command.scope), "period": command.period.key, "by": command.by}
    if isinstance(command, c.TargetSet):
        return {"cmd": "target_set", "kpi": command.kpi, "scope": scope_of(command.scope),
                "period": command.period.key}
    name = {c.Status: "status", c.RunRate: "runrate", c.Compare: "compare", c.Trend: "trend"}[type(command)]
    out = {"cmd": name, "kpi": command.kpi, "scope": scope_of(command.scope),  # type: ignore[attr-defined]  # these four have them
           "period": command.period.key}  # type: ignore[attr-defined]  # same
    if isinstance(command, c.Compare):
        out["against"] = command.against
    return out


def read(parser: Parser, entry: dict[str, Any]) -> dict[str, Any]:
    previous = None
    if entry.get("after"):
        previous = parser.parse(CommandRequest(entry["after"], ASKER)).question
    try:
        return describe(parser.parse(CommandRequest(entry["q"], ASKER, previous=previous)))
    except c.ParseError as error:
        return {"refused": error.key}
    except c.NotUnderstood:
        return {"refused": "not_understood"}


def expected(entry: dict[str, Any]) -> dict[str, Any]:
    if "refused" in entry:
        return {"refused": entry["refused"]}
    return {k: str(entry[k]) if k == "period" else entry[k] for k in READING_KEYS if k in entry}


def test_the_corpus_is_big_enough_and_balanced() -> None:
    entries = CORPUS["phrasings"]
    by_lang = {lang: [e for e in entries if e["lang"] == lang] for lang in ("en", "zh")}
    assert len(entries) >= 400
    assert abs(len(by_lang["en"]) - len(by_lang["zh"])) <= 0.1 * len(entries)
    assert sum("refused" in e for e in entries) >= 60


def test_the_share_understood_is_at_least_98_percent(report_figure: Callable[[str], None]) -> None:
    parser = corpus_parser()
    misses: list[str] = []
    totals = {"en": [0, 0], "zh": [0, 0]}
    for entry in CORPUS["phrasings"]:
        got = read(parser, entry)
        want = expected(entry)
        ok = all(got.get(k) == v for k, v in want.items())
        totals[entry["lang"]][0] += ok
        totals[entry["lang"]][1] += 1
        if not ok:
            misses.append(f"{entry['q']!r}: got {got}, want {want}")
    for lang, (good, total) in totals.items():
        report_figure(f"phrasings understood ({lang}): {good}/{total} = {good / total:.1%}")
    for miss in misses:
        report_figure(f"  MISS {miss}")
    good = sum(t[0] for t in totals.values())
    total = sum(t[1] for t in totals.values())
    assert good / total >= 0.98, "\n".join(misses)

