"""Digest history: what was posted (when, where, which period, status, a link where the platform gives one),
and a posted digest kept as JSON so `digest show ID` can post it again and `export digest` can export it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from jobs.outbox import ChannelRef
from jobs.present.i18n import Catalog
from jobs.present.reply import Figure, Mark, Reply, ReplyKind, Table
from storage.models import DigestPost

T = Catalog({
    "history_title": ("Digest history · last {count}", "摘要发送记录 · 最近 {count} 条"),
    "id": ("ID", "编号"),
    "when": ("When (UTC)", "时间（UTC）"),
    "where": ("Where", "发送到"),
    "period": ("Period", "周期"),
    "status": ("Status", "状态"),
    "link": ("Link", "链接"),
    "title": ("Digest", "摘要"),
    "no_history": ("No digest has been posted yet.", "还没有发送过摘要。"),
    "shown_again": ("Posted {when} to {where} · charts are not kept", "{when} 发送至 {where} · 图表未保存"),
    "sent": ("sent", "已发送"),
    "failed": ("failed", "失败"),
})


def reply_to_json(reply: Reply) -> str:
    return json.dumps({
        "title": reply.title, "lang": reply.lang, "mark": reply.mark.value if reply.mark else None,
        "figures": [[f.label, f.value, f.mark.value if f.mark else None] for f in reply.figures],
        "text": reply.text,
        "tables": [{"title": t.title, "columns": t.columns, "rows": t.rows,
                    "marks": [m.value if m else None for m in t.marks]} for t in reply.tables],
        "footnotes": reply.footnotes,
    }, ensure_ascii=False)


def reply_from_json(text: str) -> Reply:
    data: dict[str, Any] = json.loads(text)
    return Reply(
        title=data["title"], lang=data.get("lang", "en"), kind=ReplyKind.NOTICE,
        mark=Mark(data["mark"]) if data.get("mark") else None, text=data.get("text"),
        figures=[Figure(label, value, Mark(mark) if mark else None) for label, value, mark in data.get("figures", [])],
        tables=[Table(columns=t["columns"], rows=t["rows"], title=t.get("title"),
                      marks=[Mark(m) if m else None for m in t.get("marks", [])]) for t in data.get("tables", [])],
        footnotes=list(data.get("footnotes", [])), public=True,
    )


def post_link(channel: str, message_id: str | None) -> str | None:
    """Slack: the message permalink (`/archives/C…/p<ts without the dot>`, opens for workspace members).
    Feishu and DingTalk give no link for a bot's message, so none."""
    if not message_id:
        return None
    ref = ChannelRef.parse(channel)
    if ref.platform == "slack" and "." in message_id:
        return f"https://slack.com/archives/{ref.channel}/p{message_id.replace('.', '')}"
    return None


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")


def history_reply(posts: list[DigestPost], lang: str) -> Reply:
    reply = Reply(title=T("history_title", lang, count=len(posts)), lang=lang)
    if not posts:
        reply.text = T("no_history", lang)
        return reply
    columns = [T("id", lang), T("when", lang), T("where", lang), T("period", lang), T("status", lang),
               T("title", lang), T("link", lang)]
    rows = [[str(p.id), _when(p.posted_at), p.channel, p.period_key,
             T(p.status, lang) if p.status in ("sent", "failed") else p.status, p.title,
             post_link(p.channel, p.message_id) or "—"] for p in posts]
    marks = [Mark.ON_TRACK if p.status == "sent" else Mark.OFF_TRACK for p in posts]
    reply.tables.append(Table(columns=columns, rows=rows, marks=marks))
    return reply


def shown_again(post: DigestPost, lang: str) -> Reply:
    reply = reply_from_json(post.content)
    reply.footnotes.append(T("shown_again", lang, when=_when(post.posted_at), where=post.channel))
    return reply


__all__ = ["history_reply", "post_link", "reply_from_json", "reply_to_json", "shown_again"]
