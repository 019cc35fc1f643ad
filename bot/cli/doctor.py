"""`kpibot doctor`: settings, database, migrations, KPI file and each configured platform's credentials,
one line per check, with the fix for each failure. Exit code 1 when any check fails.

Platform checks live in each platform's package (`bot/<platform>/health.py`, a function
`credential_problems(settings) -> [(check, problem, fix)]`), so this module imports no platform SDK.
Every platform of the platform table (bot/platforms.py) that the settings enable is checked.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.platforms import enabled_platforms
from storage.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from storage.db import Database


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""
    fix: str = ""

    def line(self) -> str:
        if self.ok:
            return f"[ok]   {self.name}" + (f": {self.detail}" if self.detail else "")
        return f"[FAIL] {self.name}: {self.detail} — fix: {self.fix}"


def run_checks(load: Callable[[], Settings] = load_settings) -> list[Check]:
    try:
        settings = load()
    except SettingsError as error:
        return [Check("settings", False, str(error), "correct the named settings in .env or the environment "
                                                     "(see .env.example)")]
    checks = [Check("settings", True, f"{len(settings.secret_values())} secrets set, none shown")]
    checks.extend(_database_checks(settings))
    checks.append(_kpi_file_check(settings))
    platforms = enabled_platforms(settings)
    for platform in platforms:
        checks.extend(_platform_checks(platform.name, settings))
    if not platforms:
        checks.append(Check("platforms", True, "none configured (push API, console and demo still work)"))
    return checks


def _database_checks(settings: Settings) -> list[Check]:
    from storage.db import Database, head_revision

    db = Database(settings.database_url)
    try:
        if not db.ping():
            return [Check("database", False, f"cannot connect ({db.dialect})",
                          "check DATABASE_URL (host, port, user, password, database name) and that the server runs")]
        current = db.current_revision()
        head = head_revision()
        database = Check("database", True, f"{db.dialect} answers")
        if current == head:
            return [database, Check("migrations", True, f"at {head}"), _deliveries_check(db)]
        return [database, Check("migrations", False, f"schema at {current or 'nothing (empty database)'}, "
                                                     f"newest is {head}", "run `kpibot db upgrade`")]
    finally:
        db.dispose()


def _deliveries_check(db: Database) -> Check:
    from storage.repositories.ledger import resendable_ids

    with db.session() as session:
        ids = resendable_ids(session)
    if not ids:
        return Check("scheduled sends", True, "none failed or unconfirmed")
    listed = ", ".join(f"#{row_id}" for row_id in ids) + (" …" if len(ids) == 10 else "")
    return Check("scheduled sends", False, f"failed or may be missing: {listed}",
                 "`digest sends` in chat shows why; `digest resend ID` (admins) sends one again")


def _kpi_file_check(settings: Settings) -> Check:
    from storage.kpi.registry import KpiFileError, load_registry

    try:
        registry = load_registry(settings.kpis_file or None)
    except KpiFileError as error:
        first = str(error).splitlines()[0] if str(error) else "invalid"
        return Check("KPI file", False, first, f"run `kpibot kpis check {settings.kpis_file}` for every problem")
    source = settings.kpis_file or "built-ins only"
    return Check("KPI file", True, f"{len(registry.kpis)} KPIs ({source})")


def _platform_checks(platform: str, settings: Settings) -> list[Check]:
    module_name = f"bot.{platform}.health"
    if importlib.util.find_spec(module_name) is None:
        return [Check(f"{platform} credentials", True, "configured; this version has no credential check for it")]
    try:
        problems = importlib.import_module(module_name).credential_problems(settings)
    except Exception as exc:
        return [Check(f"{platform} credentials", False, f"the check itself failed ({type(exc).__name__})",
                      "run with KPIBOT_LOG_LEVEL=DEBUG and report it")]
    if not problems:
        return [Check(f"{platform} credentials", True, "accepted")]
    return [Check(name, False, problem, fix) for name, problem, fix in problems]
