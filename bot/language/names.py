"""KPIs, roles and people by any name they are known by, found anywhere in a message.

Names come from the registry (ids, English and Chinese labels, aliases) and from the members
(display name, first name, key, email, the email's local part). Matching ignores case, spaces,
hyphens, underscores and a plural `s`; multi-word names match across spaces or hyphens
(`add to cart rate`, `add-to-cart rate`); a person's name takes a possessive (`Chloe's`,
`Chloe的`). A name shared by two people (two Annas) is returned with both, for the caller to ask.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from storage.kpi.registry import Registry

NameKind = Literal["kpi", "role", "person"]
_CJK = re.compile(r"[\u3400-\u9fff]")
_SEPARATORS = re.compile(r"[\s\-_./]+")


@dataclass(frozen=True)
class Person:
    key: str
    display_name: str | None = None
    email: str | None = None

    @property
    def name(self) -> str:
        return self.display_name or self.key


@dataclass(frozen=True)
class NameHit:
    kind: NameKind
    ids: tuple[str, ...]  # more than one: an ambiguous person name
    start: int
    end: int
    text: str

    @property
    def id(self) -> str:
        return self.ids[0]

    @property
    def ambiguous(self) -> bool:
        return len(self.ids) > 1


def normal_name(name: str) -> str:
    """Case, separators and surrounding punctuation folded: `Add-to-cart rate` → `add to cart rate`."""
    return _SEPARATORS.sub(" ", name.strip().lower()).strip(" '’?!.,:;")


class NameIndex:
    """Every name of every KPI, role and person, as one pattern matched longest first."""

    def __init__(self, registry: Registry, people: Iterable[Person] = (), reserved: Iterable[str] = ()) -> None:
        self.people = {p.key: p for p in people}
        reserved_words = {normal_name(w) for w in reserved}
        self._names: dict[str, tuple[NameKind, set[str]]] = {}
        for kpi in registry.kpis.values():
            for name in _with_label_noun(kpi.label_en, (kpi.id, kpi.label_en, kpi.label_zh, *kpi.aliases)):
                self._add(name, "kpi", kpi.id)
        for role in registry.roles.values():
            for name in (role.id, role.label_en, role.label_zh, *role.aliases):
                self._add(name, "role", role.id)
        for person in self.people.values():
            for name in _person_names(person):
                lowered = normal_name(name)
                if lowered in self._names and self._names[lowered][0] != "person":
                    continue  # a registry word is never taken for a person: `Max` stays whoever said it
                if lowered in reserved_words and name not in (person.key, person.email):
                    continue  # a first name that is also a command word (`Will`, `Mark`) needs the full name
                self._add(name, "person", person.key)
        self._pattern = self._compile()

    def _add(self, name: str, kind: NameKind, ident: str) -> None:
        key = normal_name(name)
        if not key:
            return
        existing = self._names.get(key)
        if existing is None or existing[0] != kind:
            if existing is not None and kind == "person":
                return
            self._names[key] = (kind, {ident})
        else:
            existing[1].add(ident)

    def _compile(self) -> re.Pattern[str]:
        """One alternation, longest names first. Where a name may start is checked once per position
        (a Chinese character, or a latin one not inside a word, an email, a #channel or role:/member:);
        a name ending in a latin character must not run on into a longer word."""
        alternatives = []
        for name in sorted(self._names, key=len, reverse=True):
            body = r"[\s\-_./]*".join(re.escape(w) for w in name.split(" "))
            if not _CJK.search(name[-1]):
                body += r"(?:e?s)?(?![A-Za-z0-9@_])"  # plural (hosts, ad buyers), then a word boundary
            alternatives.append(body)
        start = r"(?:(?<![A-Za-z0-9@._#:\-])(?=[A-Za-z0-9])|(?=[\u3400-\u9fff]))"
        return re.compile(rf"{start}(?P<name>{'|'.join(alternatives)})(?P<possessive>'s|’s|s'|的)?", re.IGNORECASE)

    def find(self, text: str) -> list[NameHit]:
        hits = []
        for match in self._pattern.finditer(text):
            matched = match["name"]
            entry = self._lookup(matched)
            if entry is None:
                continue
            kind, ids = entry
            end = match.end() if (kind == "person" or match["possessive"] == "的") else match.end("name")
            if kind != "person" and match["possessive"] in ("'s", "’s"):
                end = match.end()  # "GMV's trend"
            hits.append(NameHit(kind, tuple(sorted(ids)), match.start(), end, text[match.start():end]))
        return hits

    def _lookup(self, matched: str) -> tuple[NameKind, set[str]] | None:
        key = normal_name(matched)
        if key in self._names:
            return self._names[key]
        for suffix in ("es", "s"):
            if key.endswith(suffix) and key[: -len(suffix)] in self._names:
                return self._names[key[: -len(suffix)]]
        return None

    def words(self) -> set[str]:
        """Every known name, folded (for did-you-mean)."""
        return set(self._names)

    def kind_of(self, word: str) -> tuple[NameKind, set[str]] | None:
        return self._lookup(word)

    def person(self, key: str) -> Person | None:
        return self.people.get(key)


def _with_label_noun(label: str, names: Iterable[str]) -> list[str]:
    """`conversion` → also `conversion rate` when the label ends in `rate` (`Live conversion rate`)."""
    out = list(names)
    noun = normal_name(label).rsplit(" ", 1)[-1]
    if noun in ("rate", "time", "value", "spend"):
        out += [f"{n} {noun}" for n in names if not _CJK.search(n) and not normal_name(n).endswith(noun)]
    return out


def _person_names(person: Person) -> list[str]:
    names = [person.key]
    if person.email:
        names += [person.email, person.email.split("@")[0]]
    elif "@" in person.key:
        names.append(person.key.split("@")[0])
    if person.display_name:
        display = person.display_name.strip()
        names.append(display)
        if not _CJK.search(display) and " " in display:
            names.append(display.split()[0])  # first name
        elif _CJK.fullmatch(display[0]) and len(display) == 3:
            names.append(display[1:])  # 张小明 → 小明
    return names
