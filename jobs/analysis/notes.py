"""Notes and before/after answers."""

from __future__ import annotations

from datetime import timedelta

from jobs.analysis.labels import change_text
from jobs.analysis.messages import T
from jobs.present.formatting import kpi_value, period_label
from jobs.present.reply import Figure, Mark, Reply, ReplyKind, Table
from storage.kpi.before_after import BeforeAfter
from storage.kpi.periods import Period
from storage.models_review import Note


def note_day_text(note: Note) -> str:
    if note.end_date != note.start_date:
        return f"{note.start_date.isoformat()} – {note.end_date.isoformat()}"
    return note.start_date.isoformat()


def note_added_reply(note: Note, *, lang: str) -> Reply:
    return Reply(title=T("note_added_title", lang), lang=lang, kind=ReplyKind.CONFIRMATION,
                 text=T("note_added", lang, id=note.id, day=note_day_text(note), text=note.text))


def notes_reply(notes: list[Note], period: Period, about: dict[int, str], *, lang: str) -> Reply:
    label = period_label(period, lang)
    reply = Reply(title=T("notes_title", lang, period=label), lang=lang)
    if not notes:
        reply.text = T("notes_none", lang, period=label)
        return reply
    reply.tables.append(Table(
        columns=[T("note_col_id", lang), T("note_col_day", lang), T("note_col_text", lang),
                 T("note_col_about", lang), T("note_col_by", lang)],
        rows=[[str(n.id), note_day_text(n), n.text, about.get(n.id or 0, ""), n.created_by] for n in notes],
    ))
    return reply


def compare_reply(found: BeforeAfter, note: Note, *, scope_label: str, lang: str, currency: str) -> Reply:
    kpi = found.kpi
    value = lambda v: kpi_value(v, kpi.unit, currency, lang)  # noqa: E731
    before_start, after_end = found.day - timedelta(days=found.days), found.day + timedelta(days=found.days - 1)
    reply = Reply(title=T("compare_title", lang, kpi=kpi.label(lang), id=note.id, scope=scope_label), lang=lang,
                  text=f"#{note.id} {note_day_text(note)}: {note.text}")
    reply.figures = [
        Figure(T("compare_before", lang, days=found.days, start=before_start.isoformat(),
                 end=(found.day - timedelta(days=1)).isoformat()), value(found.before)),
        Figure(T("compare_after", lang, days=found.days, start=found.day.isoformat(), end=after_end.isoformat()),
               value(found.after)),
        Figure(T("compare_change", lang), change_text(found.change)),
    ]
    larger = found.larger_than_usual
    usual = change_text(found.largest_usual).lstrip("+") if found.largest_usual is not None else "—"
    if larger is None:
        reply.footnotes.append(T("compare_unknown", lang))
    elif larger:
        improved = (found.change or 0) > 0 if not kpi.lower_is_better else (found.change or 0) < 0
        reply.mark = Mark.ON_TRACK if improved else Mark.OFF_TRACK
        reply.footnotes.append(T("compare_larger", lang, usual=usual, days=found.days))
    else:
        reply.footnotes.append(T("compare_within", lang, usual=usual, days=found.days))
    if found.days < found.asked_days:
        reply.footnotes.append(T("compare_short", lang, days=found.days, asked=found.asked_days))
    return reply
