"""A leaderboard as a sheet: numbers stay numbers (actual, target, attainment as a fraction)."""

from __future__ import annotations

from jobs.export.sheets import Sheet
from jobs.present.formatting import period_label
from jobs.present.status import T as ST
from jobs.present.status import status_word
from jobs.reviews.messages import T
from storage.kpi.engine import KpiEngine
from storage.kpi.periods import Period
from storage.kpi.registry import KpiDef

_WORDS = {"rank": ("Rank", "排名"), "member_key": ("Member key", "成员标识"), "member": ("Member", "成员"),
          "target": ("Target", "目标"), "through": ("Data through", "数据截至")}


def _w(key: str, lang: str) -> str:
    en, zh = _WORDS[key]
    return zh if lang == "zh" else en


def board_sheet(engine: KpiEngine, kpi: KpiDef, role: str | None, period: Period, lang: str) -> Sheet:
    rows = engine.board(kpi, role, period)
    columns = [_w("rank", lang), _w("member_key", lang), _w("member", lang), kpi.label(lang), _w("target", lang),
               ST("attainment", lang), T("status", lang), _w("through", lang)]
    body: list[list[str | float | int | None]] = []
    for rank, row in enumerate(rows, start=1):
        st = row.status
        body.append([
            rank if st.actual is not None else None, row.member, row.display_name, st.actual,
            st.target.value if st.target else None, st.attainment, status_word(st.status, lang),
            st.data_through.isoformat() if st.data_through else None,
        ])
    scope = role or "all"
    return Sheet(name=f"{kpi.label(lang)} {scope} {period_label(period, lang)}", columns=columns, rows=body)


def board_file_name(kpi: KpiDef, role: str | None, period: Period, fmt: str) -> str:
    return f"board-{kpi.id}-{role or 'all'}-{period.key}.{fmt}"
