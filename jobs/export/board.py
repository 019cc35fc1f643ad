"""A leaderboard as a sheet: the rows the board shows, with numbers as numbers (actual, target, attainment as a
fraction formatted as a percentage) and the status and data-through date as text."""

from __future__ import annotations

from jobs.export.sheets import Sheet, file_name
from jobs.present.formatting import period_label
from jobs.present.i18n import Catalog
from jobs.present.status import T as ST
from jobs.present.status import status_word
from storage.kpi.engine import KpiEngine
from storage.kpi.periods import Period
from storage.kpi.registry import KpiDef

T = Catalog({
    "rank": ("Rank", "排名"),
    "member": ("Member", "成员"),
    "shop": ("Shop", "店铺"),
    "target": ("Target", "目标"),
    "through": ("Data through", "数据截至"),
    "everyone": ("all", "全员"),
})
# Excel number formats per KPI unit (the value columns); attainment is a fraction shown as a percentage.
UNIT_FORMATS = {"currency": "#,##0.00", "percent": "0.0%", "count": "#,##0.##", "ratio": "0.00",
                "seconds": "#,##0.0", "hours": "#,##0.0"}
PERCENT_FORMAT = "0.0%"


def board_sheet(engine: KpiEngine, kpi: KpiDef, role: str | None, period: Period, lang: str,
                currency: str | None = None, role_label: str | None = None, *, shop: str = "",
                by_shop: bool = False) -> Sheet:
    """Members ranked as `board` ranks them (those without data last, unranked); with `shop` their rows in that
    shop; `by_shop`: the shops side by side instead of members."""
    rows = engine.shop_board(kpi, period) if by_shop else engine.board(kpi, role, period, shop=shop)
    value_header = f"{kpi.label(lang)} ({currency})" if currency and kpi.unit == "currency" else kpi.label(lang)
    target_header = f"{T('target', lang)} ({currency})" if currency and kpi.unit == "currency" else T("target", lang)
    columns = [T("rank", lang), T("shop" if by_shop else "member", lang), value_header, target_header,
               ST("attainment", lang), ST("status", lang), T("through", lang)]
    body: list[list[str | float | int | None]] = []
    for rank, row in enumerate(rows, start=1):
        st = row.status
        body.append([
            rank if st.actual is not None else None, row.display_name, st.actual,
            st.target.value if st.target else None, st.attainment, status_word(st, lang),
            st.data_through.isoformat() if st.data_through else None,
        ])
    value_format = UNIT_FORMATS.get(kpi.unit, "General")
    scope = T("shop", lang) if by_shop else " ".join(filter(None, (role_label or role or T("everyone", lang), shop)))
    return Sheet(name=f"{kpi.label(lang)} {scope} {period_label(period, lang)}", columns=columns, rows=body,
                 formats={2: value_format, 3: value_format, 4: PERCENT_FORMAT})


def board_file_name(kpi: KpiDef, role: str | None, period: Period, fmt: str, *, shop: str = "",
                    by_shop: bool = False) -> str:
    """`kpibot-board-gmv-host-2026-11.xlsx` (`all` when the board is not one role's; `-tiktok-us` for one shop's
    rows; `by-shop` for shops side by side)."""
    who = ["by-shop"] if by_shop else [role or "all", *([shop] if shop else [])]
    return file_name("board", kpi.id, *who, period.key, extension=fmt)
