"""Words → a parsed command (SPEC §4). Deterministic and offline.

Commands start with a verb (`target set …`, `board …`, `帮助`). Anything else is read as a plain
question: the KPI, scope and period are picked out wherever they stand, filler words are skipped,
and an unknown word is reported (with the closest known word) instead of being guessed at.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from bot.core.request import MENTION_TOKEN, CommandRequest
from bot.language import commands as c
from bot.language.tokens import normalise, tokenize
from bot.language.values import ParsedValue, looks_like_value, parse_value
from bot.language.vocabulary import (
    BOARD_WORDS,
    CADENCE_WORDS,
    ME_WORDS,
    MONTH_NAMES,
    OPERATORS,
    PACE_WORDS,
    PUBLIC_WORDS,
    STOPWORDS,
    SUBVERBS,
    TEAM_WORDS,
    VERBS,
    WEEKDAY_WORDS,
    all_words,
)
from storage.kpi.periods import RELATIVE_TOKENS, Calendar, Period, looks_like_period_key, resolve_token
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


class Parser:
    def __init__(self, registry: Registry, calendar: Calendar, today: Callable[[], date]) -> None:
        self.registry = registry
        self.calendar = calendar
        self.today = today
        self.vocabulary = all_words() | set(RELATIVE_TOKENS) | set(registry.kpi_names())
        self.vocabulary |= set(registry.role_names())
        for kpi in registry.kpis.values():
            self.vocabulary |= {kpi.label_zh, *kpi.aliases}
        for role in registry.roles.values():
            self.vocabulary |= {role.label_zh, *role.aliases}

    # --- entry --------------------------------------------------------------------------

    def parse(self, request: CommandRequest) -> c.Command:
        text = normalise(request.text)
        words = tokenize(text, self.vocabulary)
        public = any(w.lower() in PUBLIC_WORDS for w in words)
        words = [w for w in words if w.lower() not in PUBLIC_WORDS]
        if not words:
            return c.Help(public=public)
        verb = VERBS.get(words[0].lower())
        rest = words[1:]
        chinese_target_verb = words[0] in ("设置", "设定", "设", "清除", "删除") and len(words) >= 2
        if verb is None and chinese_target_verb and VERBS.get(words[1].lower()) == "target":  # 设置目标 …
            verb, rest = "target", [words[0], *words[2:]]
        handler = {
            "help": self._help, "status": self._status, "me": self._me, "board": self._board,
            "target": self._target, "role": self._role, "alert": self._alert, "digest": self._digest,
            "sources": self._sources, "audit": self._audit, "admin": self._admin,
        }.get(verb or "")
        command = self._question(words, request) if handler is None else handler(rest, request)
        return _with_public(command, public)

    # --- commands -----------------------------------------------------------------------

    def _help(self, words: list[str], request: CommandRequest) -> c.Command:
        topic = VERBS.get(words[0].lower()) if words else None
        return c.Help(topic=topic)

    def _status(self, words: list[str], request: CommandRequest) -> c.Command:
        found = self._scan(words, request)
        self._reject_unknown(found, "status")
        return c.Status(kpi=self._one_kpi(found, default=True, topic="status"),
                        scope=self._one_scope(found, "status"), period=self._one_period(found, "status"))

    def _me(self, words: list[str], request: CommandRequest) -> c.Command:
        found = self._scan(words, request)
        found.intents.discard("me")
        self._reject_unknown(found, "me")
        return c.Me(period=self._one_period(found, "me"))

    def _board(self, words: list[str], request: CommandRequest) -> c.Command:
        found = self._scan(words, request)
        found.intents.discard("board")
        role = self._board_role(found)
        kpi = self._one_kpi(found, default=False, topic="board") if found.kpis or found.unknown else (
            self._headline_kpi(role))
        self._reject_unknown(found, "board")
        return c.Board(kpi=kpi, role=role, period=self._one_period(found, "board"))

    def _target(self, words: list[str], request: CommandRequest) -> c.Command:
        if not words:
            return c.TargetForm()
        action = SUBVERBS["target"].get(words[0].lower())
        if action is None:
            raise c.ParseError("unknown_subcommand", {"word": words[0], "choices": "set, list, clear"}, "target")
        found = self._scan(words[1:], request)
        if action == "list":
            self._reject_unknown(found, "target")
            scope = self._one_scope(found, "target") if found.scopes else None
            return c.TargetList(scope=scope, period=self._one_period(found, "target"))
        kpi_id = self._one_kpi(found, default=False, topic="target")
        self._reject_unknown(found, "target")
        scope = self._one_scope(found, "target")
        period = self._one_period(found, "target")
        if action == "clear":
            return c.TargetClear(kpi=kpi_id, scope=scope, period=period)
        return c.TargetSet(kpi=kpi_id, value=self._target_value(found, kpi_id), scope=scope, period=period)

    def _role(self, words: list[str], request: CommandRequest) -> c.Command:
        action = SUBVERBS["role"].get(words[0].lower()) if words else "list"
        if action is None:
            raise c.ParseError("unknown_subcommand", {"word": words[0], "choices": "assign, list, remove"}, "role")
        if action == "list":
            return c.RoleList()
        rest = words[1:]
        member_key = None
        lowered = [w.lower() for w in rest]
        for marker in ("as", "为", "作为"):
            if marker in lowered:
                index = lowered.index(marker)
                if index + 1 >= len(rest):
                    raise c.ParseError("missing_member_key", {}, "role")
                member_key = rest[index + 1].removeprefix("member:")
                rest = rest[:index] + rest[index + 2:]
                break
        found = self._scan(rest, request)
        users = [s.user for s in found.scopes if s.kind == "user"]
        if not users and member_key is None:
            raise c.ParseError("missing_user", {}, "role")
        roles = found.roles or [s.key for s in found.scopes if s.kind == "role"]
        if not roles and found.unknown:
            raise c.ParseError("unknown_role", {"word": found.unknown[0], "roles": self._role_list()}, "role")
        if not roles:
            raise c.ParseError("missing_role", {"roles": self._role_list()}, "role")
        self._reject_unknown(found, "role")
        return c.RoleAssign(user=users[0] if users else None, role=roles[0], member_key=member_key,
                            remove=action == "remove")

    def _alert(self, words: list[str], request: CommandRequest) -> c.Command:
        action = SUBVERBS["alert"].get(words[0].lower()) if words else "list"
        if action is None:
            raise c.ParseError("unknown_subcommand", {"word": words[0], "choices": "add, list, rm"}, "alert")
        if action == "list":
            return c.AlertList()
        if action == "rm":
            return c.AlertRemove(rule_id=_one_id(words[1:], "alert"))
        return self._alert_add(words[1:], request)

    def _alert_add(self, words: list[str], request: CommandRequest) -> c.Command:
        rest = list(words)
        days = 1
        lowered = [w.lower() for w in rest]
        for index, word in enumerate(lowered):
            if word == "for" and index + 2 < len(rest) + 1 and index + 1 < len(rest):
                count = rest[index + 1]
                unit = lowered[index + 2] if index + 2 < len(rest) else ""
                if count.isdigit() and unit in ("day", "days", "天"):
                    days = int(count)
                    rest = rest[:index] + rest[index + 3:]
                    break
        else:
            for index, word in enumerate(rest):
                if m := re.fullmatch(r"连续(\d+)天?|(\d+)天", word):
                    days = int(m[1] or m[2])
                    rest = rest[:index] + rest[index + 1:]
                    break
        mode = "pace" if any(w.lower() in PACE_WORDS for w in rest) else "value"
        rest = [w for w in rest if w.lower() not in PACE_WORDS]
        ops = [OPERATORS[w] for w in rest if w in OPERATORS]
        rest = [w for w in rest if w not in OPERATORS]
        found = self._scan(rest, request)
        kpi_id = self._one_kpi(found, default=False, topic="alert")
        self._reject_unknown(found, "alert")
        if len(ops) != 1:
            raise c.ParseError("missing_operator", {}, "alert")
        if not found.values:
            raise c.ParseError("missing_value", {"example": "alert add roas < 2 for 3 days"}, "alert")
        value = found.values[0]
        if mode == "pace":
            if ops[0] not in ("<", "<="):
                raise c.ParseError("pace_operator", {}, "alert")
            if not value.is_percent:
                raise c.ParseError("pace_percent", {"word": value.text}, "alert")
        else:
            check_value_unit(self.registry, kpi_id, value, allow_zero=True)
        if days < 1 or days > 90:
            raise c.ParseError("bad_days", {}, "alert")
        return c.AlertAdd(kpi=kpi_id, mode=mode, op=ops[0], value=value, scope=self._one_scope(found, "alert"),
                          days=days, channel=found.channels[0] if found.channels else None)

    def _digest(self, words: list[str], request: CommandRequest) -> c.Command:
        action = SUBVERBS["digest"].get(words[0].lower()) if words else "list"
        if action is None:
            raise c.ParseError("unknown_subcommand", {"word": words[0],
                                                      "choices": "subscribe, list, unsubscribe, now"}, "digest")
        rest = words[1:]
        if action == "list":
            return c.DigestList()
        if action == "unsubscribe":
            return c.DigestUnsubscribe(subscription_id=_one_id(rest, "digest"))
        channels = [self._channel(w, request) for w in rest if _is_channel(w)]
        rest = [w for w in rest if not _is_channel(w)]
        if action == "now":
            if rest:
                raise c.ParseError("unknown_word", {"word": rest[0], "suggestion": ""}, "digest")
            return c.DigestNow(channel=channels[0] if channels else None)
        cadence, day, time = "weekly", "mon", "09:00"
        for word in rest:
            low = word.lower()
            if low in CADENCE_WORDS:
                cadence = CADENCE_WORDS[low]
            elif low in WEEKDAY_WORDS:
                day = WEEKDAY_WORDS[low]
            elif re.fullmatch(r"\d{1,2}:\d{2}", word):
                hours, minutes = (int(p) for p in word.split(":"))
                if hours > 23 or minutes > 59:
                    raise c.ParseError("bad_time", {"word": word}, "digest")
                time = f"{hours:02d}:{minutes:02d}"
            elif word.isdigit() or re.fullmatch(r"(\d{1,2})[号日]", word):
                day = str(int(re.sub(r"\D", "", word)))
            else:
                raise c.ParseError("unknown_word", {"word": word, "suggestion": self._suggest(word)}, "digest")
        if cadence == "monthly":
            if not day.isdigit() or not 1 <= int(day) <= 28:
                raise c.ParseError("bad_month_day", {"word": day}, "digest")
        elif day not in WEEKDAY_WORDS.values():
            raise c.ParseError("bad_weekday", {"word": day}, "digest")
        return c.DigestSubscribe(channel=channels[0] if channels else None, cadence=cadence, day=day, time=time)

    def _sources(self, words: list[str], request: CommandRequest) -> c.Command:
        return c.Sources()

    def _audit(self, words: list[str], request: CommandRequest) -> c.Command:
        if not words:
            return c.Audit()
        if not words[0].isdigit() or not 1 <= int(words[0]) <= 100:
            raise c.ParseError("bad_count", {"word": words[0]}, "audit")
        return c.Audit(limit=int(words[0]))

    def _admin(self, words: list[str], request: CommandRequest) -> c.Command:
        action = SUBVERBS["admin"].get(words[0].lower()) if words else "list"
        if action is None:
            raise c.ParseError("unknown_subcommand", {"word": words[0], "choices": "add, remove, list"}, "admin")
        if action == "list":
            return c.AdminList()
        users = [request.mentions[int(m[1])] for w in words[1:] if (m := MENTION_TOKEN.fullmatch(w))
                 and int(m[1]) < len(request.mentions)]
        if not users:
            raise c.ParseError("missing_user", {}, "admin")
        return c.AdminChange(user=users[0], add=action == "add")

    def _question(self, words: list[str], request: CommandRequest) -> c.Command:
        found = self._scan(words, request)
        about_something = found.kpis or found.roles or found.scopes or found.intents
        if not about_something and (found.unknown or not found.periods):
            raise c.NotUnderstood(words=found.unknown or words)  # "今天天气怎么样" is not about KPIs
        self._reject_unknown(found, "status")
        if "me" in found.intents and not found.kpis and not found.scopes:
            return c.Me(period=self._one_period(found, "me"))
        if "board" in found.intents:
            role = self._board_role(found)
            kpi = self._one_kpi(found, default=False, topic="board") if found.kpis else self._headline_kpi(role)
            return c.Board(kpi=kpi, role=role, period=self._one_period(found, "board"))
        scope = self._one_scope(found, "status")
        if not found.kpis and scope.kind == "role":
            kpi = self._headline_kpi(scope.key)
        else:
            kpi = self._one_kpi(found, default=True, topic="status")
        return c.Status(kpi=kpi, scope=scope, period=self._one_period(found, "status"))

    # --- recognising words --------------------------------------------------------------

    def _scan(self, words: list[str], request: CommandRequest) -> Found:
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
            elif _is_channel(word):
                found.channels.append(self._channel(word, request))
            elif low in TEAM_WORDS:
                found.scopes.append(c.TEAM)
            elif low.startswith("role:"):
                role = self.registry.role(word[5:])
                if role is None:
                    raise c.ParseError("unknown_role", {"word": word[5:], "roles": self._role_list()})
                found.scopes.append(c.ScopeRef("role", role.id))
            elif low.startswith("member:"):
                key = word[7:].strip()
                if not key:
                    raise c.ParseError("missing_member_key", {})
                found.scopes.append(c.ScopeRef("member", key))
            elif (period := self._period(word)) is not None:
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

    def _period(self, word: str) -> Period | None:
        today = self.today()
        low = word.lower()
        if low in MONTH_NAMES or (m := re.fullmatch(r"(\d{1,2})月", word)):
            month = MONTH_NAMES.get(low) or int(m[1])  # type: ignore[index]
            if not 1 <= month <= 12:
                raise c.ParseError("unknown_period", {"word": word})
            year = today.year if month <= today.month else today.year - 1
            return self.calendar.month(date(year, month, 1))
        if low in RELATIVE_TOKENS or looks_like_period_key(word):
            period = resolve_token(word, today, self.calendar)
            if period is None:
                raise c.ParseError("unknown_period", {"word": word})
            return period
        return None

    def _channel(self, word: str, request: CommandRequest) -> str:
        if m := CHANNEL_TOKEN.fullmatch(word):
            index = int(m[1])
            if index < len(request.channels):
                return request.channels[index]
        return word.lstrip("#").strip("<>")

    # --- picking one of each ------------------------------------------------------------

    def _reject_unknown(self, found: Found, topic: str) -> None:
        if found.unknown:
            word = found.unknown[0]
            raise c.ParseError("unknown_word", {"word": word, "suggestion": self._suggest(word)}, topic)

    def _suggest(self, word: str) -> str:
        close = difflib.get_close_matches(word.lower(), sorted(self.vocabulary - STOPWORDS), n=1, cutoff=0.75)
        return close[0] if close else ""

    def _one_kpi(self, found: Found, *, default: bool, topic: str) -> str:
        kpis = list(dict.fromkeys(found.kpis))
        if not kpis and found.unknown:
            word = found.unknown[0]
            raise c.ParseError("unknown_kpi", {"word": word, "suggestion": self._suggest(word),
                                               "kpis": ", ".join(sorted(self.registry.kpis))}, topic)
        if len(kpis) > 1:
            raise c.ParseError("two_kpis", {"first": kpis[0], "second": kpis[1]}, topic)
        if kpis:
            return kpis[0]
        if default:
            return "gmv" if "gmv" in self.registry.kpis else next(iter(self.registry.kpis))
        raise c.ParseError("missing_kpi", {"kpis": ", ".join(sorted(self.registry.kpis))}, topic)

    def _one_scope(self, found: Found, topic: str) -> c.ScopeRef:
        scopes = list(dict.fromkeys(found.scopes))
        scopes += [c.ScopeRef("role", r) for r in dict.fromkeys(found.roles) if c.ScopeRef("role", r) not in scopes]
        if len(scopes) > 1:
            raise c.ParseError("two_scopes", {}, topic)
        return scopes[0] if scopes else c.TEAM

    def _board_role(self, found: Found) -> str | None:
        roles = list(dict.fromkeys(found.roles + [s.key for s in found.scopes if s.kind == "role"]))
        if len(roles) > 1:
            raise c.ParseError("two_scopes", {}, "board")
        return roles[0] if roles else None

    def _one_period(self, found: Found, topic: str) -> Period:
        periods = list(dict.fromkeys(found.periods))
        if len(periods) > 1:
            raise c.ParseError("two_periods", {}, topic)
        return periods[0] if periods else self.calendar.month(self.today())

    def _headline_kpi(self, role: str | None) -> str:
        if role and (role_def := self.registry.roles.get(role)) and role_def.kpis:
            return next(iter(role_def.kpis))
        return "gmv" if "gmv" in self.registry.kpis else next(iter(self.registry.kpis))

    def _role_list(self) -> str:
        return ", ".join(self.registry.roles)

    def _target_value(self, found: Found, kpi_id: str) -> ParsedValue:
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


def _is_channel(word: str) -> bool:
    return word.startswith("#") or bool(CHANNEL_TOKEN.fullmatch(word))


def _one_id(words: list[str], topic: str) -> int:
    if len(words) != 1 or not words[0].lstrip("#").isdigit():
        raise c.ParseError("missing_id", {}, topic)
    return int(words[0].lstrip("#"))


def _with_public(command: c.Command, public: bool) -> c.Command:
    if not public:
        return command
    from dataclasses import replace

    return replace(command, public=True)
