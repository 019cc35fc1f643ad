"""Column headers → what they hold: the date, the member, a metric (by id, label or alias, in
English or Chinese), or the metric / value pair of a long-form file."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from storage.kpi.formula import Metric
from storage.kpi.registry import Registry

DATE_HEADERS = ("date", "day", "日期", "统计日期", "数据日期", "时间", "day_date", "stat_date")
MEMBER_HEADERS = ("member", "member_key", "成员", "主播", "达人", "创作者", "creator", "host", "email", "邮箱",
                  "员工", "负责人", "投手", "剪辑师", "运营")
METRIC_HEADERS = ("metric", "指标", "指标名", "指标名称", "kpi")
VALUE_HEADERS = ("value", "数值", "值", "数据")
SHOP_HEADERS = ("shop", "店铺", "店铺名", "店铺名称", "store", "shop_key")
CURRENCY_HEADERS = ("currency", "币种", "货币", "currency_code")
SUMMARY_LABELS = frozenset({"total", "totals", "sum", "合计", "总计", "汇总", "总和"})

_PARENTHESISED = re.compile(r"[(（][^)）]*[)）]")
_SEPARATORS = re.compile(r"[\s\-]+")
MEMO_SIZE = 4096  # distinct names remembered: a file repeats a few metric names and dates per row


def normal(header: object) -> str:
    """Case, width, spaces, hyphens and a BOM do not matter in a header."""
    return _normal_text(str(header if header is not None else ""))


@lru_cache(maxsize=MEMO_SIZE)
def _normal_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\ufeff", "")
    return _SEPARATORS.sub("_", text.strip().casefold())


def without_unit(header: str) -> str:
    """'GMV ($)' → 'gmv', '观看时长(秒)' stays matchable as written and as '观看时长'."""
    return normal(_PARENTHESISED.sub("", header))


class MetricNames:
    """Every name a raw metric answers to: its id, its labels, and the aliases of KPIs that are
    exactly that metric (成交额 → gmv, 订单量 → orders, 消耗 → ad_spend). A name claimed by two
    metrics is dropped rather than guessed."""

    def __init__(self, registry: Registry) -> None:
        self.known = set(registry.metrics)
        claims: dict[str, set[str]] = {}

        def claim(name: str, metric: str) -> None:
            for key in {normal(name), without_unit(name)}:
                if key:
                    claims.setdefault(key, set()).add(metric)

        for metric, (label_en, label_zh) in registry.metrics.items():
            for name in (metric, label_en, label_zh):
                claim(name, metric)
        for kpi in registry.kpis.values():
            if isinstance(kpi.formula.root, Metric):
                for name in (kpi.id, kpi.label_en, kpi.label_zh, *kpi.aliases):
                    claim(name, kpi.formula.root.name)
        self._names = {name: next(iter(metrics)) for name, metrics in claims.items() if len(metrics) == 1}
        for metric in self.known:  # an id always means itself
            self._names[normal(metric)] = metric
        self._resolved: dict[str, str | None] = {}  # text cell → metric, at most MEMO_SIZE of them

    def resolve(self, name: object) -> str | None:
        if type(name) is not str:
            return self._lookup(name)
        try:
            return self._resolved[name]
        except KeyError:
            pass
        if len(self._resolved) >= MEMO_SIZE:
            self._resolved.clear()
        metric = self._resolved[name] = self._lookup(name)
        return metric

    def _lookup(self, name: object) -> str | None:
        key = normal(name)
        return self._names.get(key) or self._names.get(without_unit(str(name or "")))


def header_role(header: object, aliases: tuple[str, ...]) -> bool:
    return normal(header) in {normal(alias) for alias in aliases}
