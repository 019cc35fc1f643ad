"""Words of the command language in English and Chinese, besides the command and subcommand words
(declared with each command, bot/handlers/*) and KPI, role and period names (registry, calendar)."""

from __future__ import annotations

TEAM_WORDS = {"team", "团队", "全队", "全店", "整体", "全员", "店铺", "team-wide", "overall"}
PUBLIC_WORDS = {"public", "公开", "--public"}

STOPWORDS = {
    # English filler of plain questions
    "what", "what's", "whats", "is", "are", "our", "the", "how", "how's", "doing", "attainment", "of",
    "show", "please", "a", "an", "we", "current", "currently", "so", "far", "to", "date", "kpi", "kpis",
    "tell", "give", "can", "you", "i", "see", "check", "does", "do", "look", "looking", "like", "progress",
    "vs", "for", "at", "on", "with", "about", "and", "hey", "hi", "hello", "bot", "in", "this", "performance",
    "performing", "going", "us", "all", "team's", "numbers", "number", "stats", "figures", "pace", "pacing",
    "who", "s", "?",
    # Chinese filler
    "达成率", "达成", "完成率", "完成情况", "完成", "进度", "多少", "怎么样", "如何", "情况", "现在", "目前",
    "的", "吗", "呢", "了", "看看", "看下", "一下", "请问", "帮我", "我们", "是", "有", "啥", "什么", "表现",
    "指标", "数据", "咋样", "呀", "啊", "吧", "下", "查", "查询", "给我", "今年", "本", "怎样", "样",
    "最新", "业绩", "做得", "做的", "得", "好", "在", "和", "与", "谁", "最",
}

ME_WORDS = {"me", "my", "mine", "我的", "我", "i'm"}
BOARD_WORDS = {"board", "leaderboard", "rank", "ranking", "rankings", "top", "排名", "排行", "排行榜", "榜单",
               "best", "ranked"}

MONTH_NAMES = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}

WEEKDAY_WORDS = {
    "mon": "mon", "monday": "mon", "周一": "mon", "星期一": "mon",
    "tue": "tue", "tuesday": "tue", "周二": "tue", "星期二": "tue",
    "wed": "wed", "wednesday": "wed", "周三": "wed", "星期三": "wed",
    "thu": "thu", "thursday": "thu", "周四": "thu", "星期四": "thu",
    "fri": "fri", "friday": "fri", "周五": "fri", "星期五": "fri",
    "sat": "sat", "saturday": "sat", "周六": "sat", "星期六": "sat",
    "sun": "sun", "sunday": "sun", "周日": "sun", "星期日": "sun", "星期天": "sun",
}

CADENCE_WORDS = {"weekly": "weekly", "每周": "weekly", "monthly": "monthly", "每月": "monthly", "daily": "daily",
                 "每天": "daily", "每日": "daily"}
OPERATORS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "≤": "<=", "≥": ">="}
PACE_WORDS = {"pace", "进度"}


def all_words() -> set[str]:
    words = TEAM_WORDS | PUBLIC_WORDS | STOPWORDS | ME_WORDS | BOARD_WORDS | set(WEEKDAY_WORDS)
    return words | set(CADENCE_WORDS) | PACE_WORDS
