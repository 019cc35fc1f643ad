"""Words → a parsed command (SPEC §4). Deterministic and offline.

Commands start with a verb (`target set …`, `board …`, `帮助`). Anything else is read as a plain
question: the KPI, scope and period are picked out wherever they stand, filler words are skipped,
and an unknown word is reported (with the closest known word) instead of being guessed at.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from bot.core.request import MENTION_TOKEN, CommandRequest
from bot.language import commands as c
from bot.language.names import Person
from bot.language.questions import NotAQuestion, Question, QuestionError, QuestionReader, Subject, period_of_token
from bot.language.registry import CommandGroup, CommandRegistry, Subcommand
from bot.language.spoken_periods import SpokenCalendar
from bot.language.tokens import normalise, tokenize
from bot.language.values import ParsedValue, looks_like_value, parse_value
from bot.language.vocabulary import (
    BOARD_WORDS,
    ME_WORDS,
    MONTH_NAMES,
    PUBLIC_WORDS,
    STOPWORDS,
    TEAM_WORDS,
    all_words,
)
from storage.kpi.periods import (
    FIRST_YEAR,
    LAST_YEAR,
    RELATIVE_TOKENS,
    Calendar,
    Period,
    looks_like_period_key,
    resolve_token,
    year_out_of_range,
)
from storage.kpi.registry import Registry

CHANNEL_TOKEN = re.compile(r"<#(\d+)>")


@dataclass
class Found:
    """Everything recognised in the free part of a command."""

    kpis: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    scopes: list[c.ScopeRef] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)
    values: list[ParsedValue] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    intents: set[str] = field(default_factory=set)
    unknown: list[str] = field(default_factory=list)
    shops: list[str] = field(default_factory=list)  # shop:KEY


# Commands that are questions: the question reader reads the whole message (`my ROAS` is ROAS for the
# asker, not `me` with a stray word; `top hosts` is the hosts' board).
QUESTION_GROUPS = frozenset({"status", "me", "board", "trend", "runrate", "versus", "overview"})
# Commands whose words are read one by one after periods and multi-word names are made canonical
# (`target set return rate 5% in December`, `预警 添加 退货率 > 8% 连续3天`); others read their words as written.
CANONICAL_GROUPS = frozenset({"target", "alert"})
PUBLIC_WORD = re.compile(r"(?<![\w\-])(?:--public|public|公开)(?![\w\-])", re.IGNORECASE)

# Chinese puts these actions before the object: 设置目标 gmv … reads as `target set gmv …`.
OBJECT_FIRST_VERBS = ("设置", "设定", "设", "清除", "删除")


class Parser:
    """Reads a message: the declared command its first word names, else a plain question.

    Its public methods are the toolkit that declared argument readers use (`scan`, `one_kpi` …)."""

    def __init__(self, registry: Registry, calendar: Calendar, today: Callable[[], date],
                 commands: CommandRegistry | None = None, people: Callable[[], Sequence[Person]] | None = None,
                 data_through: Callable[[], date | None] | None = None) -> None:
        self.registry = registry
        self.calendar = calendar if isinstance(calendar, SpokenCalendar) else SpokenCalendar(calendar.week_start)
        self.today = today
        self.commands = commands or CommandRegistry()
        # Plain questions (and status / me / board …) are read by the question reader; it knows the
        # members by name, refreshed when `people()` changes.
        self._people = people or (lambda: ())
        self._known_people: tuple[Person, ...] = ()
        self._questions = QuestionReader(registry, self.calendar, today, data_through or (lambda: None),
                                         reserved=self.commands.words() | all_words(),
                                         commands=self.commands.words())
        self.vocabulary = all_words() | self.commands.words() | set(RELATIVE_TOKENS) | set(registry.kpi_names())
        self.vocabulary |= set(registry.role_names())
        for kpi in registry.kpis.values():
            self.vocabulary |= {kpi.label_zh, *kpi.aliases}
        for role in registry.roles.values():
            self.vocabulary |= {role.label_zh, *role.aliases}
        self.vocabulary = frozenset(self.vocabulary)  # type: ignore[assignment]  # built as a set, kept frozen  # tokenize caches its Chinese words per vocabulary

    # --- entry --------------------------------------------------------------------------

    def parse(self, request: CommandRequest) -> c.Command:
        text = normalise(request.text)
        words = tokenize(text, self.vocabulary)
        public = any(w.lower() in PUBLIC_WORDS for w in words)
        words = [w for w in words if w.lower() not in PUBLIC_WORDS]
        if not words:
            return c.Help(public=public)
        group, rest = self._group_of(words)
        if group is None or group.name in QUESTION_GROUPS:
            command = self.question_text(PUBLIC_WORD.sub(" ", text), request)
        elif group.name not in CANONICAL_GROUPS:
            command = self.read_group(group, rest, request)
        else:  # read word by word, with periods and multi-word names as people say them made canonical
            try:
                canonical = self.reader().canonical(text)
            except QuestionError as error:
                raise c.ParseError(error.key, dict(error.values), group.name) from None
            words = [w for w in tokenize(canonical, self.vocabulary) if w.lower() not in PUBLIC_WORDS]
            group, rest = self._group_of(words)
            assert group is not None  # the verb comes first and canonical text keeps it
            command = self.read_group(group, rest, request)
        return _with_public(command, public)

    def _group_of(self, words: list[str]) -> tuple[CommandGroup | None, list[str]]:
        group, rest = self.commands.group_for_word(words[0]), words[1:]
        if group is None and len(words) >= 2 and words[0] in OBJECT_FIRST_VERBS:  # 设置目标 … (verb after its action)
            second = self.commands.group_for_word(words[1])
            if second is not None and second.subcommand_for(words[0]) is not None:
                group, rest = second, [words[0], *words[2:]]
        if group is None:
            group, rest = self._question_word(words)
        return group, rest

    def reader(self) -> QuestionReader:
        """The question reader, knowing the members as they are now."""
        people = tuple(self._people())
        if people != self._known_people:
            self._questions, self._known_people = self._questions.with_people(people), people
        return self._questions

    def question_text(self, text: str, request: CommandRequest) -> c.Command:
        """A question in any words (`how are hosts doing last week`, `Ben上周的成交转化率`, `那上周呢`)."""
        try:
            question = self.reader().read(text, request.previous)
        except QuestionError as error:
            raise c.ParseError(error.key, dict(error.values), "status") from None
        except NotAQuestion:
            raise c.NotUnderstood(words=[text]) from None
        return command_of(question, request)

    def _question_word(self, words: list[str]) -> tuple[CommandGroup | None, list[str]]:
        """A command that may stand later in a question (`anywhere`), and the words around it."""
        for index, word in enumerate(words[1:], start=1):
            group = self.commands.group_for_word(word)
            if group is not None and group.anywhere:
                return group, words[:index] + words[index + 1:]
        return None, words

    def read_group(self, group: CommandGroup, words: list[str], request: CommandRequest) -> c.Command:
        """The declared subcommand named by the first word (else the group's default) reads the rest."""
        sub: Subcommand | None
        if not group.has_subcommands:
            sub = group.subcommands[0]
        elif not words:
            sub = group.subcommand_named(group.default)
            if sub is None:
                raise c.ParseError("unknown_subcommand", {"word": "", "choices": group.choices()}, group.name)
        else:
            sub = group.subcommand_for(words[0])
            if sub is None:
                raise c.ParseError("unknown_subcommand", {"word": words[0], "choices": group.choices()}, group.name)
            words = words[1:]
        return sub.read(self, words, request)

    def question(self, words: list[str], request: CommandRequest) -> c.Command:
        """Declared readers of question-like commands read the whole message, not just its words."""
        return self.question_text(PUBLIC_WORD.sub(" ", normalise(request.text)), request)

    # --- recognising words --------------------------------------------------------------

    def scan(self, words: list[str], request: CommandRequest) -> Found:
        found = Found()
        for word in words:
            low = word.lower()
            if low in STOPWORDS and low not in ME_WORDS and low not in BOARD_WORDS:
                continue
            if m := MENTION_TOKEN.fullmatch(word):
                index = int(m[1])
                if index >= len(request.mentions):
                    found.unknown.append(word)
                else:
                    found.scopes.append(c.ScopeRef("user", user=request.mentions[index]))
            elif is_channel(word):
                found.channels.append(self.channel(word, request))
            elif low in TEAM_WORDS:
                found.scopes.append(c.TEAM)
            elif low.startswith("role:"):
                role = self.registry.role(word[5:])
                if role is None:
                    raise c.ParseError("unknown_role", {"word": word[5:], "roles": self.role_list()})
                found.scopes.append(c.ScopeRef("role", role.id))
            elif low.startswith("shop:") and word[5:].strip():
                found.shops.append(word[5:].strip().lower())
            elif low.startswith("member:"):
                key = word[7:].strip()
                if not key:
                    raise c.ParseError("missing_member_key", {})
                found.scopes.append(c.ScopeRef("member", key))
            elif (period := self.period(word)) is not None:
                found.periods.append(period)
            elif (kpi := self.registry.kpi(word)) is not None:
                found.kpis.append(kpi.id)
            elif (role := self.registry.role(word)) is not None:
                found.roles.append(role.id)
            elif low in BOARD_WORDS:
                found.intents.add("board")
            elif low in ME_WORDS:
                found.intents.add("me")
            elif looks_like_value(word):
                value = parse_value(word)
                if value is None:
                    if looks_like_period_key(word) or re.fullmatch(r"\d{4}-\S+", word):
                        raise c.ParseError("unknown_period", {"word": word})
                    raise c.ParseError("bad_value", {"word": word})
                found.values.append(value)
            elif looks_like_period_key(word):
                raise c.ParseError("unknown_period", {"word": word})
            else:
                found.unknown.append(word)
        return found

    def period(self, word: str) -> Period | None:
        today = self.today()
        low = word.lower()
        if low.startswith("p:"):  # a year or a rolling window, from canonical text
            return period_of_token(word, self.calendar)
        if low in MONTH_NAMES or (m := re.fullmatch(r"(\d{1,2})月", word)):
            month = MONTH_NAMES.get(low) or int(m[1])  # type: ignore[index]
            if not 1 <= month <= 12:
                raise c.ParseError("unknown_period", {"word": word})
            year = today.year if month <= today.month else today.year - 1
            return self.calendar.month(date(year, month, 1))
        if low in RELATIVE_TOKENS or looks_like_period_key(word):
            period = resolve_token(word, today, self.calendar)
            if period is None and year_out_of_range(word):
                raise c.ParseError("period_out_of_range", {"word": word, "first": FIRST_YEAR, "last": LAST_YEAR})
            if period is None:
                raise c.ParseError("unknown_period", {"word": word})
            return period
        return None

    def channel(self, word: str, request: CommandRequest) -> str:
        if m := CHANNEL_TOKEN.fullmatch(word):
            index = int(m[1])
            if index < len(request.channels):
                return request.channels[index]
        return word.lstrip("#").strip("<>")

    # --- picking one of each ------------------------------------------------------------

    def reject_unknown(self, found: Found, topic: str) -> None:
        if found.unknown:
            word = found.unknown[0]
            raise c.ParseError("unknown_word", {"word": word, "suggestion": self.suggest(word)}, topic)

    def suggest(self, word: str) -> str:
        close = difflib.get_close_matches(word.lower(), sorted(self.vocabulary - STOPWORDS), n=1, cutoff=0.75)
        return close[0] if close else ""

    def one_kpi(self, found: Found, *, default: bool, topic: str) -> str:
        kpis = list(dict.fromkeys(found.kpis))
        if not kpis and found.unknown:
            word = found.unknown[0]
            raise c.ParseError("unknown_kpi", {"word": word, "suggestion": self.suggest(word),
                                               "kpis": ", ".join(sorted(self.registry.kpis))}, topic)
        if len(kpis) > 1:
            raise c.ParseError("two_kpis", {"first": kpis[0], "second": kpis[1]}, topic)
        if kpis:
            return kpis[0]
        if default:
            return "gmv" if "gmv" in self.registry.kpis else next(iter(self.registry.kpis))
        raise c.ParseError("missing_kpi", {"kpis": ", ".join(sorted(self.registry.kpis))}, topic)

    def one_scope(self, found: Found, topic: str) -> c.ScopeRef:
        scopes = list(dict.fromkeys(found.scopes))
        scopes += [c.ScopeRef("role", r) for r in dict.fromkeys(found.roles) if c.ScopeRef("role", r) not in scopes]
        if len(scopes) > 1 or len(set(found.shops)) > 1:
            raise c.ParseError("two_scopes", {}, topic)
        scope = scopes[0] if scopes else c.TEAM
        if found.shops:  # a shop alone, or a role / member within it
            return c.ScopeRef("shop", found.shops[0]) if scope.kind == "team" else replace(scope, shop=found.shops[0])
        return scope

    def board_role(self, found: Found) -> str | None:
        roles = list(dict.fromkeys(found.roles + [s.key for s in found.scopes if s.kind == "role"]))
        if len(roles) > 1:
            raise c.ParseError("two_scopes", {}, "board")
        return roles[0] if roles else None

    def one_period(self, found: Found, topic: str) -> Period:
        periods = list(dict.fromkeys(found.periods))
        if len(periods) > 1:
            raise c.ParseError("two_periods", {}, topic)
        return periods[0] if periods else self.calendar.month(self.today())

    def headline_kpi(self, role: str | None) -> str:
        if role and (role_def := self.registry.roles.get(role)) and role_def.kpis:
            return next(iter(role_def.kpis))
        return "gmv" if "gmv" in self.registry.kpis else next(iter(self.registry.kpis))

    def role_list(self) -> str:
        return ", ".join(self.registry.roles)

    def target_value(self, found: Found, kpi_id: str) -> ParsedValue:
        if not found.values:
            raise c.ParseError("missing_value", {"example": f"target set {kpi_id} 1.2m month"}, "target")
        if len(found.values) > 1:
            raise c.ParseError("two_values", {}, "target")
        value = found.values[0]
        check_value_unit(self.registry, kpi_id, value, allow_zero=False)
        return value


def check_value_unit(registry: Registry, kpi_id: str, value: ParsedValue, *, allow_zero: bool) -> None:
    """A value must fit its KPI's unit: 15% only for percent KPIs, $ only for money, > 0 for targets."""
    kpi = registry.kpis[kpi_id]
    if value.is_percent and kpi.unit != "percent":
        raise c.ParseError("percent_not_allowed", {"kpi": kpi_id, "word": value.text})
    if kpi.unit == "percent" and not value.is_percent and value.value > 1:
        raise c.ParseError("percent_expected", {"kpi": kpi_id, "word": value.text})
    if value.has_currency and kpi.unit != "currency":
        raise c.ParseError("currency_not_allowed", {"kpi": kpi_id, "word": value.text})
    if value.value < 0 or (value.value == 0 and not allow_zero):
        raise c.ParseError("not_positive", {"word": value.text})


def is_channel(word: str) -> bool:
    return word.startswith("#") or bool(CHANNEL_TOKEN.fullmatch(word))


def one_id(words: list[str], topic: str) -> int:
    if len(words) != 1 or not words[0].lstrip("#").isdigit():
        raise c.ParseError("missing_id", {}, topic)
    return int(words[0].lstrip("#"))


def read_question(parser: Parser, words: list[str], request: CommandRequest) -> c.Command:
    """The argument reader of every question-like command (status, me, board, trend …): the whole
    message goes through the question reader, so `my ROAS` and `ROAS for me` read the same."""
    return parser.question(words, request)


def command_of(question: Question, request: CommandRequest) -> c.Command:
    """The command that answers a question as read."""
    scope = _scope_of(question.subject, request)
    if question.shop:  # a shop alone, or a role / member within it
        scope = c.ScopeRef("shop", question.shop) if scope.kind == "team" else replace(scope, shop=question.shop)
    kpi, period = question.kpi or "", question.period
    made: c.Command
    if question.shape == "status":
        made = c.Status(kpi=kpi, scope=scope, period=period)
    elif question.shape == "overview":
        made = c.Me(period=period) if question.subject.kind == "me" else c.Overview(scope=scope, period=period)
    elif question.shape == "role":
        made = c.RoleKpis(role=question.subject.key, period=period)
    elif question.shape == "board":
        role = question.subject.key if question.subject.kind == "role" else None
        made = c.Board(kpi=kpi, role=role, period=period, order=question.order, by_shop=question.by_shop,
                       shop="" if question.by_shop else question.shop or "")
    elif question.shape == "runrate":
        made = c.RunRate(kpi=kpi, scope=scope, period=period)
    elif question.shape == "compare":
        made = c.Compare(kpi=kpi, scope=scope, period=period, against=question.against or "previous")
    else:
        made = c.Trend(kpi=kpi, scope=scope, period=period)
    return replace(made, question=question)


def _scope_of(subject: Subject, request: CommandRequest) -> c.ScopeRef:
    if subject.kind == "role":
        return c.ScopeRef("role", subject.key)
    if subject.kind == "member":
        return c.ScopeRef("member", subject.key)
    if subject.kind == "me":
        return c.ScopeRef("user", user=request.user)
    if subject.kind == "mention":
        index = int(subject.key)
        if index >= len(request.mentions):
            raise c.ParseError("unknown_word", {"word": f"<@{index}>", "suggestion": ""}, "status")
        return c.ScopeRef("user", user=request.mentions[index])
    return c.TEAM


def _with_public(command: c.Command, public: bool) -> c.Command:
    if not public:
        return command
    return replace(command, public=True)
