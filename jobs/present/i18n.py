"""Message catalogues: every user-facing sentence exists in English and Chinese.

Each area keeps its own `Catalog` next to its code (commands, digests, alerts, data import), so
a sentence and the code that says it are read together.
"""

from __future__ import annotations

from collections.abc import Mapping

LANGS = ("en", "zh")


class Catalog:
    def __init__(self, messages: Mapping[str, tuple[str, str]]) -> None:
        self.messages = dict(messages)

    def __call__(self, key: str, lang: str, /, **values: object) -> str:
        en, zh = self.messages[key]
        template = zh if lang == "zh" else en
        return template.format(**values) if values else template

    def __contains__(self, key: str) -> bool:
        return key in self.messages


def has_chinese(text: str) -> bool:
    """The one test of whether text is Chinese: any CJK ideograph (basic block or extension A)."""
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


def lang_code(lang: str | None) -> str:
    """A language tag as the catalogues know it: "zh" for any zh* tag (zh-CN, zh_TW), else "en"."""
    return "zh" if (lang or "").lower().startswith("zh") else "en"


def pick_language(text: str, default: str) -> str:
    """Chinese when the message contains Chinese characters, else the team's default."""
    if has_chinese(text):
        return "zh"
    return default if default in LANGS else "en"
