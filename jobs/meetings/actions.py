"""Action items in reviews: creating one (with its KPI's baseline, so the next review can say how the KPI
moved since) and the weekly digest's opening section "Actions from last review"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from jobs.meetings.messages import T
from jobs.present.formatting import kpi_value, signed_percent
from jobs.present.reply import Figure, Mark, Table
from storage.kpi.engine import KpiEngine
from storage.kpi.periods import Calendar, Period
from storage.kpi.registry import KpiDef
from storage.kpi.scope import Scope
from storage.models import ActionItem
from storage.repositories import actions as action_repo
from storage.repositories.audit import Actor

# The button that marks an action item done (value: the item's id); routed by bot/core/actions.py.
ACTION_ITEM_DONE = "kpi.action_done"
_WEEK = re.compile(r"(?:w|week\s*|第)(\d{1,2})(?:周)?", re.IGNORECASE)


def due_period(calendar: Calendar, text: str, today: date) -> Period:
    """`2026-W50`, `W50` / `week 50` / `第50周` (this year, or next if already past), `2026-12`, `2026-12-15`.
    Raise ValueError saying what is expected."""
    text = text.strip()
    if period := calendar.from_key(text):
        return period
    if match := _WEEK.fullmatch(text):
        week = int(match[1])
        for year in (today.year, today.year + 1):
            if (period := calendar.from_key(f"{year}-W{week:02d}")) and period.end >= today:
                return period
    raise ValueError(f"{text!r} is not a due period; expected e.g. 2026-W50, W50, 第50周, 2026-12 or 2026-12-15")


def create_action(
    engine: KpiEngine, actor: Actor, *, owner: str, text: str, now: datetime, due: Period | None = None,
    kpi_id: str | None = None,
) -> ActionItem:
    """The KPI's baseline is the owner's value over the last complete week before today."""
    baseline = baseline_period = None
    if kpi_id is not None:
        kpi = engine.registry.kpis.get(kpi_id)
        if kpi is None:
            raise ValueError(f"unknown KPI {kpi_id!r}")
        week = engine.calendar.previous(engine.calendar.week(engine.today()))
        baseline = engine.status(kpi, Scope.member(owner), week).actual
        baseline_period = week.key
    with engine.db.session() as session:
        return action_repo.add_action(
            session, actor, owner=owner, text=text, created_at=now, due=due.end if due else None,
            due_label=due.key if due else "", kpi=kpi_id, kpi_baseline=baseline, kpi_baseline_period=baseline_period,
        )


@dataclass(frozen=True)
class ActionLine:
    item: ActionItem
    state: str  # open | done | dropped | overdue
    kpi: KpiDef | None
    kpi_now: float | None


def review_actions(engine: KpiEngine, review: Period, today: date) -> list[ActionLine]:
    """Everything still open, and everything closed since the reviewed period began; for an item tied to a
    KPI, the owner's value over the reviewed period (one statuses call per owner)."""
    since = datetime.combine(review.start, time(), tzinfo=engine.tz)
    with engine.db.session() as session:
        items = action_repo.for_review(session, since=since)
    now_values: dict[int, float | None] = {}
    by_owner: dict[str, list[ActionItem]] = {}
    for item in items:
        if item.kpi and item.kpi in engine.registry.kpis:
            by_owner.setdefault(item.owner, []).append(item)
    for owner, owned in by_owner.items():
        kpis = list({item.kpi: engine.registry.kpis[item.kpi] for item in owned if item.kpi}.values())
        values = {st.kpi.id: st.actual for st in engine.statuses(kpis, Scope.member(owner), review)}
        for item in owned:
            assert item.id is not None
            now_values[item.id] = values.get(item.kpi or "")
    return [ActionLine(item, "overdue" if action_repo.is_overdue(item, today) else item.status,
                       engine.registry.kpis.get(item.kpi or ""), now_values.get(item.id or 0)) for item in items]


def actions_summary(lines: list[ActionLine], lang: str) -> Figure:
    counts = {state: sum(1 for line in lines if line.state == state) for state in ("open", "done", "overdue")}
    mark = Mark.OFF_TRACK if counts["overdue"] else (Mark.ON_TRACK if lines else None)
    value = T("actions_summary", lang, **counts) if lines else T("no_actions", lang)
    return Figure(T("actions_title", lang), value, mark)


def actions_table(lines: list[ActionLine], names: dict[str, str], lang: str, currency: str) -> Table:
    columns = [T("action_id", lang), T("owner", lang), T("action", lang), T("due", lang), T("state", lang),
               T("kpi_since", lang)]
    rows, marks = [], []
    for line in lines:
        item = line.item
        rows.append([str(item.id), names.get(item.owner, item.owner), item.text, item.due_label or "—",
                     T(f"state_{line.state}", lang), _kpi_cell(line, lang, currency)])
        marks.append({"done": Mark.ON_TRACK, "overdue": Mark.OFF_TRACK}.get(line.state))
    return Table(columns=columns, rows=rows, marks=marks, title=T("actions_title", lang))


def _kpi_cell(line: ActionLine, lang: str, currency: str) -> str:
    item, kpi = line.item, line.kpi
    if kpi is None:
        return item.kpi or "—"
    if line.kpi_now is None or item.kpi_baseline is None:
        return T("kpi_no_change", lang, kpi=kpi.label(lang))
    change = signed_percent(line.kpi_now / item.kpi_baseline - 1) if item.kpi_baseline else "—"
    return T("kpi_change", lang, kpi=kpi.label(lang), before=kpi_value(item.kpi_baseline, kpi.unit, currency, lang),
             now=kpi_value(line.kpi_now, kpi.unit, currency, lang), change=change)
