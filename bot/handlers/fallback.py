"""An empty current period answers with what is known: "No data yet this week (data runs through
Sunday). Last week: …" with last week's answer under it (a Monday with T+1 data asking about this week)."""

from __future__ import annotations

from collections.abc import Callable

from bot.handlers.context import Context
from jobs.present.answers import no_data_yet
from jobs.present.reply import Reply
from storage.kpi.periods import Period

CALENDAR_KINDS = ("day", "week", "month", "quarter", "year")


def with_fallback(ctx: Context, period: Period, answer: Callable[[Period], Reply]) -> Reply:
    """The answer for `period`; for a running period without any data yet, last period's answer under a
    note saying so."""
    today = ctx.services.today()
    if not period.contains(today) or period.kind not in CALENDAR_KINDS:  # a rolling window ends in data
        return answer(period)
    through = ctx.services.data_through()
    if through is None or through >= period.start:  # no data anywhere yet: nothing earlier to show either
        return answer(period)
    previous = ctx.services.engine.calendar.previous(period)
    return no_data_yet(answer(previous), period, through, lang=ctx.lang)
