"""The parts of `digest` that issue 16 adds: `me`, a scope, a KPI list and a time zone on `digest subscribe`,
and `digest history [N]` / `digest show ID` (what was posted, shown again from the history)."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session

from bot.core import identity
from bot.core.request import MENTION_TOKEN, CommandRequest
from bot.handlers.context import Context
from bot.language import commands as c
from bot.language.parser import Parser
from bot.language.registry import Bilingual, Subcommand
from bot.language.vocabulary import ME_WORDS
from jobs.digest.history import history_reply, shown_again
from jobs.present.reply import Reply, ReplyKind
from storage.kpi.scope import Scope
from storage.models import DigestSubscription
from storage.repositories import digest_posts
from storage.repositories import facts as fact_repo
from storage.repositories.subscriptions import kpi_list

MAX_HISTORY = 50


@dataclass(frozen=True)
class SubscriptionExtras:
    me: bool
    scope: c.ScopeRef | None
    kpis: tuple[str, ...]
    timezone: str | None
    rest: list[str]  # the words left for the schedule


def read_subscription_extras(parser: Parser, words: list[str], request: CommandRequest) -> SubscriptionExtras:
    """The tokenizer splits `tz:Asia/Shanghai` at the slash and `kpis:gmv,orders` at the comma: the parts
    are read back together here."""
    me, timezone, rest = False, None, []
    scopes: list[tuple[str, c.ScopeRef]] = []  # (as written, what it names)
    kpis: tuple[str, ...] = ()
    index = 0
    while index < len(words):
        word, low = words[index], words[index].lower()
        if low in ME_WORDS:
            me = True
        elif low.startswith("tz:"):
            timezone, used = _zone(words[index:])
            index += used
        elif low.startswith("kpis:") or low.startswith("kpi:"):
            names = [word.split(":", 1)[1]]
            while index + 1 < len(words) and parser.registry.kpi(words[index + 1]) is not None:
                names.append(words[index + 1])
                index += 1
            kpis = tuple(dict.fromkeys(_kpi_id(parser, name) for name in names if name))
        elif low.startswith("role:"):
            role = parser.registry.role(word[5:])
            if role is None:
                raise c.ParseError("unknown_role", {"word": word[5:], "roles": parser.role_list()}, "digest")
            scopes.append((word, c.ScopeRef("role", role.id)))
        elif low.startswith("shop:") and word[5:].strip():
            scopes.append((word, c.ScopeRef("shop", word[5:].strip().lower())))
        elif (m := MENTION_TOKEN.fullmatch(word)) and int(m[1]) < len(request.mentions):
            scopes.append(("@" + (request.mentions[int(m[1])].display_name or request.mentions[int(m[1])].user_id),
                           c.ScopeRef("user", user=request.mentions[int(m[1])])))
        else:
            rest.append(word)
        index += 1
    if len(scopes) > 1:
        raise c.ParseError("digest_one_scope", {"first": scopes[0][0], "second": scopes[1][0]}, "digest")
    scope = scopes[0][1] if scopes else None
    return SubscriptionExtras(me, scope, kpis, timezone, rest)


def _zone(words: list[str]) -> tuple[str, int]:
    """(IANA name, extra words used): `tz:Asia` + `Shanghai`, or three parts like America/Argentina/Salta."""
    first = words[0][3:]
    for extra in (2, 1, 0):
        if extra > len(words) - 1:
            continue
        name = "/".join([first, *words[1:1 + extra]])
        if _is_zone(name):
            return name, extra
    raise c.ParseError("bad_tz", {"word": "/".join([first, *words[1:2]])}, "digest")


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # a folder such as "Asia" raises IsADirectoryError
        return False
    return True


def _kpi_id(parser: Parser, name: str) -> str:
    kpi = parser.registry.kpi(name)
    if kpi is None:
        raise c.ParseError("bad_kpi_list", {"word": name, "kpis": ", ".join(sorted(parser.registry.kpis))}, "digest")
    return kpi.id


def subscription_scope(ctx: Context, session: Session, cmd: c.DigestSubscribe) -> Scope | None:
    """The written scope; for `me` without one, the asker (None when the asker is not a known member)."""
    if cmd.scope is not None:
        if cmd.scope.kind == "shop":  # a shop's own facts and targets: only a shop declared or named by data
            known = sorted(set(ctx.services.registry.shops) | set(fact_repo.shops_with_data(session)))
            if cmd.scope.key not in known:
                raise c.ParseError("digest_unknown_shop", {"word": cmd.scope.key, "shops": ", ".join(known) or "—"},
                                   "digest")
        return ctx.resolve_scope(session, cmd.scope)
    if cmd.me:
        member = identity.find_member(session, ctx.user)
        return Scope.member(member.key) if member else None
    return Scope.team()


def subscription_scope_text(sub: DigestSubscription) -> str:
    scope = sub.scope_kind if sub.scope_kind == "team" else f"{sub.scope_kind}:{sub.scope_key}"
    kpis = kpi_list(sub)
    return f"{scope} · {', '.join(kpis)}" if kpis else scope


# --- history -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DigestHistory(c.Command):
    count: int = 10


@dataclass(frozen=True)
class DigestShow(c.Command):
    post_id: int


def read_history(parser: Parser, words: list[str], request: CommandRequest) -> DigestHistory:
    if not words:
        return DigestHistory()
    if len(words) == 1 and words[0].isdigit() and 1 <= int(words[0]) <= MAX_HISTORY:
        return DigestHistory(int(words[0]))
    raise c.ParseError("unknown_word", {"word": words[0], "suggestion": ""}, "digest")


def read_show(parser: Parser, words: list[str], request: CommandRequest) -> DigestShow:
    if len(words) != 1 or not words[0].lstrip("#").isdigit():
        raise c.ParseError("missing_id", {}, "digest")
    return DigestShow(int(words[0].lstrip("#")))


def digest_history(ctx: Context, cmd: DigestHistory) -> Reply:
    with ctx.session() as session:
        posts = digest_posts.recent_posts(session, cmd.count)
        return history_reply(posts, ctx.lang)


def digest_show(ctx: Context, cmd: DigestShow) -> Reply:
    with ctx.session() as session:
        post = digest_posts.get_post(session, cmd.post_id)
        if post is None:
            return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR,
                         text=ctx.t("digest_post_unknown", id=cmd.post_id))
        return shown_again(post, ctx.lang)


DIGEST_HISTORY_COMMANDS = (
    Subcommand(DigestHistory, read_history, digest_history, name="history", words=("记录", "历史"),
               usage=Bilingual("digest history [N]", "周报 记录 [条数]")),
    Subcommand(DigestShow, read_show, digest_show, name="show", words=("显示", "查看记录"),
               usage=Bilingual("digest show ID", "周报 显示 编号")),
)
