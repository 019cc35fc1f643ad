"""The escaping contract every platform renderer keeps (issue 18 §3), shared so each platform plugs in.

Text from people or data — their words echoed back, member names, KPI labels, source and shop names,
notes — must never come out of a rendered message as something the platform acts on: a mention of
everyone or of a user, or a link. A platform's test renders `hostile_reply(text)` (the hostile text in
every field a reply has) and hands every string its payload would make the platform render to
`live_markup(platform, strings)`, which must return nothing.

Only the platform's own markup counts as live: Slack `<!channel>` / `<@U…>` / `<#C…>` / `<https://…>`,
Feishu `<at …>` / `<a …>` / `[label](url)` / a bare `scheme://` URL in card markdown, DingTalk
`@all` / `[label](url)` / a bare URL in markdown. A DingTalk renderer (bot/dingtalk) adds itself by
calling `live_markup("dingtalk", …)` on its markdown `text` and `title`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hypothesis import strategies as st

from jobs.present.reply import Action, Figure, Reply, ReplyKind, Table

HOSTILE_PIECES = [
    "<!channel>", "<!here>", "<!everyone>", "<@U024BE7LH>", "<#C024BE7LH|general>", "<https://evil.example|click>",
    "<mailto:a@b.c|mail>", "&lt;!channel&gt;", "&lt;@U1&gt;", "<<!here>>", "<!subteam^S1>",
    '<at user_id="all">所有人</at>', "<at id=all></at>", '<a href="https://evil.example">x</a>',
    "[click](https://evil.example)", "[点我](http://evil.example)", "https://evil.example/x", "@all", "@所有人",
    "**bold**", "*b*", "`code`", "&amp;", "&#60;", "<", ">", "[", "]", "(", ")", "张三", "josé",
]

LIVE = {
    "slack": re.compile(r"<\s*[!@#]|<\s*(?:https?|mailto|tel|ftp):", re.IGNORECASE),
    "feishu": re.compile(r"<\s*(?:at|a)\b|\[[^\]\n]*\]\([^)\n]*\)|[a-z][a-z0-9+.-]*://", re.IGNORECASE),
    "dingtalk": re.compile(r"@all\b|@所有人|\[[^\]\n]*\]\([^)\n]*\)|[a-z][a-z0-9+.-]*://", re.IGNORECASE),
}


def hostile_text() -> st.SearchStrategy[str]:
    """Hostile pieces joined with arbitrary text around them."""
    piece = st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=12))
    joined = st.lists(piece, min_size=1, max_size=6)
    return joined.map(lambda parts: " ".join(parts) if len(parts) % 2 else "".join(parts))


def hostile_reply(text: str) -> Reply:
    """`text` in every field of a reply that shows people's or data's words."""
    return Reply(
        title=text, lang="en", kind=ReplyKind.ANSWER, text=f"I don't understand “{text}”.",
        figures=[Figure(label=text, value=text)],
        tables=[Table(columns=["member", text], rows=[[text, "1"], ["bob", text]], title=text)],
        footnotes=[text], actions=[Action(action_id="ack", label=text[:40] or "x", value="1")],
    )


def live_markup(platform: str, rendered: Iterable[str]) -> list[str]:
    """Every live piece of markup found in `rendered`; empty when the contract holds."""
    pattern = LIVE[platform]
    return [match.group(0) for text in rendered for match in pattern.finditer(text)]
