"""Digest history: one row per digest send that was made (or given up on), newest first when listed."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import DigestPost


def record_post(
    session: Session, *, subscription_id: int | None, cadence: str, channel: str, period_key: str, status: str,
    message_id: str | None, title: str, content: str, posted_at: datetime,
) -> DigestPost:
    post = DigestPost(subscription_id=subscription_id, cadence=cadence, channel=channel[:200],
                      period_key=period_key[:64], status=status, message_id=(message_id or None) and message_id[:200],
                      title=title[:500], content=content, posted_at=posted_at)
    session.add(post)
    session.flush()
    return post


def recent_posts(session: Session, limit: int = 10) -> list[DigestPost]:
    return list(session.exec(select(DigestPost).order_by(col(DigestPost.id).desc()).limit(limit)))


def get_post(session: Session, post_id: int) -> DigestPost | None:
    return session.get(DigestPost, post_id)


def latest_sent(session: Session) -> DigestPost | None:
    return session.exec(
        select(DigestPost).where(DigestPost.status == "sent").order_by(col(DigestPost.id).desc()).limit(1)
    ).first()
