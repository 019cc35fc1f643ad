"""`digest sends` (the latest scheduled sends of every kind and their problems) and `digest resend ID` (admins)."""

from __future__ import annotations

from bot.core.request import CommandRequest
from bot.handlers.context import Context
from bot.language import commands as c
from bot.language.parser import Parser, one_id
from jobs.delivery import Outcome
from jobs.present.reply import Reply, ReplyKind, Table
from storage.repositories import ledger

HISTORY_ROWS = 15
STATUSES = ("sent", "failed", "unconfirmed", "claimed", "missed")


def digest_sends(ctx: Context, cmd: c.DigestSends) -> Reply:
    with ctx.session() as session:
        rows = ledger.history(session, limit=HISTORY_ROWS)
        body = [[f"#{row.id}", row.kind, row.channel, row.period_key, status_text(ctx, row.status),
                 f"{row.claimed_at:%Y-%m-%d %H:%M}", (row.error or "")[:80]] for row in rows]
    if not body:
        return Reply(title=ctx.t("deliveries_title"), lang=ctx.lang, text=ctx.t("deliveries_empty"))
    columns = [ctx.t(key) for key in ("col_id", "col_kind", "col_channel", "col_period", "col_status", "col_when",
                                      "col_problem")]
    return Reply(title=ctx.t("deliveries_title"), lang=ctx.lang, tables=[Table(columns, body)],
                 footnotes=[ctx.t("deliveries_hint")])


def status_text(ctx: Context, status: str) -> str:
    return ctx.t(f"delivery_status_{status}") if status in STATUSES else status


def digest_resend(ctx: Context, cmd: c.DigestResend) -> Reply:
    # Here, not at the top: the resend runs the digest's scheduled job, and its scheduler (APScheduler) is
    # a tenth of a second of every start of a process that never resends (`kpibot status`).
    from jobs.digest.resend import resend_digest

    services = ctx.services
    result = resend_digest(services.db, services.engine, services.registry, services.outboxes, services.settings,
                           cmd.delivery_id)
    if result is None:  # a state, not a typing mistake: said plainly, nothing changed
        return Reply(title=ctx.t("resend_nothing_title"), lang=ctx.lang,
                     text=ctx.t("resend_not_resendable", id=cmd.delivery_id))
    with ctx.session() as session:
        row = ledger.by_id(session, cmd.delivery_id)
        channel = row.channel if row is not None else "?"
    if result.outcome == Outcome.SENT:
        return ctx.confirmation("resent_title", ctx.t("resent", id=cmd.delivery_id, channel=channel))
    return Reply(title=ctx.t("error_title"), lang=ctx.lang, kind=ReplyKind.ERROR,
                 text=ctx.t("resend_failed", id=cmd.delivery_id, channel=channel, error=(result.error or "")[:200]))


def read_digest_sends(parser: Parser, words: list[str], request: CommandRequest) -> c.DigestSends:
    return c.DigestSends()


def read_digest_resend(parser: Parser, words: list[str], request: CommandRequest) -> c.DigestResend:
    return c.DigestResend(delivery_id=one_id(words, "digest"))
