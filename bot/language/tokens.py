"""Splits a message into words. Latin text splits on spaces; runs of Chinese characters, which
have no spaces, are cut by longest match against the vocabulary (KPI and role names, period
words, verbs), so "上月GMV达成率多少" becomes 上月 · gmv · 达成率 · 多少."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

TOKEN = re.compile(
    r"<@\d+>|<#\d+>"                                   # neutral mention / channel tokens
    r"|<[@#!][^>]*>"                                   # raw platform markup left by an adapter
    r"|#[\w\-]+"                                       # a channel by name
    r"|<=|>=|<|>|=|≤|≥"                                # comparison operators
    r"|\d{4}-(?:[Ww]\d{1,2}|[Qq]\d|\d{1,2}(?:-\d{1,2})?)(?![\w.])"  # period keys
    r"|\d{1,2}:\d{2}"                                  # times of day
    r"|\d{1,2}月"                                      # 10月
    r"|-?[$¥￥€£]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:[kKmMbB](?![A-Za-z])|万|亿|%)?"  # values
    r"|[A-Za-z_][A-Za-z0-9_:.\-@+']*"                          # latin words (role:host, member:a@b.com …)
    r"|[\u3400-\u9fff]+"                               # a run of Chinese characters
)

CJK_RUN = re.compile(r"[\u3400-\u9fff]+")


def normalise(text: str) -> str:
    """Full-width forms to half-width (NFKC), without a leading /kpi, without control characters."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = re.sub(r"^\s*/?kpi\b", "", text, flags=re.IGNORECASE)
    return text.strip()


def tokenize(text: str, vocabulary: Iterable[str]) -> list[str]:
    chinese_words = _chinese_words(vocabulary if isinstance(vocabulary, frozenset) else frozenset(vocabulary))
    out: list[str] = []
    for match in TOKEN.finditer(text):
        token = match.group(0)
        if CJK_RUN.fullmatch(token):
            out.extend(_segment(token, chinese_words))
        else:
            out.append(token)
    return out


@lru_cache(maxsize=16)
def _chinese_words(vocabulary: frozenset[str]) -> dict[str, list[str]]:
    """The vocabulary's Chinese words by first character, longest first (a frozenset caches its hash,
    so a parser passing the same vocabulary pays this once)."""
    by_first: dict[str, list[str]] = {}
    for word in sorted((w for w in vocabulary if CJK_RUN.search(w)), key=len, reverse=True):
        by_first.setdefault(word[0], []).append(word)
    return by_first


def segment_chinese(run: str, vocabulary: frozenset[str]) -> list[str]:
    """Cut a run of Chinese characters by longest match over the vocabulary's Chinese words."""
    return _segment(run, _chinese_words(vocabulary))


def _segment(run: str, words: dict[str, list[str]]) -> list[str]:
    pieces: list[str] = []
    unknown = ""
    i = 0
    while i < len(run):
        for word in words.get(run[i], ()):
            if run.startswith(word, i):
                if unknown:
                    pieces.append(unknown)
                    unknown = ""
                pieces.append(word)
                i += len(word)
                break
        else:
            unknown += run[i]
            i += 1
    if unknown:
        pieces.append(unknown)
    return pieces
