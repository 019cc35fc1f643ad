"""A digest's figures as a neutral Reply: headline figures, then tables, then notes."""

from __future__ import annotations

from jobs.analysis.extras import projection_figure
from jobs.digest.data import DigestData
from jobs.digest.messages import T
from jobs.digest.movers import RiskItem, RoleReview
from jobs.digest.review import baselines_section, unusual_section
from jobs.meetings.funnel_reply import funnel_table, leak_sentence, missing_notes
from jobs.present.formatting import day_label, kpi_value, period_label, signed_percent
from jobs.present.reply import Figure, Mark, Reply, ReplyKind, Table
from jobs.present.status import T as ST
from jobs.present.status import mark_of, ratio, status_word, statuses_table
from storage.kpi.attainment import KpiStatus
from storage.kpi.periods import Period
from storage.kpi.registry import Registry

MAX_RISK_ROWS = 15


def digest_reply(data: DigestData, registry: Registry, *, lang: str, currency: str, personal: bool = False) -> Reply:
    """`personal`: the digest is the reader's own (a `me` subscription about themselves)."""
    review_label = period_label(data.review, lang)
    pacing_label = period_label(data.pacing, lang)
    pace_st = data.pace_status()
    who = data.label or T("team", lang)
    if data.label is None:
        title = T(f"title_{data.cadence}", lang, period=review_label)
    elif personal:
        title = T(f"title_{data.cadence}_own", lang, period=review_label)
    else:
        title = T(f"title_{data.cadence}_of", lang, who=who, period=review_label)
    reply = Reply(
        title=title, lang=lang, kind=ReplyKind.NOTICE,
        mark=mark_of(pace_st.status) if pace_st else None, public=True,
        figures=_headline(data, lang, currency, review_label, pacing_label),
    )
    if data.team_review:
        reply.tables.append(_team_review_table(data, lang, currency, review_label))
        reply.tables.append(statuses_table(
            [(st.kpi.label(lang), st) for st in data.team_pacing], lang, currency,
            first_column=T("kpi", lang), title=T("team_pacing", lang, who=who, period=pacing_label),
        ))
    if data.shops:
        kpi_label = data.shops[0].status.kpi.label(lang)
        reply.tables.append(statuses_table(
            [(row.display_name, row.status) for row in data.shops], lang, currency,
            first_column=T("shop", lang), title=T("shops", lang, kpi=kpi_label, period=pacing_label),
        ))
    for role in data.roles:
        reply.tables.append(_role_table(role, lang, currency, review_label))
    if data.movers:
        reply.tables.append(_movers_table(data, lang, currency))
    if data.at_risk:
        reply.tables.append(_risk_table(data.at_risk[:MAX_RISK_ROWS], lang, currency, pacing_label))
    if data.has_funnel:
        reply.tables.append(_funnel_table(data, registry, lang, review_label))
    if (unusual := unusual_section(data.review_sections, registry, lang=lang, currency=currency)) is not None:
        reply.tables.append(unusual)
    if (baselines := baselines_section(data.review_sections, lang=lang,
                                       title=T("against_baselines", lang, who=who,
                                               period=review_label))) is not None:
        reply.tables.append(baselines)
    reply.footnotes.extend(_notes(data, lang, pacing_label))
    if data.has_funnel:
        reply.footnotes.append(leak_sentence(data.funnel_review, registry, lang))
        reply.footnotes.extend(missing_notes(data.funnel_review, registry, lang))
    return reply


def _headline(data: DigestData, lang: str, currency: str, review_label: str, pacing_label: str) -> list[Figure]:
    figures: list[Figure] = []
    review_st, pace_st = data.review_status(), data.pace_status()
    if review_st is not None:
        unit = review_st.kpi.unit
        value = kpi_value(review_st.actual, unit, currency, lang, none=T("no_data", lang))
        if review_st.change is not None:
            value = T("fig_review_value", lang, value=value, change=signed_percent(review_st.change))
        figures.append(Figure(T("fig_review", lang, kpi=review_st.kpi.label(lang), period=review_label), value,
                              mark_of(review_st.status)))
    if pace_st is not None and pace_st.actual is not None:
        unit = pace_st.kpi.unit
        target = kpi_value(pace_st.target.value if pace_st.target else None, unit, currency, lang)
        figures.append(Figure(
            T("fig_pacing", lang, kpi=pace_st.kpi.label(lang), period=pacing_label),
            T("fig_pacing_value", lang, actual=kpi_value(pace_st.actual, unit, currency, lang), target=target,
              pace=ratio(pace_st.pace_attainment)),
            mark_of(pace_st.status),
        ))
        if pace_st.projection is not None and not pace_st.finished:
            figures.append(Figure(T("fig_projection", lang, kpi=pace_st.kpi.label(lang), period=pacing_label),
                                  kpi_value(pace_st.projection, unit, currency, lang)))
        if (weekday := data.review_sections.projection) is not None and not pace_st.finished:
            figures.append(projection_figure(weekday, pace_st.kpi, lang=lang, currency=currency))
    figures.append(Figure(T("fig_through", lang), day_label(data.data_through)))
    return figures


def _period_words(data: DigestData, lang: str) -> tuple[str, str]:
    """Column headers for the reviewed period and the one before: `W47` / `W46`, `Nov 2026` / `Oct 2026`."""
    return short_period_label(data.review, lang), short_period_label(data.previous_review, lang)


def short_period_label(period: Period, lang: str) -> str:
    """`W47` / `第47周` for a week; the full label for a month or quarter (already short)."""
    if period.kind == "week":
        return T("week_short", lang, week=int(period.key.split("-W")[1]))
    return period_label(period, lang)


def _team_review_table(data: DigestData, lang: str, currency: str, review_label: str) -> Table:
    now_word, before_word = _period_words(data, lang)
    columns = [T("kpi", lang), now_word, before_word, T("change", lang), ST("attainment", lang), ST("status", lang)]
    rows, marks = [], []
    for st in data.team_review:
        unit = st.kpi.unit
        rows.append([
            st.kpi.label(lang),
            kpi_value(st.actual, unit, currency, lang),
            kpi_value(st.previous_actual, unit, currency, lang),
            signed_percent(st.change) if st.change is not None else "—",
            ratio(st.attainment),
            status_word(st, lang),
        ])
        marks.append(mark_of(st.status))
    return Table(columns=columns, rows=rows, marks=marks,
                 title=T("team_review", lang, who=data.label or T("team", lang), period=review_label))


def _role_table(role: RoleReview, lang: str, currency: str, review_label: str) -> Table:
    columns = [T("member", lang), *(kpi.label(lang) for kpi in role.kpis), T("score", lang)]
    rows, marks = [], []
    for score in role.review:
        rows.append([score.display_name, *(_cell(st, lang, currency) for st in score.statuses),
                     ratio(score.composite)])
        marks.append(_composite_mark(score.composite))
    return Table(columns=columns, rows=rows, marks=marks,
                 title=T("role_table", lang, role=role.role.label(lang), period=review_label))


def _cell(st: KpiStatus, lang: str, currency: str) -> str:
    """Attainment with its status mark; the plain value when there is no target to attain."""
    if st.attainment is not None:
        return f"{ratio(st.attainment)} {mark_of(st.status).emoji}"
    if st.actual is not None:
        return T("cell_no_target", lang, value=kpi_value(st.actual, st.kpi.unit, currency, lang))
    return "—"


def _composite_mark(composite: float | None) -> Mark | None:
    """The composite score (weighted, capped pace attainment) marked like a status at the default warn 0.9."""
    if composite is None:
        return None
    if composite >= 1:
        return Mark.ON_TRACK
    return Mark.AT_RISK if composite >= 0.9 else Mark.OFF_TRACK


def _movers_table(data: DigestData, lang: str, currency: str) -> Table:
    now_word, before_word = _period_words(data, lang)
    columns = [T("who", lang), T("kpi", lang), before_word, now_word, T("change", lang)]
    rows, marks = [], []
    for mover in data.movers:
        unit = mover.kpi.unit
        rows.append([mover.label, mover.kpi.label(lang), kpi_value(mover.previous, unit, currency, lang),
                     kpi_value(mover.current, unit, currency, lang), signed_percent(mover.change)])
        marks.append(Mark.ON_TRACK if mover.improved else Mark.OFF_TRACK)
    return Table(columns=columns, rows=rows, marks=marks, title=T("movers", lang))


def _risk_table(items: list[RiskItem], lang: str, currency: str, pacing_label: str) -> Table:
    columns = [T("who", lang), T("kpi", lang), T("mtd_actual", lang), ST("target", lang), ST("pace", lang),
               T("needed", lang), ST("status", lang)]
    rows, marks = [], []
    for item in items:
        st = item.status
        unit = st.kpi.unit
        rows.append([
            item.label, st.kpi.label(lang), kpi_value(st.actual, unit, currency, lang),
            kpi_value(st.target.value if st.target else None, unit, currency, lang), ratio(st.pace_attainment),
            kpi_value(st.run_rate, unit, currency, lang), status_word(st, lang),
        ])
        marks.append(mark_of(st.status))
    return Table(columns=columns, rows=rows, marks=marks, title=T("at_risk", lang, period=pacing_label))


def _funnel_table(data: DigestData, registry: Registry, lang: str, review_label: str) -> Table:
    return funnel_table(data.funnel_review, registry, lang, title=T("funnel", lang, period=review_label))


def _notes(data: DigestData, lang: str, pacing_label: str) -> list[str]:
    notes = [T("through", lang, day=day_label(data.data_through)) if data.data_through else T("no_data", lang)]
    if data.stale_sources:
        notes.append(T("stale", lang, sources=", ".join(data.stale_sources)))
    if not data.at_risk and any(st.target for st in data.team_pacing):
        notes.append(T("no_risk", lang, period=pacing_label))
    if len(data.at_risk) > MAX_RISK_ROWS:
        notes.append(T("more_risk", lang, count=len(data.at_risk) - MAX_RISK_ROWS))
    if data.movers:
        notes.append(T("movers_note", lang) if data.label is None else T("movers_note_of", lang, who=data.label))
    if not data.review_sections.unusual and data.review_sections.unusual_checked:
        notes.append(T("nothing_unusual", lang))
    return notes
