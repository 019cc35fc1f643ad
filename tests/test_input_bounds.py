"""Input bounds (issue 18 §6): periods outside 1970–2100, values too large to sum safely and text that is
not Unicode each get a specific answer naming what was wrong; nothing is written, nothing crashes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.testing import TestAdapter
from jobs.ingest import import_file
from jobs.present.reply import ReplyKind
from storage.db import Database
from storage.kpi.periods import Calendar
from storage.kpi.registry import load_registry
from storage.models import Fact
from storage.settings import Settings
from tests.conversation_fixture import conversation_team


@pytest.fixture
def chat(db: Database, make_settings: Callable[..., Settings]) -> TestAdapter:
    return conversation_team(db, make_settings(KPIBOT_ADMINS="boss@shop.com"))


@pytest.mark.parametrize("word", ["0000-01", "0000-Q1", "1969-12", "2101-W01", "9999-12-31"])
def test_a_period_outside_1970_to_2100_gets_a_clear_error(chat: TestAdapter, word: str) -> None:
    reply = chat.ask(f"gmv {word}", as_user="boss")
    assert reply.kind is ReplyKind.ERROR, reply.plain_text()
    assert f"“{word}” is outside the years I keep (1970–2100)" in (reply.text or "")
    chinese = chat.ask(f"gmv {word} 达成率", as_user="boss")
    assert "超出了可用年份（1970–2100）" in (chinese.text or "")


def test_the_edges_of_the_year_range_still_parse() -> None:
    calendar = Calendar()
    assert calendar.from_key("1970-01") is not None and calendar.from_key("2100-Q4") is not None
    assert calendar.from_key("1969-12") is None and calendar.from_key("2101-01") is None


def test_import_refuses_values_too_large_naming_the_line(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("date,member,gmv\n2026-10-01,alice,100\n2026-10-02,alice,1e308\n2026-10-03,alice,20000000000000000\n",
                    encoding="utf-8")
    report = import_file(db, load_registry(None), path)
    assert not report.ok
    lines = report.problem_lines()
    assert lines[0].startswith("line 3, column \"gmv\": '1e308' is too large")
    assert lines[1].startswith("line 4, column \"gmv\": '20000000000000000' is too large")
    with db.session() as session:
        assert session.execute(select(func.count()).select_from(Fact)).scalar_one() == 0
