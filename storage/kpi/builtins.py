"""Built-in raw metrics, KPIs and roles (SPEC §5), with English and Chinese labels and aliases."""

from __future__ import annotations

from typing import Any

RAW_METRICS: dict[str, tuple[str, str]] = {
    "gmv": ("GMV", "GMV"),
    "orders": ("Orders", "订单数"),
    "paid_orders": ("Paid orders", "支付订单数"),
    "ad_spend": ("Ad spend", "广告消耗"),
    "ad_gmv": ("Ad GMV (attributed to ads)", "广告成交额"),
    "impressions": ("Impressions", "曝光量"),
    "clicks": ("Clicks", "点击量"),
    "add_to_cart": ("Add to cart", "加购数"),
    "live_sessions": ("Live sessions", "直播场次"),
    "live_viewers": ("Live viewers", "直播观看人数"),
    "watch_seconds": ("Watch seconds", "观看时长(秒)"),
    "live_orders": ("Live orders", "直播订单数"),
    "videos_published": ("Videos published", "发布视频数"),
    "video_views": ("Video views", "视频播放量"),
    "views_3s": ("3-second views", "3秒播放量"),
    "completions": ("Completions", "完播数"),
    "returns": ("Returns", "退货数"),
    "negative_reviews": ("Negative reviews", "差评数"),
    "review_response_hours": ("Review response hours", "差评响应总时长"),
    # Flywheel (monthly review), pushed by the ERP/CRM; ltv is a level (aggregate `last`).
    "marketing_spend": ("Marketing spend", "营销费用"),
    "new_customers": ("New customers", "新客数"),
    "customers": ("Customers", "客户数"),
    "repeat_customers": ("Repeat customers", "复购客户数"),
    "promoters": ("NPS promoters", "NPS推荐者"),
    "passives": ("NPS passives", "NPS中立者"),
    "detractors": ("NPS detractors", "NPS贬损者"),
    "ltv": ("Customer lifetime value", "客户终身价值"),
}

# Money metrics: converted into the reporting currency on the way in (a KPI file adds more with
# `unit: currency` on a metric entry).
MONEY_METRICS = frozenset({"gmv", "ad_gmv", "ad_spend", "marketing_spend", "ltv"})

# id: label_en, label_zh, formula, unit, direction, aliases
BUILTIN_KPIS: dict[str, dict[str, Any]] = {
    "gmv": {"label": ["GMV", "GMV"], "formula": "gmv", "unit": "currency",
            "aliases": ["sales", "revenue", "成交额", "销售额", "营业额", "GMV"]},
    "orders": {"label": ["Orders", "订单数"], "formula": "orders", "unit": "count",
               "aliases": ["order", "订单", "订单量", "单量"]},
    "aov": {"label": ["Average order value", "客单价"], "formula": "gmv / orders", "unit": "currency",
            "aliases": ["average-order-value", "客单价", "平均客单价"]},
    "return_rate": {"label": ["Return rate", "退货率"], "formula": "returns / orders", "unit": "percent",
                    "direction": "lower", "aliases": ["returns-rate", "退货率", "退款率"]},
    "review_response_hours": {"label": ["Review response time", "差评响应时长"],
                              "formula": "review_response_hours / negative_reviews", "unit": "hours",
                              "direction": "lower",
                              "aliases": ["response-time", "差评响应", "差评响应时长", "响应时长"]},
    "add_to_cart_rate": {"label": ["Add-to-cart rate", "加购率"], "formula": "add_to_cart / clicks",
                         "unit": "percent", "aliases": ["atc-rate", "atc", "加购率"]},
    "live_viewers_per_session": {"label": ["Viewers per live session", "场均观看"],
                                 "formula": "live_viewers / live_sessions", "unit": "count",
                                 "aliases": ["viewers", "场均观看", "场均观看人数"]},
    "avg_watch_seconds": {"label": ["Average watch time", "平均停留"],
                          "formula": "watch_seconds / live_viewers", "unit": "seconds",
                          "aliases": ["watch-time", "停留", "平均停留", "平均停留时长"]},
    "live_cvr": {"label": ["Live conversion rate", "成交转化率"], "formula": "live_orders / live_viewers",
                 "unit": "percent", "aliases": ["cvr", "conversion", "转化率", "成交转化率", "直播转化率"]},
    "ad_spend": {"label": ["Ad spend", "广告消耗"], "formula": "ad_spend", "unit": "currency",
                 "direction": "budget", "aliases": ["spend", "消耗", "广告消耗", "花费", "广告花费", "预算"]},
    # Attributed: GMV the ads brought over what they cost. GMV of the whole shop over ad spend is `mer`.
    "roas": {"label": ["ROAS", "投产比"], "formula": "ad_gmv / ad_spend", "unit": "ratio",
             "aliases": ["投产比", "投产", "ROI", "roi", "广告投产比"]},
    "mer": {"label": ["MER (blended ROAS)", "全店投产比"], "formula": "gmv / ad_spend", "unit": "ratio",
            "aliases": ["blended-roas", "全店投产比", "全店投产", "整体投产比"]},
    "ad_gmv": {"label": ["Ad GMV", "广告成交额"], "formula": "ad_gmv", "unit": "currency",
               "aliases": ["ad-sales", "广告成交额", "广告成交", "广告GMV"]},
    "cpm": {"label": ["CPM", "千次曝光成本"], "formula": "ad_spend / impressions * 1000", "unit": "currency",
            "direction": "lower", "aliases": ["千次曝光成本", "千展成本"]},
    "cpc": {"label": ["CPC", "单次点击成本"], "formula": "ad_spend / clicks", "unit": "currency",
            "direction": "lower", "aliases": ["点击成本", "单次点击成本"]},
    "ctr": {"label": ["CTR", "点击率"], "formula": "clicks / impressions", "unit": "percent",
            "aliases": ["click-through-rate", "点击率"]},
    "videos_published": {"label": ["Videos published", "发布视频数"], "formula": "videos_published",
                         "unit": "count", "aliases": ["videos", "视频数", "发布数", "产量", "发布视频数"]},
    "hook_rate_3s": {"label": ["3-second hook rate", "前3秒完播率"], "formula": "views_3s / video_views",
                     "unit": "percent", "aliases": ["hook-rate", "hook", "3s", "前3秒完播率", "3秒完播率"]},
    "completion_rate": {"label": ["Completion rate", "完播率"], "formula": "completions / video_views",
                        "unit": "percent", "aliases": ["completion", "完播率"]},
    # Flywheel KPIs (SPEC §5). CAC falls back to ad_spend when marketing_spend is missing (jobs/meetings/flywheel).
    "cac": {"label": ["Customer acquisition cost", "获客成本"], "formula": "marketing_spend / new_customers",
            "unit": "currency", "direction": "lower", "aliases": ["CAC", "获客成本", "拉新成本"]},
    "order_cvr": {"label": ["Order conversion", "下单转化率"], "formula": "orders / clicks", "unit": "percent",
                  "aliases": ["order-conversion", "下单转化率", "点击转化率"]},
    "repeat_rate": {"label": ["Repeat purchase rate", "复购率"], "formula": "repeat_customers / customers",
                    "unit": "percent", "aliases": ["repeat", "repurchase-rate", "复购率", "复购"]},
    "nps": {"label": ["NPS", "净推荐值"],
            "formula": "(promoters - detractors) / (promoters + passives + detractors) * 100", "unit": "count",
            "aliases": ["net-promoter-score", "净推荐值", "NPS"]},
    "ltv": {"label": ["LTV", "客户终身价值"], "formula": "ltv", "unit": "currency",
            "aliases": ["lifetime-value", "客户终身价值", "终身价值", "LTV"]},
}

# id: label_en, label_zh, aliases, KPIs with their weight in the role's composite score
BUILTIN_ROLES: dict[str, dict[str, Any]] = {
    "ops_manager": {"label": ["Ops manager", "运营经理"],
                    "aliases": ["ops", "ops-manager", "manager", "运营", "运营经理"], "measured_on": "team",
                    "kpis": {"gmv": 0.35, "orders": 0.15, "aov": 0.1, "return_rate": 0.15,
                             "review_response_hours": 0.1, "add_to_cart_rate": 0.15}},
    "host": {"label": ["Live host", "主播"],
             "aliases": ["hosts", "live-host", "streamer", "streamers", "主播", "主播们"],
             "kpis": {"gmv": 0.4, "live_viewers_per_session": 0.2, "avg_watch_seconds": 0.15,
                      "live_cvr": 0.25}},
    "ad_buyer": {"label": ["Ad buyer", "投手"],
                 "aliases": ["ad-buyer", "buyer", "buyers", "ad-buyers", "media-buyer", "投手", "投放"],
                 "kpis": {"roas": 0.4, "ad_spend": 0.15, "cpm": 0.1, "cpc": 0.15, "ctr": 0.2}},
    "editor": {"label": ["Video editor", "剪辑师"],
               "aliases": ["editors", "video-editor", "剪辑", "剪辑师"],
               "kpis": {"videos_published": 0.4, "hook_rate_3s": 0.35, "completion_rate": 0.25}},
}

# The team's headline KPIs (the team / ops manager row of SPEC §5).
TEAM_KPIS = ["gmv", "orders", "aov", "return_rate", "review_response_hours", "add_to_cart_rate", "mer"]
