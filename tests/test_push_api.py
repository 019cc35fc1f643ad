"""Push API over real HTTP: uvicorn in a thread (ServerThread), httpx as the client."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.http.server import ServerThread
from bot.runtime import Runtime, build_http_app, build_runtime
from storage.models import Fact, SourceSyncRun
from storage.settings import Settings

TOKEN = "s3cret-push-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
URL_PATH = "/api/v1/metrics"


@pytest.fixture
def served(make_settings: Callable[..., Settings], tmp_path: Path) -> Iterator[tuple[str, Runtime]]:
    runtime = build_runtime(make_settings(KPIBOT_API_TOKEN=TOKEN), with_platforms=False, file_outbox_dir=tmp_path)
    with ServerThread(build_http_app(runtime)) as server:
        yield server.url, runtime
    runtime.db.dispose()


def post(base: str, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(base + URL_PATH, content=content, headers={"Content-Type": "application/json",
                                                                  **(AUTH if headers is None else headers)},
                      timeout=30)


def gmv_total(runtime: Runtime) -> float:
    with runtime.db.session() as session:
        return float(session.execute(select(func.coalesce(func.sum(Fact.value), 0)).where(Fact.metric == "gmv"))
                     .scalar_one())


def fact_count(runtime: Runtime) -> int:
    with runtime.db.session() as session:
        return int(session.execute(select(func.count()).select_from(Fact)).scalar_one())


GOOD = {"records": [
    {"metric": "gmv", "date": "2026-10-01", "value": 12345.6, "member": "alice@example.com",
     "source": "tiktok-shop"},
    {"metric": "gmv", "date": "2026-10-01", "value": 100},  # team-level, source api
    {"metric": "orders", "date": "2026-10-01", "value": 7, "member": ""},
]}


def test_no_token_and_wrong_token_are_401_and_write_nothing(served: tuple[str, Runtime]) -> None:
    base, runtime = served
    assert post(base, GOOD, headers={}).status_code == 401
    wrong = post(base, GOOD, headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert TOKEN not in wrong.text
    assert post(base, GOOD, headers={"Authorization": TOKEN}).status_code == 401  # no "Bearer"
    assert fact_count(runtime) == 0


def test_disabled_api_answers_503_with_a_message(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    runtime = build_runtime(make_settings(KPIBOT_API_TOKEN=""), with_platforms=False, file_outbox_dir=tmp_path)
    with ServerThread(build_http_app(runtime)) as server:
        answer = post(server.url, GOOD, headers={"Authorization": "Bearer anything"})
    assert answer.status_code == 503
    assert "KPIBOT_API_TOKEN" in answer.json()["error"]
    runtime.db.dispose()


def test_good_batch_is_accepted_and_recorded_per_source(served: tuple[str, Runtime]) -> None:
    base, runtime = served
    answer = post(base, GOOD)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": 3}
    assert gmv_total(runtime) == pytest.approx(12445.6)  # 12345.6 + 100
    with runtime.db.session() as session:
        runs = session.execute(select(SourceSyncRun.source, SourceSyncRun.kind, SourceSyncRun.rows_read,
                                      SourceSyncRun.ok).order_by(SourceSyncRun.source)).all()
        team = session.execute(select(Fact.member, Fact.source).where(Fact.metric == "orders")).one()
    assert runs == [("api", "api", 2, True), ("tiktok-shop", "api", 1, True)]
    assert team == ("", "api")


def test_repeat_push_is_idempotent_and_a_correction_replaces(served: tuple[str, Runtime]) -> None:
    base, runtime = served
    assert post(base, GOOD).status_code == 200
    assert post(base, GOOD).status_code == 200
    assert gmv_total(runtime) == pytest.approx(12445.6)  # still 12345.6 + 100, not doubled
    assert fact_count(runtime) == 3
    correction = {"records": [{"metric": "gmv", "date": "2026-10-01", "value": 200}]}
    assert post(base, correction).json() == {"accepted": 1}
    assert gmv_total(runtime) == pytest.approx(12545.6)  # 12345.6 + 200 (100 replaced)
    assert fact_count(runtime) == 3


def test_every_bad_record_is_listed_by_index_and_nothing_is_written(served: tuple[str, Runtime]) -> None:
    base, runtime = served
    records = [
        {"metric": "gmv", "date": "2026-10-01", "value": 1},  # 0: fine
        {"metric": "gvm", "date": "2026-10-01", "value": 1},  # 1: unknown metric
        {"metric": "gmv", "date": "2026/10/01", "value": 1},  # 2: not ISO
        {"metric": "gmv", "date": "2026-02-30", "value": 1},  # 3: no such day
        {"metric": "gmv", "date": "2026-10-01", "value": "12"},  # 4: string
        {"metric": "gmv", "date": "2026-10-01", "value": True},  # 5: bool
        {"metric": "gmv", "date": "2026-10-01", "value": 1, "member": "x" * 201},  # 6: member too long
        {"metric": "gmv", "date": "2026-10-01", "value": 1, "member": "bob\n"},  # 7: control character
        {"metric": "gmv", "date": "2026-10-01", "value": 1, "source": "Tik Tok"},  # 8: bad source
        {"date": "2026-10-01", "value": 1},  # 9: metric missing
        {"metric": "gmv", "date": "2026-10-01", "value": 1, "store": "x"},  # 10: unknown field
        "gmv",  # 11: not an object
        {"metric": "gmv", "date": "2026-10-01", "value": 1e400},  # 12: infinity (json reads 1e400 as inf)
    ]
    answer = post(base, {"records": records})
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert [e["index"] for e in errors] == list(range(1, 13))
    by_index = {e["index"]: e["error"] for e in errors}
    assert "unknown metric 'gvm'" in by_index[1] and "did you mean 'gmv'" in by_index[1]
    assert "YYYY-MM-DD" in by_index[2]
    assert "not a real date" in by_index[3]
    assert "must be a number, got a string" in by_index[4]
    assert "got a boolean" in by_index[5]
    assert "longer than 200" in by_index[6]
    assert "control characters" in by_index[7]
    assert "source must be" in by_index[8]
    assert "metric is missing" in by_index[9]
    assert "unknown field 'store'" in by_index[10]
    assert "expected an object" in by_index[11]
    assert "finite" in by_index[12]
    assert fact_count(runtime) == 0


def test_nan_literal_in_json_is_rejected(served: tuple[str, Runtime]) -> None:
    base, runtime = served
    body = b'{"records":[{"metric":"gmv","date":"2026-10-01","value":NaN},' \
           b'{"metric":"gmv","date":"2026-10-01","value":-Infinity}]}'
    answer = post(base, body)
    assert answer.status_code == 400
    assert [e["index"] for e in answer.json()["errors"]] == [0, 1]
    assert fact_count(runtime) == 0


def test_malformed_bodies_are_400(served: tuple[str, Runtime]) -> None:
    base, _ = served
    for body in (b"not json", b"[]", b'{"records": {}}', b'{"records": [], "extra": 1}'):
        answer = post(base, body)
        assert answer.status_code == 400, body
        assert answer.json()["errors"][0]["index"] is None


def test_more_than_10000_records_is_413(served: tuple[str, Runtime]) -> None:
    base, runtime = served
    one = {"metric": "orders", "date": "2026-10-01", "value": 1}
    answer = post(base, {"records": [one] * 10_001})
    assert answer.status_code == 413
    assert "10,000" in answer.json()["error"]
    assert post(base, {"records": [one] * 10_000}).json() == {"accepted": 10_000}
    assert fact_count(runtime) == 1  # 10,000 pushes of the same key are one fact


def test_body_over_5_mb_is_413_by_header_and_by_actual_size(served: tuple[str, Runtime]) -> None:
    base, runtime = served
    big = b'{"records": [], "padding": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    assert post(base, big).status_code == 413  # Content-Length says so

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer, counted as it arrives
        yield b'{"records": [], "padding": "'
        for _ in range(6):
            yield b"x" * (1024 * 1024)
        yield b'"}'

    answer = httpx.post(base + URL_PATH, content=chunks(), headers=AUTH, timeout=30)
    assert answer.status_code == 413
    assert fact_count(runtime) == 0


def test_route_is_documented_in_openapi(served: tuple[str, Runtime]) -> None:
    base, _ = served
    spec = httpx.get(base + "/openapi.json", timeout=10).json()
    operation = spec["paths"][URL_PATH]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["records"]["maxItems"] == 10_000
    assert {"200", "400", "401", "413", "503"} <= set(operation["responses"])
    assert any(scheme.get("scheme") == "bearer" for scheme in spec["components"]["securitySchemes"].values())


def test_push_refuses_values_too_large_to_sum_by_index(served: tuple[str, Runtime]) -> None:
    base, runtime = served
    body = (b'{"records": [{"metric": "gmv", "date": "2026-10-01", "value": 1e15},'
            b'{"metric": "gmv", "date": "2026-10-02", "value": 1e308},'
            b'{"metric": "gmv", "date": "2026-10-03", "value": -2000000000000000},'
            b'{"metric": "gmv", "date": "2026-10-04", "value": 1e308}]}')
    answer = post(base, body)
    assert answer.status_code == 400
    errors = {e["index"]: e["error"] for e in answer.json()["errors"]}
    assert sorted(errors) == [1, 2, 3]  # 1e15 itself is allowed
    assert "too large: values must lie between -1e15 and 1e15" in errors[1]
    assert "-2000000000000000" in errors[2]
    assert fact_count(runtime) == 0


@pytest.mark.parametrize(("field", "record"), [
    ("member", b'{"metric": "gmv", "date": "2026-10-01", "value": 1, "member": "al\\ud800ice"}'),
    ("metric", b'{"metric": "gm\\udfffv", "date": "2026-10-01", "value": 1}'),
])
def test_push_answers_400_naming_the_field_for_a_lone_surrogate(
    served: tuple[str, Runtime], field: str, record: bytes
) -> None:
    base, runtime = served
    answer = post(base, b'{"records": [' + record + b"]}")
    assert answer.status_code == 400, answer.text
    [error] = answer.json()["errors"]
    assert error["index"] == 0 and error["error"].startswith(f"{field} is not valid Unicode text")
    assert fact_count(runtime) == 0


def test_pushed_sums_stay_finite_on_every_database(served: tuple[str, Runtime]) -> None:
    """Two pushes at the bound: the sum is 2e15, exact in a double, no overflow on PostgreSQL."""
    base, runtime = served
    for day in ("2026-10-01", "2026-10-02"):
        body = f'{{"records": [{{"metric": "gmv", "date": "{day}", "value": 1e15}}]}}'.encode()
        assert post(base, body).status_code == 200
    with runtime.db.session() as session:
        total = session.execute(select(func.sum(Fact.value)).where(Fact.metric == "gmv")).scalar_one()
    assert float(total) == 2e15
