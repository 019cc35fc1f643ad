"""LMDI, driver trees, robust z and the weekday projection, on hand-computed numbers."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import pytest

from storage.kpi.drivers import product_equals, tree_for, trees_of
from storage.kpi.formula import parse_formula
from storage.kpi.lmdi import lmdi, log_mean
from storage.kpi.periods import Calendar
from storage.kpi.projection import project, project_with_range, typical
from storage.kpi.registry import check_kpi_file, load_registry
from storage.kpi.unusual import day_value, judge_days, robust_z


def test_lmdi_on_the_host_example() -> None:
    # Last week: viewers 10,000, live orders 500, GMV 20,000 → cvr 0.05, order value 40.
    # This week: 8,000, 480, 19,200 → cvr 0.06, order value 40. Change 19,200 − 20,000 = −800.
    # L(19200, 20000) = −800 / ln(0.96) = −800 / −0.0408220 = 19,597.28
    # viewers:    19,597.28 · ln(8000/10000) = 19,597.28 · −0.2231436 = −4,373.01
    # conversion: 19,597.28 · ln(0.06/0.05)  = 19,597.28 ·  0.1823216 = +3,573.01
    # order value: ln(40/40) = 0 → 0.0
    split = lmdi([10_000, 0.05, 40.0], [8_000, 0.06, 40.0])
    assert split.contributions is not None
    assert [round(c, 1) for c in split.contributions] == [-4373.0, 3573.0, 0.0]
    assert split.change == pytest.approx(-800)
    assert sum(split.contributions) == pytest.approx(-800, abs=1e-9)


def test_lmdi_on_a_four_factor_team_gmv() -> None:
    # impressions × ctr × click conversion × aov
    # before: 100,000 × 0.02 × 0.05 × 50 = 5,000;  after: 120,000 × 0.015 × 0.05 × 60 = 5,400; change +400
    # L(5400, 5000) = 400 / ln(1.08) = 400 / 0.0769610 = 5,197.43
    # impressions: 5,197.43 · ln(1.2)  = 5,197.43 ·  0.1823216 = +947.6
    # ctr:         5,197.43 · ln(0.75) = 5,197.43 · −0.2876821 = −1,495.2
    # conversion:  0
    # aov:         5,197.43 · ln(1.2)  = +947.6          sum: 947.6 − 1,495.2 + 0 + 947.6 = 400.0
    split = lmdi([100_000, 0.02, 0.05, 50.0], [120_000, 0.015, 0.05, 60.0])
    assert split.contributions is not None
    assert [round(c, 1) for c in split.contributions] == [947.6, -1495.2, 0.0, 947.6]
    assert sum(split.contributions) == pytest.approx(400)


def test_lmdi_with_a_zero_or_missing_factor_names_it_instead_of_splitting() -> None:
    # No live orders last week: conversion 0 → ln(0) undefined; the total change is still known.
    split = lmdi([10_000, 0.0, 40.0], [8_000, 0.06, 40.0])
    assert split.contributions is None and split.blocked_by == [1]
    assert split.before == 0 and split.after == pytest.approx(19_200)
    missing = lmdi([10_000, None, 40.0], [8_000, 0.06, None])
    assert missing.blocked_by == [1, 2] and missing.change is None


def test_log_mean_of_equal_values_is_the_value() -> None:
    assert log_mean(5.0, 5.0) == 5.0
    assert log_mean(2.0, 1.0) == pytest.approx(1 / math.log(2))


def test_builtin_trees_multiply_to_their_kpi() -> None:
    registry = load_registry(None)
    for kpi_id in ("gmv", "orders", "roas", "completion_rate"):
        for tree in trees_of(registry, kpi_id).values():
            assert product_equals(registry.kpis[kpi_id].formula, [f.formula for f in tree.factors]), (kpi_id, tree)
    host = tree_for(registry, "gmv", ["host"])
    team = tree_for(registry, "gmv", [])
    assert host is not None and [f.id for f in host.factors] == ["live_viewers", "live_cvr", "gmv / live_orders"]
    assert team is not None and [f.id for f in team.factors] == ["impressions", "ctr", "orders / clicks", "aov"]
    assert not product_equals(parse_formula("gmv"), [parse_formula("clicks"), parse_formula("gmv / orders")])


def test_completion_rate_tree_and_its_check(tmp_path: Path) -> None:
    registry = load_registry(None)
    tree = tree_for(registry, "completion_rate", ["editor"])
    assert tree is not None and [f.id for f in tree.factors] == ["hook_rate_3s", "completions / views_3s"]
    assert tree.factors[1].label("zh") == "看过3秒后的完播率"
    # Last week views 10,000, 3 s views 4,000, completions 1,500 → rate 0.15 = hook 0.4 × stayed-and-finished 0.375.
    # This week 10,000, 5,000, 1,600 → 0.16 = 0.5 × 0.32. Change +0.01.
    # L(0.16, 0.15) = 0.01 / ln(0.16 / 0.15) = 0.01 / 0.0645385 = 0.1549462
    # hook:     0.1549462 · ln(0.5 / 0.4)    = 0.1549462 ·  0.2231436 = +0.0345753
    # finished: 0.1549462 · ln(0.32 / 0.375) = 0.1549462 · −0.1586050 = −0.0245753
    x0 = tree.values({"video_views": 10_000, "views_3s": 4_000, "completions": 1_500})
    x1 = tree.values({"video_views": 10_000, "views_3s": 5_000, "completions": 1_600})
    assert x0 == pytest.approx([0.4, 0.375]) and x1 == pytest.approx([0.5, 0.32])
    split = lmdi(x0, x1)
    assert split.contributions == pytest.approx([0.0345753, -0.0245753], abs=1e-7)
    # a KPI file that redefines completion rate breaks the built-in tree's product: `kpis check` says where
    changed = tmp_path / "changed.yaml"
    changed.write_text("kpis:\n  completion_rate:\n    formula: completions / views_3s\n", encoding="utf-8")
    [problem] = check_kpi_file(changed)
    assert problem.key == "kpis.completion_rate.formula" and "built-in driver tree" in problem.reason
    assert "declare `drivers:`" in problem.reason


def test_kpi_file_drivers_are_checked(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("kpis:\n  gmv:\n    drivers: {host: [live_viewers, live_cvr, "
                    "{formula: gmv / live_orders, label: {en: Order value, zh: 客单价}}]}\n"
                    "  live_cvr:\n    min_volume: 300\n", encoding="utf-8")
    assert check_kpi_file(good) == []
    registry = load_registry(good)
    tree = tree_for(registry, "gmv", ["host"])
    assert tree is not None and tree.factors[2].label("zh") == "客单价"
    bad = tmp_path / "bad.yaml"
    bad.write_text("kpis:\n  gmv:\n    drivers: [live_viewers, live_cvr]\n  aov:\n    drivers: [gmv, nothing]\n"
                   "  gmv_x:\n    formula: gmv\n    min_volume: 10\n", encoding="utf-8")
    problems = [str(p) for p in check_kpi_file(bad)]
    assert any("kpis.gmv.drivers: the factors' product is not gmv" in p for p in problems)
    assert any("kpis.aov.drivers: unknown factor 'nothing'" in p for p in problems)
    assert any("kpis.gmv_x.min_volume: only a ratio KPI" in p for p in problems)


def test_robust_z_finds_a_spike() -> None:
    # history 100, 104, 96, 102, 98, 101, 99, 100 → sorted 96 98 99 100 100 101 102 104, median 100
    # |h − 100| = 0, 4, 4, 2, 2, 1, 1, 0 → sorted 0 0 1 1 2 2 4 4 → MAD 1.5
    # x = 130: z = 0.6745 · 30 / 1.5 = 13.49 → unusual; range 100 ± 3.5 · 1.5 / 0.6745 = 100 ± 7.78
    j = robust_z(130, [100, 104, 96, 102, 98, 101, 99, 100])
    assert j is not None and not j.mean_ad
    assert j.median == 100 and j.spread == 1.5
    assert j.z == pytest.approx(13.49) and j.unusual
    assert (round(j.low, 2), round(j.high, 2)) == (92.22, 107.78)
    # x = 103: z = 0.6745 · 3 / 1.5 = 1.349 → usual
    steady = robust_z(103, [100, 104, 96, 102, 98, 101, 99, 100])
    assert steady is not None and not steady.unusual and steady.z == pytest.approx(1.349)


def test_mad_of_zero_falls_back_to_the_mean_absolute_deviation() -> None:
    # history 100 ×6, 130, 70: median 100, deviations 0 ×6, 30, 30 → MAD 0
    # mean absolute deviation = 60 / 8 = 7.5; z = (150 − 100) / (1.2533 · 7.5) = 50 / 9.39975 = 5.319
    j = robust_z(150, [100, 100, 100, 100, 100, 100, 130, 70])
    assert j is not None and j.mean_ad and j.spread == 7.5
    assert j.z == pytest.approx(5.319, abs=1e-3) and j.unusual
    assert robust_z(150, [100] * 8) is None  # no spread at all: nothing to judge by
    assert robust_z(150, [100, 101, 99]) is None  # fewer than 4 history days


def test_judge_days_leaves_out_promo_days_and_low_volume() -> None:
    registry = load_registry(None)
    cvr = registry.kpis["live_cvr"]
    monday = date(2026, 11, 23)
    # 8 Mondays before: cvr 0.050, 0.052, 0.048, 0.051, 0.049, 0.050, 0.150 (promo), 0.050 at 1,000 viewers
    rates = [0.050, 0.052, 0.048, 0.051, 0.049, 0.050, 0.150, 0.050]
    series = {monday - timedelta(weeks=w + 1): {"live_orders": r * 1000, "live_viewers": 1000.0}
              for w, r in enumerate(rates)}
    series[monday] = {"live_orders": 80.0, "live_viewers": 1000.0}  # 0.080
    promo = {monday - timedelta(weeks=7)}
    # without the promo day: 0.048 0.049 0.050 0.050 0.050 0.051 0.052 → median 0.050,
    # deviations 0.002 0.001 0 0 0 0.001 0.002 → MAD 0.001; z = 0.6745 · 0.030 / 0.001 = 20.2
    [(day, j)] = judge_days(cvr, series, [monday], promo_days=promo, min_volume=200)
    assert day == monday and j.history == 7 and j.z == pytest.approx(20.235)
    # at 150 viewers the day is below min_volume 200: not judged at all
    series[monday] = {"live_orders": 12.0, "live_viewers": 150.0}
    assert judge_days(cvr, series, [monday], promo_days=promo, min_volume=200) == []
    # a day with a metric missing is missing, not zero
    assert day_value(cvr, {"live_viewers": 1000.0}, None) is None


def test_weekday_aware_projection() -> None:
    # 4 weeks of history before the week of Mon 2026-11-23: weekdays 100, Saturdays and Sundays 300.
    # This week through Wednesday: 90, 90, 90 (actual 270; typical so far 300 → scale 0.9).
    # Remaining: Thu 100, Fri 100, Sat 300, Sun 300 = 800 typical → 0.9 · 800 = 720.
    # Projection 270 + 720 = 990 (a straight line would say 270 / 3 · 7 = 630).
    calendar = Calendar(0)
    week = calendar.week(date(2026, 11, 23))
    daily = {}
    for offset in range(1, 29):
        day = week.start - timedelta(days=offset)
        daily[day] = 300.0 if day.weekday() >= 5 else 100.0
    for i in range(3):
        daily[week.start + timedelta(days=i)] = 90.0
    assert typical(daily, date(2026, 11, 28), date(2026, 11, 25)) == 300.0
    found = project(daily, week, date(2026, 11, 25))
    assert found is not None and found.actual == 270 and found.scale == pytest.approx(0.9)
    assert found.value == pytest.approx(990)
    # fewer than 4 same weekdays → no weekday projection
    assert project({d: v for d, v in daily.items() if d >= week.start - timedelta(days=21)}, week,
                   date(2026, 11, 25)) is None


def test_projection_range_from_past_periods() -> None:
    # 12 weeks of Mon–Wed 100, Thu–Sun 110: a straight line at Wednesday says 700, the weekday-aware
    # projection 740, which is exactly how every past week ended.
    calendar = Calendar(0)
    week = calendar.week(date(2026, 11, 23))
    daily = {}
    for offset in range(1, 7 * 12 + 1):
        day = week.start - timedelta(days=offset)
        daily[day] = 110.0 if day.weekday() >= 3 else 100.0
    for i in range(3):
        daily[week.start + timedelta(days=i)] = 100.0
    # this week: actual 300, typical Mon–Wed 300 → scale 1; remaining Thu–Sun 4 · 110 = 440 → 740
    found = project_with_range(daily, week, date(2026, 11, 25), calendar.previous)
    assert found is not None and found.value == pytest.approx(740)
    # each usable past week (8 looked at; those with 4 weeks of history before them) projected 740 at
    # Wednesday and ended at 740: ratios all 1.0 → range 740–740
    assert found.low == pytest.approx(740) and found.high == pytest.approx(740)


def test_projection_range_from_past_weeks_that_ended_differently() -> None:
    # 12 weeks of history, every day 100, except the Sundays of the 4 latest weeks: 1 week back 170,
    # 2 back 30, 3 back 135, 4 back 65. No window of 8 Sundays holds more than 2 above or 2 below 100, so
    # every typical day (a median of up to 8 same weekdays) is still 100.
    # Each past week at its Wednesday: actual 300, typical 300 → scale 1, projection 300 + 4 · 100 = 700.
    # How they ended: 770, 630, 735, 665, then 700 × 4 → ratios 1.10, 0.90, 1.05, 0.95, 1.0, 1.0, 1.0, 1.0.
    # Sorted: 0.90 0.95 1.0 1.0 1.0 1.0 1.05 1.10 (n = 8; inclusive quantiles at position p · (n − 1)):
    #   10th: position 0.7 → 0.90 + 0.7 · (0.95 − 0.90) = 0.935;  90th: 6.3 → 1.05 + 0.3 · (1.10 − 1.05) = 1.065.
    # This week Mon–Wed 90 each: actual 270, scale 0.9, projection 270 + 0.9 · 400 = 630;
    # range 630 · 0.935 = 589.05 to 630 · 1.065 = 670.95.
    calendar = Calendar(0)
    week = calendar.week(date(2026, 11, 23))
    daily = {week.start - timedelta(days=offset): 100.0 for offset in range(1, 7 * 12 + 1)}
    for weeks_back, sunday in enumerate([170.0, 30.0, 135.0, 65.0], start=1):
        daily[week.start - timedelta(weeks=weeks_back) + timedelta(days=6)] = sunday
    for i in range(3):
        daily[week.start + timedelta(days=i)] = 90.0
    found = project_with_range(daily, week, date(2026, 11, 25), calendar.previous)
    assert found is not None and found.scale == pytest.approx(0.9) and found.value == pytest.approx(630)
    assert found.low == pytest.approx(589.05) and found.high == pytest.approx(670.95)


def test_compiled_formulas_agree_with_the_formula_language() -> None:
    from storage.kpi.compiled import compiled

    sums = {"gmv": 1200.0, "orders": 30.0, "ad_spend": 400.0, "impressions": 50_000.0, "returns": 3.0}
    for text in ("gmv", "gmv / orders", "ad_spend / impressions * 1000", "-(gmv - returns) / 2 + 1",
                 "gmv / clicks", "(gmv - gmv) / (orders - orders)"):
        formula = parse_formula(text)
        assert compiled(formula)(sums) == formula.evaluate(sums), text
    assert compiled(parse_formula("gmv / clicks"))(sums) is None  # no clicks: undefined, not 0


def test_every_day_of_a_series_is_worked_out_as_one_day_is() -> None:
    from storage.kpi.compiled import evaluate_days

    # evaluate_days works one metric and a ratio of two out inline: the same days and values as the formula
    # language one day at a time, where a metric without rows is missing, a 0 denominator undefined and a
    # day whose denominator is under the floor (200) left out
    series = {1: {"gmv": 1200.0, "orders": 30.0}, 2: {"gmv": 900.0}, 3: {"gmv": 50.0, "orders": 0.0},
              4: {"orders": 250.0, "gmv": 10_000.0}, 5: {"orders": 199.0, "gmv": 7_960.0}, 6: {},
              7: {"gmv": math.inf, "orders": 2.0}, 8: {"gmv": -300.0, "orders": -6.0},
              9: {"gmv": 8_000.0, "orders": 200.0}}
    for text in ("gmv", "orders", "gmv / orders", "orders / gmv", "gmv / orders * 2", "(gmv - orders) / orders"):
        formula = parse_formula(text)
        for guard, floor in (((), 0.0), (tuple(formula.denominator_metrics()), 200.0)):
            expected = {day: value for day, sums in series.items() if set(formula.metrics) <= sums.keys()
                        and not (guard and sum(sums[m] for m in guard) < floor)  # no denominator: no floor
                        and (value := formula.evaluate(sums)) is not None}
            assert evaluate_days(formula, series, guard, floor) == expected, (text, guard)
    # by hand: 1,200 / 30 = 40 on day 1; day 2 has no orders, day 3 none that count (0), day 4 10,000 / 250
    # = 40, day 5 7,960 / 199 = 40, day 7 inf / 2 is not finite, day 8 −300 / −6 = 50, day 9 8,000 / 200 = 40
    assert evaluate_days(parse_formula("gmv / orders"), series) == {1: 40.0, 4: 40.0, 5: 40.0, 8: 50.0, 9: 40.0}
    # at least 200 orders: 250 and 200 (199, 30 and −6 are under)
    assert evaluate_days(parse_formula("gmv / orders"), series, ["orders"], 200.0) == {4: 40.0, 9: 40.0}
