"""Plain questions → what they ask, in English and Chinese, with follow-ups.

A question is read in three passes over the text: periods (`spoken_periods`), then names of KPIs,
roles and people (`names`), then the words left over, which carry its shape:

    how am I doing / 我怎么样                 → overview of the asker
    how are hosts doing / 主播表现怎么样      → the role's KPIs, one row per member
    my ROAS / 我的投产比                      → that KPI for the asker
    how much do we need per day / 每天还要多少 → run-rate
    vs last month / 环比 / 同比               → comparison with the previous period / a year before
    GMV trend / GMV走势                      → the daily (weekly for longer periods) series
    who sold the most / 谁最低                → leaderboard in that direction

A follow-up (`and last week?`, `what about Ben?`, `那上周呢`, `投手呢`, `ROAS呢`) inherits what it does
not say from the person's previous question in the same conversation. Every word must be
accounted for: an unknown word is refused with the closest known word, a one-letter slip of a
long word is read as the word it is closest to. Deterministic, local, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from typing import Any, Literal

from bot.language.names import NameHit, NameIndex, Person
from bot.language.spoken_periods import PeriodError, PeriodReader, SpokenCalendar, SpokenPeriod
from bot.language.suggest import Suggester
from bot.language.tokens import segment_chinese
from storage.kpi.periods import FIRST_YEAR, LAST_YEAR, Period
from storage.kpi.registry import Registry

Shape = Literal["status", "overview", "role", "board", "runrate", "compare", "trend"]


class QuestionError(ValueError):
    """A question that cannot be answered as asked: a message key and its values."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


class NotAQuestion(ValueError):
    """Nothing in the text is about KPIs ("今天天气怎么样")."""


@dataclass(frozen=True)
class Subject:
    """Whose figures: the team, a role, a member (by key), the asker, or a mentioned user (index)."""

    kind: Literal["team", "role", "member", "me", "mention"]
    key: str = ""

    def __str__(self) -> str:
        return self.kind if self.kind in ("team", "me") else f"{self.kind}:{self.key}"


TEAM = Subject("team")
ME = Subject("me")


@dataclass(frozen=True)
class Question:
    shape: Shape
    kpi: str | None
    subject: Subject
    period: Period
    against: Literal["previous", "year"] | None = None  # compare
    order: Literal["top", "bottom"] = "top"  # board
    by_shop: bool = False  # board: shops side by side instead of members
    shop: str | None = None  # shop:KEY — the figures of one shop (alone, or of a role / member in it)
    # What the text itself said (the rest came from defaults or the previous question).
    said: frozenset[str] = field(default_factory=frozenset)
    corrections: tuple[tuple[str, str], ...] = ()  # (typed, read as) for one-letter slips

    def to_memory(self) -> dict[str, object]:
        p = self.period
        return {"shape": self.shape, "kpi": self.kpi, "subject": [self.subject.kind, self.subject.key],
                "period": [p.kind, p.start.isoformat(), p.end.isoformat(), p.key], "against": self.against,
                "order": self.order, "by_shop": self.by_shop}

    @staticmethod
    def from_memory(data: dict[str, Any]) -> Question | None:
        """A stored question back; JSON values are checked by the except (a malformed memory is no question)."""
        try:
            kind, start, end, key = data["period"]
            subject_kind, subject_key = data["subject"]
            period = Period(kind, date.fromisoformat(start), date.fromisoformat(end), key)
            return Question(shape=data["shape"], kpi=data["kpi"], subject=Subject(subject_kind, subject_key),
                            period=period, against=data.get("against"), order=data.get("order") or "top",
                            by_shop=bool(data.get("by_shop")))
        except (KeyError, TypeError, ValueError):
            return None  # a memory written by another version: start afresh


# --- the words that carry a question's shape ------------------------------------------------------

FOLLOW_UP = {"and", "what about", "how about", "what of", "then", "also", "那", "呢", "还有", "那么", "再看",
             "换成", "那个", "and for"}
ME_WORDS = {"me", "my", "mine", "i", "i'm", "im", "am", "myself", "how'm", "我", "我的", "自己", "本人"}
WE_WORDS = {"we", "we're", "our", "ours", "us", "team", "team's", "overall", "everyone", "everybody", "whole",
            "shop", "store", "团队", "我们", "咱们", "全队", "全店", "整体", "全员", "店铺", "大家", "全部"}
OVERVIEW = {"doing", "performing", "perform", "do", "did", "going", "kpis", "kpi", "numbers", "stats",
            "表现", "怎么样", "如何", "咋样", "怎样", "指标", "数据", "情况", "表现如何", "做得", "做的",
            "performance", "track", "on track", "tracking"}
BOARD = {"board", "leaderboard", "rank", "ranking", "rankings", "ranked", "top", "bottom", "best", "worst",
         "most", "least", "highest", "lowest", "leader", "leaders", "排名", "排行", "排行榜", "榜单", "榜",
         "倒数", "最高", "最多", "最好", "最低", "最少", "最差", "第一", "垫底", "谁", "who", "who's", "whos",
         "which", "哪个", "哪位", "among", "by"}
# A ranking that names shops compares the shops ("本月 GMV 店铺 排名", "shop ranking gmv this month") — unless it
# asks who (a person) or names a role: "who sold the most in our shop" ranks members.
SHOP_NOUNS = {"shop", "shops", "store", "stores", "店铺", "门店", "店"}
_PERSON_ASKED = {"who", "who's", "whos", "谁", "哪位"}
BOTTOM = {"bottom", "worst", "least", "lowest", "倒数", "最低", "最少", "最差", "垫底"}
TOP = {"top", "best", "most", "highest", "最高", "最多", "最好", "第一", "leader", "leaders"}
RUNRATE = {"need", "needs", "needed", "left", "remaining", "run rate", "run-rate", "runrate", "how far",
           "to hit", "to go", "gap", "还差", "还要", "还需", "还需要", "差多少", "达标", "才能", "距离",
           "能完成", "完成目标", "目标", "target"}
PER_DAY = {"per day", "a day", "each day", "daily", "每天", "日均", "每日", "一天"}
TREND = {"trend", "trends", "trending", "chart", "graph", "plot", "over time", "by day", "day by day",
         "走势", "趋势", "走势图", "曲线", "变化", "图", "每日", "每天", "daily", "series"}
COMPARE_PREVIOUS = {"vs", "vs.", "versus", "compare", "compared", "comparing", "compared to", "compared with",
                    "wow", "mom", "qoq", "over", "环比", "对比", "相比", "比较", "比", "和", "跟", "与"}
COMPARE_YEAR = {"yoy", "year over year", "year-over-year", "同比", "去年同期"}
SOLD = {"sold", "sell", "sells", "selling", "sales", "卖", "卖得", "卖的", "卖了", "销售"}
FILLER = {
    "what", "what's", "whats", "is", "are", "was", "were", "the", "how", "how's", "hows", "of", "show",
    "please", "pls", "plz", "a", "an", "current", "currently", "so", "far", "to", "date", "tell", "give", "can",
    "could", "you", "see", "check", "does", "look", "looking", "like", "progress", "for", "at", "on", "with",
    "in", "about", "hey", "hi", "hello", "bot", "this", "it", "all", "figures", "pace", "pacing", "attainment",
    "status", "状态", "?", "much", "many", "more", "has", "have", "had", "there", "get", "got", "be", "been", "any",
    "yet", "now", "right", "did", "will", "day", "per", "hit", "from", "each", "s", "up", "value", "values",
    "达成率", "达成", "完成率", "完成情况", "完成", "进度", "多少", "是", "有", "啥", "什么", "的", "吗", "了", "看看",
    "看下", "一下", "请问", "帮我", "看", "查", "查询", "查一下", "给我", "最新", "业绩", "得", "好", "在",
    "呀", "啊", "吧", "下",
    "能", "可以", "是多少", "多", "要", "需要", "现在", "目前", "样", "么", "怎么", "几", "rate",
    "make", "made", "earn", "earned", "generate", "generated", "bring", "brought", "publish", "published",
    "post", "posted", "against", "so far", "total", "overall", "sum", "合计", "总共", "一共", "总",
}
# "和 / 跟 / 比" compare only when two periods are named ("本周GMV和上周比"); alone they are filler.
_COMPARE_ONLY_WITH_TWO_PERIODS = {"和", "跟", "与", "比", "over", "对比", "相比"}
# "target" / "目标" / "能完成" alone ask for the status ("本月GMV能完成吗"); with "per day" for the run-rate.
_WEAK_RUNRATE = {"目标", "target", "能完成"}
PERIOD_WORDS = ("last", "this", "next", "week", "month", "quarter", "year", "today", "yesterday")
_WORDS = (FOLLOW_UP | ME_WORDS | WE_WORDS | OVERVIEW | BOARD | RUNRATE | PER_DAY | TREND | COMPARE_PREVIOUS
          | COMPARE_YEAR | SOLD | FILLER | SHOP_NOUNS)
# Phrases that span words, read before single words (and before periods: "vs the week before").
_PHRASES = re.compile(
    r"(?<![A-Za-z])(?:(?P<previous_base>(?:vs\.?|versus|compared\s+(?:to|with)|than)\s+(?:the\s+)?(?:week|month|quarter|period|one)\s+"
    r"before|(?:week|month|quarter)\s+over\s+(?:week|month|quarter))"
    r"|(?P<year_base>year[\s\-]+over[\s\-]+year|same\s+(?:period|time|month|week)\s+last\s+year|去年同期)"
    r"|(?P<by_shop>by\s+shops?|按店铺|分店铺|各店铺)"
    r"|(?P<filler>show\s+me|tell\s+me|give\s+me|let\s+me\s+see|let\s+me\s+know)"
    r"|(?P<multi>what\s+about|how\s+about|what\s+of|and\s+for|run[\s\-]+rate|how\s+far|to\s+go|per\s+day|a\s+day"
    r"|each\s+day|over\s+time|by\s+day|day\s+by\s+day|on\s+track|compared\s+(?:to|with)))(?![A-Za-z])",
    re.IGNORECASE,
)
# Shops side by side in Chinese, wherever they stand (a Latin KPI name may follow at once: "各店铺GMV").
_BY_SHOP_CJK = re.compile(r"按店铺|分店铺|各个店铺|各家店铺|每个店铺|各店铺|各店|店铺之间")
_BASIS_BEFORE = re.compile(r"(?:(?<![A-Za-z])by\s+|按)$", re.IGNORECASE)
_MENTION = re.compile(r"<@\d+>")  # a user mention, as adapters hand it over (see bot.core.request)
_EXPLICIT = re.compile(r"(?<![\w:])(?P<kind>role|member|shop):(?P<key>[^\s,;]+)", re.IGNORECASE)
_LATIN_OR_CJK = re.compile(r"[A-Za-z][A-Za-z0-9'’\-]*|\d+(?:\.\d+)?%?|[\u3400-\u9fff]+|[?？]")
_CJK = re.compile(r"[\u3400-\u9fff]")
# A period right after these is what the question is compared with: "GMV vs last month", "订单数环比上周".
_VERSUS_BEFORE = re.compile(r"(?:环比|对比|相比|比|vs\.?|versus|compared\s+(?:to|with)|than)\s*$", re.IGNORECASE)


@dataclass
class _Reading:
    text: str = ""
    periods: list[SpokenPeriod] = field(default_factory=list)
    names: list[NameHit] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    corrections: list[tuple[str, str]] = field(default_factory=list)
    base: str | None = None  # previous | year, from a phrase
    by_shop: bool = False
    shop: str | None = None

    def has(self, vocabulary: set[str]) -> bool:
        return any(w in vocabulary for w in self.words)


class QuestionReader:
    def __init__(self, registry: Registry, calendar: SpokenCalendar, today: Callable[[], date],
                 data_through: Callable[[], date | None] = lambda: None, people: Iterable[Person] = (),
                 reserved: Iterable[str] = (), commands: Iterable[str] = ()) -> None:
        self.registry = registry
        # Command words (`streak`, `target` …) are suggested for a mistyped first word, where commands go.
        self._commands = Suggester({w for w in commands if w.isascii() and w.isalpha()}, meaningful=reserved)
        self.calendar = calendar
        self.today = today
        self.periods = PeriodReader(calendar, today, data_through)
        self._reserved = set(reserved) | _WORDS
        self._cjk_words = frozenset(w for w in _WORDS if _CJK.search(w))
        self._know(people)

    def _know(self, people: Iterable[Person]) -> None:
        """Names and suggestions are built when first read: the name pattern is one large regular expression
        (tens of milliseconds to compile), and the reader made at start-up, before the members are known,
        is replaced by `with_people` before a first question is read."""
        self._people = tuple(people)
        for built in ("names", "_suggester"):
            self.__dict__.pop(built, None)

    @cached_property
    def names(self) -> NameIndex:
        return NameIndex(self.registry, self._people, self._reserved)

    @cached_property
    def _suggester(self) -> Suggester:
        words = {part for name in self.names.words() for part in name.split(" ")} | set(PERIOD_WORDS)
        words |= {w for w in _WORDS if w.isascii() and w.isalpha()}
        return Suggester(words, meaningful=self._reserved)

    def with_people(self, people: Iterable[Person]) -> QuestionReader:
        """The same reader knowing another set of members (after members change)."""
        clone = object.__new__(QuestionReader)
        clone.__dict__.update(self.__dict__)
        clone._know(people)
        return clone

    # --- reading -------------------------------------------------------------------------------

    def canonical(self, text: str) -> str:
        """`text` with each period phrase replaced by its key and each KPI or role name by its id, for
        commands read word by word (`target set return rate 5% in December` → `… return_rate 5% 2025-12`).
        Years and rolling windows, which have no key of the calendar's, become `p:2026`, `p:START..END`."""
        text = unicodedata.normalize("NFKC", text)
        try:
            periods = self.periods.find(text)
        except PeriodError as error:
            raise period_error(error) from None
        # "by last-month" / "按上月占比" (split by last month's share) name a basis, not the command's period.
        spans = [(p.start, p.end, period_token(p.period)) for p in periods if not _BASIS_BEFORE.search(text[:p.start])]
        masked = text
        for start, end, _ in spans:
            masked = _blank(masked, start, end)
        spans += [(h.start, h.end, h.id) for h in self.names.find(masked) if h.kind in ("kpi", "role")]
        for start, end, token in sorted(spans, reverse=True):
            text = f"{text[:start]} {token} {text[end:]}"
        return text

    def read(self, text: str, previous: Question | None = None, *, suggest: bool = True) -> Question:
        """What `text` asks; raises QuestionError (with a did-you-mean when `suggest`) or NotAQuestion."""
        text = unicodedata.normalize("NFKC", text)
        reading = self._scan(text)
        if reading.unknown and (corrected := self._corrected(text, reading.unknown)):
            text, corrections = corrected
            reading = self._scan(text)
            reading.corrections = corrections
        follow_up = previous is not None and self._is_follow_up(reading)
        if not follow_up and reading.has(FOLLOW_UP) and not self._complete(reading):
            raise QuestionError("nothing_to_follow")
        if reading.unknown:
            self._refuse_unknown(reading, suggest)
        question = self._shape(reading, previous if follow_up else None)
        return replace(question, corrections=tuple(reading.corrections))

    def _scan(self, text: str) -> _Reading:
        reading = _Reading(text=text)
        masked = text
        for match in _BY_SHOP_CJK.finditer(text):
            reading.by_shop = True
            masked = _blank(masked, match.start(), match.end())
        for match in _PHRASES.finditer(masked):
            if match["previous_base"]:
                reading.base = "previous"
            elif match["year_base"]:
                reading.base = "year"
            if match["filler"] or match["by_shop"]:
                reading.by_shop = reading.by_shop or bool(match["by_shop"])
                masked = _blank(masked, match.start(), match.end())
                continue
            reading.words.append(re.sub(r"\s+", " ", match.group(0).lower()))
            masked = _blank(masked, match.start(), match.end())
        try:
            reading.periods = self.periods.find(masked)
        except PeriodError as error:
            raise period_error(error) from None
        for found in reading.periods:
            masked = _blank(masked, found.start, found.end)
        for match in _MENTION.finditer(masked):
            reading.names.append(NameHit("person", (match.group(0),), match.start(), match.end(), match.group(0)))
            masked = _blank(masked, match.start(), match.end())
        for match in _EXPLICIT.finditer(masked):
            if match["kind"].lower() == "shop":
                if reading.shop not in (None, match["key"].lower()):
                    raise QuestionError("two_scopes")
                reading.shop = match["key"].lower()
                masked = _blank(masked, match.start(), match.end())
                continue
            role = self.registry.role(match["key"]) if match["kind"].lower() == "role" else None
            if match["kind"].lower() == "role" and role is None:
                raise QuestionError("unknown_role", word=match["key"], roles=", ".join(self.registry.roles))
            ident = role.id if role else match["key"]
            reading.names.append(NameHit("role" if role else "person", (ident,), match.start(), match.end(),
                                         match.group(0)))
            masked = _blank(masked, match.start(), match.end())
        reading.names += self.names.find(masked)
        for hit in reading.names:
            masked = _blank(masked, hit.start, hit.end)
        for token in _LATIN_OR_CJK.findall(masked):
            pieces = segment_chinese(token, self._cjk_words) if _CJK.match(token) else [token.lower().replace("’", "'")]
            for piece in pieces:
                self._word(piece, reading)
        return reading

    def _word(self, word: str, reading: _Reading) -> None:
        if word in _WORDS:
            reading.words.append(word)
        elif word.endswith("'s") and word[:-2] in _WORDS:
            reading.words.append(word[:-2])
        else:
            reading.unknown.append(word)

    def _corrected(self, text: str, unknown: list[str]) -> tuple[str, list[tuple[str, str]]] | None:
        """The text with each one-letter slip replaced by the word it is a slip of (`convesion` →
        `conversion`), or None when some unknown word is not such a slip."""
        corrections = []
        for word in unknown:
            slip = self._suggester.typo_of(word)
            if slip is None:
                return None
            corrections.append((word, slip))
            text = re.sub(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", slip, text, flags=re.IGNORECASE)
        return text, corrections

    # --- what the question is ----------------------------------------------------------------------

    def _is_follow_up(self, reading: _Reading) -> bool:
        """Marked (`and …`, `what about …`, `…呢`, `那…`), or nothing but a period (`last week?`); a
        question naming a KPI or a subject without a marker stands on its own (`hosts 本月`)."""
        if reading.has(FOLLOW_UP):
            return True
        return bool(reading.periods) and not reading.names and not self._shape_words(reading) and not reading.unknown

    def _complete(self, reading: _Reading) -> bool:
        """A follow-up marker on a question that stands on its own (`and gmv last week?`)."""
        return any(h.kind == "kpi" for h in reading.names) or bool(self._shape_words(reading))

    def _shape_words(self, reading: _Reading) -> set[str]:
        return {w for w in reading.words if w in (OVERVIEW | BOARD | RUNRATE | TREND | COMPARE_YEAR | SOLD
                                                 | ME_WORDS | {"vs", "vs.", "versus", "环比", "wow", "mom"})}

    def _shape(self, reading: _Reading, previous: Question | None) -> Question:
        kpis = _unique(h.id for h in reading.names if h.kind == "kpi")
        roles = _unique(h.id for h in reading.names if h.kind == "role")
        people = [h for h in reading.names if h.kind == "person"]
        for hit in people:
            if hit.ambiguous:
                names = ", ".join(self._person_label(k) for k in hit.ids)
                raise QuestionError("ambiguous_person", word=hit.text.rstrip("的'’s"), people=names)
        people_keys = _unique(h.id for h in people)
        if len(kpis) > 1:
            raise QuestionError("two_kpis", first=kpis[0], second=kpis[1])
        said: set[str] = set()
        period, against = self._period(reading)
        if period is not None:
            said.add("period")
        kpi = kpis[0] if kpis else None
        if kpi:
            said.add("kpi")
        subject = self._subject(reading, roles, people_keys)
        if subject is not None:
            said.add("subject")
        shape = self._shape_of(reading, kpi, subject, against)
        if shape is not None:
            said.add("shape")
        order: Literal["top", "bottom"] = "bottom" if reading.has(BOTTOM) else "top"
        if reading.has(BOTTOM) or reading.has(TOP - {"top"}):
            said.add("order")
        if previous is not None:
            followed = self._follow(previous, shape, kpi, subject, period, against, order, frozenset(said))
            return replace(followed, by_shop=reading.by_shop or (followed.shape == "board" and previous.by_shop))
        if not said - {"period"} and not reading.periods and not reading.words:
            raise NotAQuestion()
        if not said and not reading.periods:
            raise NotAQuestion()
        question = self._complete_question(shape, kpi, subject, period, against, order, frozenset(said))
        by_shop = reading.by_shop or (reading.has(SHOP_NOUNS) and not roles and not people_keys
                                      and not reading.has(_PERSON_ASKED) and reading.shop is None)
        return replace(question, by_shop=by_shop and question.shape == "board", shop=reading.shop)

    def _period(self, reading: _Reading) -> tuple[Period | None, Literal["previous", "year"] | None]:
        against: Literal["previous", "year"] | None = None
        if reading.base == "previous" or reading.has(COMPARE_PREVIOUS - _COMPARE_ONLY_WITH_TWO_PERIODS):
            against = "previous"
        if reading.base == "year" or reading.has(COMPARE_YEAR):
            against = "year"
        periods = [p.period for p in reading.periods]
        if not periods:
            if reading.has({"wow"}):
                return self.calendar.week(self.today()), against
            return None, against
        if len(periods) == 1:
            only = periods[0]
            versus = _VERSUS_BEFORE.search(reading.text[:reading.periods[0].start]) is not None
            if versus and only == self.calendar.previous(self.calendar.year(self.today())):
                return None, "year"  # "gmv vs last year": this month against a year before
            if versus:  # "GMV vs last month": this month against the one named
                current = self.calendar.of_kind(only.kind, self.today())
                return current, "previous"
            return only, against
        if len(periods) == 2 and (against or reading.has(_COMPARE_ONLY_WITH_TWO_PERIODS)):
            first, second = periods
            if second == self.calendar.previous(first):
                return first, "previous"
            if second == self.calendar.year_before(first):
                return first, "year"
            if first == self.calendar.previous(second):
                return second, "previous"
        raise QuestionError("two_periods")

    def _subject(self, reading: _Reading, roles: list[str], people: list[str]) -> Subject | None:
        subjects: list[Subject] = [Subject("role", r) for r in roles] + [
            Subject("mention", p[2:-1]) if p.startswith("<@") else Subject("member", p) for p in people]
        if len(subjects) > 1:
            raise QuestionError("two_scopes")
        if subjects:
            return subjects[0]
        if reading.has(ME_WORDS - {"am"}) or ("am" in reading.words and "i" in reading.words):
            return ME
        if reading.has(WE_WORDS):
            return TEAM
        return None

    def _shape_of(self, reading: _Reading, kpi: str | None, subject: Subject | None,
                  against: str | None) -> Shape | None:
        if against:
            return "compare"
        if reading.has(RUNRATE - _WEAK_RUNRATE) or (reading.has(PER_DAY) and reading.has(_WEAK_RUNRATE)):
            return "runrate"
        if reading.has(TREND) and not reading.has({"谁", "who"}):
            return "trend"
        if reading.has(BOARD - {"by"}) or reading.by_shop:
            return "board"
        if kpi:
            return "status"
        if subject is not None and subject.kind == "role":
            return "role"
        if subject is not None and subject.kind in ("member", "me", "mention"):
            return "overview"
        if subject == TEAM and reading.has(OVERVIEW):
            return "overview"
        if reading.has(OVERVIEW) and reading.has(ME_WORDS):
            return "overview"
        return None

    def _complete_question(self, shape: Shape | None, kpi: str | None, subject: Subject | None,
                           period: Period | None, against: Literal["previous", "year"] | None,
                           order: Literal["top", "bottom"], said: frozenset[str]) -> Question:
        period = period or self.calendar.month(self.today())
        shape = shape or "status"
        subject = subject or TEAM
        if shape == "board":
            if subject.kind == "member" or subject.kind == "me":
                subject = TEAM
            kpi = kpi or self._headline(subject)
        elif shape in ("status", "runrate", "compare", "trend"):
            kpi = kpi or self._headline(subject if subject.kind == "role" else TEAM)
        else:
            kpi = None
        return Question(shape, kpi, subject, period, against if shape == "compare" else None, order, said=said)

    def _follow(self, previous: Question, shape: Shape | None, kpi: str | None, subject: Subject | None,
                period: Period | None, against: Literal["previous", "year"] | None,
                order: Literal["top", "bottom"], said: frozenset[str]) -> Question:
        new_shape: Shape = previous.shape
        if shape is not None and shape not in ("status", "role", "overview"):
            new_shape = shape
        elif kpi and previous.shape in ("overview", "role"):
            new_shape = "status"
        elif subject is not None and not kpi and previous.shape in ("overview", "role"):
            new_shape = "role" if subject.kind == "role" else "overview"
        new_subject = subject or previous.subject
        if new_shape == "board" and new_subject.kind in ("member", "me"):
            new_subject = previous.subject
        new_kpi = kpi or previous.kpi
        if new_shape in ("overview", "role"):
            new_kpi = None
        elif new_kpi is None:
            new_kpi = self._headline(new_subject if new_subject.kind == "role" else TEAM)
        new_order = order if "order" in said else previous.order
        new_against = against or previous.against if new_shape == "compare" else None
        return Question(new_shape, new_kpi, new_subject, period or previous.period, new_against, new_order,
                        said=said)

    def _headline(self, subject: Subject) -> str:
        if subject.kind == "role" and (role := self.registry.roles.get(subject.key)) and role.kpis:
            return next(iter(role.kpis))
        return "gmv" if "gmv" in self.registry.kpis else next(iter(self.registry.kpis))

    def _person_label(self, key: str) -> str:
        person = self.names.person(key)
        return f"{person.name} ({key})" if person and person.display_name else key

    def _refuse_unknown(self, reading: _Reading, suggest: bool) -> None:
        word = reading.unknown[0]
        if word in ("last", "this", "next", "past", "previous"):
            raise QuestionError("period_incomplete", word=word)
        if not reading.names:
            raise NotAQuestion()
        suggestion = self._closest_question(reading.text, word) if suggest else ""
        raise QuestionError("unknown_word", word=word, suggestion=suggestion)

    def _closest_question(self, text: str, word: str) -> str:
        """The closest answerable question, spelled out: the unknown word replaced by the closest known
        word (`gmv lst week` → `gmv last week`); else that word alone (`gmv lst` → `last`); else the
        question without the word (`gmv blorp` → `gmv`); else nothing."""
        if text.strip().lower().startswith(word.lower()) and (command := self._commands.closest(word)):
            return command
        closest = self._suggester.closest(word)
        pattern = re.compile(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", re.IGNORECASE)
        for replacement in [closest] if closest else [""]:
            candidate = " ".join(pattern.sub(replacement, text, count=1).split())
            if candidate and candidate != " ".join(text.split()) and self._answerable(candidate):
                return candidate
        return closest or ""

    def _answerable(self, text: str) -> bool:
        try:
            self.read(text, suggest=False)  # one level: a suggestion is never looked for a suggestion
        except (QuestionError, NotAQuestion):
            return False
        return True


def period_error(error: PeriodError) -> QuestionError:
    """A period phrase that names no period: outside the years kept (`1899年`, `0000-01`), or none at all."""
    if any(not FIRST_YEAR <= int(year) <= LAST_YEAR for year in re.findall(r"\d{4}", error.text)):
        return QuestionError("period_out_of_range", word=error.text, first=FIRST_YEAR, last=LAST_YEAR)
    return QuestionError("unknown_period", word=error.text)


def period_token(period: Period) -> str:
    """A word for a period that `period_of_token` reads back."""
    return period.key if period.kind in ("day", "week", "month", "quarter") else f"p:{period.key}"


def period_of_token(token: str, calendar: SpokenCalendar) -> Period | None:
    """`p:2026` → the year, `p:2026-11-16..2026-11-22` → that window; None for anything else."""
    body = token[2:] if token.lower().startswith("p:") else ""
    try:
        if re.fullmatch(r"\d{4}", body):
            return calendar.year(date(int(body), 1, 1))
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", body):
            return calendar.span(date.fromisoformat(m[1]), date.fromisoformat(m[2]))
    except ValueError:
        return None
    return None


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
