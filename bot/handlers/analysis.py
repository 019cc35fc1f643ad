"""The review partner (issue 15): why a KPI moved, unusual days, baselines, notes, before/after a note."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from bot.core.request import CommandRequest
from bot.handlers.context import Context
from bot.language import commands as c
from bot.language.parser import Parser
from bot.language.registry import Bilingual, CommandGroup, Subcommand
from jobs.analysis.baselines import baseline_list_reply
from jobs.analysis.labels import scope_name
from jobs.analysis.messages import T
from jobs.analysis.notes import compare_reply, note_added_reply, notes_reply
from jobs.analysis.unusual import unusual_reply
from jobs.analysis.why import why_reply
from jobs.present.reply import Reply, ReplyKind
from storage.kpi.before_after import compare_around
from storage.kpi.periods import Period
from storage.kpi.references import AVG4, BASELINE, PREVIOUS, YEAR
from storage.kpi.scan import scan_unusual
from storage.kpi.scope import Scope
from storage.kpi.why import explain
from storage.repositories import audit as audit_repo
from storage.repositories import baselines as baseline_repo
from storage.repositories import members as member_repo
from storage.repositories import notes as note_repo

# Words around a question that carry no meaning for it: "why did GMV drop last week", "GMV为什么下降了".
FILLERS = {"did", "does", "do", "has", "have", "go", "went", "drop", "dropped", "drops", "fall", "fell", "falls",
           "rise", "rose", "rises", "grow", "grew", "change", "changed", "move", "moved", "down", "up", "so", "much",
           "is", "are", "was", "were", "there", "anything", "any", "what", "what's", "unusual?", "?", "？",
           "下降", "下降了", "下跌", "下跌了", "跌了", "掉了", "降了", "上涨", "上涨了", "涨了", "上升", "上升了",
           "变化", "变化了", "了", "呢", "吗", "有什么", "有没有", "什么", "哪些", "有", "的",
           "下", "降", "跌", "涨", "升"}  # single characters the segmenter may leave after a known word
VS_WORDS = {"vs", "vs.", "versus", "against", "compared", "比", "对比", "相比", "比较"}
REFERENCE_WORDS = {  # a word naming a reference → its kind
    "year": YEAR, "last-year": YEAR, "yoy": YEAR, "同比": YEAR, "去年": YEAR, "去年同期": YEAR,
    "average": AVG4, "avg": AVG4, "4-week": AVG4, "4-period": AVG4, "4-month": AVG4, "均值": AVG4, "平均": AVG4,
    "近4周均值": AVG4, "近4期均值": AVG4, "baseline": BASELINE, "基线": BASELINE,
    "previous": PREVIOUS, "prior": PREVIOUS, "上期": PREVIOUS, "环比": PREVIOUS,
}
PROMO_TAGS = {"#promo", "#sale", "#大促", "#促销", "#活动"}
DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:\.\.(\d{4}-\d{2}-\d{2}))?")
NOTE_REF = re.compile(r"(?:note|记录|#)?(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Why(c.Command):
    kpi: str
    scope: c.ScopeRef
    period: Period
    against: str


@dataclass(frozen=True)
class Unusual(c.Command):
    kpi: str | None
    scope: c.ScopeRef | None
    period: Period


@dataclass(frozen=True)
class BaselineSet(c.Command):
    kpi: str
    scope: c.ScopeRef
    period: Period


@dataclass(frozen=True)
class BaselineList(c.Command):
    pass


@dataclass(frozen=True)
class NoteAdd(c.Command):
    start: date
    end: date
    text: str
    kpis: tuple[str, ...]
    scope: c.ScopeRef
    promo: bool


@dataclass(frozen=True)
class NoteList(c.Command):
    period: Period


@dataclass(frozen=True)
class Compare(c.Command):
    kpi: str
    note_id: int
    scope: c.ScopeRef | None
    days: int


# --- answers ----------------------------------------------------------------------------------


def why(ctx: Context, cmd: Why) -> Reply:
    kpi = ctx.services.registry.kpis[cmd.kpi]
    with ctx.session() as session:
        scope = ctx.resolve_scope(session, cmd.scope)
        label = ctx.scope_label(scope, session)
    found = explain(ctx.services.engine, kpi, scope, cmd.period, cmd.against)
    return why_reply(found, scope_label=label, lang=ctx.lang, currency=ctx.services.settings.currency)


def unusual(ctx: Context, cmd: Unusual) -> Reply:
    services = ctx.services
    last = min(cmd.period.end, services.today() - timedelta(days=1))  # complete days only
    with ctx.session() as session:
        scope = ctx.resolve_scope(session, cmd.scope) if cmd.scope else None
    kpis = [services.registry.kpis[cmd.kpi]] if cmd.kpi else None
    findings = scan_unusual(services.db, services.registry, cmd.period.start, last, kpis=kpis, scope=scope) \
        if last >= cmd.period.start else []
    with ctx.session() as session:
        names = member_repo.display_names(session, [f.scope[1] for f in findings if f.scope[0] == "member"])
    return unusual_reply(findings, cmd.period, services.registry, names, lang=ctx.lang,
                         currency=services.settings.currency)


def baseline_set(ctx: Context, cmd: BaselineSet) -> Reply:
    with ctx.session() as session:
        scope = ctx.resolve_scope(session, cmd.scope)
        old = baseline_repo.set_baseline(session, cmd.kpi, scope, cmd.period, str(ctx.actor))
        audit_repo.record(session, ctx.actor, "baseline.set", f"{cmd.kpi} {scope}", old=old, new=cmd.period.key)
        label = ctx.scope_label(scope, session)
    old_text = T("baseline_set_old", ctx.lang, key=old) if old else ""
    return Reply(title=T("baseline_set_title", ctx.lang), lang=ctx.lang, kind=ReplyKind.CONFIRMATION,
                 text=T("baseline_set", ctx.lang, kpi=ctx.kpi_label(cmd.kpi), scope=label, key=cmd.period.key,
                        old=old_text))


def baseline_list(ctx: Context, cmd: BaselineList) -> Reply:
    registry = ctx.services.registry
    with ctx.session() as session:
        rows = baseline_repo.list_baselines(session)
        names = member_repo.display_names(session, [r.scope_key for r in rows if r.scope_kind == "member"])
    labels = {(r.scope_kind, r.scope_key): scope_name(r.scope_kind, r.scope_key, registry, names, ctx.lang)
              for r in rows}
    return baseline_list_reply(rows, labels, {k: ctx.kpi_label(k) for k in registry.kpis}, lang=ctx.lang)


def note_add(ctx: Context, cmd: NoteAdd) -> Reply:
    with ctx.session() as session:
        scope = ctx.resolve_scope(session, cmd.scope)
        note = note_repo.add_note(session, cmd.start, cmd.text, str(ctx.actor), end=cmd.end, kpis=list(cmd.kpis),
                                  scope=scope, promo=cmd.promo)
        audit_repo.record(session, ctx.actor, "note.add", f"note {note.id} {cmd.start}", new=cmd.text)
        return note_added_reply(note, lang=ctx.lang)


def note_list(ctx: Context, cmd: NoteList) -> Reply:
    registry = ctx.services.registry
    with ctx.session() as session:
        notes = note_repo.notes_between(session, cmd.period.start, cmd.period.end)
        names = member_repo.display_names(session, [n.scope_key for n in notes if n.scope_kind == "member"])
        about = {}
        for note in notes:
            parts = [ctx.kpi_label(k) for k in note.kpi_ids] or [T("note_any", ctx.lang)]
            if note.scope_kind != "team":
                parts.append(scope_name(note.scope_kind, note.scope_key, registry, names, ctx.lang))
            if note.promo:
                parts.append(T("note_promo", ctx.lang))
            about[note.id or 0] = ", ".join(parts)
        return notes_reply(notes, cmd.period, about, lang=ctx.lang)


def compare(ctx: Context, cmd: Compare) -> Reply:
    kpi = ctx.services.registry.kpis[cmd.kpi]
    with ctx.session() as session:
        note = note_repo.get_note(session, cmd.note_id)
        if note is None:
            return Reply(title=T("note_title", ctx.lang), lang=ctx.lang, kind=ReplyKind.ERROR,
                         text=T("note_unknown", ctx.lang, id=cmd.note_id))
        scope = ctx.resolve_scope(session, cmd.scope) if cmd.scope else Scope(
            note.scope_kind, note.scope_key)  # type: ignore[arg-type]
        label = ctx.scope_label(scope, session)
        history = note_repo.notes_between(session, note.start_date - timedelta(days=cmd.days * 9), note.start_date)
        promo = note_repo.promo_days(history, scope)
        session.expunge(note)
    found = compare_around(ctx.services.engine, kpi, scope, note.start_date, cmd.days, promo)
    return compare_reply(found, note, scope_label=label, lang=ctx.lang, currency=ctx.services.settings.currency)


# --- reading the words ------------------------------------------------------------------------


def _meaningful(words: list[str]) -> list[str]:
    """The words that matter, with `last week` read as `last-week` (as a period token)."""
    out: list[str] = []
    for word in words:
        low = word.lower()
        if out and out[-1].lower() in ("last", "this", "next") and low in ("week", "month", "quarter"):
            out[-1] = f"{out[-1].lower()}-{low}"
        elif low not in FILLERS and low not in ("why", "为什么", "为啥"):
            out.append(word)
    return out


def read_why(parser: Parser, words: list[str], request: CommandRequest) -> Why:
    """`why [KPI] [PERIOD] [SCOPE] [vs …]`; the reference words (`vs last year`, `vs 4-week average`, `同比`,
    `近4周均值`, `vs baseline`) are taken out before the rest is read as a question."""
    words = _meaningful(words)
    against = next((REFERENCE_WORDS[w.lower()] for w in words if w.lower() in REFERENCE_WORDS), PREVIOUS)
    if any("均值" in w or "平均" in w for w in words):  # 近4周均值 arrives as 近 / 4 / 周均值
        against = AVG4
    reference_words = set(REFERENCE_WORDS) | VS_WORDS | {"近", "周均值", "期均值"}
    if against == YEAR:
        reference_words.add("last")  # vs last year
    rest = [w for w in words if w.lower() not in reference_words]
    if against == AVG4:  # the 4 (and its week) of "4 week average"
        rest = [w for i, w in enumerate(rest) if w != "4" and not (i and rest[i - 1] == "4")]
    found = parser.scan(rest, request)
    parser.reject_unknown(found, "why")
    periods = list(dict.fromkeys(found.periods))
    if len(periods) > 1:
        raise c.ParseError("two_periods", {}, "why")
    period = periods[0] if periods else parser.calendar.previous(parser.calendar.week(parser.today()))
    return Why(kpi=parser.one_kpi(found, default=True, topic="why"), scope=parser.one_scope(found, "why"),
               period=period, against=against)


def read_unusual(parser: Parser, words: list[str], request: CommandRequest) -> Unusual:
    found = parser.scan(_meaningful(words), request)
    parser.reject_unknown(found, "unusual")
    periods = list(dict.fromkeys(found.periods))
    if len(periods) > 1:
        raise c.ParseError("two_periods", {}, "unusual")
    today = parser.today()
    this_week = parser.calendar.week(today)
    period = periods[0] if periods else (this_week if today > this_week.start else parser.calendar.previous(this_week))
    kpi = parser.one_kpi(found, default=False, topic="unusual") if found.kpis else None
    scope = parser.one_scope(found, "unusual") if (found.scopes or found.roles) else None
    return Unusual(kpi=kpi, scope=scope, period=period)


def read_baseline_set(parser: Parser, words: list[str], request: CommandRequest) -> BaselineSet:
    found = parser.scan(words, request)
    parser.reject_unknown(found, "baseline")
    kpi = parser.one_kpi(found, default=False, topic="baseline")
    if not found.periods:
        raise c.ParseError("baseline_missing_period", {}, "baseline")
    return BaselineSet(kpi=kpi, scope=parser.one_scope(found, "baseline"), period=parser.one_period(found, "baseline"))


def read_baseline_list(parser: Parser, words: list[str], request: CommandRequest) -> BaselineList:
    return BaselineList()


def baseline_subject(ctx: Context, session: object, cmd: BaselineSet) -> str:
    return f"{cmd.kpi} {cmd.scope.kind}:{cmd.scope.key} {cmd.period.key}"


def read_note(parser: Parser, words: list[str], request: CommandRequest) -> NoteAdd | NoteList:
    """`note add DATE TEXT [KPI…] [SCOPE] [#promo]` or `note list [PERIOD]` (the text is read from the message
    as written, so its spacing and words are kept)."""
    first = words[0].lower() if words else ""
    if first in ("list", "ls", "show", "列表", "查看"):
        found = parser.scan(words[1:], request)
        parser.reject_unknown(found, "note")
        return NoteList(period=parser.one_period(found, "note"))
    match = DATE.search(request.text)
    if match is None:
        raise c.ParseError("note_missing_date", {}, "note")
    start = _iso(match[1])
    end = _iso(match[2]) if match[2] else start
    if start is None or end is None:
        raise c.ParseError("unknown_period", {"word": match[0]}, "note")
    if end < start:
        raise c.ParseError("note_bad_range", {"word": match[0]}, "note")
    tail = request.text[match.end():].split()
    promo = any(t.lower() in PROMO_TAGS for t in tail)
    tail = [t for t in tail if t.lower() not in PROMO_TAGS]
    kpis: list[str] = []
    scopes: list[c.ScopeRef] = []
    while tail:  # KPIs and a scope written after the text
        word = tail[-1]
        kpi = parser.registry.kpi(word)
        if kpi is not None:
            kpis.insert(0, kpi.id)
        elif word.lower().startswith(("role:", "member:")) or re.fullmatch(r"<@\d+>", word):
            scopes = parser.scan([word], request).scopes or scopes
        else:
            break
        tail.pop()
    text = " ".join(tail).strip()
    if not text:
        raise c.ParseError("note_missing_text", {"day": start.isoformat()}, "note")
    if len(text) > 500:
        raise c.ParseError("note_too_long", {"count": len(text)}, "note")
    return NoteAdd(start=start, end=end, text=text, kpis=tuple(dict.fromkeys(kpis)),
                   scope=scopes[0] if scopes else c.TEAM, promo=promo)


def _iso(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def read_compare(parser: Parser, words: list[str], request: CommandRequest) -> Compare:
    """`compare gmv around note 12 [--days 3]`, `对比 记录12 前后`: the note is the first number written."""
    days, rest, note_id = 7, [], None
    words = [w for w in words if w.lower() not in ("around", "note", "记录", "前后", "围绕", "before", "after", "and")]
    index = 0
    while index < len(words):
        word, low = words[index], words[index].lower()
        if low in ("--days", "days") or (low == "天" and index > 0):
            count = words[index + 1] if index + 1 < len(words) else ""
            if not count.isdigit() or not 1 <= int(count) <= 60:
                raise c.ParseError("bad_window_days", {}, "compare")
            days, index = int(count), index + 2
            continue
        if note_id is None and (m := NOTE_REF.fullmatch(word)) and not parser.registry.kpi(word):
            note_id = int(m[1])
        else:
            rest.append(word)
        index += 1
    if note_id is None:
        raise c.ParseError("missing_note_id", {}, "compare")
    found = parser.scan(rest, request)
    parser.reject_unknown(found, "compare")
    scope = parser.one_scope(found, "compare") if (found.scopes or found.roles) else None
    return Compare(kpi=parser.one_kpi(found, default=True, topic="compare"), note_id=note_id, scope=scope, days=days)


COMMANDS = [
    CommandGroup(
        name="why", words=("为什么", "为啥", "归因"), order=60, anywhere=True,
        summary=Bilingual("Why a KPI moved: its factors, who moved it, the notes of those days.",
                          "指标为什么变化：拆分到各驱动因素、谁带来的变化、相关记录。"),
        subcommands=(Subcommand(Why, read_why, why, usage=Bilingual(
            "why [KPI] [PERIOD] [SCOPE] [vs last-year | vs 4-week average | vs baseline]",
            "为什么 [指标] [时间] [范围] [对比 同比 | 近4周均值 | 基线]")),),
        examples=Bilingual("why gmv last-week · why did GMV drop last week · why gmv role:host last-week vs last year",
                           "GMV为什么下降 · 上周GMV为什么下降 · 为什么 gmv 上周 同比"),
    ),
    CommandGroup(
        name="unusual", words=("anomalies", "anomaly", "异常"), order=61, anywhere=True,
        summary=Bilingual("Unusual days, found against the same weekday of the 8 weeks before.",
                          "异常日：与此前 8 周同一星期几相比。"),
        subcommands=(Subcommand(Unusual, read_unusual, unusual,
                                usage=Bilingual("unusual [KPI] [PERIOD] [SCOPE]", "异常 [指标] [时间] [范围]")),),
        examples=Bilingual("unusual · unusual last-week · unusual gmv role:host last-week",
                           "有什么异常 · 上周有什么异常 · 异常 gmv 上周"),
    ),
    CommandGroup(
        name="baseline", words=("baselines", "基线"), order=62, default="list",
        summary=Bilingual("Named baselines to compare with (setting: admins).", "设置或查看基线（设置需管理员）。"),
        subcommands=(
            Subcommand(BaselineSet, read_baseline_set, baseline_set, name="set", words=("设置", "设定", "设"),
                       admin=True, audit="baseline.set", subject=baseline_subject, what="baseline",
                       usage=Bilingual("baseline set KPI PERIOD [SCOPE]", "设置基线 指标 时间 [范围]")),
            Subcommand(BaselineList, read_baseline_list, baseline_list, name="list", words=("列表", "查看", "show"),
                       usage=Bilingual("baseline list", "基线 列表")),
        ),
        examples=Bilingual("baseline set gmv 2026-10 · baseline list", "设置基线 gmv 2026-10 · 基线 列表"),
    ),
    CommandGroup(
        name="note", words=("notes", "记录"), order=63,
        summary=Bilingual("Record an operational change or event (#promo marks sale days); list them.",
                          "记录运营变更或事件（#promo 标记大促日）；查看记录。"),
        subcommands=(Subcommand(NoteAdd, read_note, note_add, usage=Bilingual(
            "note add DATE TEXT [KPI] [SCOPE] [#promo]", "记录 日期 内容 [指标] [范围] [#promo]")),),
        extra_commands=(Subcommand(NoteList, read_note, note_list, name="list",
                                   usage=Bilingual("note list [PERIOD]", "记录 列表 [时间]")),),
        examples=Bilingual("note add 2026-11-10 raised price on SKU-1 gmv · note list month",
                           "记录 2026-11-10 SKU-1 调价 gmv · 记录 列表 本月"),
    ),
    CommandGroup(
        name="compare", words=("对比",), order=64,
        summary=Bilingual("A KPI in the days before a note against the days after.", "某条记录前后的指标对比。"),
        subcommands=(Subcommand(Compare, read_compare, compare, usage=Bilingual(
            "compare KPI around note ID [SCOPE] [--days N]", "对比 [指标] 记录ID 前后 [范围] [--days N]")),),
        examples=Bilingual("compare gmv around note 1 · compare gmv around note 1 --days 3", "对比 记录1 前后"),
    ),
]
