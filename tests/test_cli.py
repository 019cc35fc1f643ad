"""The `kpibot` command line, run as a real process (a fresh working folder, so no .env is read)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from bot.http.server import free_port
from storage.db import Database
from storage.kpi.scope import Scope
from tests.fixtures import add_facts, add_members, set_target

pytestmark = pytest.mark.sqlite_only  # not a test of SQL (tests/conftest.py)

KPIBOT = str(Path(sys.executable).parent / "kpibot")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KPIBOT_", "SLACK_", "FEISHU_")) and k != "DATABASE_URL"}
    env.update(extra)
    return env


def run(args: list[str], cwd: Path, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KPIBOT, *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120,
                          env=clean_env(**env))


def october_db(path: Path) -> str:
    """A finished month, so answers do not depend on the day the tests run."""
    url = f"sqlite:///{path}"
    db = Database(url)
    db.upgrade()
    add_members(db)
    add_facts(db, [("gmv", date(2026, 10, 1) + timedelta(days=i), 1000, "h1@shop.com") for i in range(31)])
    set_target(db, "gmv", Scope.member("h1@shop.com"), "2026-10", 40000)
    db.dispose()
    return url


def test_status_prints_the_chat_answer(tmp_path: Path) -> None:
    url = october_db(tmp_path / "k.db")
    result = run(["status", "gmv", "member:h1@shop.com", "2026-10"], tmp_path, DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    # 1,000 × 31 = 31,000 of 40,000 = 77.5 %; October is over, so pace = attainment → off track (< 90 %)
    assert "GMV · Hana · October 2026" in result.stdout
    assert "Actual: $31K" in result.stdout and "Attainment: 77.5%" in result.stdout
    assert "Status: off track" in result.stdout


# What a one-shot answer has no use for (issue 19): charts, the HTTP stack, platform SDKs, migrations, the
# scheduler, Typer (a plain `kpibot status WORDS` is answered without it, bot/cli/__init__.py); and modules of ours
# (or of a library the answer uses) that load on first use: the alert lifecycle (alerts firing), building a digest,
# syncing sources, file imports, the PostgreSQL dialect on SQLite.
NOT_FOR_STATUS = ("matplotlib", "numpy", "fastapi", "starlette", "uvicorn", "lark_oapi", "slack_bolt", "slack_sdk",
                  "dingtalk_stream", "alembic", "apscheduler", "typer", "click")
MODULES_NOT_FOR_STATUS = ("jobs.alerts.lifecycle", "jobs.digest.build", "jobs.digest.schedule",
                          "jobs.sources.sync", "jobs.ingest.importer", "sqlalchemy.dialects.postgresql")


def test_status_loads_only_what_the_answer_uses(tmp_path: Path) -> None:
    url = october_db(tmp_path / "k.db")  # migrated: a current schema is checked, not migrated
    result = subprocess.run([sys.executable, "-X", "importtime", KPIBOT, "status", "gmv", "2026-10"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, env=clean_env(DATABASE_URL=url))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "GMV · Team · October 2026" in result.stdout
    modules = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
               if line.startswith("import time:") and "|" in line}
    imported = {module.split(".")[0] for module in modules}
    assert "sqlalchemy" in imported  # the parse works: the answer's own library shows up
    assert {"jobs.sources.freshness", "sqlalchemy.dialects.sqlite"} <= modules  # their neighbours do load
    assert sorted(imported & set(NOT_FOR_STATUS)) == []
    assert sorted(modules & set(MODULES_NOT_FOR_STATUS)) == []


def test_status_answers_the_same_without_typer_and_through_it(tmp_path: Path) -> None:
    url = october_db(tmp_path / "k.db")
    plain = run(["status", "gmv", "2026-10"], tmp_path, DATABASE_URL=url)  # answered in bot.cli.main
    with_option = run(["status", "--lang", "en", "gmv", "2026-10"], tmp_path, DATABASE_URL=url)  # Typer's command
    assert plain.returncode == with_option.returncode == 0, plain.stderr + with_option.stderr
    assert "GMV · Team · October 2026" in plain.stdout and plain.stdout == with_option.stdout
    help_text = run(["status", "--help"], tmp_path)
    assert help_text.returncode == 0
    assert "Answer the same words as chat" in help_text.stdout and "--lang" in help_text.stdout
    bad = run(["status", "gmv"], tmp_path, KPIBOT_TIMEZONE="Mars/Olympus")  # the settings error, without Typer
    assert bad.returncode == 2 and "KPIBOT_TIMEZONE: expected an IANA time zone name" in bad.stderr


def test_console_reads_one_command_per_line_when_piped(tmp_path: Path) -> None:
    url = october_db(tmp_path / "k.db")
    script = "board gmv role:host 2026-10\n# a comment\n10月主播排名\nwhat?\n"
    result = run(["console", "--as", "h1@shop.com"], tmp_path, stdin=script, DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    assert "> board gmv role:host 2026-10" in result.stdout
    hana = next(line for line in result.stdout.splitlines() if "| Hana" in line)  # a Markdown table row
    assert [cell.strip() for cell in hana.strip("|").split("|")] == ["🔴 1", "Hana", "$31K", "$40K", "77.5%",
                                                                     "off track"]
    assert "GMV 排名 · 主播 · 2026年10月" in result.stdout
    assert "Not sure what you mean" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_console_as_someone_has_their_permissions_and_bare_console_is_the_operator(tmp_path: Path) -> None:
    url = october_db(tmp_path / "k.db")
    script = "target set gmv 50k 2026-10\n"
    hana = run(["console", "--as", "h1@shop.com"], tmp_path, stdin=script, DATABASE_URL=url)
    assert "Only admins can do that" in hana.stdout  # Hana is a host, not an admin
    operator = run(["console"], tmp_path, stdin=script, DATABASE_URL=url)
    assert "Target saved" in operator.stdout and "(was $" not in operator.stdout  # no team target before


def test_console_lang_option(tmp_path: Path) -> None:
    url = october_db(tmp_path / "k.db")
    result = run(["console", "--lang", "zh"], tmp_path, stdin="gmv 2026-10\n", DATABASE_URL=url)
    assert "GMV · 团队 · 2026年10月" in result.stdout and "实际: $3.1万" in result.stdout


def test_kpis_check_reports_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kpis:\n  x: {formula: 'gmv / nope', unit: dollars}\n", encoding="utf-8")
    result = run(["kpis", "check", str(bad)], tmp_path)
    assert result.returncode == 1
    assert f"{bad}: kpis.x.formula: unknown metric 'nope'" in result.stderr
    assert f"{bad}: kpis.x.unit: 'dollars' is not one of" in result.stderr
    good = tmp_path / "good.yaml"
    good.write_text("kpis:\n  gmv: {warn: 0.8}\n", encoding="utf-8")
    assert run(["kpis", "check", str(good)], tmp_path).returncode == 0


def test_kpis_list(tmp_path: Path) -> None:
    result = run(["kpis", "list"], tmp_path)
    assert result.returncode == 0
    assert "roas" in result.stdout and "投产比" in result.stdout and "= gmv / ad_spend" in result.stdout


def test_a_bad_setting_stops_start_up_with_its_name(tmp_path: Path) -> None:
    result = run(["status"], tmp_path, KPIBOT_TIMEZONE="Mars/Olympus", SLACK_SIGNING_SECRET="hush-hush")
    assert result.returncode == 2
    assert "KPIBOT_TIMEZONE: expected an IANA time zone name" in result.stderr
    assert "hush-hush" not in result.stderr + result.stdout


def test_serve_without_a_platform_says_so_and_answers_health(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}", KPIBOT_PORT=str(port))
    process = subprocess.Popen([KPIBOT, "serve"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("kpibot serve did not come up")
                time.sleep(0.2)
        assert response.status_code == 200 and response.json() == {"status": "ok"}
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "No chat platform is configured" in output
    assert "kpibot demo" in output


def test_console_is_interactive_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal the console prompts, answers, keeps history, and Ctrl-D leaves."""
    import pty
    import select

    url = october_db(tmp_path / "k.db")
    env = clean_env(DATABASE_URL=url, HOME=str(tmp_path), TERM="xterm")
    pid, fd = pty.fork()
    if pid == 0:  # the child: become `kpibot console` on the terminal
        os.chdir(tmp_path)
        os.execve(KPIBOT, [KPIBOT, "console", "--as", "h1@shop.com"], env)

    def read_until(marker: str, seconds: float = 30) -> str:
        seen, deadline = "", time.monotonic() + seconds
        while marker not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    seen += os.read(fd, 65536).decode("utf-8", "replace")
                except OSError:
                    break
        return seen

    try:
        assert "kpi>" in read_until("kpi>")
        os.write(fd, b"gmv member:h1@shop.com 2026-10\r")
        answer = read_until("Status:")
        assert "Attainment: 77.5%" in answer + read_until("kpi>")  # the answer, then the next prompt
        os.write(fd, b"\x04")  # Ctrl-D
        deadline = time.monotonic() + 30
        while (waited := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
            read_until("\0", 0.1)  # keep draining the terminal while it exits
        if waited[0] == 0:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the console did not leave on Ctrl-D")
        assert os.waitstatus_to_exitcode(waited[1]) == 0
    finally:
        os.close(fd)
    assert "gmv member:h1@shop.com 2026-10" in (tmp_path / ".kpibot_history").read_text(encoding="utf-8")
