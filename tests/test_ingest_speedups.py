"""The fast paths of ingestion give what the plain paths gave: memoised parses never mix up two
inputs, the staging and upsert tables hold exactly the rows handed to them (COPY on PostgreSQL,
executemany on SQLite), and the shortcuts of `Staging.apply` end in the same facts."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from bot.http.push_api import validate_record, validate_records
from jobs.ingest import names, values
from jobs.ingest.layout import StagedFact
from jobs.ingest.names import MetricNames, normal
from jobs.ingest.staging import STAGING_NAME, Diff, Staging
from jobs.ingest.values import (
    EMPTY,
    ValueProblem,
    iso_date,
    member_key_problem,
    parse_date,
    parse_member,
    parse_number,
)
from storage.db import Database
from storage.kpi.registry import load_registry
from storage.models import Fact
from storage.repositories import facts
from storage.repositories.facts import FactRecord, upsert_facts

D1, D2 = date(2026, 10, 1), date(2026, 10, 2)


# -- memoised parses ------------------------------------------------------------------------------


def test_metric_names_memo_keeps_every_raw_name_apart() -> None:
    metric_names = MetricNames(load_registry(None))
    raw = ["gmv", "GMV", " gmv ", "GMV ($)", "gmvv", "orders", "Orders", "", "-", "总", 7, 7.0, None]
    expected = [metric_names._lookup(name) for name in raw]
    for _ in range(2):  # the second round comes from the memo
        assert [metric_names.resolve(name) for name in raw] == expected
    assert metric_names.resolve("GMV ($)") == "gmv" and metric_names.resolve("gmvv") is None


def test_metric_names_memo_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(names, "MEMO_SIZE", 3)
    metric_names = MetricNames(load_registry(None))
    for name in ["a1", "a2", "a3", "a4", "gmv", "a5"]:
        metric_names.resolve(name)
        assert len(metric_names._resolved) <= 3
    assert metric_names.resolve("gmv") == "gmv" and metric_names.resolve("a4") is None


def test_normal_tells_types_apart_and_still_normalises() -> None:
    assert [normal(x) for x in (1, 1.0, True, None, "1", "True")] == ["1", "1.0", "true", "", "1", "true"]
    assert normal("\ufeffGMV  Daily-Total") == normal("gmv_daily_total") == "gmv_daily_total"
    assert normal("ＧＭＶ") == "gmv"  # full width


def test_parse_date_memo_honours_the_format_and_repeats_errors() -> None:
    assert parse_date("10/01/2026", "%m/%d/%Y") == D1
    for _ in range(2):  # an error is raised every time, never remembered as a value
        with pytest.raises(ValueProblem, match="is not a date"):
            parse_date("10/01/2026")
        with pytest.raises(ValueProblem, match="not a real date"):
            parse_date("2026-02-30")
    assert parse_date("2026-10-01") == parse_date(" 2026/10/1 ") == D1
    assert parse_date("") is EMPTY and parse_date("N/A") is EMPTY and parse_date(None) is EMPTY
    assert parse_date(20261001) == D1 and parse_date(46296) == D1


def test_parse_member_memo_and_non_text_cells() -> None:
    for _ in range(2):
        assert parse_member("  alice@example.com ") == "alice@example.com"
        assert parse_member("--") == "" and parse_member(None) == ""
        with pytest.raises(ValueProblem, match="control characters"):
            parse_member("bob\x07")
    assert parse_member(1234.0) == "1234" and parse_member(1234) == "1234" and parse_member("1234.0") == "1234.0"
    assert parse_member("Cafe\u0301") == unicodedata.normalize("NFC", "Cafe\u0301")


def _member_key_problem_reference(key: str) -> str | None:
    """member_key_problem as it was before its printable fast path."""
    if len(key) > values.MEMBER_KEY_MAX:
        return f"member is longer than {values.MEMBER_KEY_MAX} characters"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in key):
        return "member contains control characters"
    if key != key.strip():
        return "member has leading or trailing spaces"
    return None


@pytest.mark.parametrize("key", [
    "", "alice@example.com", "主播小王", "a b", " a", "a ", "a\u00a0b", "a\u00a0", "a\u200bb", "a\u2028b",
    "a\u2029", "bob\x07", "tab\tkey", "\x7f", "x" * 201, "x" * 200, "\ue000private", "emoji😀", "a\u3000",
])
def test_member_key_problem_matches_the_character_by_character_check(key: str) -> None:
    assert member_key_problem(key) == _member_key_problem_reference(key)


def test_iso_date_memo_repeats_errors() -> None:
    assert iso_date("2026-10-01") == D1
    for _ in range(2):
        with pytest.raises(ValueProblem, match="'2026-02-30' is not a real date"):
            iso_date("2026-02-30")
        with pytest.raises(ValueProblem, match="date must be a string YYYY-MM-DD, got '2026/10/01'"):
            iso_date("2026/10/01")
    with pytest.raises(ValueProblem, match="date must be a string YYYY-MM-DD"):
        iso_date(20261001)


@pytest.mark.parametrize(("raw", "expected"), [
    ("12", 12.0), ("-5", -5.0), ("0.5", 0.5), ("-", EMPTY), ("", EMPTY), (" 7 ", 7.0), ("1,000", 1000.0),
])
def test_parse_number_fast_path_leaves_placeholders_empty(raw: str, expected: object) -> None:
    assert parse_number(raw) == expected


# -- push API validation fast paths ---------------------------------------------------------------


METRICS = load_registry(None).metrics


@pytest.mark.parametrize(("item", "problems"), [
    ({"metric": "gmv", "date": "2026-10-01", "value": float("inf")},
     ["value must be a finite number (not NaN or Infinity)"]),
    ({"metric": "gmv", "date": "2026-10-01", "value": 10**400},
     ["value must be a finite number (not NaN or Infinity)"]),
    ({"metric": "gmv", "date": "2026-10-01", "value": True}, ["value must be a number, got a boolean true"]),
    ({"metric": "gmv", "date": "2026-10-01", "value": "1"}, ['value must be a number, got a string "1"']),
    ({"metric": "gmv", "date": "2026-10-01", "value": 1.5, "extra": 1, "more": 2},
     ["unknown field 'extra'", "unknown field 'more'"]),
])
def test_validate_record_still_names_every_problem(item: dict[str, object], problems: list[str]) -> None:
    assert validate_record(item, METRICS) == (None, problems)


def test_validate_record_accepts_ints_and_floats_alike() -> None:
    for value in (3, 3.0):
        record, problems = validate_record({"metric": "gmv", "date": "2026-10-01", "value": value}, METRICS)
        assert problems == [] and record == FactRecord("gmv", D1, 3.0, "", "api")
        assert type(record.value) is float


def test_validate_records_fast_path_answers_as_validate_record_does() -> None:
    """Once a date, member and source have been seen valid in a batch, records repeating them are built
    without the per-field checks; anything else must still get validate_record's exact answer."""
    good = {"metric": "gmv", "date": "2026-10-01", "value": 1.5, "member": "a@shop.com", "source": "erp",
            "shop": "tiktok-us"}
    variants: list[object] = [
        good, dict(good), {**good, "value": 2},  # repeats: the fast path
        {**good, "value": True}, {**good, "value": float("nan")}, {**good, "value": 10**16},
        {**good, "date": ["2026-10-01"]}, {**good, "date": "2026-02-30"}, {**good, "member": ["a@shop.com"]},
        {**good, "member": None}, {**good, "member": 7}, {**good, "source": None}, {**good, "source": {"x": 1}},
        {**good, "source": "ERP"}, {**good, "shop": None}, {**good, "shop": "Bad Shop"}, {**good, "metric": "GMV"},
        {**good, "metric": ["gmv"]}, {**good, "currency": "CNY"}, {**good, "currency": "XXX"},
        {**good, "extra": 1}, ["not", "an", "object"], {**good, "member": " a@shop.com"},
        {"metric": "orders", "date": "2026-10-01", "value": 3},  # default source and shop, first seen
        {"metric": "orders", "date": "2026-10-01", "value": 4},
    ]
    one_by_one = [validate_record(item, METRICS) for item in variants]
    expected_records = [record for record, problems in one_by_one if not problems and record is not None]
    expected_errors = [{"index": i, "error": "; ".join(problems)} for i, (_, problems) in enumerate(one_by_one)
                       if problems]
    assert validate_records(variants, METRICS) == (expected_records, expected_errors)
    # good: the 3 repeats, member/source/shop None (defaults), currency CNY and the 2 orders = 10 of 25
    assert len(expected_records) == 10 and len(expected_errors) == 15


# -- staging table: driver paths ------------------------------------------------------------------


def _staged_rows(session: object) -> list[tuple[object, ...]]:
    schema = "temp" if session.get_bind().dialect.name == "sqlite" else "pg_temp"  # type: ignore[attr-defined]
    rows = session.execute(  # type: ignore[attr-defined]
        text(f"SELECT line, metric, date, member, value FROM {schema}.{STAGING_NAME} ORDER BY line, metric")
    ).all()
    return [(line, metric, values._date_text(str(day)[:10], None), member, value)
            for line, metric, day, member, value in rows]


def test_staging_holds_exactly_the_rows_added(db: Database) -> None:
    added: list[tuple[int, list[StagedFact]]] = [
        (2, [("gmv", D1, "alice@example.com", 1234.5)]),
        (3, [("gmv", D1, "", -0.25), ("orders", D1, "", 7.0)]),
        (4, [("orders", D2, "主播小王", 1e-9)]),
        (5, [("gmv", D2, "o'brien, \"quoted\"\ttab\\slash", 3.0)]),  # COPY's special characters
    ]
    with db.session() as session, Staging(session) as staging:
        for line, staged in added:
            staging.add(line, staged)
        staging.flush()
        assert staging.rows == 5
        assert _staged_rows(session) == [(line, *fact) for line, staged in added for fact in staged]


def test_staging_in_chunks_matches_one_flush(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from jobs.ingest import staging as staging_module

    monkeypatch.setattr(staging_module, "CHUNK_ROWS", 2)
    with db.session() as session, Staging(session) as staging:
        for line in range(1, 8):
            staging.add(line, [("gmv", D1 + timedelta(days=line), "", float(line))])
        staging.flush()
        assert [row[0] for row in _staged_rows(session)] == list(range(1, 8))


def test_a_duplicate_staged_after_the_check_is_still_added_up(db: Database) -> None:
    with db.session() as session, Staging(session) as staging:
        staging.add(2, [("gmv", D1, "a", 10.0)])
        staging.add(3, [("gmv", D2, "a", 5.0)])
        assert staging.duplicates("line", 50) == ([], 0)
        staging.add(4, [("gmv", D1, "a", 1.5)])  # after the check: the keys are no longer known unique
        assert staging.summary().values == 2
        assert staging.apply("shop") == Diff(new=2)
    assert _stored(db) == {("gmv", D1, "a", "shop"): 11.5, ("gmv", D2, "a", "shop"): 5.0}


def test_apply_of_only_new_facts_falls_back_when_one_appeared_meanwhile(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.session() as session:
        upsert_facts(session, [FactRecord("gmv", D1, 1.0, "a", "shop")])
    with db.session() as session, Staging(session) as staging:
        staging.add(2, [("gmv", D1, "a", 2.0)])
        staging.add(3, [("gmv", D2, "a", 3.0)])
        assert staging.duplicates("line", 50) == ([], 0)
        # as if a concurrent writer had stored (gmv, D1, a) after the diff looked
        monkeypatch.setattr(Staging, "diff", lambda self, source, scope=None: Diff(new=2))
        staging.apply("shop")
    assert _stored(db) == {("gmv", D1, "a", "shop"): 2.0, ("gmv", D2, "a", "shop"): 3.0}


def test_apply_of_only_new_facts_inserts_them(db: Database) -> None:
    with db.session() as session, Staging(session) as staging:
        staging.add(2, [("gmv", D1, "a", 2.0)])
        staging.add(3, [("orders", D1, "", 3.0)])
        staging.duplicates("line", 50)
        assert staging.apply("shop") == Diff(new=2)
    assert _stored(db) == {("gmv", D1, "a", "shop"): 2.0, ("orders", D1, "", "shop"): 3.0}


# -- upsert_facts: the temporary table ------------------------------------------------------------


def _stored(db: Database) -> dict[tuple[str, date, str, str], float]:
    with db.session() as session:
        rows = session.execute(select(Fact.metric, Fact.date, Fact.member, Fact.source, Fact.value)).all()
    return {(m, d, mem, s): v for m, d, mem, s, v in rows}


def test_upsert_in_several_chunks_and_calls_writes_each_fact_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(facts, "ROWS_PER_STATEMENT", 3)
    first = [FactRecord("gmv", D1 + timedelta(days=i), float(i), "a", "shop") for i in range(7)]
    with db.session() as session:
        assert upsert_facts(session, first) == 7
        assert upsert_facts(session, [FactRecord("gmv", D1, 100.0, "a", "shop")]) == 1  # same transaction
    with db.session() as session:  # a new transaction, likely on the same pooled connection
        records = [FactRecord("orders", D2, 1.0, "", "api"), FactRecord("orders", D2, 2.0, "", "api"),
                   FactRecord("gmv", D2, 5.5, "o'brien\t\"x\"", "api")]
        assert upsert_facts(session, records) == 2  # the repeated key counts once, the last value wins
    stored = _stored(db)
    assert len(stored) == 9
    assert stored[("gmv", D1, "a", "shop")] == 100.0 and stored[("gmv", D1 + timedelta(days=6), "a", "shop")] == 6.0
    assert stored[("orders", D2, "", "api")] == 2.0 and stored[("gmv", D2, "o'brien\t\"x\"", "api")] == 5.5


def test_upsert_stamps_an_aware_utc_time(db: Database) -> None:
    before = datetime.now(UTC)
    with db.session() as session:
        upsert_facts(session, [FactRecord("gmv", D1, 1, "", "api")])
    with db.session() as session:
        stamped = session.execute(select(Fact.updated_at)).scalar_one()
        total = session.execute(select(func.count()).select_from(Fact)).scalar_one()
    assert total == 1 and stamped.tzinfo is not None
    assert before - timedelta(seconds=1) <= stamped <= datetime.now(UTC) + timedelta(seconds=1)
