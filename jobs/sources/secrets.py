"""`${ENV_VAR}` references in source settings: expanded only when a sync runs, never stored,
never logged; anything shown to people has passwords masked."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
MASK = "***"


class MissingSecret(LookupError):
    def __init__(self, names: list[str]) -> None:
        self.names = names
        listed = ", ".join(names)
        super().__init__(f"environment variable {listed} is not set" if len(names) == 1
                         else f"environment variables {listed} are not set")


def references(text: str) -> list[str]:
    return ENV_REFERENCE.findall(text)


def expand(text: str, environ: Mapping[str, str], used: list[str]) -> str:
    """`text` with each ${NAME} replaced; the values used are appended to `used` (for masking)."""
    missing = [name for name in references(text) if name not in environ]
    if missing:
        raise MissingSecret(missing)

    def value(match: re.Match[str]) -> str:
        used.append(environ[match[1]])
        return environ[match[1]]

    return ENV_REFERENCE.sub(value, text)


def expand_url(raw: str, environ: Mapping[str, str] | None = None) -> tuple[URL, list[str]]:
    """The URL with references expanded per component (a password may hold @ or /), and the
    secret values used. Raises MissingSecret or ValueError (a message without the URL's secrets)."""
    environ = os.environ if environ is None else environ
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ValueError(f"not a SQLAlchemy URL: {display_url(raw)}") from None
    used: list[str] = []

    def exp(part: str | None) -> str | None:
        return None if part is None else expand(part, environ, used)

    def exp_value(part: str) -> str:
        return expand(part, environ, used)

    expanded = url.set(
        username=exp(url.username), password=exp(url.password), host=exp(url.host), database=exp(url.database),
        query={key: tuple(exp_value(v) for v in value) if isinstance(value, tuple) else exp_value(value)
               for key, value in url.query.items()},
    )
    return expanded, [secret for secret in used if secret]


def display_url(raw: str) -> str:
    """The URL as it may appear in a log or an error: password hidden, references left as names."""
    try:
        return make_url(raw).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"://[^@/]*@", f"://{MASK}@", raw)


def mask(text: str, secrets: list[str]) -> str:
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, MASK)
    return text


def literal_password(raw: str) -> bool:
    """True when the URL carries a password written out instead of a ${NAME} reference."""
    try:
        url = make_url(raw)
    except ArgumentError:
        return False
    candidates = [url.password] + [v for k, v in url.query.items() if k.lower() in ("password", "pwd", "token")]
    return any(isinstance(value, str) and value and not ENV_REFERENCE.fullmatch(value) for value in candidates)
