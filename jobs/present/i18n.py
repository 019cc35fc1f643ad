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


def pick_language(text: str, default: str) -> str:
    """Chinese when the message contains Chinese characters, else the team's default."""
    if any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return "zh"
    return default if default in LANGS else "en"
