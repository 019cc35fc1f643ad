"""`help` and `help COMMAND`, with examples that work against the demo data."""

from __future__ import annotations

from bot.handlers.context import Context
from bot.language import commands as c
from jobs.present.i18n import Catalog
from jobs.present.reply import Reply, ReplyKind

USAGE: dict[str, tuple[str, list[str]]] = {
    # topic: (usage, examples); the one-line description of each topic is in the catalogue H
    "status": ("[status] [KPI] [SCOPE] [PERIOD]", ["gmv month", "roas role:ad_buyer last-week", "GMV达成率多少"]),
    "me": ("me [PERIOD]", ["me", "me last-month", "我的KPI"]),
    "board": ("board KPI [role:ROLE] [PERIOD]", ["board gmv role:host week", "本周主播排名"]),
    "target": ("target set KPI VALUE [SCOPE] [PERIOD] · target list [SCOPE] [PERIOD] · target clear KPI [SCOPE] "
               "[PERIOD] · target (form)", ["target set gmv 1.2m role:host month", "target set return_rate 8% month",
                                                "target list month"]),
    "role": ("role assign @user ROLE [as MEMBER_KEY] · role remove @user ROLE · role list", "",
             ["role assign @alice host as alice@shop.com", "role list"]),
    "alert": ("alert add KPI OP VALUE [SCOPE] [for N days] [in #channel] · alert add KPI pace < PERCENT [SCOPE] · "
              "alert list · alert rm ID", ["alert add roas < 2 for 3 days", "alert add ad_spend > 5000 for 1 days",
                                               "alert add gmv pace < 90%"]),
    "digest": ("digest subscribe [#channel] [weekly DAY HH:MM | monthly DAY HH:MM] · digest list · "
               "digest unsubscribe ID · digest now [#channel]", ["digest subscribe weekly mon 09:00", "digest now"]),
    "sources": ("sources", ["sources"]),
    "audit": ("audit [N]", ["audit", "audit 20"]),
    "admin": ("admin add @user · admin remove @user · admin list", ["admin list"]),
}

H = Catalog({
    "title": ("kpibot — what you can ask", "kpibot — 使用说明"),
    "topic_title": ("kpibot — {topic}", "kpibot — {topic}"),
    "status": ("Attainment of one KPI (default: team GMV, this month).", "查看某个 KPI 的达成情况（默认：团队 GMV，本月）。"),
    "me": ("Your own KPIs.", "查看自己的 KPI。"),
    "board": ("Leaderboard of a KPI.", "某个 KPI 的排名。"),
    "target": ("Set, list or clear targets (setting and clearing: admins).", "设置、查看或清除目标（设置/清除需管理员）。"),
    "role": ("Link chat users to data members and roles (admins).", "把聊天成员关联到数据成员与角色（管理员）。"),
    "alert": ("Threshold and pace alerts posted to a channel (admins).", "阈值和进度告警，发送到频道（管理员）。"),
    "digest": ("Weekly review digests with charts (subscribing: admins).", "带图表的周报（订阅需管理员）。"),
    "sources": ("Connected data sources and how fresh each is.", "已接入的数据源及其新鲜度。"),
    "audit": ("Recent changes: who, when, what, old → new.", "最近的更改：谁、何时、什么、原值 → 新值。"),
    "admin": ("Who may change things.", "管理员名单与变更。"),
    "scopes": ("Scopes: team · role:host · @someone · member:KEY. Periods: today, yesterday, week, last-week, month, "
               "last-month, quarter, 2026-11, 2026-W48, 2026-Q4. Values: 1.2m, 800k, 120万, $1.2M, 15%. "
               "Add `public` to post the answer in the channel.",
               "范围：团队 · role:host · @成员 · member:标识。时间：今天、昨天、本周、上周、本月、上月、本季度，或 2026-11、"
               "2026-W48、2026-Q4。数值：1.2m、800k、120万、$1.2M、15%。加上“公开”可在频道中公开回复。"),
    "questions": ("Plain questions work too: “what's our GMV attainment?”, “how are hosts doing this week”.",
                  "也可以直接提问：“GMV达成率多少”、“上月GMV达成率多少”、“本周主播排名”、“投产比怎么样”。"),
    "examples": ("Examples: {examples}", "示例：{examples}"),
    "usage": ("Usage: {usage}", "用法：{usage}"),
})


def help_reply(ctx: Context, cmd: c.Help) -> Reply:
    lang = ctx.lang
    if cmd.topic in USAGE:
        usage, examples = USAGE[cmd.topic]
        text = "\n".join([H(cmd.topic, lang), H("usage", lang, usage=usage),
                          H("examples", lang, examples=" · ".join(f"`{e}`" for e in examples))])
        return Reply(title=H("topic_title", lang, topic=cmd.topic), lang=lang, kind=ReplyKind.HELP, text=text)
    lines = [f"*{topic}* — {H(topic, lang)}  `{USAGE[topic][0]}`" for topic in USAGE]
    lines += ["", H("scopes", lang), H("questions", lang)]
    return Reply(title=H("title", lang), lang=lang, kind=ReplyKind.HELP, text="\n".join(lines))


def usage_of(topic: str | None) -> str | None:
    return USAGE[topic][0] if topic in USAGE else None
