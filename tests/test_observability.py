"""Logs (level, text/JSON, secrets scrubbed), Prometheus /metrics and /readyz, over the real HTTP app."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import __version__
from bot.http.server import ServerThread
from bot.logs import REDACTED, configure_logging
from bot.runtime import build_http_app, build_runtime
from jobs.delivery import Deliverer
from jobs.observability import answering, log_context, note_command
from jobs.outbox import FileOutbox
from jobs.present.reply import Reply
from storage.repositories import ledger
from storage.repositories.ledger import DeliveryKey
from storage.settings import SettingsError, load_settings
from tests.fakes.slack_api import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, SlackBot, running_slack_bot, slack_settings

DB_PASSWORD = "pg-pass-7c1e9a"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def _secret_settings(fmt: str, level: str = "INFO"):  # type: ignore[no-untyped-def]
    return load_settings(
        _env_file=None, KPIBOT_LOG_FORMAT=fmt, KPIBOT_LOG_LEVEL=level,
        DATABASE_URL=f"postgresql+psycopg://kpibot:{DB_PASSWORD}@db:5432/kpibot",
        SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, KPIBOT_API_TOKEN="push-token-55aa",
    )


def test_json_lines_carry_the_context_and_never_a_secret(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging(_secret_settings("json"), stream)
    log = logging.getLogger("test_logs")
    with answering("slack", request_id="Ev0ABC"):
        note_command("status")
        log.info("posting with token %s", BOT_TOKEN)
        try:
            raise RuntimeError(f"connect to postgresql://kpibot:{DB_PASSWORD}@db failed; key push-token-55aa")
        except RuntimeError:
            log.exception("sync failed")
    log.debug("not shown at INFO")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 2
    first, second = lines
    assert set(first) == {"time", "level", "logger", "message", "request_id", "platform", "command"}
    assert first["level"] == "INFO" and first["logger"] == "test_logs"
    assert (first["request_id"], first["platform"], first["command"]) == ("Ev0ABC", "slack", "status")
    assert first["message"] == f"posting with token {REDACTED}"
    assert first["time"].endswith("+00:00")
    assert second["level"] == "ERROR" and "RuntimeError" in second["exception"]
    for secret in (BOT_TOKEN, DB_PASSWORD, "push-token-55aa", SIGNING_SECRET):
        assert secret not in stream.getvalue()


def test_text_format_and_level(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging(_secret_settings("text", "warning"), stream)
    log = logging.getLogger("test_logs")
    with log_context(platform="feishu", request_id="req-1", command="board"):
        log.info("dropped: below WARNING")
        log.warning("token %s refused", SIGNING_SECRET)
    text = stream.getvalue()
    assert "dropped" not in text
    assert "WARNING test_logs: token [redacted] refused [request_id=req-1 platform=feishu command=board]" in text
    assert SIGNING_SECRET not in text


def test_bad_log_settings_name_the_setting() -> None:
    with pytest.raises(SettingsError, match="KPIBOT_LOG_FORMAT: text or json"):
        load_settings(_env_file=None, KPIBOT_LOG_FORMAT="xml")
    with pytest.raises(SettingsError, match="KPIBOT_LOG_LEVEL"):
        load_settings(_env_file=None, KPIBOT_LOG_LEVEL="loud")
    assert load_settings(_env_file=None).shutdown_grace == 20.0


def _metrics(base_url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(base_url + "/metrics", timeout=10, trust_env=False)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def _value(samples: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _base(bot: SlackBot) -> str:
    return bot.events_url.removesuffix("/slack/events")


def test_metrics_count_answers_and_acks_by_platform(slack_bot: SlackBot) -> None:
    base = _base(slack_bot)
    before = _metrics(base)
    assert slack_bot.slash("help").status_code == 200
    assert slack_bot.slash("target set gmv lots").status_code == 200  # bad value: refused with the reason
    after = _metrics(base)
    assert _value(after, "kpibot_answers_total", command="help", platform="slack", outcome="ok") == \
        _value(before, "kpibot_answers_total", command="help", platform="slack", outcome="ok") + 1
    refused = {"command": "unparsed", "platform": "slack", "outcome": "refused"}
    assert _value(after, "kpibot_answers_total", **refused) == _value(before, "kpibot_answers_total", **refused) + 1
    # two slash commands acked over HTTP, two answers worked out
    assert _value(after, "kpibot_ack_seconds_count", platform="slack") == \
        _value(before, "kpibot_ack_seconds_count", platform="slack") + 2
    assert _value(after, "kpibot_answer_seconds_count", platform="slack") == \
        _value(before, "kpibot_answer_seconds_count", platform="slack") + 2
    assert _value(after, "kpibot_build_info", version=__version__) == 1
    # HTTP mode keeps no connection: no connection gauge, and ready
    assert not any(name == "kpibot_platform_connection_up" for name, _ in after)
    assert httpx.get(base + "/readyz", trust_env=False).json() == {"status": "ready"}


def test_metrics_count_deliveries_and_claimed_rows(slack_bot: SlackBot, tmp_path: Path) -> None:
    runtime = slack_bot.runtime
    base = _base(slack_bot)
    before = _metrics(base)
    deliverer = Deliverer(runtime.db, {"file": FileOutbox(tmp_path / "out")})
    key = DeliveryKey("digest", "7", "2026-W48", "file:sales")
    deliverer.deliver(key, lambda: Reply(title="Weekly digest"))
    deliverer.deliver(key, lambda: Reply(title="Weekly digest"))  # same key: taken, not sent twice
    with runtime.db.session() as session:  # a send claimed and never finished (its process died)
        ledger.claim(session, DeliveryKey("alert", "3", "ep1", "file:sales"), datetime.now(UTC))
    after = _metrics(base)
    for status, added in (("sent", 1), ("taken", 1)):
        assert _value(after, "kpibot_deliveries_total", kind="digest", status=status) == \
            _value(before, "kpibot_deliveries_total", kind="digest", status=status) + added
    assert _value(after, "kpibot_ledger_claimed_rows") == 1


def test_push_counts_sync_runs_and_facts(tmp_path: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(KPIBOT_API_TOKEN="push-secret-1")
    runtime = build_runtime(settings, with_platforms=False, file_outbox_dir=tmp_path / "out")
    with ServerThread(build_http_app(runtime)) as server:
        before = _metrics(server.url)
        records = [{"metric": "gmv", "date": "2026-11-0" + str(day), "value": 10, "source": "shop-a"}
                   for day in (1, 2, 3)]
        response = httpx.post(server.url + "/api/v1/metrics", json={"records": records},
                              headers={"Authorization": "Bearer push-secret-1"}, trust_env=False)
        assert response.json() == {"accepted": 3}
        after = _metrics(server.url)
    runtime.db.dispose()
    assert _value(after, "kpibot_sync_runs_total", source="shop-a", outcome="ok") == \
        _value(before, "kpibot_sync_runs_total", source="shop-a", outcome="ok") + 1
    # three (metric, date) values written
    assert _value(after, "kpibot_facts_ingested_total", source="shop-a") == \
        _value(before, "kpibot_facts_ingested_total", source="shop-a") + 3


def test_leader_gauge_follows_the_scheduler_lock(tmp_path: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    runtime = build_runtime(make_settings(), with_platforms=False, with_jobs=True, file_outbox_dir=tmp_path / "o")
    with ServerThread(build_http_app(runtime)) as server:
        assert runtime.jobs.start() is True
        assert _value(_metrics(server.url), "kpibot_leader") == 1
        runtime.jobs.resign()
        assert _value(_metrics(server.url), "kpibot_leader") == 0
        runtime.jobs.stop(timeout=5)
    runtime.db.dispose()


def test_readyz_reports_a_platform_connection_down(fake_slack, make_settings, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fakes.slack_api import isolate_environment

    isolate_environment(monkeypatch, tmp_path)
    settings = make_settings(**slack_settings(fake_slack, SLACK_APP_TOKEN=APP_TOKEN))
    with running_slack_bot(settings, fake_slack, tmp_path) as bot:
        base = _base(bot)
        assert bot.adapter.socket_mode.wait_connected(5)
        assert httpx.get(base + "/readyz", trust_env=False).status_code == 200
        assert _value(_metrics(base), "kpibot_platform_connection_up", platform="slack") == 1
        bot.adapter.socket_mode.stop()  # the Socket Mode connection is gone
        response = httpx.get(base + "/readyz", trust_env=False)
        assert response.status_code == 503
        assert response.json() == {"status": "not ready", "problems": ["slack connection down"]}
        assert _value(_metrics(base), "kpibot_platform_connection_up", platform="slack") == 0
        assert httpx.get(base + "/healthz", trust_env=False).status_code == 200  # liveness is unaffected


def test_readyz_wants_the_newest_migration(tmp_path: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    runtime = build_runtime(make_settings(), with_platforms=False, file_outbox_dir=tmp_path / "o")
    with runtime.db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    with ServerThread(build_http_app(runtime)) as server:
        response = httpx.get(server.url + "/readyz", trust_env=False)
    runtime.db.dispose()
    assert response.status_code == 503
    assert response.json()["problems"] == ["database schema is not at the newest migration: run `kpibot db upgrade`"]
