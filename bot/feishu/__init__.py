"""Feishu / Lark adapter: the only package that imports `lark_oapi` (lazily, when Feishu is configured).

Modules: `adapter` (wiring), `client` (Open API calls, tenant token, retries, pacing), `webhook`
(event URL), `longconn` (long connection), `events` (what each event does), `translate`
(payloads → neutral requests), `identity` (open_id → email), `cards` / `forms` (replies → card
JSON 2.0), `outbox` (posting cards with charts).
"""
