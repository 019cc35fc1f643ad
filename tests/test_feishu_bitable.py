"""`bot.feishu.bitable.make_bitable_fetch` against the fake: paging, and FeishuApi's token."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from bot.feishu.bitable import make_bitable_fetch
from jobs.sources.bitable import records
from tests.fakes.feishu_api import APP_SECRET, FakeFeishu


def test_bitable_records_are_read_page_by_page(make_settings: Callable[..., Any]) -> None:
    app_id = f"cli_bitable_{uuid.uuid4().hex[:8]}"
    with FakeFeishu(app_id=app_id) as fake:
        rows = [{"record_id": f"rec{i}", "fields": {"日期": 1700000000000 + i, "GMV": i * 10.5}} for i in range(7)]
        fake.bitable[("bascnApp", "tblSales")] = rows
        settings = make_settings(FEISHU_APP_ID=app_id, FEISHU_APP_SECRET=APP_SECRET, FEISHU_DOMAIN=fake.url)
        fetch = make_bitable_fetch(settings, page_size=3)
        assert list(records(fetch, "bascnApp", "tblSales", "vewAll")) == rows
        searches = fake.calls_to("POST", "/open-apis/bitable/v1/apps/bascnApp/tables/tblSales/records/search")
        assert [c.query.get("page_token") for c in searches] == [None, ["3"], ["6"]]
        assert all(c.json["view_id"] == "vewAll" for c in searches)
        assert len(fake.tokens_issued) == 1
