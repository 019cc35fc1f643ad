"""`help` and `help COMMAND`, written from the command declarations (examples work on the demo data)."""

from __future__ import annotations

from bot.core.request import CommandRequest
from bot.handlers.context import Context
from bot.language import commands as c
from bot.language.parser import Parser
from bot.language.registry import Bilingual, CommandGroup, Subcommand
from jobs.present.i18n import Catalog
from jobs.present.reply import Reply, ReplyKind

H = Catalog({
    "title": ("kpibot — what you can ask", "kpibot — 使用说明"),
    "topic_title": ("kpibot — {topic}", "kpibot — {topic}"),
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
    lang, commands = ctx.lang, ctx.services.commands
    group = commands.group(cmd.topic)
    if group is not None:
        examples = " · ".join(f"`{e}`" for e in group.examples.items(lang))
        text = "\n".join([group.summary(lang), H("usage", lang, usage=group.usage(lang)),
                          H("examples", lang, examples=examples)])
        return Reply(title=H("topic_title", lang, topic=group.name), lang=lang, kind=ReplyKind.HELP, text=text)
    lines = [f"*{g.name}* — {g.summary(lang)}  `{g.usage(lang)}`" for g in commands.groups]
    lines += ["", H("scopes", lang), H("questions", lang)]
    return Reply(title=H("title", lang), lang=lang, kind=ReplyKind.HELP, text="\n".join(lines))


def read_help(parser: Parser, words: list[str], request: CommandRequest) -> c.Help:
    group = parser.commands.group_for_word(words[0]) if words else None
    return c.Help(topic=group.name if group else None)


COMMANDS = [CommandGroup(
    name="help", words=("帮助", "用法", "怎么用"), order=1000,
    summary=Bilingual("Everything you can ask, or one command in detail.", "全部用法，或某个指令的详细说明。"),
    subcommands=(Subcommand(c.Help, read_help, help_reply, usage=Bilingual("help [COMMAND]", "帮助 [指令]")),),
    examples=Bilingual("help · help role · help target", "帮助 · 帮助 角色 · 帮助 目标"),
)]
