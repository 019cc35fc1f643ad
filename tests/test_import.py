"""File import: forms, encodings, XLSX, Chinese headers, mappings, dry run — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from jobs.ingest import ImportSetupError, import_file
from storage.db import Database
from storage.kpi.registry import Registry, load_registry
from storage.models import Fact, SourceSyncRun

D1, D2, D3 = date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3)

KPI_FILE = """
metrics:
  - name: refunds_amount
    label: {en: Refunds amount, zh: 退款金额}
mappings:
  tiktok-live:
    date: Date
    date_format: "%m/%d/%Y"
    member: Creator
    members: {"Alice Live": alice@example.com}
    columns:
      GMV: gmv
      Orders: orders
      Viewers: live_viewers
      "Watch time (min)": {metric: watch_seconds, multiply: 60}
    aggregate: sum
    source: tiktok-shop
"""


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    path = tmp_path / "kpis.yaml"
    path.write_text(KPI_FILE, encoding="utf-8")
    return load_registry(path)


def stored(db: Database) -> dict[tuple[str, date, str, str], float]:
    with db.session() as session:
        rows = session.execute(select(Fact.metric, Fact.date, Fact.member, Fact.source, Fact.value)).all()
    return {(m, d, mem, s): v for m, d, mem, s, v in rows}


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_long_form(db: Database, registry: Registry, tmp_path: Path) -> None:
    path = write(tmp_path, "long.csv", "date,metric,value,member\n"
                 "2026-10-01,gmv,1000,alice@example.com\n"
                 "2026-10-01,orders,4,alice@example.com\n"
                 "2026-10-02,gmv,250.5,\n")
    report = import_file(db, registry, path)
    assert report.ok and report.layout == "long"
    assert stored(db) == {
        ("gmv", D1, "alice@example.com", "import"): 1000.0,
        ("orders", D1, "alice@example.com", "import"): 4.0,
        ("gmv", D2, "", "import"): 250.5,  # empty member → team-level
    }
    assert (report.diff.new, report.diff.changed, report.diff.unchanged) == (3, 0, 0)


def test_wide_form_with_number_formats_and_date_forms(db: Database, registry: Registry, tmp_path: Path) -> None:
    path = write(tmp_path, "wide.csv", "date,member,gmv,orders,ad_spend\n"
                 '2026-10-01,alice,"$1,234.50",3,¥99\n'
                 '2026/10/02,alice,"￥2,000",--,12%\n'
                 "20261003,,1.5万,7,(10)\n"
                 "Total,,99999,99,99\n")  # a summary row: skipped
    report = import_file(db, registry, path, source="shop")
    assert report.ok, report.problem_lines()
    assert stored(db) == {
        ("gmv", D1, "alice", "shop"): 1234.5,
        ("orders", D1, "alice", "shop"): 3.0,
        ("ad_spend", D1, "alice", "shop"): 99.0,
        ("gmv", D2, "alice", "shop"): 2000.0,  # "--" in orders = no value, not 0
        ("ad_spend", D2, "alice", "shop"): 0.12,  # 12% → 0.12
        ("gmv", D3, "", "shop"): 15000.0,  # 1.5万 = 1.5 × 10,000
        ("orders", D3, "", "shop"): 7.0,
        ("ad_spend", D3, "", "shop"): -10.0,  # (10) accounting negative
    }
    assert report.rows_read == 3


def test_chinese_headers_and_labels(db: Database, registry: Registry, tmp_path: Path) -> None:
    # 成交额 is an alias of the gmv KPI, 订单数 the label of orders, 退款金额 a KPI-file metric label.
    path = write(tmp_path, "zh.csv", "日期,主播,成交额,订单数,退款金额,广告消耗\n"
                 "2026年10月1日,小美,1000,5,20,300\n")
    assert import_file(db, registry, path).ok
    assert stored(db) == {
        ("gmv", D1, "小美", "import"): 1000.0,
        ("orders", D1, "小美", "import"): 5.0,
        ("refunds_amount", D1, "小美", "import"): 20.0,
        ("ad_spend", D1, "小美", "import"): 300.0,
    }


def test_chinese_long_form(db: Database, registry: Registry, tmp_path: Path) -> None:
    path = write(tmp_path, "zh-long.csv",
                 '日期,指标,数值,成员\n2026-10-01,订单数,8,小美\n2026-10-01,成交额,"1,000",小美\n')
    assert import_file(db, registry, path).ok
    assert stored(db) == {("orders", D1, "小美", "import"): 8.0, ("gmv", D1, "小美", "import"): 1000.0}


def test_gbk_csv_as_chinese_excel_saves_it(db: Database, registry: Registry, tmp_path: Path) -> None:
    path = write(tmp_path, "gbk.csv", "日期,达人,成交额,订单数\r\n2026/10/01,小美,800,4\r\n2026/10/02,大壮,600,3\r\n",
                 encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")  # really not UTF-8
    assert import_file(db, registry, path).ok
    assert stored(db) == {
        ("gmv", D1, "小美", "import"): 800.0, ("orders", D1, "小美", "import"): 4.0,
        ("gmv", D2, "大壮", "import"): 600.0, ("orders", D2, "大壮", "import"): 3.0,
    }


def test_utf8_bom_and_semicolons(db: Database, registry: Registry, tmp_path: Path) -> None:
    path = write(tmp_path, "bom.csv", "date;metric;value\n2026-10-01;gmv;5\n", encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert import_file(db, registry, path).ok
    assert stored(db) == {("gmv", D1, "", "import"): 5.0}


def test_xlsx_with_excel_dates_and_chinese_headers(db: Database, registry: Registry, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["日期", "主播", "GMV", "订单数"])
    sheet.append([datetime(2026, 10, 1), "小美", 1200.5, 6])
    sheet.append([46297, "小美", "¥300", 2])  # an Excel serial: 1899-12-30 + 46297 days = 2026-10-02
    sheet.append([None, None, None, None])  # blank row: ignored
    path = tmp_path / "live.xlsx"
    workbook.save(path)
    report = import_file(db, registry, path)
    assert report.ok, report.problem_lines()
    assert stored(db) == {
        ("gmv", D1, "小美", "import"): 1200.5, ("orders", D1, "小美", "import"): 6.0,
        ("gmv", D2, "小美", "import"): 300.0, ("orders", D2, "小美", "import"): 2.0,
    }


TIKTOK_EXPORT = (
    "Live performance\n"
    "Date range: 10/01/2026 ~ 10/02/2026\n"
    "Date,Creator,Live title,GMV,Orders,Viewers,Watch time (min),Avg. watch time\n"
    '10/01/2026,Alice Live,Morning deals,"$1,234.50",12,"3,400",20,35s\n'
    '10/01/2026,Alice Live,Evening deals,$765.50,8,"1,600",10,40s\n'
    "10/02/2026,bob@example.com,Flash sale,$500.00,5,900,5,20s\n"
    "Total,,,\"$2,500.00\",25,\"5,900\",35,\n"
)


def test_mapping_turns_a_tiktok_style_export_into_metrics(db: Database, registry: Registry, tmp_path: Path) -> None:
    path = write(tmp_path, "Live_Analytics_20261002.csv", TIKTOK_EXPORT)
    report = import_file(db, registry, path, mapping="tiktok-live")
    assert report.ok, report.problem_lines()
    assert report.source == "tiktok-shop"  # the mapping's source
    alice, bob = "alice@example.com", "bob@example.com"
    assert stored(db) == {
        ("gmv", D1, alice, "tiktok-shop"): 2000.0,  # two sessions added up: 1,234.50 + 765.50
        ("orders", D1, alice, "tiktok-shop"): 20.0,  # 12 + 8
        ("live_viewers", D1, alice, "tiktok-shop"): 5000.0,  # 3,400 + 1,600
        ("watch_seconds", D1, alice, "tiktok-shop"): 1800.0,  # (20 + 10) min × 60
        ("gmv", D2, bob, "tiktok-shop"): 500.0,
        ("orders", D2, bob, "tiktok-shop"): 5.0,
        ("live_viewers", D2, bob, "tiktok-shop"): 900.0,
        ("watch_seconds", D2, bob, "tiktok-shop"): 300.0,  # 5 min × 60
    }
    again = import_file(db, registry, path, mapping="tiktok-live")
    assert (again.diff.new, again.diff.changed, again.diff.unchanged) == (0, 0, 8)  # re-import changes nothing


def test_export_without_its_mapping_is_rejected_with_a_hint(db: Database, registry: Registry, tmp_path: Path) -> None:
    path = write(tmp_path, "export.csv", TIKTOK_EXPORT)
    report = import_file(db, registry, path)
    assert not report.ok
    lines = report.problem_lines()
    assert any('column "Live title": not a known metric' in line for line in lines)
    assert lines[-1] == "hint: these columns fit the mapping 'tiktok-live'; try --mapping tiktok-live"
    assert stored(db) == {}


def test_unknown_mapping_and_bad_source_are_setup_errors(db: Database, registry: Registry, tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "date,gmv\n2026-10-01,1\n")
    with pytest.raises(ImportSetupError, match=r"no mapping called 'shopee'.*tiktok-live"):
        import_file(db, registry, path, mapping="shopee")
    with pytest.raises(ImportSetupError, match="--source"):
        import_file(db, registry, path, source="Bad Name")


def test_dry_run_counts_new_changed_unchanged_and_writes_nothing(
    db: Database, registry: Registry, tmp_path: Path
) -> None:
    first = write(tmp_path, "first.csv", "date,member,gmv\n2026-10-01,alice,100\n2026-10-02,alice,200\n")
    assert import_file(db, registry, first).ok
    before = stored(db)
    second = write(tmp_path, "second.csv", "date,member,gmv\n"
                   "2026-10-01,alice,100\n"  # unchanged
                   "2026-10-02,alice,250\n"  # changed (200 → 250)
                   "2026-10-03,alice,300\n")  # new
    report = import_file(db, registry, second, dry_run=True)
    assert report.ok and report.dry_run
    assert (report.diff.new, report.diff.changed, report.diff.unchanged) == (1, 1, 1)
    assert stored(db) == before
    with db.session() as session:
        kinds = session.execute(select(SourceSyncRun.kind)).scalars().all()
    assert kinds == ["import"]  # the first import only; a dry run records no run
    real = import_file(db, registry, second)
    assert (real.diff.new, real.diff.changed, real.diff.unchanged) == (1, 1, 1)
    assert stored(db)[("gmv", D2, "alice", "import")] == 250.0


def test_import_records_a_sync_run(db: Database, registry: Registry, tmp_path: Path) -> None:
    path = write(tmp_path, "a.csv", "date,gmv\n2026-10-01,1\n2026-10-03,2\n")
    import_file(db, registry, path, source="shopee-sg")
    with db.session() as session:
        run = session.execute(select(SourceSyncRun)).scalar_one()
    assert (run.source, run.kind, run.ok, run.rows_read, run.rows_written, run.newest_date) == (
        "shopee-sg", "import", True, 2, 2, D3)
    assert run.finished_at >= run.started_at
