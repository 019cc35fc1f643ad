"""Process logging: KPIBOT_LOG_LEVEL, and KPIBOT_LOG_FORMAT=text (human lines) or json (one JSON object
per line: time, level, logger, message, request_id, platform, command, exception).

Every line passes through the scrubber, which replaces the value of each secret setting (tokens, keys,
the database password) wherever it appears — in the message, an argument or a traceback — so a secret
that reaches a log call by accident still never reaches the log.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from jobs.observability import current_context
from storage.settings import Settings

REDACTED = "[redacted]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Third-party loggers that are chatty at INFO; they still show at WARNING and above.
QUIET_LOGGERS = ("apscheduler", "httpx", "uvicorn.access", "alembic.runtime.plugins")


class Scrubber:
    def __init__(self, secrets: list[str]) -> None:
        # Longest first, so a secret containing another is replaced whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


class TextFormatter(logging.Formatter):
    def __init__(self, scrub: Scrubber) -> None:
        super().__init__(TEXT_FORMAT)
        self.scrub = scrub

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = current_context()
        if context is not None and context.request_id:
            line += f" [{' '.join(f'{k}={v}' for k, v in _context_fields(context).items())}]"
        return self.scrub(line)


class JsonFormatter(logging.Formatter):
    def __init__(self, scrub: Scrubber) -> None:
        super().__init__()
        self.scrub = scrub

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.scrub(record.getMessage()),
        }
        context = current_context()
        if context is not None:
            entry.update(_context_fields(context))
        if record.exc_info:
            entry["exception"] = self.scrub(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = self.scrub(record.exc_text)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _context_fields(context: object) -> dict[str, str]:
    fields = {name: getattr(context, name, "") for name in ("request_id", "platform", "command")}
    return {name: value for name, value in fields.items() if value}


def configure_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Replace the root logger's handlers with one that writes to `stream` (stderr) in the configured
    format and level. Returns the handler (tests read what it wrote)."""
    scrub = Scrubber(settings.secret_values())
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(scrub) if settings.log_format == "json" else TextFormatter(scrub))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # uvicorn installs its own handlers unless told otherwise; send its lines through ours.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return handler
