"""KpiBot: the one entry point every adapter calls. Neutral requests in, neutral replies out.

`handle` and `handle_action` never raise: bad input becomes a specific error reply, and an
unexpected failure a short apology (logged with its traceback server-side, never shown in chat).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from bot.core import actions, identity, memory
from bot.core.contracts import ActionResult, TargetFormSpec
from bot.core.messages import T
from bot.core.request import ActionRequest, CommandRequest, UserRef
from bot.handlers import command_registry
from bot.handlers.context import Context, Services
from bot.language import commands as c
from bot.language.parser import Parser
from bot.language.registry import Bilingual, CommandRegistry
from bot.language.spoken_periods import SpokenCalendar
from jobs import observability
from jobs.outbox import Outbox
from jobs.present.i18n import pick_language
from jobs.present.reply import Reply, ReplyKind
from storage.db import Database
from storage.kpi.engine import KpiEngine
from storage.kpi.registry import Registry
from storage.repositories.events import claim_event
from storage.settings import Settings

log = logging.getLogger(__name__)

HINT_COMMANDS = ["gmv month", "board gmv role:host week", "me", "target list", "help"]
HINT_COMMANDS_ZH = ["GMV达成率多少", "本周主播排名", "我的KPI", "target list", "帮助"]


class KpiBot:
    def __init__(
        self, *, settings: Settings, db: Database, registry: Registry, today: Callable[[], date] | None = None,
        outboxes: dict[str, Outbox] | None = None, commands: CommandRegistry | None = None,
    ) -> None:
        """`outboxes`: platform → outbox for `digest now`, shared with the process (filled as platforms start).
        `commands`: the declared commands; by default every `COMMANDS` of bot/handlers."""
        self.settings = settings
        self.db = db
        self.registry = registry
        calendar = SpokenCalendar(settings.week_start_index)  # also years and rolling windows ("last 7 days")
        self.engine = KpiEngine(db, registry, tz=settings.tz, week_start=settings.week_start_index, today=today,
                                calendar=calendar)
        self.commands = commands or command_registry()
        self.parser = Parser(registry, calendar, self.engine.today, self.commands,
                             people=lambda: memory.members_by_name(db),
                             data_through=lambda: memory.data_through(db, self.engine.today()))
        self.services = Services(settings=settings, db=db, registry=registry, engine=self.engine,
                                 commands=self.commands, outboxes=outboxes if outboxes is not None else {})

    @property
    def outboxes(self) -> dict[str, Outbox]:
        return self.services.outboxes

    @property
    def on_schedule_change(self) -> list[Callable[[], None]]:
        return self.services.on_schedule_change

    def context(self, user: UserRef, lang: str, channel: str | None = None) -> Context:
        return Context(self.services, user, lang, channel)

    # --- entry points --------------------------------------------------------------------

    def handle(self, request: CommandRequest) -> Reply:
        """Answer one message or slash command."""
        with observability.answering(request.platform):
            lang = request.lang or self.language_of(request.text)
            ctx = self.context(request.user, lang, request.channel)
            try:
                # One unit of work, one connection: the previous question, the members' names, the
                # answer and the question remembered for follow-ups.
                with self.db.shared_session():
                    if request.conversation:
                        request = replace(request, previous=memory.recall_question(self.db, request))
                    command = self.parser.parse(request)
                    reply = self.handle_command_object(ctx, command, notify_schedule=False)
                    if command.question is not None and reply.kind != ReplyKind.ERROR:
                        memory.remember_question(self.db, request, command.question)
                if ctx.schedule_touched:  # committed: the scheduler now reads the new alerts / digests
                    self.services.schedule_changed()
                return reply
            except c.ParseError as error:
                observability.note_outcome("refused")
                return self._error_reply(ctx, error)
            except c.NotUnderstood as unknown:
                observability.note_outcome("hint")
                return self._hint_reply(ctx, unknown)
            except Exception:
                observability.note_outcome("failed")
                log.exception("command failed (platform=%s)", request.platform)
                return Reply(title=T("oops_title", lang), lang=lang, kind=ReplyKind.ERROR, text=T("oops", lang))

    def handle_command_object(self, ctx: Context, command: c.Command, *, notify_schedule: bool = True) -> Reply:
        """Run a parsed command in one unit of work: its declaration's permission check, then its
        handler (raises ParseError for input that only the database can reject)."""
        group, spec = self.commands.spec_for(type(command))
        observability.note_command("_".join(filter(None, (group.name, spec.name))))
        with ctx.session() as session:
            if spec.admin:
                subject = spec.subject(ctx, session, command) if spec.subject else spec.audit
                what = self._what(spec.what, group.name, ctx.lang)
                if refusal := ctx.refuse_unless_admin(session, what, spec.audit, subject):
                    return refusal
            reply = spec.handle(ctx, command)
        if ctx.schedule_touched and notify_schedule:  # committed: the scheduler now reads the new alerts / digests
            self.services.schedule_changed()
        reply.public = reply.public or command.public
        return reply

    def handle_action(self, request: ActionRequest) -> ActionResult:
        lang = self.settings.locale
        try:
            return actions.handle(self, request)
        except Exception:
            log.exception("action %s failed", request.action_id)
            return ActionResult(toast=T("oops_title", lang))

    def target_form(self, user: UserRef, lang: str | None = None) -> TargetFormSpec:
        """The target form in `lang` (the language the admin wrote in), else KPIBOT_LOCALE."""
        return actions.target_form_spec(self, lang or self.settings.locale)

    def home(self, user: UserRef, lang: str | None = None) -> Reply:
        return actions.home(self, user, lang or self.settings.locale)

    def is_admin(self, user: UserRef) -> bool:
        with self.db.session() as session:
            return identity.is_admin(session, self.settings, user)

    def claim_event(self, platform: str, event_id: str) -> bool:
        """True the first time a platform event id is seen (dedupe of redeliveries)."""
        with self.db.session() as session:
            return claim_event(session, platform, event_id)

    def language_of(self, text: str) -> str:
        return pick_language(text, self.settings.locale)

    @staticmethod
    def _what(declared: Bilingual | str | None, group: str, lang: str) -> str:
        """What a refused command changes, in words: declared text, else the catalogue's what_<key>."""
        if isinstance(declared, Bilingual):
            return declared(lang)
        key = f"what_{declared or group}"
        return T(key, lang) if key in T else declared or group

    # --- replies for bad input -----------------------------------------------------------

    def _error_reply(self, ctx: Context, error: c.ParseError) -> Reply:
        values = dict(error.values)
        if "suggestion" in values:
            suggestion = str(values["suggestion"])
            values["suggestion"] = T("did_you_mean", ctx.lang, word=suggestion) if suggestion else ""
        lines = [T(error.key, ctx.lang, **values)]
        if usage := self.commands.usage(error.topic, ctx.lang):
            lines.append(T("usage", ctx.lang, usage=usage))
        return Reply(title=T("error_title", ctx.lang), lang=ctx.lang, kind=ReplyKind.ERROR, text="\n".join(lines))

    def _hint_reply(self, ctx: Context, unknown: c.NotUnderstood) -> Reply:
        examples = HINT_COMMANDS_ZH if ctx.lang == "zh" else HINT_COMMANDS
        text = T("hint", ctx.lang, commands=", ".join(f"`{e}`" for e in examples))
        return Reply(title=T("hint_title", ctx.lang), lang=ctx.lang, kind=ReplyKind.HINT, text=text)
