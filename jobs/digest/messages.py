"""Every sentence of the review digest, in English and Chinese."""

from __future__ import annotations

from jobs.present.i18n import Catalog

T = Catalog({
    "title_weekly": ("Weekly review · {period}", "周复盘 · {period}"),
    "title_monthly": ("Monthly review · {period}", "月度复盘 · {period}"),
    "team": ("Team", "团队"),
    "kpi": ("KPI", "指标"),
    "member": ("Member", "成员"),
    "who": ("Who", "对象"),
    "week_short": ("W{week}", "第{week}周"),
    "change": ("Change", "环比"),
    "score": ("Score", "综合"),
    "fig_review": ("{kpi} · {period}", "{kpi} · {period}"),
    "fig_review_value": ("{value} ({change} vs previous)", "{value}（环比 {change}）"),
    "fig_pacing": ("{kpi} {period} to date", "{kpi}（{period}至今）"),
    "fig_pacing_value": ("{actual} of {target} · pace {pace}", "{actual} / 目标 {target} · 进度 {pace}"),
    "fig_projection": ("Projected {kpi} for {period}", "{period}{kpi}预计"),
    "fig_through": ("Data through", "数据截至"),
    "team_review": ("Team · {period}", "团队 · {period}"),
    "team_pacing": ("Team pacing · {period} to date", "团队进度 · {period}至今"),
    "role_table": ("{role} · attainment {period}", "{role} · 达成率 {period}"),
    "movers": ("Biggest movers", "变化最大"),
    "at_risk": ("At risk or off track · {period} to date", "有风险或落后 · {period}至今"),
    "mtd_actual": ("To date", "至今"),
    "needed": ("Needed per day", "每日所需"),
    "funnel": ("Funnel · {period}", "转化漏斗 · {period}"),
    "stage": ("Stage", "环节"),
    "stage_value": ("Count", "数量"),
    "conversion": ("Conversion", "转化率"),
    "threshold": ("Threshold", "阈值"),
    "through": ("Data through {day}", "数据截至 {day}"),
    "no_data": ("No data for this period yet", "本期暂无数据"),
    "stale": ("Stale source(s): {sources} — their figures may be incomplete",
              "数据源 {sources} 更新滞后，相关数据可能不完整"),
    "no_risk": ("No KPI is at risk or off track {period} to date.", "{period}至今没有指标有风险或落后。"),
    "more_risk": ("…and {count} more at risk or off track", "……另有 {count} 项有风险或落后"),
    "movers_note": ("Movers: the largest changes against the previous period, of a team KPI or a member's role KPI "
                    "(values non-zero in both periods).",
                    "变化最大：团队指标或成员岗位指标与上一周期相比变化幅度最大的三项（两期数值均不为零）。"),
    "cell_no_target": ("{value} (no target)", "{value}（未设目标）"),
    "chart_attainment": ("{role} · attainment · {period}", "{role} · 达成率 · {period}"),
    "chart_pace": ("{kpi} pace · {period}", "{kpi}进度 · {period}"),
    "chart_funnel": ("Funnel · {period}", "转化漏斗 · {period}"),
    "stage_rate_label": ("{stage} rate", "{stage}率"),
})
