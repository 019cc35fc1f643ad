"""`kpibot doctor` against a real database and the fake Slack and Feishu servers: one line per check, the
fix for each failure, exit code 1 when any fails, and never a secret in what it prints."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.cli.doctor import run_checks
from storage.db import Database, head_revision
from storage.kpi.registry import load_registry
from storage.repositories import ledger
from storage.repositories.ledger import DeliveryKey
from tests.fakes.dingtalk_api import CLIENT_ID as DINGTALK_ID
from tests.fakes.dingtalk_api import CLIENT_SECRET as DINGTALK_SECRET
from tests.fakes.dingtalk_api import FakeDingTalk
from tests.fakes.feishu_api import APP_SECRET, FakeFeishu
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack, slack_settings

ROOT = Path(__file__).resolve().parent.parent
FEISHU_APP_ID = "cli_doctor01"


def _feishu(fake: FakeFeishu, secret: str = APP_SECRET) -> dict[str, str]:
    return {"FEISHU_APP_ID": FEISHU_APP_ID, "FEISHU_APP_SECRET": secret, "FEISHU_DOMAIN": fake.url}


def test_everything_accepted(make_settings, database_url: str) -> None:  # type: ignore[no-untyped-def]
    Database(database_url).upgrade()
    with FakeSlack() as slack, FakeFeishu(app_id=FEISHU_APP_ID) as feishu:
        settings = make_settings(**slack_settings(slack, SLACK_APP_TOKEN=APP_TOKEN, **_feishu(feishu)))
        checks = run_checks(lambda: settings)
        assert [c.line() for c in checks] == [
            "[ok]   settings: 4 secrets set, none shown",  # bot token, signing secret, app token, Feishu secret
            f"[ok]   database: {Database(database_url).dialect} answers",
            f"[ok]   migrations: at {head_revision()}",
            "[ok]   scheduled sends: none failed or unconfirmed",
            f"[ok]   KPI file: {len(load_registry(None).kpis)} KPIs (built-ins only)",
            "[ok]   slack credentials: accepted",
            "[ok]   feishu credentials: accepted",
        ]
        assert [call.method for call in slack.calls] == ["auth.test", "apps.connections.open"]
        assert len(feishu.tokens_issued) == 1


def test_refused_credentials_and_pending_migrations_say_how_to_fix(make_settings) -> None:  # type: ignore[no-untyped-def]
    wrong_secret = "wrong-secret-4f1d2c9e"
    with FakeSlack() as slack, FakeFeishu(app_id=FEISHU_APP_ID) as feishu:
        slack.fail_next("auth.test", "invalid_auth")
        settings = make_settings(**slack_settings(slack, **_feishu(feishu, wrong_secret)))
        checks = run_checks(lambda: settings)  # the database was never upgraded
    failed = {c.name: c for c in checks if not c.ok}
    assert set(failed) == {"migrations", "Slack bot token (auth.test)", "Feishu tenant token"}
    assert failed["migrations"].fix == "run `kpibot db upgrade`"
    assert failed["Slack bot token (auth.test)"].detail == "Slack answered invalid_auth"
    assert "SLACK_BOT_TOKEN" in failed["Slack bot token (auth.test)"].fix
    assert failed["Feishu tenant token"].detail == \
        "Feishu refused the tenant token request (code 10014: app secret invalid)"
    printed = "\n".join(c.line() for c in checks)
    for secret in (BOT_TOKEN, SIGNING_SECRET, wrong_secret, APP_SECRET):
        assert secret not in printed


def test_dingtalk_access_token(make_settings, database_url: str) -> None:  # type: ignore[no-untyped-def]
    Database(database_url).upgrade()
    with FakeDingTalk() as fake:
        def settings(secret: str):  # type: ignore[no-untyped-def]
            return make_settings(**slack_settings("http://127.0.0.1:1/api/", SLACK_BOT_TOKEN="", DINGTALK_CLIENT_ID=
                                                  DINGTALK_ID, DINGTALK_CLIENT_SECRET=secret, DINGTALK_MODE="http",
                                                  DINGTALK_API_URL=fake.url, DINGTALK_OAPI_URL=fake.url))

        accepted = run_checks(lambda: settings(DINGTALK_SECRET))
        refused = run_checks(lambda: settings("not-the-dingtalk-secret"))
    assert accepted[-1].line() == "[ok]   dingtalk credentials: accepted"
    assert refused[-1].line() == (
        "[FAIL] DingTalk access token: DingTalk refused the access token request (HTTP 400 invalidClientIdOrSecret)"
        " — fix: copy Client ID (AppKey) and Client Secret (AppSecret) from the DingTalk developer console's app "
        "credentials page into DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET")
    assert "not-the-dingtalk-secret" not in refused[-1].line()


def test_unreachable_platform_and_database(make_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(DATABASE_URL="postgresql+psycopg://kpibot:pw-9d8c7b@127.0.0.1:1/kpibot",
                             **slack_settings("http://127.0.0.1:1/api/"))
    lines = [c.line() for c in run_checks(lambda: settings)]
    assert lines[1] == ("[FAIL] database: cannot connect (postgresql) — fix: check DATABASE_URL (host, port, user, "
                        "password, database name) and that the server runs")
    assert lines[-1].startswith("[FAIL] Slack bot token (auth.test): cannot reach SLACK_API_URL")
    assert "pw-9d8c7b" not in "\n".join(lines)


def test_cli_prints_one_line_per_check_and_exits_1_on_a_failure(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FEISHU_", "KPIBOT_", "DINGTALK_"))}
    env.update({"PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}", "KPIBOT_LOCALE": "fr"})
    bad = subprocess.run([sys.executable, "-m", "bot.cli", "doctor"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 1
    assert bad.stdout.splitlines() == ["[FAIL] settings: invalid setting — KPIBOT_LOCALE: en or zh — fix: correct "
                                       "the named settings in .env or the environment (see .env.example)"]
    env["KPIBOT_LOCALE"] = "zh"
    subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], cwd=tmp_path, env=env, check=True,
                   capture_output=True, timeout=60)
    good = subprocess.run([sys.executable, "-m", "bot.cli", "doctor"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert good.returncode == 0, good.stdout
    # settings, database, migrations, scheduled sends, KPI file, platforms (none configured)
    assert len(good.stdout.splitlines()) == 6 and all(line.startswith("[ok]") for line in good.stdout.splitlines())


def test_failed_and_unconfirmed_sends_are_listed_with_the_resend_command(make_settings, database_url: str) -> None:  # type: ignore[no-untyped-def]
    db = Database(database_url)
    db.upgrade()
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    keys = [DeliveryKey("digest", str(n), "2026-W48", f"slack:C{n}") for n in (1, 2, 3)]
    with db.session() as session:
        for key in keys:
            ledger.claim(session, key, now)
        ledger.mark_failed(session, keys[0], 4, "channel_not_found")
        ledger.mark_unconfirmed(session, keys[1], "process died after claiming")
        ledger.mark_sent(session, keys[2], "1700000000.000100", 1, now)
        ids = {key: ledger.find(session, key).id for key in keys}  # type: ignore[union-attr]  # just claimed
    db.dispose()
    checks = {c.name: c for c in run_checks(lambda: make_settings())}
    # the failed (#first) and the unconfirmed (#second) are listed; the sent one is not
    assert checks["scheduled sends"].line() == (
        f"[FAIL] scheduled sends: failed or may be missing: #{ids[keys[0]]}, #{ids[keys[1]]} — fix: `digest sends` "
        "in chat shows why; `digest resend ID` (admins) sends one again")
