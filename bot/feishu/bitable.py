"""The Bitable fetch function jobs/sources needs, over lark-oapi (imported on the first fetch).

`make_bitable_fetch(settings)` → `fetch(app_token, table_id, view_id, page_token) -> (items,
has_more, next_page_token)`, one call of `POST /open-apis/bitable/v1/apps/:app_token/tables/
:table_id/records/search?page_size=500&page_token=…`. Tokens, retries and rate limits are
`FeishuApi`'s (its own tenant-token cache per instance, not the SDK's process-global one).
Building the function is free: the client (and `import lark_oapi`, seconds) waits for the first call.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from jobs.sources.bitable import BitableFetch
from storage.settings import Settings

if TYPE_CHECKING:
    from bot.feishu.client import FeishuApi

SEARCH_PATH = "/open-apis/bitable/v1/apps/:app_token/tables/:table_id/records/search"
PAGE_SIZE = 500


def make_bitable_fetch(settings: Settings, *, page_size: int = PAGE_SIZE, timeout: float = 30.0) -> BitableFetch:
    if not settings.feishu_enabled:
        raise ValueError("Feishu is not configured: set FEISHU_APP_ID and FEISHU_APP_SECRET")
    lock = threading.Lock()
    client: list[FeishuApi] = []

    def api() -> FeishuApi:
        with lock:
            if not client:
                from bot.feishu.client import FeishuApi

                client.append(FeishuApi(
                    app_id=settings.feishu_app_id,
                    app_secret=settings.feishu_app_secret.get_secret_value(),
                    domain=settings.feishu_domain,
                    timeout=timeout,
                ))
            return client[0]

    def fetch(
        app_token: str, table_id: str, view_id: str | None, page_token: str | None
    ) -> tuple[list[dict[str, Any]], bool, str | None]:
        queries = [("page_size", str(page_size))]
        if page_token:
            queries.append(("page_token", page_token))
        body: dict[str, Any] = {"automatic_fields": False}
        if view_id:
            body["view_id"] = view_id
        result = api().call(
            "POST", SEARCH_PATH, what="bitable records search",
            paths={"app_token": app_token, "table_id": table_id}, queries=queries, body=body,
        )
        data = result.data
        items = data.get("items") or []
        next_token = data.get("page_token") or None
        return [item for item in items if isinstance(item, dict)], bool(data.get("has_more")), next_token

    return fetch
