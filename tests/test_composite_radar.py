"""The composite-score radar attached to `me`: one axis per KPI with a pace attainment, capped at 150 %."""

from __future__ import annotations

from datetime import date

from jobs.reviews.composite_radar import composite_radar, radar_values
from storage.kpi.attainment import evaluate
from storage.kpi.periods import Calendar
from storage.kpi.registry import load_registry
from storage.kpi.scope import Scope
from storage.kpi.target_book import ResolvedTarget

REGISTRY = load_registry(None)
NOVEMBER = Calendar(0).month(date(2026, 11, 1))


def status(kpi_id: str, actual: float | None, target: float | None):  # type: ignore[no-untyped-def]
    kpi = REGISTRY.kpis[kpi_id]
    sums = {m: actual for m in kpi.metrics} if actual is not None else {}
    resolved = ResolvedTarget(target) if target is not None else None
    return evaluate(kpi, Scope.member("a"), NOVEMBER, sums, date(2026, 11, 30) if actual else None,
                    date(2026, 12, 1), resolved)


def test_axes_are_the_kpis_with_a_pace_and_values_are_capped() -> None:
    # Finished month: pace = attainment. gmv 300/100 = 300 % → capped 150 %; orders 90/100 = 90 %;
    # videos 120/100 = 120 %; ad_spend has no target → no axis.
    statuses = [status("gmv", 300, 100), status("orders", 90, 100), status("videos_published", 120, 100),
                status("ad_spend", 50, None)]
    axes, series = radar_values([("Anna", statuses)], "en")
    assert axes == ["GMV", "Orders", "Videos published"]
    assert series == [("Anna", [1.5, 0.9, 1.2])]
    chart = composite_radar([("Anna", statuses)], "en", "Anna")
    assert chart is not None and chart.png.startswith(b"\x89PNG")


def test_fewer_than_three_kpis_with_a_pace_give_no_radar() -> None:
    statuses = [status("gmv", 300, 100), status("orders", 90, 100), status("ad_spend", 50, None)]
    assert composite_radar([("Anna", statuses)], "en", "Anna") is None
