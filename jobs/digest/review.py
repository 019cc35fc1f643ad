"""The digest's review sections (issue 15): unusual days of the reviewed period, the team's KPIs against each
baseline that exists, and why the headline KPI moved (its waterfall chart)."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobs.analysis.extras import EXTRA_REFERENCES, weekday_projection
from jobs.analysis.labels import change_text
from jobs.analysis.messages import T
from jobs.analysis.unusual import unusual_table
from jobs.analysis.why import why_chart
from jobs.present.reply import Chart, Table
from storage.kpi.engine import KpiEngine
from storage.kpi.periods import Period
from storage.kpi.projection import Projection
from storage.kpi.references import BASELINE
from storage.kpi.registry import KpiDef, Registry
from storage.kpi.scan import scan_unusual
from storage.kpi.scope import Scope
from storage.kpi.unusual import Finding
from storage.kpi.why import Compared, Why, compare_many, explain
from storage.models_review import Note
from storage.repositories import members as member_repo
from storage.repositories import notes as note_repo

MAX_UNUSUAL_ROWS = 10


@dataclass(frozen=True)
class ReviewSections:
    unusual: list[Finding] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    baselines: list[Compared] = field(default_factory=list)
    why: Why | None = None
    projection: Projection | None = None  # the pace KPI's weekday-aware projection for the pacing period
    notes: list[Note] = field(default_factory=list)  # the pacing period's notes (marked on the pace chart)
    unusual_checked: bool = True  # False for a shop: unusual days are judged per team, role and member only
    scope_label: str = ""  # whose why chart ('' = the team)


def collect_review(engine: KpiEngine, registry: Registry, review: Period, team_kpis: list[KpiDef],
                   headline: KpiDef | None, pacing: Period | None = None, *, scope: Scope | None = None,
                   scope_label: str = "") -> ReviewSections:
    """Queries, whatever the data size: three for the unusual days (every scope's daily series in one statement,
    the notes, the roles) and one for names, three for the KPIs' baselines, six for the headline's why,
    one for its weekday-aware projection over `pacing` and one for the notes of `pacing`. `scope` (default
    the team): whose figures; a role's or member's unusual days are theirs only, a shop's are not judged."""
    team = scope or Scope.team()
    checked = team.kind != "shop" and not team.shop
    findings = (scan_unusual(engine.db, registry, review.start, review.end,
                             scope=None if team.kind == "team" else team) if checked else [])
    with engine.db.session() as session:
        names = member_repo.display_names(session, [f.scope[1] for f in findings if f.scope[0] == "member"])
    baselines = compare_many(engine, team_kpis, team, review, EXTRA_REFERENCES)
    why = explain(engine, headline, team, review) if headline is not None else None
    projection = weekday_projection(engine, headline, team, pacing) if headline and pacing else None
    notes: list[Note] = []
    if pacing is not None:
        with engine.db.session() as session:
            # Up to the digest's day: a digest built for an earlier day (a catch-up, the demo) shows no later note
            notes = [n for n in note_repo.notes_between(session, pacing.start, min(pacing.end, engine.today()))
                     if note_repo.applies_to(n, team, headline.id if headline else None)]
    return ReviewSections(findings, names, baselines, why, projection, notes, checked, scope_label)


def unusual_section(sections: ReviewSections, registry: Registry, *, lang: str, currency: str) -> Table | None:
    if not sections.unusual:
        return None
    return unusual_table(sections.unusual, registry, sections.names, lang=lang, currency=currency,
                         title=T("unusual_section", lang), limit=MAX_UNUSUAL_ROWS)


def baselines_section(sections: ReviewSections, *, lang: str, title: str) -> Table | None:
    """KPI × each reference that some KPI has data for; None when none has any."""
    kinds = [kind for kind in EXTRA_REFERENCES if any(c.change(kind) is not None for c in sections.baselines)]
    if not kinds:
        return None
    columns = [T("col_kpi", lang)]
    for kind in kinds:
        keys = {c.references[kind][0].periods[0].key for c in sections.baselines
                if kind == BASELINE and c.change(kind) is not None}
        label = T("vs_baseline", lang, key=", ".join(sorted(keys))) if kind == BASELINE else T(f"vs_{kind}", lang)
        columns.append(label)
    rows = [[c.kpi.label(lang), *(change_text(c.change(kind)) for kind in kinds)] for c in sections.baselines]
    return Table(columns=columns, rows=rows, title=title)


def why_section_chart(sections: ReviewSections, *, lang: str, currency: str) -> Chart | None:
    why = sections.why
    if why is None or why.tree is None or why.blocked or why.change is None:
        return None
    return why_chart(why, scope_label=sections.scope_label or T("team", lang), lang=lang, currency=currency)
