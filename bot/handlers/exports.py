"""`export board KPI [role:R] [shop:S | by shop] [PERIOD] [csv|xlsx]` and `export digest [ID]` (导出 排行 … /
导出 周报): a file attached to the answer. Slack, Feishu and DingTalk upload it into the conversation; the
console writes it to disk.

Anyone may export: a board export holds what `board` shows anyone (ranks, names, actual, target, attainment,
status) with numbers as numbers, and a digest export what was posted to a channel. CSV is UTF-8 with a BOM so
Excel opens Chinese names correctly; XLSX is the default. A file over 20 MB (DingTalk's media limit, the
smallest of the three) is not sent: the answer says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.request import CommandRequest
from bot.handlers.context import Context
from bot.language import commands as c
from bot.language.parser import Parser
from bot.language.registry import Bilingual, CommandGroup, Subcommand
from jobs.digest.history import T as HISTORY_T
from jobs.export import (
    MAX_EXPORT_BYTES,
    board_file_name,
    board_sheet,
    csv_attachment,
    digest_file_name,
    digest_sheets,
    xlsx_attachment,
)
from jobs.present.formatting import period_label
from jobs.present.i18n import Catalog
from jobs.present.reply import Attachment, Reply, ReplyKind
from storage.kpi.periods import Period
from storage.repositories import digest_posts

FORMAT_WORDS = {"csv": "csv", "xlsx": "xlsx", "excel": "xlsx", "xls": "xlsx"}
BY_SHOP_WORDS = {"按店铺", "分店铺", "各店铺"}

T = Catalog({
    "board_title": ("Export · {kpi} · {scope} · {period}", "导出 · {kpi} · {scope} · {period}"),
    "digest_title": ("Export · {title}", "导出 · {title}"),
    "attached": ("{name} ({rows} rows, {size}) is attached.", "已附上 {name}（{rows} 行，{size}）。"),
    "attached_sheets": ("{name} ({sheets} sheets, {size}) is attached: one sheet per table of the digest.",
                        "已附上 {name}（{sheets} 个工作表，{size}）：摘要里每张表一个工作表。"),
    "csv_note": ("CSV in UTF-8 with a BOM, so Excel shows Chinese names correctly; numbers without formatting.",
                 "CSV 为带 BOM 的 UTF-8，Excel 可正确显示中文；数字不带格式。"),
    "xlsx_note": ("Numbers are numbers: attainment is a fraction formatted as a percentage.",
                  "数字为数值格式：达成率是小数，按百分比显示。"),
    "no_data": ("Nobody has data for {kpi} in {period} yet, so there is nothing to export.",
                "{period}还没有成员的 {kpi} 数据，没有可导出的内容。"),
    "no_digest": ("No digest has been posted yet, so there is nothing to export. `digest history` lists what was "
                  "posted.", "还没有发送过摘要，没有可导出的内容。`周报 记录` 可查看发送记录。"),
    "no_post": ("There is no posted digest #{id}; `digest history` lists them with their ids.",
                "没有编号为 #{id} 的已发送摘要；`周报 记录` 列出各摘要及编号。"),
    "no_tables": ("Digest {id} has no tables to export.", "摘要 {id} 没有可导出的表格。"),
    "too_big": ("The file would be {size}, over the {limit} that every chat platform accepts; export a shorter "
                "period or one role.", "文件约 {size}，超过各聊天平台都能接收的 {limit}；请缩短周期或只导出一个岗位。"),
    "everyone": ("everyone", "全员"),
    "shops": ("shops side by side", "各店铺对比"),
})


@dataclass(frozen=True)
class ExportBoard(c.Command):
    kpi: str
    role: str | None
    period: Period
    fmt: str = "xlsx"
    shop: str = ""  # one shop's rows of the members
    by_shop: bool = False  # the shops side by side


@dataclass(frozen=True)
class ExportDigest(c.Command):
    post_id: int | None = None


# --- reading ---------------------------------------------------------------------------------------

def _format_of(words: list[str]) -> tuple[str | None, list[str]]:
    formats = [FORMAT_WORDS[w.lower()] for w in words if w.lower() in FORMAT_WORDS]
    if len(set(formats)) > 1:
        raise c.ParseError("export_two_formats", {}, "export")
    return (formats[0] if formats else None), [w for w in words if w.lower() not in FORMAT_WORDS]


def _by_shop(words: list[str]) -> tuple[bool, list[str]]:
    """`by shop` / `by shops` / 按店铺 anywhere among the words."""
    low = [w.lower() for w in words]
    for index, word in enumerate(low):
        if word in BY_SHOP_WORDS:
            return True, words[:index] + words[index + 1:]
        if word == "by" and index + 1 < len(low) and low[index + 1] in ("shop", "shops"):
            return True, words[:index] + words[index + 2:]
    return False, words


def read_board(parser: Parser, words: list[str], request: CommandRequest) -> ExportBoard:
    fmt, rest = _format_of(words)
    by_shop, rest = _by_shop(rest)
    found = parser.scan(rest, request)
    parser.reject_unknown(found, "export")
    shops = list(dict.fromkeys(found.shops))
    if (len(shops) > 1 or any(scope.kind not in ("role", "team") for scope in found.scopes)
            or (by_shop and (shops or found.roles or found.scopes))):
        raise c.ParseError("export_board_scope", {}, "export")
    return ExportBoard(kpi=parser.one_kpi(found, default=True, topic="export"), role=parser.board_role(found),
                       period=parser.one_period(found, "export"), fmt=fmt or "xlsx",
                       shop=shops[0] if shops else "", by_shop=by_shop)


def read_digest(parser: Parser, words: list[str], request: CommandRequest) -> ExportDigest:
    fmt, rest = _format_of(words)
    if fmt == "csv":
        raise c.ParseError("export_digest_csv", {}, "export")
    if not rest:
        return ExportDigest()
    if len(rest) == 1 and rest[0].lstrip("#").isdigit():
        return ExportDigest(int(rest[0].lstrip("#")))
    raise c.ParseError("unknown_word", {"word": rest[0], "suggestion": ""}, "export")


# --- answering -------------------------------------------------------------------------------------

def export_board(ctx: Context, cmd: ExportBoard) -> Reply:
    services = ctx.services
    kpi = services.registry.kpis[cmd.kpi]
    if cmd.by_shop:
        scope = T("shops", ctx.lang)
    else:
        scope = ctx.role_label(cmd.role) if cmd.role else T("everyone", ctx.lang)
        if cmd.shop:
            shop = services.registry.shops.get(cmd.shop)
            scope = f"{scope} · {shop.name if shop else cmd.shop}"
    period = period_label(cmd.period, ctx.lang)
    title = T("board_title", ctx.lang, kpi=kpi.label(ctx.lang), scope=scope, period=period)
    sheet = board_sheet(services.engine, kpi, cmd.role, cmd.period, ctx.lang, currency=services.settings.currency,
                        role_label=ctx.role_label(cmd.role) if cmd.role else None, shop=cmd.shop,
                        by_shop=cmd.by_shop)
    if not any(row[2] is not None for row in sheet.rows):
        return Reply(title=title, lang=ctx.lang, text=T("no_data", ctx.lang, kpi=kpi.label(ctx.lang), period=period))
    name = board_file_name(kpi, cmd.role, cmd.period, cmd.fmt, shop=cmd.shop, by_shop=cmd.by_shop)
    file = csv_attachment(name, sheet, title) if cmd.fmt == "csv" else xlsx_attachment(name, [sheet], title)
    text = T("attached", ctx.lang, name=name, rows=len(sheet.rows), size=_size(file.data, ctx.lang))
    return _with_file(ctx, title, text, file, T("csv_note" if cmd.fmt == "csv" else "xlsx_note", ctx.lang))


def export_digest(ctx: Context, cmd: ExportDigest) -> Reply:
    with ctx.session() as session:
        post = (digest_posts.latest_sent(session) if cmd.post_id is None
                else digest_posts.get_post(session, cmd.post_id))
        if post is None and cmd.post_id is not None:
            return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR,
                         text=T("no_post", ctx.lang, id=cmd.post_id))
        if post is None:
            return Reply(title=HISTORY_T("title", ctx.lang), lang=ctx.lang, text=T("no_digest", ctx.lang))
        sheets = digest_sheets(post)
        name = digest_file_name(post)
        title = T("digest_title", ctx.lang, title=post.title)
        post_id = post.id
    if not sheets:
        return Reply(title=title, lang=ctx.lang, text=T("no_tables", ctx.lang, id=post_id))
    file = xlsx_attachment(name, sheets, title)
    text = T("attached_sheets", ctx.lang, name=name, sheets=len(sheets), size=_size(file.data, ctx.lang))
    return _with_file(ctx, title, text, file, None)


def _with_file(ctx: Context, title: str, text: str, file: Attachment, note: str | None) -> Reply:
    if len(file.data) > MAX_EXPORT_BYTES:
        return Reply(title=title, lang=ctx.lang, kind=ReplyKind.ERROR,
                     text=T("too_big", ctx.lang, size=_size(file.data, ctx.lang), limit="20 MB"))
    return Reply(title=title, lang=ctx.lang, text=text, files=[file], footnotes=[note] if note else [])


def _size(data: bytes, lang: str) -> str:
    size = len(data)
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


COMMANDS = [
    CommandGroup(
        name="export", words=("导出",), order=75,
        summary=Bilingual("A leaderboard or the last digest as a spreadsheet file (XLSX or CSV).",
                          "把排名或最近一次摘要导出为表格文件（XLSX 或 CSV）。"),
        subcommands=(
            Subcommand(ExportBoard, read_board, export_board, name="board",
                       words=("leaderboard", "rank", "ranking", "排行", "排名", "排行榜", "榜单"),
                       usage=Bilingual("export board KPI [role:ROLE] [shop:SHOP | by shop] [PERIOD] [csv|xlsx]",
                                       "导出 排行 指标 [岗位] [shop:店铺 | 按店铺] [时间] [csv|xlsx]")),
            Subcommand(ExportDigest, read_digest, export_digest, name="digest", words=("周报", "摘要"),
                       usage=Bilingual("export digest [ID]", "导出 周报 [编号]")),
        ),
        examples=Bilingual("export board gmv role:host month · export board gmv role:host month csv · export digest",
                           "导出 排行 gmv 主播 本月 · 导出 排行 gmv 主播 本月 csv · 导出 周报"),
    ),
]
